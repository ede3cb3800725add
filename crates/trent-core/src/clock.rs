//! The injectable clock every time-driven rule reads.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A source of the current time, in Unix epoch milliseconds.
pub trait Clock: Send + Sync + 'static {
    /// Now, in milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that follows the system clock plus an adjustable offset, so tests can move time.
#[derive(Debug, Default)]
pub struct OffsetClock {
    offset_ms: AtomicI64,
}

impl OffsetClock {
    /// Moves the clock forward (or back, with a negative value).
    pub fn advance_ms(&self, delta: i64) {
        self.offset_ms.fetch_add(delta, Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.offset_ms.load(Ordering::SeqCst)
    }
}

/// Milliseconds as the fractional epoch seconds AWS puts on the wire.
pub fn epoch_seconds(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// A clock that adds an offset, in milliseconds, read from a file: lets end-to-end tests move
/// the time of a running server (`trent serve --test-clock-offset-file`). A missing or
/// unreadable file means no offset. Never use it in production.
#[derive(Debug)]
pub struct FileOffsetClock {
    path: std::path::PathBuf,
}

impl FileOffsetClock {
    /// Reads the offset from `path` on every call.
    pub fn new(path: std::path::PathBuf) -> Self {
        Self { path }
    }
}

impl Clock for FileOffsetClock {
    fn now_ms(&self) -> i64 {
        let offset = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .unwrap_or(0);
        SystemClock.now_ms().saturating_add(offset)
    }
}
