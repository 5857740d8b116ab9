//! Work queues fair per logical cluster, and the one timer every delayed
//! piece of work shares.
//!
//! A [`WorkQueue`] holds keys to reconcile: a key queued twice is worked
//! once; a key added while a worker has it is worked again after. Clusters
//! take turns (round robin), so one busy tenant cannot starve the others.
//! [`Timers`] is a single task with a heap of deadlines: requeues after a
//! delay, heartbeats and simulated pod lifetimes all go through it, never a
//! timer per cluster or per object.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::informer::ObjectKey;

#[derive(Default)]
struct QueueState {
    /// Queued keys per cluster, in order.
    per_cluster: HashMap<Arc<str>, VecDeque<ObjectKey>>,
    /// Clusters with queued keys, in turn order.
    turns: VecDeque<Arc<str>>,
    queued: HashSet<ObjectKey>,
    working: HashSet<ObjectKey>,
    /// Added while being worked: queued again when done.
    again: HashSet<ObjectKey>,
}

/// Keys to reconcile, fair per logical cluster.
pub struct WorkQueue {
    name: &'static str,
    state: Mutex<QueueState>,
    ready: Notify,
}

impl fmt::Debug for WorkQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkQueue").field("name", &self.name).finish_non_exhaustive()
    }
}

impl WorkQueue {
    /// An empty queue (`name` appears in logs).
    pub fn new(name: &'static str) -> Arc<WorkQueue> {
        Arc::new(WorkQueue { name, state: Mutex::new(QueueState::default()), ready: Notify::new() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `key` (once, however often it is added before being worked).
    pub fn add(&self, key: ObjectKey) {
        let mut state = self.lock();
        if state.working.contains(&key) {
            state.again.insert(key);
            return;
        }
        if !state.queued.insert(key.clone()) {
            return;
        }
        Self::push(&mut state, key);
        drop(state);
        self.ready.notify_one();
    }

    fn push(state: &mut QueueState, key: ObjectKey) {
        let cluster = Arc::clone(&key.cluster);
        let keys = state.per_cluster.entry(Arc::clone(&cluster)).or_default();
        if keys.is_empty() {
            state.turns.push_back(cluster);
        }
        keys.push_back(key);
    }

    /// The next key, the clusters taking turns; waits while none is queued.
    pub async fn next(&self) -> ObjectKey {
        loop {
            let notified = self.ready.notified();
            if let Some(key) = self.try_next() {
                return key;
            }
            notified.await;
        }
    }

    fn try_next(&self) -> Option<ObjectKey> {
        let mut state = self.lock();
        let cluster = state.turns.pop_front()?;
        let keys = state.per_cluster.get_mut(&cluster)?;
        let key = keys.pop_front()?;
        if keys.is_empty() {
            state.per_cluster.remove(&cluster);
        } else {
            state.turns.push_back(cluster);
        }
        state.queued.remove(&key);
        state.working.insert(key.clone());
        let more = !state.turns.is_empty();
        drop(state);
        if more {
            // Wake another worker for the rest.
            self.ready.notify_one();
        }
        Some(key)
    }

    /// Marks `key` worked; queued again if it was added meanwhile.
    pub fn done(&self, key: &ObjectKey) {
        let mut state = self.lock();
        state.working.remove(key);
        if state.again.remove(key) && state.queued.insert(key.clone()) {
            Self::push(&mut state, key.clone());
            drop(state);
            self.ready.notify_one();
        }
    }

    /// Keys queued or being worked (for tests and metrics).
    pub fn len(&self) -> usize {
        let state = self.lock();
        state.queued.len() + state.working.len()
    }

    /// True if nothing is queued or being worked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct TimerState {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
    jobs: HashMap<u64, Job>,
    next_id: u64,
}

/// One task running every delayed job of the manager at its deadline.
pub struct Timers {
    state: Mutex<TimerState>,
    changed: Notify,
}

impl fmt::Debug for Timers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers").finish_non_exhaustive()
    }
}

impl Timers {
    /// Starts the timer task.
    pub fn start() -> Arc<Timers> {
        let timers = Arc::new(Timers { state: Mutex::new(TimerState::default()), changed: Notify::new() });
        let me = Arc::clone(&timers);
        tokio::spawn(async move { me.run().await });
        timers
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `job` after `delay` (jobs must be quick: they enqueue work).
    pub fn after(&self, delay: Duration, job: impl FnOnce() + Send + 'static) {
        let deadline = Instant::now() + delay;
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        let earliest = state.heap.peek().is_none_or(|Reverse((at, _))| deadline < *at);
        state.heap.push(Reverse((deadline, id)));
        state.jobs.insert(id, Box::new(job));
        drop(state);
        if earliest {
            self.changed.notify_one();
        }
    }

    /// Queues `key` on `queue` after `delay`.
    pub fn requeue(&self, queue: &Arc<WorkQueue>, key: ObjectKey, delay: Duration) {
        let queue = Arc::clone(queue);
        self.after(delay, move || queue.add(key));
    }

    async fn run(&self) {
        loop {
            let changed = self.changed.notified();
            let (due, next) = {
                let mut state = self.lock();
                let now = Instant::now();
                let mut due = Vec::new();
                while let Some(Reverse((at, id))) = state.heap.peek().copied() {
                    if at > now {
                        break;
                    }
                    state.heap.pop();
                    due.extend(state.jobs.remove(&id));
                }
                (due, state.heap.peek().map(|Reverse((at, _))| *at))
            };
            for job in due {
                job();
            }
            match next {
                Some(at) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(cluster: &str, name: &str) -> ObjectKey {
        ObjectKey::new(cluster, "ns", name)
    }

    #[tokio::test]
    async fn clusters_take_turns_and_keys_are_deduplicated() {
        let q = WorkQueue::new("test");
        for name in ["a1", "a2", "a3", "a1"] {
            q.add(key("busy", name));
        }
        q.add(key("quiet", "b1"));
        assert_eq!(q.len(), 4);
        let mut order = Vec::new();
        for _ in 0..4 {
            let k = q.next().await;
            order.push(format!("{}/{}", k.cluster, k.name));
            q.done(&k);
        }
        assert_eq!(order, ["busy/a1", "quiet/b1", "busy/a2", "busy/a3"]);
        assert!(q.is_empty());
    }

    #[tokio::test]
    async fn a_key_added_while_worked_comes_back_once() {
        let q = WorkQueue::new("test");
        q.add(key("c", "x"));
        let k = q.next().await;
        q.add(key("c", "x"));
        q.add(key("c", "x"));
        assert!(q.try_next().is_none(), "not handed out twice at once");
        q.done(&k);
        assert_eq!(q.next().await, key("c", "x"));
    }

    #[tokio::test(start_paused = true)]
    async fn timers_fire_in_deadline_order() {
        let timers = Timers::start();
        let q = WorkQueue::new("test");
        timers.requeue(&q, key("c", "late"), Duration::from_secs(5));
        timers.requeue(&q, key("c", "soon"), Duration::from_secs(1));
        assert_eq!(q.next().await.name, "soon");
        assert_eq!(q.next().await.name, "late");
    }
}
