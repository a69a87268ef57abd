//! A real `redis-server` for the Redis budget store's tests: started on a free 127.0.0.1 port with no
//! persistence, stopped (and restarted, for outage tests) by its PID.
//!
//! # When there is no `redis-server`: a failure, or an explicit skip
//!
//! As with the collector (`support/collector.rs`): without a `redis-server` on `PATH`, `start` panics
//! with the fix (`apt-get install redis-server`; `.ci/run` installs it) unless `BOTANU_E2E=skip`, which
//! prints `SKIPPED <test>: …` to the terminal and returns `None` (the test then returns; libtest has no
//! run-time skip, so the SKIPPED line is the record).
#![allow(dead_code)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    binary: String,
}

impl RedisServer {
    /// A fresh server on a free port, or `None` after a SKIPPED line under `BOTANU_E2E=skip`.
    pub fn start(test: &str) -> Option<RedisServer> {
        let binary = match which("redis-server") {
            Some(binary) => binary,
            None => {
                let skip = std::env::var("BOTANU_E2E").is_ok_and(|v| v == "skip");
                if skip {
                    let mut tty = std::fs::OpenOptions::new().write(true).open("/dev/tty").ok();
                    let line =
                        format!("SKIPPED {test}: no redis-server on PATH; BOTANU_E2E=skip, so this test did not run\n");
                    match tty.as_mut() {
                        Some(tty) => {
                            let _ = tty.write_all(line.as_bytes());
                        }
                        None => eprint!("{line}"),
                    }
                    return None;
                }
                panic!(
                    "{test}: no redis-server on PATH. Install it (Debian: apt-get install redis-server; .ci/run \
                     does), or set BOTANU_E2E=skip to skip the Redis tests"
                );
            }
        };
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let mut server = RedisServer { child: None, port, binary };
        server.restart();
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Stops the server by its PID (SIGKILL: an abrupt outage) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the server on the same port, empty, and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                if stream.write_all(b"PING\r\n").is_ok() {
                    let mut buf = [0u8; 7];
                    if std::io::Read::read(&mut stream, &mut buf).is_ok_and(|n| buf[..n].starts_with(b"+PONG")) {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not answer within 10 s", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn which(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()).map(|p| p.display().to_string())
}
