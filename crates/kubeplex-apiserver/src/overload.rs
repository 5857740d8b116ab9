//! Overload protection, fair per logical cluster: a bound on the requests in
//! flight (kube-apiserver's `--max-requests-inflight` and
//! `--max-mutating-requests-inflight`), shared so that one busy logical
//! cluster cannot take the seats the others need.
//!
//! ```text
//!  request ─► kind? ── exempt (/healthz /livez /readyz /version /metrics) ─────────► handler
//!               │  └── long-running (watches, connect subresources) ──────────────► handler
//!               ├ read-only (GET, HEAD) ──► FairLimiter(--max-requests-inflight) ──► handler
//!               └ mutating (the rest) ───► FairLimiter(--max-mutating-…) ─────────► handler
//!                                              │ full, and no room to wait
//!                                              └► 429, Retry-After: 1
//! ```
//!
//! Each limiter has `limit` seats. A request takes a seat at once when one is
//! free. When all are taken, it may wait for one, briefly, in its logical
//! cluster's queue; every freed seat goes to the waiting cluster that runs the
//! fewest requests (the oldest waiter on ties), so seats flow towards equal
//! shares whatever the clusters' arrival rates (max-min fairness).
//!
//! The *fair share* of a cluster is `max(1, limit / active)`, where `active`
//! counts the clusters that run or wait for a request of this limiter now. A
//! cluster may wait only while it runs and waits for fewer than its share:
//! beyond it, a request is answered 429 at once. So:
//! - one cluster alone may use every seat (nobody else wants them), but it
//!   never queues for more seats than its share; a flood of it is rejected
//!   right away rather than piled up;
//! - a cluster below its share always finds room in its queue, and the next
//!   seat freed by anyone is its own: its wait is bounded by the shortest
//!   remaining time of the requests in flight, never by the flood's backlog;
//! - nobody waits longer than [`QUEUE_WAIT`]: then the answer is 429 too.
//!
//! Nothing runs per logical cluster: no task, no timer (a waiting request has
//! its own timeout). A cluster's entry exists only while it has requests
//! running or waiting and is removed when the last one ends, so requests
//! naming unknown clusters cost nothing once they are answered.
//!
//! The answer is upstream's (`tooManyRequests` of kube-apiserver's filters):
//! status 429, `Retry-After: 1` and the plain-text body
//! `Too many requests, please try again later.`. client-go turns it into a
//! `TooManyRequests` error and retries after a second. Unlike upstream,
//! members of `system:masters` are limited too: in kubeplex, administrators
//! of logical clusters are tenants, and an exemption would void fairness.
//!
//! [`FairQueue`] is the pure bookkeeping (unit-tested without time);
//! [`FairLimiter`] adds waiting and the seats' release on drop.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use tokio::sync::oneshot;

/// kube-apiserver's default `--max-requests-inflight`.
pub const DEFAULT_MAX_REQUESTS_INFLIGHT: usize = 400;
/// kube-apiserver's default `--max-mutating-requests-inflight`.
pub const DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT: usize = 200;
/// The longest a request waits for a seat before it is answered 429.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// What a rejected request is told to wait (upstream's `Retry-After`).
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The limits on requests in flight; 0 means unlimited (as upstream).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InflightLimits {
    /// `--max-requests-inflight`: read-only requests (GET, HEAD).
    pub read_only: usize,
    /// `--max-mutating-requests-inflight`: every other non-long-running request.
    pub mutating: usize,
}

impl Default for InflightLimits {
    fn default() -> Self {
        InflightLimits { read_only: DEFAULT_MAX_REQUESTS_INFLIGHT, mutating: DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT }
    }
}

/// How a request counts against the limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// Health, version and metrics: never limited.
    Exempt,
    /// Watches and connections: they last, so they hold no seat.
    LongRunning,
    ReadOnly,
    Mutating,
}

impl RequestKind {
    /// The `request_kind` label of upstream's in-flight gauges.
    pub fn label(self) -> Option<&'static str> {
        match self {
            RequestKind::ReadOnly => Some("readOnly"),
            RequestKind::Mutating => Some("mutating"),
            RequestKind::Exempt | RequestKind::LongRunning => None,
        }
    }
}

/// What became of an arriving request.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    /// It holds a seat now.
    Admitted,
    /// It waits in its cluster's queue under this id.
    Queued(u64),
    /// No seat and no room to wait.
    Rejected,
}

