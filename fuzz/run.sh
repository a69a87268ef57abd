#!/usr/bin/env bash
# Runs every fuzz target with cargo-fuzz for a while (default 60 s each): ./fuzz/run.sh [seconds].
# Optional by design: without the nightly toolchain or cargo-fuzz it says so and exits 0; it fails only
# when a target crashes (the input is then in fuzz/artifacts/<target>/).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: skipped, no nightly toolchain (rustup toolchain install nightly)"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: skipped, cargo-fuzz is not installed (cargo install cargo-fuzz)"
  exit 0
fi
for target in $(cargo +nightly fuzz list); do
  echo "=== fuzz $target (${seconds}s)"
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
