//! Test support: a real OpenTelemetry collector (`rotel-agent`, Apache-2.0,
//! from PyPI package `rotel`) for end-to-end tests. std only.
//!
//! # Where the collector comes from
//!
//! [`Collector::start`] uses the first of:
//! 1. env `BOTANU_TEST_COLLECTOR`: the wrapper printed by `.ci/install-collector.sh`, or a
//!    `rotel-agent` binary (`.ci/run` sets it);
//! 2. `rotel-agent` on `PATH`;
//! 3. the venv `<target dir>/rotel-venv` (env `ROTEL_VENV` names another), made by running
//!    `.ci/install-collector.sh` the first time it is needed — rotel from PyPI, so a fresh machine
//!    needs python3 (with `venv` and `pip`) and access to PyPI; the script may also `apt-get` the
//!    `libpython3.X` the binary links against (as root or through `sudo`).
//!
//! The look-up (and the install, if any) runs once per test binary (a `OnceLock`: the tests of a binary
//! run on parallel threads and wait for the first); the script serialises installs into one venv
//! across processes with `flock`, and when the install is already there it only checks the version
//! (`rotel-agent version`, well under a second).
//!
//! # When there is no collector: a failure, or an explicit skip
//!
//! A collector test is never reported passed without having run: when no collector can be found or
//! installed, `start` panics with the reason and the fix. `BOTANU_E2E=skip` is the explicit opt-out:
//! nothing is installed, and without a collector already in place `start` writes a line
//! `SKIPPED <test>: …` straight to the terminal (past the test harness's output capture, so it shows in
//! `cargo test` output) and returns `None`; the test then returns. (libtest has no run-time skip, so
//! such a test is still listed `ok`: the SKIPPED line is the record.) `BOTANU_E2E=require` (CI) is the
//! default behaviour, spelled out. Any other value is an error, so a typo cannot turn tests off.
//!
//! # What a started collector does
//!
//! The collector listens on 127.0.0.1 only (OTLP/gRPC on `grpc_port`,
//! OTLP/HTTP on `http_port`, both free ephemeral ports), exports to a
//! blackhole and prints everything it receives (traces, metrics, logs) in the
//! OpenTelemetry collector's "detailed" debug format to a log file, which the
//! test reads with `output()` / `wait_for()`.
//!
//! Note: rotel batches before printing (default 200 ms), so always use
//! `wait_for` rather than reading `output()` right after sending.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Env var naming the collector binary or wrapper script.
pub const COLLECTOR_ENV: &str = "BOTANU_TEST_COLLECTOR";
/// `skip`: skip the collector tests when no collector is in place (and install none);
/// unset or `require`: find or install one, or fail.
pub const E2E_ENV: &str = "BOTANU_E2E";
/// Env var naming the venv the collector is installed into (the install script reads it too).
pub const VENV_ENV: &str = "ROTEL_VENV";

const BINARY_NAME: &str = "rotel-agent";
const INSTALL_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/install-collector.sh");
const READY_TIMEOUT: Duration = Duration::from_secs(20);
const STOP_GRACE: Duration = Duration::from_secs(5);
const START_ATTEMPTS: usize = 5;

static INSTANCE: AtomicUsize = AtomicUsize::new(0);

pub struct Collector {
    pub grpc_port: u16,
    pub http_port: u16,
    child: Option<Child>,
    pub log_path: PathBuf,
    bin: PathBuf,
    extra_args: Vec<String>,
}

enum SpawnError {
    /// A port was taken between picking and binding: pick new ports.
    PortTaken,
    /// Anything else: the message says what happened.
    Failed(String),
}

impl Collector {
    /// Start a collector on fresh ports, installing it first if need be (see the module docs).
    /// Panics if there is none and none can be installed; `None` (after a `SKIPPED` line on the
    /// terminal) only under `BOTANU_E2E=skip`.
    pub fn start() -> Option<Collector> {
        Self::start_with(&[])
    }

    /// Like `start`, with extra `rotel-agent start` arguments
    /// (e.g. `&["--batch-timeout", "50ms"]`); they are kept for `restart`.
    pub fn start_with(extra_args: &[&str]) -> Option<Collector> {
        let bin = collector_binary()?;

        let n = INSTANCE.fetch_add(1, Ordering::SeqCst);
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let log_path = log_dir().join(format!("botanu-collector-{}-{}-{}.log", std::process::id(), n, stamp));

        let mut collector = Collector {
            grpc_port: 0,
            http_port: 0,
            child: None,
            log_path,
            bin,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
        };

        let mut last = String::new();
        for _ in 0..START_ATTEMPTS {
            let (grpc, http) = match free_port_pair() {
                Ok(p) => p,
                Err(e) => {
                    last = format!("could not pick free ports: {e}");
                    continue;
                }
            };
            collector.grpc_port = grpc;
            collector.http_port = http;
            match collector.spawn_and_wait() {
                Ok(()) => return Some(collector),
                Err(SpawnError::PortTaken) => {
                    last = format!("ports {grpc}/{http} were taken before the collector bound them");
                    continue;
                }
                Err(SpawnError::Failed(msg)) => panic!("{msg}"),
            }
        }
        panic!(
            "collector did not start after {START_ATTEMPTS} attempts: {last}\nlog {}:\n{}",
            collector.log_path.display(),
            collector.output()
        );
    }