#[derive(Debug)]
struct ClusterSeats<W> {
    running: usize,
    waiting: VecDeque<(u64, W)>,
}

impl<W> Default for ClusterSeats<W> {
    fn default() -> Self {
        ClusterSeats { running: 0, waiting: VecDeque::new() }
    }
}

/// The seats of one limiter and who runs and waits, per logical cluster.
/// `W` is what a waiter is woken with; seats given to waiters are returned
/// so the caller wakes them.
#[derive(Debug)]
pub struct FairQueue<W> {
    limit: usize,
    in_flight: usize,
    queued: usize,
    next_id: u64,
    clusters: HashMap<String, ClusterSeats<W>>,
}

impl<W> FairQueue<W> {
    /// A queue with `limit` seats (at least one).
    pub fn new(limit: usize) -> Self {
        FairQueue { limit: limit.max(1), in_flight: 0, queued: 0, next_id: 0, clusters: HashMap::new() }
    }

    /// A cluster's fair share of the seats now.
    pub fn share(&self) -> usize {
        (self.limit / self.clusters.len().max(1)).max(1)
    }

    /// A request of `cluster` arrives; `waiter` is kept if it must wait.
    pub fn arrive(&mut self, cluster: &str, waiter: W) -> Arrival {
        if self.in_flight < self.limit {
            // Seats are free only while nobody waits (see `dispatch`).
            let seats = self.clusters.entry(cluster.to_owned()).or_default();
            seats.running += 1;
            self.in_flight += 1;
            return Arrival::Admitted;
        }
        let new = !self.clusters.contains_key(cluster);
        // A newcomer is active too: it counts in the share it is held to.
        let share = (self.limit / (self.clusters.len() + usize::from(new)).max(1)).max(1);
        let seats = self.clusters.entry(cluster.to_owned()).or_default();
        if seats.running + seats.waiting.len() >= share {
            if seats.running == 0 && seats.waiting.is_empty() {
                self.clusters.remove(cluster);
            }
            return Arrival::Rejected;
        }
        let id = self.next_id;
        self.next_id += 1;
        seats.waiting.push_back((id, waiter));
        self.queued += 1;
        Arrival::Queued(id)
    }

    /// A request of `cluster` gives its seat back. Returns the waiters that
    /// now hold a seat.
    pub fn release(&mut self, cluster: &str) -> Vec<W> {
        if let Some(seats) = self.clusters.get_mut(cluster)
            && seats.running > 0
        {
            seats.running -= 1;
            self.in_flight -= 1;
            if seats.running == 0 && seats.waiting.is_empty() {
                self.clusters.remove(cluster);
            }
        }
        self.dispatch()
    }

    /// A waiter of `cluster` gives up (timed out, or its client left).
    /// `None` when it was still waiting (it is gone now); otherwise it had
    /// been given a seat, which it keeps: the caller releases it or uses it.
    pub fn withdraw(&mut self, cluster: &str, id: u64) -> Option<()> {
        let seats = self.clusters.get_mut(cluster)?;
        let at = seats.waiting.iter().position(|(w, _)| *w == id)?;
        seats.waiting.remove(at);
        self.queued -= 1;
        if seats.running == 0 && seats.waiting.is_empty() {
            self.clusters.remove(cluster);
        }
        Some(())
    }

    /// Gives free seats to waiters: each to the waiting cluster that runs the
    /// fewest requests, the oldest waiter first on ties.
    fn dispatch(&mut self) -> Vec<W> {
        let mut granted = Vec::new();
        while self.in_flight < self.limit && self.queued > 0 {
            let next = self
                .clusters
                .iter_mut()
                .filter_map(|(_, s)| Some((s.running, s.waiting.front()?.0, s)))
                .min_by_key(|(running, id, _)| (*running, *id));
            let Some((_, _, seats)) = next else { break };
            let Some((_, waiter)) = seats.waiting.pop_front() else { break };
            seats.running += 1;
            self.in_flight += 1;
            self.queued -= 1;
            granted.push(waiter);
        }
        granted
    }

    /// Requests holding a seat.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Requests waiting for one.
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Clusters with requests running or waiting (each has an entry).
    pub fn active_clusters(&self) -> usize {
        self.clusters.len()
    }

