//! Latency statistics: a log-linear histogram of durations that many tasks
//! fill separately and then merge, read back as percentiles.
//!
//! ```text
//!   value (ns) ─► [0,128) one bucket per ns
//!                 [2^k, 2^(k+1)) split into 128 equal buckets   (k >= 7)
//! ```
//!
//! Each recorded value lands in a bucket no wider than 1/128 of its
//! magnitude, so a reported percentile is within 0.8 % of the exact one,
//! while a histogram stays a fixed ~60 KB however many values it holds.

use std::time::Duration;

/// Buckets per power of two (and the width of the exact range below it).
const SUB_BUCKETS: u64 = 128;
const SUB_BITS: u32 = 7;
/// Enough buckets for every `u64` value.
const BUCKETS: usize = (SUB_BUCKETS as usize) * (64 - SUB_BITS as usize + 1);

/// A histogram of durations, with exact count, sum, min and max.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    count: u64,
    sum_nanos: u128,
    min_nanos: u64,
    max_nanos: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], count: 0, sum_nanos: 0, min_nanos: u64::MAX, max_nanos: 0 }
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one duration.
    pub fn record(&mut self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        self.counts[bucket_of(nanos)] += 1;
        self.count += 1;
        self.sum_nanos += u128::from(nanos);
        self.min_nanos = self.min_nanos.min(nanos);
        self.max_nanos = self.max_nanos.max(nanos);
    }

    /// Adds every value recorded in `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum_nanos += other.sum_nanos;
        self.min_nanos = self.min_nanos.min(other.min_nanos);
        self.max_nanos = self.max_nanos.max(other.max_nanos);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The smallest value recorded (`None` when empty).
    pub fn min(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_nanos(self.min_nanos))
    }

    /// The largest value recorded (`None` when empty).
    pub fn max(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_nanos(self.max_nanos))
    }

    /// The arithmetic mean (`None` when empty).
    pub fn mean(&self) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let mean = self.sum_nanos / u128::from(self.count);
        Some(Duration::from_nanos(u64::try_from(mean).unwrap_or(u64::MAX)))
    }

    /// The value below or at which a fraction `q` (0.0..=1.0) of the
    /// recorded values lie: the smallest value `v` such that at least
    /// `ceil(q * count)` values are `<= v`, up to the bucket's precision,
    /// and never outside `[min, max]`. `None` when empty.
    pub fn percentile(&self, q: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        // The rank of the wanted value, 1-based.
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (index, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let (low, high) = bucket_bounds(index);
                let middle = low + (high - low) / 2;
                return Some(Duration::from_nanos(middle.clamp(self.min_nanos, self.max_nanos)));
            }
        }
        Some(Duration::from_nanos(self.max_nanos))
    }
}

/// The bucket holding `nanos`.
fn bucket_of(nanos: u64) -> usize {
    if nanos < SUB_BUCKETS {
        return nanos as usize;
    }
    let magnitude = 63 - nanos.leading_zeros(); // >= SUB_BITS
    let shift = magnitude - SUB_BITS;
    let mantissa = nanos >> shift; // in SUB_BUCKETS..2*SUB_BUCKETS
    (SUB_BUCKETS * (u64::from(shift) + 1) + (mantissa - SUB_BUCKETS)) as usize
}

/// The inclusive range of values bucket `index` holds.
fn bucket_bounds(index: usize) -> (u64, u64) {
    let index = index as u64;
    if index < SUB_BUCKETS {
        return (index, index);
    }
    let shift = index / SUB_BUCKETS - 1;
    let mantissa = SUB_BUCKETS + index % SUB_BUCKETS;
    let low = mantissa << shift;
    let high = low.saturating_add((1u64 << shift) - 1);
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_in_order() {
        let mut previous = 0;
        for nanos in (0..5000).chain([1 << 20, (1 << 20) + 1, 123_456_789, u64::MAX / 2, u64::MAX]) {
            let index = bucket_of(nanos);
            assert!(index < BUCKETS, "{nanos} -> {index}");
            let (low, high) = bucket_bounds(index);
            assert!(low <= nanos && nanos <= high, "{nanos} not in bucket {index} = [{low}, {high}]");
            assert!(index >= previous, "buckets out of order at {nanos}");
            previous = index;
            // Precision: a bucket is at most 1/128 of its values wide.
            assert!((high - low) <= nanos / SUB_BUCKETS, "bucket [{low}, {high}] too wide for {nanos}");
        }
    }

    #[test]
    fn percentiles_of_a_uniform_spread() {
        let mut h = Histogram::new();
        for micros in 1..=1000u64 {
            h.record(Duration::from_micros(micros));
        }
        assert_eq!(h.count(), 1000);
        let close = |got: Option<Duration>, want_micros: u64| {
            let got = got.expect("non-empty").as_nanos() as f64;
            let want = (want_micros * 1000) as f64;
            assert!((got - want).abs() <= want * 0.01, "got {got} ns, want about {want} ns");
        };
        close(h.percentile(0.5), 500);
        close(h.percentile(0.99), 990);
        close(h.percentile(1.0), 1000);
        close(h.percentile(0.0), 1);
        assert_eq!(h.min(), Some(Duration::from_micros(1)));
        assert_eq!(h.max(), Some(Duration::from_micros(1000)));
        close(h.mean(), 500); // 500.5 µs
    }

    #[test]
    fn merging_equals_recording_together() {
        let (mut a, mut b, mut both) = (Histogram::new(), Histogram::new(), Histogram::new());
        for i in 0..300u64 {
            let d = Duration::from_nanos(i * i * 37 + 5);
            if i % 3 == 0 { &mut a } else { &mut b }.record(d);
            both.record(d);
        }
        a.merge(&b);
        assert_eq!(a.count(), both.count());
        for q in [0.0, 0.25, 0.5, 0.9, 0.99, 1.0] {
            assert_eq!(a.percentile(q), both.percentile(q), "q = {q}");
        }
        assert_eq!((a.min(), a.max(), a.mean()), (both.min(), both.max(), both.mean()));
    }

    #[test]
    fn empty_and_single() {
        let mut h = Histogram::new();
        assert_eq!(h.percentile(0.5), None);
        assert_eq!(h.mean(), None);
        h.record(Duration::from_millis(7));
        assert_eq!(h.percentile(0.5), Some(Duration::from_millis(7)));
        assert_eq!(h.percentile(0.99), Some(Duration::from_millis(7)));
    }
}
