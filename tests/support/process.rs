//! What the process holds, read from `/proc/self` (Linux): the tests that check memory and threads follow
//! the pipeline's life use these.
#![allow(dead_code)]

/// Resident set size, KiB (0 where `/proc` is unavailable).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Threads of this process (0 where `/proc` is unavailable).
pub fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map(|dir| dir.count()).unwrap_or(0)
}