    /// `(running, waiting)` of `cluster`.
    pub fn of(&self, cluster: &str) -> (usize, usize) {
        self.clusters.get(cluster).map_or((0, 0), |s| (s.running, s.waiting.len()))
    }
}

/// The answer to a request refused for overload.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejected;

#[derive(Debug)]
struct LimiterState {
    queue: FairQueue<oneshot::Sender<()>>,
    /// The most seats taken since the peak was last read.
    peak_in_flight: usize,
    peak_queued: usize,
}

/// One limit with its fair queue, shared by every request of its kind.
#[derive(Debug)]
pub struct FairLimiter {
    state: Mutex<LimiterState>,
    wait: Duration,
}

impl FairLimiter {
    pub fn new(limit: usize, wait: Duration) -> Arc<Self> {
        let state = LimiterState { queue: FairQueue::new(limit), peak_in_flight: 0, peak_queued: 0 };
        Arc::new(FairLimiter { state: Mutex::new(state), wait })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A seat for a request of `cluster`, waiting for one at most the
    /// limiter's wait.
    pub async fn acquire(self: &Arc<Self>, cluster: &str) -> Result<Permit, Rejected> {
        let (tx, rx) = oneshot::channel();
        let arrival = {
            let mut state = self.lock();
            let arrival = state.queue.arrive(cluster, tx);
            state.peak_in_flight = state.peak_in_flight.max(state.queue.in_flight());
            state.peak_queued = state.peak_queued.max(state.queue.queued());
            arrival
        };
        match arrival {
            Arrival::Admitted => Ok(Permit { limiter: Arc::clone(self), cluster: cluster.to_owned() }),
            Arrival::Rejected => Err(Rejected),
            Arrival::Queued(id) => {
                let mut waiting = Waiting { limiter: Arc::clone(self), cluster: cluster.to_owned(), id, done: false };
                // Woken when given a seat; whatever woke it, the queue says
                // whether it holds one.
                let _ = tokio::time::timeout(self.wait, rx).await;
                waiting.done = true;
                let withdrawn = self.lock().queue.withdraw(cluster, id);
                match withdrawn {
                    Some(()) => Err(Rejected),
                    None => Ok(Permit { limiter: Arc::clone(self), cluster: cluster.to_owned() }),
                }
            }
        }
    }

    fn release(&self, cluster: &str) {
        let granted = {
            let mut state = self.lock();
            let granted = state.queue.release(cluster);
            state.peak_in_flight = state.peak_in_flight.max(state.queue.in_flight());
            granted
        };
        for waiter in granted {
            // A waiter that is gone gives its seat back in `Waiting::drop`.
            let _ = waiter.send(());
        }
    }

    /// `(in flight, queued)`: the most seen since the last call, at least
    /// the current numbers.
    pub fn take_peaks(&self) -> (usize, usize) {
        let mut state = self.lock();
        let peaks = (state.peak_in_flight, state.peak_queued);
        state.peak_in_flight = state.queue.in_flight();
        state.peak_queued = state.queue.queued();
        peaks
    }
}

/// A request waiting for a seat; if dropped while waiting (its client went
/// away), it leaves the queue, or gives back the seat it was just given.
#[derive(Debug)]
struct Waiting {
    limiter: Arc<FairLimiter>,
    cluster: String,
    id: u64,
    done: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let withdrawn = self.limiter.lock().queue.withdraw(&self.cluster, self.id);
        if withdrawn.is_none() {
            self.limiter.release(&self.cluster);
        }
    }
}

/// A seat, given back when dropped.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<FairLimiter>,
    cluster: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.limiter.release(&self.cluster);
    }
}

/// The two limiters of the server.
#[derive(Debug)]
pub struct Overload {
    read_only: Option<Arc<FairLimiter>>,
    mutating: Option<Arc<FairLimiter>>,
}

impl Overload {
    pub fn new(limits: InflightLimits) -> Self {
        Self::with_wait(limits, QUEUE_WAIT)
    }

    pub fn with_wait(limits: InflightLimits, wait: Duration) -> Self {
        let limiter = |limit: usize| (limit > 0).then(|| FairLimiter::new(limit, wait));
        Overload { read_only: limiter(limits.read_only), mutating: limiter(limits.mutating) }
    }

