//! The hub's bookkeeping without etcd: fan-out by revision, a lagging
//! subscriber rejoining from the buffer, removal and failure. The etcd
//! client points at a closed port and is never called here.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use super::*;
use crate::KeyValue;

async fn offline_hub(buffer_events: usize, channel_capacity: usize) -> Arc<HubInner> {
    let endpoint = "http://127.0.0.1:1";
    let client = etcd_client::Client::connect([endpoint], None).await.expect("connecting is lazy");
    let etcd = Etcd::new(client, endpoint.into(), Duration::from_secs(1), 1 << 20);
    let config = HubConfig { buffer_events, channel_capacity, reconnect_timeout: Duration::from_secs(1) };
    WatchHub::new(etcd, config).inner
}

fn shared_watch(hub: &HubInner, prefix: &str) -> Arc<SharedWatch> {
    let shared = Arc::new(SharedWatch {
        prefix: prefix.into(),
        state: Mutex::new(SharedState {
            buffer: EventBuffer::new(0, hub.config.buffer_events),
            subscribers: HashMap::new(),
            next_id: 0,
            task: None,
        }),
    });
    lock(&hub.prefixes).insert(prefix.into(), Arc::clone(&shared));
    shared
}

/// Adds a live subscriber that has seen everything through `through`.
fn add_live(hub: &Arc<HubInner>, shared: &Arc<SharedWatch>, through: Revision) -> SubscriberStream {
    let (tx, rx) = mpsc::channel(hub.config.channel_capacity);
    let end = Arc::new(Mutex::new(None));
    let mut state = lock(&shared.state);
    let id = state.next_id;
    state.next_id += 1;
    state.subscribers.insert(id, Subscriber { tx, end: Arc::clone(&end), mode: Mode::Live { through } });
    SubscriberStream {
        rx,
        end,
        finished: false,
        _subscription: Subscription { hub: Arc::clone(hub), shared: Arc::clone(shared), id },
    }
}

fn put(rev: Revision) -> Event {
    Event::Put {
        kv: KeyValue {
            key: format!("/t/k{rev}"),
            value: Bytes::from_static(b"v"),
            create_revision: rev,
            mod_revision: rev,
        },
        prev: None,
    }
}

fn batch(revs: impl IntoIterator<Item = Revision>) -> Vec<Event> {
    revs.into_iter().map(put).collect()
}

async fn take(stream: &mut SubscriberStream, n: usize) -> Vec<Revision> {
    let mut out = Vec::new();
    for _ in 0..n {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("an event in time");
        out.push(next.expect("stream open").expect("no error").revision());
    }
    out
}

#[tokio::test]
async fn fan_out_skips_what_each_subscriber_has_seen() {
    let hub = offline_hub(16, 16).await;
    let shared = shared_watch(&hub, "/t/");
    let mut a = add_live(&hub, &shared, 0);
    let mut b = add_live(&hub, &shared, 2);
    let mut c = add_live(&hub, &shared, 10);
    fan_out(&hub, &shared, &batch([1, 2, 3]));
    fan_out(&hub, &shared, &batch([4]));
    assert_eq!(take(&mut a, 4).await, vec![1, 2, 3, 4]);
    assert_eq!(take(&mut b, 2).await, vec![3, 4]);
    fan_out(&hub, &shared, &batch([11]));
    assert_eq!(take(&mut c, 1).await, vec![11]);
    assert_eq!(take(&mut a, 1).await, vec![11]);
}

#[tokio::test]
async fn a_full_subscriber_rejoins_from_the_buffer_in_order() {
    let hub = offline_hub(8, 8).await;
    let shared = shared_watch(&hub, "/t/");
    let mut slow = add_live(&hub, &shared, 0);
    let mut fast = add_live(&hub, &shared, 0);
    fan_out(&hub, &shared, &batch(1..=6));
    assert_eq!(take(&mut fast, 6).await, (1..=6).collect::<Vec<_>>());
    // The slow one has 2 free slots for 3 events: it is moved off the fan-out.
    fan_out(&hub, &shared, &batch(7..=9));
    assert!(matches!(lock(&shared.state).subscribers[&0].mode, Mode::CatchingUp { .. }));
    assert_eq!(take(&mut fast, 3).await, vec![7, 8, 9]);
    // Reading makes room; its catch-up task serves 7..9 from the buffer and rejoins.
    assert_eq!(take(&mut slow, 9).await, (1..=9).collect::<Vec<_>>());
    for _ in 0..500 {
        if matches!(lock(&shared.state).subscribers[&0].mode, Mode::Live { through: 9 }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(matches!(lock(&shared.state).subscribers[&0].mode, Mode::Live { through: 9 }));
    fan_out(&hub, &shared, &batch([10]));
    assert_eq!(take(&mut slow, 1).await, vec![10]);
    assert_eq!(take(&mut fast, 1).await, vec![10]);
}

#[tokio::test]
async fn rejoin_needs_the_buffer_to_reach_back_and_room_for_it() {
    let hub = offline_hub(4, 4).await;
    let shared = shared_watch(&hub, "/t/");
    let mut sub = add_live(&hub, &shared, 100);
    fan_out(&hub, &shared, &batch(1..=6));
    // The buffer now holds 3..6: a subscriber through 1 needs etcd's history.
    assert!(matches!(try_rejoin(&shared, 0, 1), Rejoin::NeedHistory));
    assert!(matches!(try_rejoin(&shared, 0, 3), Rejoin::Joined));
    assert_eq!(take(&mut sub, 3).await, vec![4, 5, 6]);
    fan_out(&hub, &shared, &batch([7, 8, 9, 10]));
    assert!(matches!(try_rejoin(&shared, 0, 6), Rejoin::NeedRoom(4)));
    assert!(matches!(try_rejoin(&shared, 42, 6), Rejoin::Gone));
}

#[tokio::test]
async fn the_last_subscriber_leaving_drops_the_shared_watch() {
    let hub = offline_hub(4, 4).await;
    let shared = shared_watch(&hub, "/t/");
    let a = add_live(&hub, &shared, 0);
    let b = add_live(&hub, &shared, 0);
    drop(a);
    assert_eq!(lock(&hub.prefixes).len(), 1);
    drop(b);
    assert_eq!(lock(&hub.prefixes).len(), 0);
}

#[tokio::test]
async fn failure_ends_every_stream_after_its_queued_events() {
    let hub = offline_hub(4, 4).await;
    let shared = shared_watch(&hub, "/t/");
    let mut a = add_live(&hub, &shared, 0);
    let mut b = add_live(&hub, &shared, 1);
    fan_out(&hub, &shared, &batch([1, 2]));
    fail_all(&hub, &shared, &StoreError::Compacted { requested: 2, compacted: 9 });
    assert_eq!(lock(&hub.prefixes).len(), 0);
    assert_eq!(take(&mut a, 2).await, vec![1, 2]);
    assert_eq!(take(&mut b, 1).await, vec![2]);
    for s in [&mut a, &mut b] {
        assert!(matches!(s.next().await, Some(Err(StoreError::Compacted { requested: 2, compacted: 9 }))));
        assert!(s.next().await.is_none());
    }
}
