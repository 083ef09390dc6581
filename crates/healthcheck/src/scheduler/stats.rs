//! How late attempts start compared with their plan: a lock-free log-linear histogram.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How late attempts start compared with their plan, and how many ran: the figure keepalived
/// loses at scale. Lock-free; read it with [`SlipStats::quantile`].
pub struct SlipStats {
    buckets: Box<[AtomicU64]>,
    attempts: AtomicU64,
}

pub(super) const LINEAR: u64 = 64;
pub(super) const SUB_BITS: u32 = 5;
pub(super) const SUB: u64 = 1 << SUB_BITS;
pub(super) const BUCKETS: usize = (LINEAR + (64 - 6) * SUB) as usize;

impl SlipStats {
    pub(super) fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            attempts: AtomicU64::new(0),
        }
    }

    pub(super) fn bucket(micros: u64) -> usize {
        if micros < LINEAR {
            return micros as usize;
        }
        let exponent = 63 - u64::from(micros.leading_zeros());
        let sub = (micros >> (exponent - u64::from(SUB_BITS))) & (SUB - 1);
        (LINEAR + (exponent - 6) * SUB + sub) as usize
    }

    pub(super) fn bucket_upper(bucket: usize) -> u64 {
        let bucket = bucket as u64;
        if bucket < LINEAR {
            return bucket;
        }
        let exponent = (bucket - LINEAR) / SUB + 6;
        let sub = (bucket - LINEAR) % SUB;
        ((SUB + sub + 1) << (exponent - u64::from(SUB_BITS))) - 1
    }

    pub(crate) fn record(&self, slip: Duration) {
        let micros = u64::try_from(slip.as_micros()).unwrap_or(u64::MAX);
        self.buckets[Self::bucket(micros)].fetch_add(1, Ordering::Relaxed);
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// The slip below which `q` (0–1) of the attempts started, to about 3 %; `None` before any.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (bucket, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(Duration::from_micros(Self::bucket_upper(bucket)));
            }
        }
        None
    }

    /// Forgets everything counted so far (to measure a steady state after a warm-up).
    pub fn reset(&self) {
        for bucket in self.buckets.iter() {
            bucket.store(0, Ordering::Relaxed);
        }
        self.attempts.store(0, Ordering::Relaxed);
    }
}

impl fmt::Debug for SlipStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlipStats")
            .field("attempts", &self.attempts())
            .field("p50", &self.quantile(0.5))
            .field("p99", &self.quantile(0.99))
            .finish()
    }
}