    /// `http://127.0.0.1:<http_port>` (OTLP/HTTP: /v1/traces, /v1/metrics, /v1/logs;
    /// JSON and protobuf bodies).
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// `http://127.0.0.1:<grpc_port>` (OTLP/gRPC, plaintext HTTP/2).
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Is the collector process running?
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Everything the collector printed so far (stdout and stderr, across
    /// restarts), lossily decoded as UTF-8.
    pub fn output(&self) -> String {
        let mut bytes = Vec::new();
        if let Ok(mut f) = File::open(&self.log_path) {
            let _ = f.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Poll the log every 50 ms until `pred(output)` holds; false on timeout.
    pub fn wait_for<F: Fn(&str) -> bool>(&self, pred: F, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(&self.output()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop the collector: SIGTERM (graceful; flushes pending batches to the
    /// log), then SIGKILL after 5 s. Idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        let termed = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if termed {
            let deadline = Instant::now() + STOP_GRACE;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stop and start again on the same ports, appending to the same log.
    /// Panics if it cannot come back within the ready timeout.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.spawn_and_wait() {
                Ok(()) => return,
                Err(SpawnError::PortTaken) if Instant::now() < deadline => {
                    // Port not released yet (or grabbed by someone else): retry.
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(SpawnError::PortTaken) => panic!(
                    "collector restart: ports {}/{} stayed in use\nlog {}:\n{}",
                    self.grpc_port,
                    self.http_port,
                    self.log_path.display(),
                    self.output()
                ),
                Err(SpawnError::Failed(msg)) => panic!("collector restart: {msg}"),
            }
        }
    }

    /// Minimal HTTP/1.1 POST to the OTLP/HTTP port (`path` like "/v1/traces").
    /// Returns (status code, response body).
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> io::Result<(u16, String)> {
        http_post(self.http_port, path, content_type, body)
    }

    fn spawn_and_wait(&mut self) -> Result<(), SpawnError> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| SpawnError::Failed(format!("open {}: {e}", self.log_path.display())))?;
        let log_err = log.try_clone().map_err(|e| SpawnError::Failed(format!("dup log file: {e}")))?;
        let offset = log.metadata().map(|m| m.len()).unwrap_or(0);
        let pid_file = self.log_path.with_extension("pid");

        let mut cmd = Command::new(&self.bin);
        cmd.arg("start")
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{}", self.grpc_port))
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{}", self.http_port))
            .arg("--exporter")
            .arg("blackhole")
            .arg("--debug-log")
            .arg("traces")
            .arg("--debug-log")
            .arg("metrics")
            .arg("--debug-log")
            .arg("logs")
            .arg("--debug-log-verbosity")
            .arg("detailed")
            .arg("--pid-file")
            .arg(&pid_file)
            .args(&self.extra_args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child =
            cmd.spawn().map_err(|e| SpawnError::Failed(format!("cannot run collector {}: {e}", self.bin.display())))?;
        self.child = Some(child);

        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.exited() {
                let new_output = self.output_from(offset);
                self.child = None;
                if new_output.contains("Address already in use") {
                    return Err(SpawnError::PortTaken);
                }
                return Err(SpawnError::Failed(format!(
                    "collector {} exited during startup ({status}); its output:\n{new_output}",
                    self.bin.display()
                )));
            }
            if port_open(self.grpc_port) && port_open(self.http_port) {
                // Both ports answer. Make sure they are ours: if the collector
                // failed to bind (someone else holds a port) it exits at once.
                std::thread::sleep(Duration::from_millis(50));
                if self.exited().is_none() {
                    return Ok(());
                }
                continue;
            }
            if Instant::now() >= deadline {
                let new_output = self.output_from(offset);
                self.stop();
                return Err(SpawnError::Failed(format!(
                    "collector not ready on 127.0.0.1:{} (gRPC) and :{} (HTTP) within {:?}; its output:\n{new_output}",
                    self.grpc_port, self.http_port, READY_TIMEOUT
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn exited(&mut self) -> Option<String> {
        match self.child.as_mut()?.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            Ok(None) => None,
            Err(e) => Some(format!("wait failed: {e}")),
        }
    }

    fn output_from(&self, offset: u64) -> String {
        let all = self.output();
        all.get(offset as usize..).unwrap_or(&all).to_string()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            let out = self.output();
            let tail_start = out.len().saturating_sub(8000);
            let tail_start = (tail_start..out.len()).find(|&i| out.is_char_boundary(i)).unwrap_or(out.len());
            eprintln!(
                "--- collector log {} (last {} bytes) ---\n{}\n--- end of collector log ---",
                self.log_path.display(),
                out.len() - tail_start,
                &out[tail_start..]
            );
        }
    }
}

/// What `BOTANU_E2E` asks for.
#[derive(Clone, Copy, PartialEq)]
enum E2eMode {
    /// Find or install a collector; fail without one (unset, or `require`).
    Require,
    /// Use a collector already in place; skip, loudly, without one (`skip`).
    Skip,
}

fn e2e_mode() -> E2eMode {
    match std::env::var(E2E_ENV).as_deref() {
        Err(_) | Ok("") | Ok("require") => E2eMode::Require,
        Ok("skip") => E2eMode::Skip,
        Ok(other) => panic!("{E2E_ENV}={other:?}: expected `require` (the default) or `skip`"),
    }
}

/// The collector binary, or `None` after the SKIPPED line under `BOTANU_E2E=skip`. Panics otherwise.
fn collector_binary() -> Option<PathBuf> {
    // Once per test binary: the first test to get here looks up (and installs), the others wait.
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let mode = e2e_mode();
    let found = BINARY.get_or_init(|| find_or_install(mode));
    match (found, mode) {
        (Ok(bin), _) => Some(bin.clone()),
        (Err(why), E2eMode::Skip) => {
            let test = std::thread::current().name().unwrap_or("<unnamed test>").to_owned();
            // Straight to the terminal: `eprintln!` in a test is captured and shown only on failure.
            let _ = writeln!(
                io::stderr(),
                "SKIPPED {test}: no OpenTelemetry collector ({why}); {E2E_ENV}=skip, so this test did not run"
            );
            None
        }
        (Err(why), E2eMode::Require) => panic!(
            "no OpenTelemetry collector for this end-to-end test: {why}\n\
             Fix: let the tests install it (python3 with venv and pip, and access to PyPI), or run \
             `export {COLLECTOR_ENV}=\"$(bash .ci/install-collector.sh)\"`, or put {BINARY_NAME} on PATH. \
             To skip the collector tests instead, set {E2E_ENV}=skip."
        ),
    }
}

/// The first collector of: `BOTANU_TEST_COLLECTOR`, `PATH`, the venv; under [`E2eMode::Require`], a
/// fresh install into the venv when it has none.
fn find_or_install(mode: E2eMode) -> Result<PathBuf, String> {
    if let Some(v) = std::env::var_os(COLLECTOR_ENV).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(v);
        return if is_executable(&p) {
            Ok(p)
        } else {
            Err(format!("{COLLECTOR_ENV}={} is not an executable file", p.display()))
        };
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(BINARY_NAME);
            if is_executable(&p) {
                return Ok(p);
            }
        }
    }
    let venv = venv_dir();
    let wrapper = venv.join("bin").join(BINARY_NAME);
    match mode {
        E2eMode::Skip if is_executable(&wrapper) => Ok(wrapper),
        E2eMode::Skip => Err(format!(
            "{COLLECTOR_ENV} is not set, {BINARY_NAME} is not on PATH, and {} does not exist",
            wrapper.display()
        )),
        E2eMode::Require => install(&venv),
    }
}

fn venv_dir() -> PathBuf {
    if let Some(v) = std::env::var_os(VENV_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(v);
    }
    // Cargo sets CARGO_TARGET_TMPDIR (`<target dir>/tmp`) when compiling integration tests.
    let target = option_env!("CARGO_TARGET_TMPDIR")
        .and_then(|tmp| Path::new(tmp).parent().map(Path::to_path_buf))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("rotel-venv")
}

/// Runs `.ci/install-collector.sh` (idempotent: it only checks an install that is there) and returns
/// the wrapper it prints.
fn install(venv: &Path) -> Result<PathBuf, String> {
    if !venv.join("bin").join(BINARY_NAME).exists() {
        let _ = writeln!(
            io::stderr(),
            "botanu tests: installing the rotel collector (PyPI) into {} — once; later runs reuse it",
            venv.display()
        );
    }
    let out = Command::new("bash")
        .arg(INSTALL_SCRIPT)
        .arg(venv)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run bash {INSTALL_SCRIPT}: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "installing it failed ({INSTALL_SCRIPT} {}: {}); its output:\n{stderr}",
            venv.display(),
            out.status
        ));
    }
    let printed = String::from_utf8_lossy(&out.stdout);
    let wrapper = PathBuf::from(printed.trim());
    if is_executable(&wrapper) {
        Ok(wrapper)
    } else {
        Err(format!("{INSTALL_SCRIPT} printed {printed:?}, which is not an executable file; its output:\n{stderr}"))
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

fn log_dir() -> PathBuf {
    // Cargo sets CARGO_TARGET_TMPDIR when compiling integration tests.
    let dir = option_env!("CARGO_TARGET_TMPDIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Two distinct free loopback ports. Both listeners are held at once so the
/// ports differ; they are released before the collector binds them, so a
/// race is possible — the caller retries on "Address already in use".
fn free_port_pair() -> io::Result<(u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    Ok((a.local_addr()?.port(), b.local_addr()?.port()))
}

fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Minimal HTTP/1.1 POST over a raw TcpStream (Connection: close).
pub fn http_post(port: u16, path: &str, content_type: &str, body: &[u8]) -> io::Result<(u16, String)> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    s.flush()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad response: {text:?}")))?;
    let body = match text.find("\r\n\r\n") {
        Some(i) => text[i + 4..].to_string(),
        None => String::new(),
    };
    Ok((status, body))
}
