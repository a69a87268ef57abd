//! The cost ledger: one JSON line per priced span, appended to a file on its own thread, for
//! reconciling with a provider's invoice.
//!
//! Whoever finishes a span (a finisher worker; the application thread under `botanu::testing` or when
//! the finisher is behind) only hands a finished line to a bounded channel (`try_send`: never blocks; a full channel drops the
//! line, counted in [`CostLedger::dropped`]). The `botanu-ledger` thread appends lines through a buffer,
//! flushes whenever the channel runs dry, and rotates the file by size: past `max_bytes` the file
//! becomes `<path>.1`, `<path>.1` becomes `<path>.2`, … and the oldest beyond `max_files` is removed, so
//! the ledger never holds more than `(max_files + 1) × max_bytes` (plus one line). A write or open error
//! drops lines (counted) and never reaches the application. Dropping the ledger writes what is queued
//! and joins the thread.
//!
//! Limits: the ledger is what this process priced (the run's `scope = "process"`); lines of a crash's
//! last moments may be lost; and it holds no content, only identifiers, counts and figures.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// Lines waiting for the writer at most; past this a line is dropped, counted.
pub(crate) const LEDGER_CHANNEL_CAPACITY: usize = 8192;

/// What the writer thread is told.
enum Message {
    Line(String),
    /// Write and flush everything sent before, then answer.
    Flush(SyncSender<()>),
}

/// The ledger's file settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LedgerFile {
    pub(crate) path: PathBuf,
    pub(crate) max_bytes: u64,
    pub(crate) max_files: usize,
}

/// The sending side of the cost ledger (see the module docs).
#[derive(Debug)]
pub(crate) struct CostLedger {
    sender: Mutex<Option<SyncSender<Message>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    dropped: Arc<AtomicU64>,
}

impl CostLedger {
    /// Starts the writer thread for `file`; `None` when the thread cannot be started (the ledger is then
    /// off, and nothing else changes).
    pub(crate) fn start(file: LedgerFile) -> Option<CostLedger> {
        let (sender, receiver) = sync_channel(LEDGER_CHANNEL_CAPACITY);
        let dropped = Arc::new(AtomicU64::new(0));
        let counted = dropped.clone();
        let writer = std::thread::Builder::new()
            .name("botanu-ledger".into())
            .spawn(move || Writer::new(file, counted).run(&receiver))
            .ok()?;
        Some(CostLedger { sender: Mutex::new(Some(sender)), writer: Mutex::new(Some(writer)), dropped })
    }

    /// Queues one line (without its newline); never blocks.
    pub(crate) fn append(&self, line: String) {
        let sender = crate::contention::lock(crate::contention::Site::Ledger, &self.sender);
        let sent = match sender.as_ref() {
            Some(sender) => match sender.try_send(Message::Line(line)) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if !sent {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes and flushes every line queued before the call, waiting at most `timeout`; false on timeout.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let (done, wait) = sync_channel(1);
        let Some(sender) = self.sender.lock().unwrap_or_else(PoisonError::into_inner).clone() else {
            return false;
        };
        // Waits for room in the channel as for the writer: within `timeout`, never longer.
        let mut message = Message::Flush(done);
        loop {
            match sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if std::time::Instant::now() >= deadline {
                        return false;
                    }
                    message = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        wait.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())).is_ok()
    }

    /// Lines dropped: the channel was full, or the file could not be opened or written.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for CostLedger {
    fn drop(&mut self) {
        // Closing the channel ends the writer after the lines already queued.
        self.sender.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(writer) = self.writer.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = writer.join();
        }
    }
}

/// The writer thread's state.
struct Writer {
    file: LedgerFile,
    out: Option<BufWriter<File>>,
    written: u64,
    dropped: Arc<AtomicU64>,
}

impl Writer {
    fn new(file: LedgerFile, dropped: Arc<AtomicU64>) -> Self {
        Writer { file, out: None, written: 0, dropped }
    }

    fn run(mut self, receiver: &Receiver<Message>) {
        loop {
            // Flushed whenever the channel runs dry for a moment, so a reader sees lines soon.
            let message = match receiver.recv_timeout(Duration::from_millis(200)) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    self.flush();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            match message {
                Message::Line(line) => self.write(&line),
                Message::Flush(done) => {
                    self.flush();
                    let _ = done.send(());
                }
            }
        }
        self.flush();
    }

    fn write(&mut self, line: &str) {
        let len = line.len() as u64 + 1;
        if self.out.is_some() && self.written > 0 && self.written + len > self.file.max_bytes {
            self.rotate();
        }
        if self.out.is_none() {
            self.open();
        }
        let Some(out) = self.out.as_mut() else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if out.write_all(line.as_bytes()).and_then(|()| out.write_all(b"\n")).is_ok() {
            self.written += len;
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.out = None;
        }
    }

    fn flush(&mut self) {
        if let Some(out) = self.out.as_mut() {
            if out.flush().is_err() {
                self.out = None;
            }
        }
    }

    fn open(&mut self) {
        let path = &self.file.path;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(file) = OpenOptions::new().create(true).append(true).open(path) {
            self.written = file.metadata().map_or(0, |meta| meta.len());
            self.out = Some(BufWriter::new(file));
        }
    }

    /// `<path>` → `<path>.1` → … → `<path>.<max_files>`; the oldest beyond is removed.
    fn rotate(&mut self) {
        self.flush();
        self.out = None;
        let path = &self.file.path;
        let numbered = |n: usize| numbered_path(path, n);
        if self.file.max_files == 0 {
            let _ = std::fs::remove_file(path);
        } else {
            let _ = std::fs::remove_file(numbered(self.file.max_files));
            for n in (1..self.file.max_files).rev() {
                let _ = std::fs::rename(numbered(n), numbered(n + 1));
            }
            let _ = std::fs::rename(path, numbered(1));
        }
        self.written = 0;
    }
}

/// `<path>.<n>`.
pub(crate) fn numbered_path(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rotation keeps at most `max_files` old files, each at most `max_bytes` (lines are never split).
    #[test]
    fn rotation_is_bounded() {
        let dir = std::env::temp_dir().join(format!("botanu-ledger-rotation-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("cost.jsonl");
        let ledger =
            CostLedger::start(LedgerFile { path: path.clone(), max_bytes: 100, max_files: 2 }).expect("thread starts");
        for i in 0..40 {
            ledger.append(format!("{{\"line\":{i:04}}}"));
        }
        assert!(ledger.flush(Duration::from_secs(10)));
        drop(ledger);
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let (current, first, second) = (read(&path), read(&numbered_path(&path, 1)), read(&numbered_path(&path, 2)));
        assert!(!numbered_path(&path, 3).exists());
        for text in [&current, &first, &second] {
            assert!(text.len() <= 100, "{text}");
            assert!(text.lines().all(|line| line.starts_with("{\"line\":") && line.ends_with('}')), "{text}");
        }
        // The newest lines survive, in order: the last one is 39.
        assert!(current.trim_end().ends_with("{\"line\":0039}"), "{current}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