    fn limiter(&self, kind: RequestKind) -> Option<&Arc<FairLimiter>> {
        match kind {
            RequestKind::ReadOnly => self.read_only.as_ref(),
            RequestKind::Mutating => self.mutating.as_ref(),
            RequestKind::Exempt | RequestKind::LongRunning => None,
        }
    }

    /// A seat for a request of `kind` in `cluster`; `None` when its kind
    /// is not limited.
    pub async fn admit(&self, kind: RequestKind, cluster: &str) -> Result<Option<Permit>, Rejected> {
        match self.limiter(kind) {
            Some(limiter) => limiter.acquire(cluster).await.map(Some),
            None => Ok(None),
        }
    }

    /// `(in flight, queued)` peaks of `kind` since the last call (zero when
    /// unlimited).
    pub fn take_peaks(&self, kind: RequestKind) -> (usize, usize) {
        self.limiter(kind).map_or((0, 0), |l| l.take_peaks())
    }
}

/// Upstream's 429 for a request refused for overload.
pub fn too_many_requests() -> Response {
    let mut response = Response::new(Body::from("Too many requests, please try again later.\n"));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(q: &mut FairQueue<&'static str>, cluster: &str, n: usize) {
        for _ in 0..n {
            assert_eq!(q.arrive(cluster, "x"), Arrival::Admitted);
        }
    }

    #[test]
    fn a_lone_cluster_uses_every_seat_and_is_then_refused_at_once() {
        let mut q = FairQueue::new(4);
        admitted(&mut q, "flood", 4);
        // Its share is all 4 seats, which it holds: no room to wait.
        assert_eq!(q.arrive("flood", "late"), Arrival::Rejected);
        assert_eq!((q.in_flight(), q.queued(), q.active_clusters()), (4, 0, 1));
    }

    #[test]
    fn the_next_free_seat_goes_to_the_cluster_below_its_share() {
        let mut q = FairQueue::new(4);
        admitted(&mut q, "flood", 4);
        // Two clusters active: the share is 2; quiet runs none, so it waits.
        assert!(matches!(q.arrive("quiet", "q1"), Arrival::Queued(_)));
        assert!(matches!(q.arrive("quiet", "q2"), Arrival::Queued(_)));
        assert_eq!(q.arrive("quiet", "q3"), Arrival::Rejected, "quiet may wait for its share only");
        assert_eq!(q.arrive("flood", "f"), Arrival::Rejected, "flood holds more than its share");
        assert_eq!(q.release("flood"), ["q1"]);
        assert_eq!(q.of("quiet"), (1, 1));
        assert_eq!(q.arrive("flood", "f"), Arrival::Rejected, "no seat is free: quiet waits for it");
        assert_eq!(q.release("flood"), ["q2"]);
        assert_eq!((q.of("flood"), q.of("quiet")), ((2, 0), (2, 0)));
        assert_eq!(q.queued(), 0);
    }

    #[test]
    fn seats_go_to_the_cluster_running_fewest_then_the_oldest_waiter() {
        let mut q = FairQueue::new(6);
        admitted(&mut q, "a", 4);
        admitted(&mut q, "b", 2);
        // Three clusters: share 2. b and c may wait up to their share.
        assert!(matches!(q.arrive("c", "c1"), Arrival::Queued(_)));
        assert!(matches!(q.arrive("c", "c2"), Arrival::Queued(_)));
        assert_eq!(q.arrive("b", "b1"), Arrival::Rejected, "b runs its share");
        // c runs nothing: it gets both seats a frees.
        assert_eq!(q.release("a"), ["c1"]);
        assert_eq!(q.release("b"), ["c2"]);
        assert!(matches!(q.arrive("b", "b2"), Arrival::Queued(_)));
        // b runs 1, c runs 2: b's waiter goes first.
        assert_eq!(q.release("c"), ["b2"]);
        assert_eq!((q.of("a"), q.of("b"), q.of("c")), ((3, 0), (2, 0), (1, 0)));
    }

    #[test]
    fn entries_exist_only_while_requests_run_or_wait() {
        let mut q = FairQueue::new(2);
        admitted(&mut q, "a", 2);
        assert!(matches!(q.arrive("b", "b1"), Arrival::Queued(_)));
        let Arrival::Queued(id) = q.arrive("c", "c1") else { panic!("c waits") };
        assert_eq!(q.active_clusters(), 3);
        // c gives up: its entry goes.
        assert_eq!(q.withdraw("c", id), Some(()));
        assert_eq!(q.active_clusters(), 2);
        assert_eq!(q.release("a"), ["b1"]);
        assert_eq!(q.release("a"), Vec::<&str>::new());
        assert_eq!(q.release("b"), Vec::<&str>::new());
        assert_eq!((q.active_clusters(), q.in_flight(), q.queued()), (0, 0, 0));
        // A rejected newcomer leaves no entry either.
        admitted(&mut q, "a", 2);
        assert!(matches!(q.arrive("b", "b"), Arrival::Queued(_)));
        assert_eq!(q.arrive("b", "b"), Arrival::Rejected);
        assert_eq!(q.active_clusters(), 2);
    }

    #[test]
    fn a_waiter_given_a_seat_cannot_withdraw() {
        let mut q = FairQueue::new(1);
        admitted(&mut q, "a", 1);
        let Arrival::Queued(id) = q.arrive("b", "b") else { panic!("b waits") };
        assert_eq!(q.release("a"), ["b"]);
        assert_eq!(q.withdraw("b", id), None, "it holds the seat now");
        assert_eq!(q.of("b"), (1, 0));
        assert_eq!(q.release("b"), Vec::<&str>::new());
        assert_eq!(q.active_clusters(), 0);
    }

    #[test]
    fn with_more_clusters_than_seats_each_may_wait_for_one() {
        let mut q = FairQueue::new(2);
        admitted(&mut q, "a", 2);
        for c in ["b", "c", "d"] {
            assert!(matches!(q.arrive(c, "w"), Arrival::Queued(_)), "{c}");
            assert_eq!(q.arrive(c, "w"), Arrival::Rejected, "{c}");
        }
        assert_eq!(q.share(), 1);
        assert_eq!(q.release("a").len(), 1);
        assert_eq!(q.release("a").len(), 1);
        assert_eq!((q.in_flight(), q.queued()), (2, 1));
    }

    #[tokio::test]
    async fn permits_and_waiters_keep_the_books_straight() {
        let overload = Overload::with_wait(InflightLimits { read_only: 1, mutating: 0 }, Duration::from_secs(60));
        assert!(overload.admit(RequestKind::Mutating, "a").await.unwrap().is_none(), "mutating is unlimited");
        assert!(overload.admit(RequestKind::LongRunning, "a").await.unwrap().is_none());
        let held = overload.admit(RequestKind::ReadOnly, "a").await.unwrap();
        assert!(held.is_some());
        assert_eq!(overload.admit(RequestKind::ReadOnly, "a").await.unwrap_err(), Rejected);
        // b waits; the seat passes to it when a's permit drops.
        let limiter = Arc::clone(overload.read_only.as_ref().unwrap());
        let waiter = tokio::spawn({
            let limiter = Arc::clone(&limiter);
            async move { limiter.acquire("b").await.is_ok() }
        });
        while limiter.lock().queue.queued() == 0 {
            tokio::task::yield_now().await;
        }
        drop(held);
        assert!(waiter.await.unwrap(), "b got the seat");
        // b's permit was dropped with its task: everything is free again.
        assert_eq!(limiter.lock().queue.in_flight(), 0);
        assert_eq!(limiter.lock().queue.active_clusters(), 0);
        assert_eq!(overload.take_peaks(RequestKind::ReadOnly), (1, 1));
        assert_eq!(overload.take_peaks(RequestKind::ReadOnly), (0, 0));
    }

    #[tokio::test]
    async fn a_waiter_whose_client_leaves_frees_its_place() {
        let limiter = FairLimiter::new(1, Duration::from_secs(60));
        let held = limiter.acquire("a").await.unwrap();
        let waiter = tokio::spawn({
            let limiter = Arc::clone(&limiter);
            async move { limiter.acquire("b").await.map(|_| ()) }
        });
        while limiter.lock().queue.queued() == 0 {
            tokio::task::yield_now().await;
        }
        waiter.abort();
        let _ = waiter.await;
        let books = {
            let state = limiter.lock();
            (state.queue.queued(), state.queue.active_clusters())
        };
        assert_eq!(books, (0, 1));
        drop(held);
        assert_eq!(limiter.lock().queue.active_clusters(), 0);
    }

    #[test]
    fn the_answer_is_upstreams_429() {
        let response = too_many_requests();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    }
}
