//! Time-to-live as etcd leases, shared between keys.
//!
//! A lease per key would cost etcd one lease record (and one expiry) per
//! Event object. Instead a lease is granted for `ttl + window` and reused for
//! every later key whose own ttl ends inside the lease's remaining life: a key
//! then lives at least its ttl and at most `window` longer. The window is a
//! twentieth of the ttl, at least a second, at most
//! [`EtcdOptions::lease_reuse_window`](super::EtcdOptions::lease_reuse_window).
//!
//! ```text
//!  now ──────────── now+ttl ════ now+ttl+window
//!                             ▲ a pooled lease expiring here is reused
//! ```

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::client::{Etcd, Failure};

/// etcd refuses leases longer than this many seconds.
const MAX_LEASE_SECONDS: i64 = 9_000_000_000;

/// How much longer than its ttl a key may live when it shares a lease.
pub(super) fn reuse_window(ttl: Duration, max: Duration) -> Duration {
    (ttl / 20).max(Duration::from_secs(1)).min(max)
}

/// The lease ttl to ask etcd for: whole seconds, rounded up.
pub(super) fn grant_seconds(ttl: Duration, window: Duration) -> i64 {
    let total = ttl.saturating_add(window);
    let secs = total.as_secs().saturating_add(u64::from(total.subsec_nanos() > 0));
    i64::try_from(secs).unwrap_or(MAX_LEASE_SECONDS).clamp(1, MAX_LEASE_SECONDS)
}

/// Leases granted earlier and when they expire (at the earliest).
#[derive(Debug, Default)]
pub(super) struct LeasePool {
    leases: Vec<PooledLease>,
}

#[derive(Debug, Clone, Copy)]
struct PooledLease {
    id: i64,
    expires: Instant,
}

impl LeasePool {
    /// A pooled lease that outlives `now + ttl` by at most `window`. Leases
    /// that have expired are dropped from the pool on the way.
    pub(super) fn pick(&mut self, now: Instant, ttl: Duration, window: Duration) -> Option<i64> {
        self.leases.retain(|l| l.expires > now);
        let earliest = now.checked_add(ttl)?;
        let latest = earliest.checked_add(window)?;
        self.leases
            .iter()
            .filter(|l| l.expires >= earliest && l.expires <= latest)
            .max_by_key(|l| l.expires)
            .map(|l| l.id)
    }

    /// Adds a lease that expires no sooner than `expires`.
    pub(super) fn add(&mut self, id: i64, expires: Instant) {
        self.leases.push(PooledLease { id, expires });
    }

    /// Drops a lease etcd no longer knows.
    pub(super) fn forget(&mut self, id: i64) {
        self.leases.retain(|l| l.id != id);
    }

    pub(super) fn len(&self) -> usize {
        self.leases.len()
    }
}

/// Hands out leases for ttls, granting new ones only when none in the pool fits.
#[derive(Debug)]
pub(super) struct LeaseManager {
    etcd: Etcd,
    max_window: Duration,
    /// An async lock held across a grant, so concurrent writers with the
    /// same ttl wait for one grant and share it.
    pool: Mutex<LeasePool>,
}

impl LeaseManager {
    pub(super) fn new(etcd: Etcd, max_window: Duration) -> LeaseManager {
        LeaseManager { etcd, max_window, pool: Mutex::new(LeasePool::default()) }
    }

    /// A lease that expires no sooner than `ttl` from now.
    pub(super) async fn lease_for(&self, ttl: Duration) -> Result<i64, Failure> {
        let window = reuse_window(ttl, self.max_window);
        let mut pool = self.pool.lock().await;
        if let Some(id) = pool.pick(Instant::now(), ttl, window) {
            return Ok(id);
        }
        let asked = grant_seconds(ttl, window);
        let start = Instant::now();
        let mut client = self.etcd.lease();
        let resp = self.etcd.call(client.grant(asked, None)).await?;
        if !resp.error().is_empty() {
            return Err(Failure::Fault(format!("lease grant refused: {}", resp.error())));
        }
        // etcd may raise a short ttl to its minimum; the lease then lives longer.
        let granted = u64::try_from(resp.ttl().max(asked)).unwrap_or(0);
        let expires =
            start.checked_add(Duration::from_secs(granted)).unwrap_or(start + Duration::from_secs(86_400 * 365));
        pool.add(resp.id(), expires);
        tracing::debug!(lease = resp.id(), ttl_seconds = granted, "granted etcd lease");
        Ok(resp.id())
    }

    /// Forgets a lease etcd reported as gone.
    pub(super) async fn forget(&self, id: i64) {
        self.pool.lock().await.forget(id);
    }

    /// How many leases the pool holds (live or not yet pruned).
    pub(super) async fn pooled(&self) -> usize {
        self.pool.lock().await.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn windows_scale_with_ttl_within_bounds() {
        assert_eq!(reuse_window(2 * S, 60 * S), S);
        assert_eq!(reuse_window(100 * S, 60 * S), 5 * S);
        assert_eq!(reuse_window(3600 * S, 60 * S), 60 * S);
        assert_eq!(reuse_window(3600 * S, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn grants_round_up_to_whole_seconds() {
        assert_eq!(grant_seconds(Duration::from_millis(1500), S), 3);
        assert_eq!(grant_seconds(10 * S, S), 11);
        assert_eq!(grant_seconds(Duration::ZERO, Duration::ZERO), 1);
        assert_eq!(grant_seconds(Duration::MAX, S), MAX_LEASE_SECONDS);
    }

    #[test]
    fn reuses_a_lease_ending_within_the_window() {
        let now = Instant::now();
        let mut pool = LeasePool::default();
        pool.add(7, now + 62 * S);
        // ttl 60 s, window 3 s: the lease ends 2 s after the key would.
        assert_eq!(pool.pick(now, 60 * S, 3 * S), Some(7));
        // A second later the same ttl ends 1 s after it: still reused.
        assert_eq!(pool.pick(now + S, 60 * S, 3 * S), Some(7));
        // Three seconds later the lease would end before the key's ttl.
        assert_eq!(pool.pick(now + 3 * S, 60 * S, 3 * S), None);
    }

    #[test]
    fn never_picks_a_lease_that_would_end_too_early_or_too_late() {
        let now = Instant::now();
        let mut pool = LeasePool::default();
        pool.add(1, now + 10 * S);
        pool.add(2, now + 100 * S);
        assert_eq!(pool.pick(now, 30 * S, 5 * S), None);
        assert_eq!(pool.pick(now, 8 * S, 5 * S), Some(1));
        assert_eq!(pool.pick(now, 98 * S, 5 * S), Some(2));
    }

    #[test]
    fn prefers_the_longest_fitting_lease_and_prunes_expired_ones() {
        let now = Instant::now();
        let mut pool = LeasePool::default();
        pool.add(1, now + 10 * S);
        pool.add(2, now + 12 * S);
        pool.add(3, now + S);
        assert_eq!(pool.pick(now, 9 * S, 5 * S), Some(2));
        assert_eq!(pool.pick(now + 2 * S, 9 * S, 5 * S), Some(2));
        assert_eq!(pool.len(), 2, "the lease that ended is pruned");
        pool.forget(2);
        assert_eq!(pool.pick(now, 9 * S, 5 * S), Some(1));
    }
}
