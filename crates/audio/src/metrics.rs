//! Counters a stream's real-time side updates without locks, read by the watchdog, the
//! meters in the UI and the benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Live counters for one stream, shared between the audio callback and readers.
#[derive(Debug)]
pub struct StreamMetrics {
    epoch: Instant,
    /// Samples the device delivered (all channels).
    delivered: AtomicU64,
    /// Samples that did not fit in the ring and were dropped.
    dropped: AtomicU64,
    /// Callbacks run.
    callbacks: AtomicU64,
    /// When the last callback ran, in microseconds since `epoch` (0: never).
    last_callback_us: AtomicU64,
    /// Times the watchdog restarted the stream.
    restarts: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, specta::Type)]
pub struct MetricsSnapshot {
    pub delivered: u64,
    pub dropped: u64,
    pub callbacks: u64,
    pub restarts: u64,
}

impl Default for StreamMetrics {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            callbacks: AtomicU64::new(0),
            last_callback_us: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
        }
    }
}

impl StreamMetrics {
    /// Called from the audio callback: wait-free.
    pub fn record_callback(&self, delivered: usize, dropped: usize) {
        self.delivered
            .fetch_add(delivered as u64, Ordering::Relaxed);
        if dropped > 0 {
            self.dropped.fetch_add(dropped as u64, Ordering::Relaxed);
        }
        self.callbacks.fetch_add(1, Ordering::Relaxed);
        let now = self.epoch.elapsed().as_micros() as u64;
        self.last_callback_us.store(now.max(1), Ordering::Release);
    }

    pub fn record_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    /// How long since the last callback; `None` if none has run yet.
    pub fn since_last_callback(&self) -> Option<Duration> {
        match self.last_callback_us.load(Ordering::Acquire) {
            0 => None,
            us => Some(
                self.epoch
                    .elapsed()
                    .saturating_sub(Duration::from_micros(us)),
            ),
        }
    }

    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            delivered: self.delivered.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            callbacks: self.callbacks.load(Ordering::Relaxed),
            restarts: self.restarts.load(Ordering::Relaxed),
        }
    }
}
