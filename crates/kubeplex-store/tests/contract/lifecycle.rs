//! Contract cases for how history and keys end: compaction (what can still
//! be read and watched, what fails with Compacted) and time-to-live keys
//! (their deletion is an ordinary, watched, revisioned delete).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use kubeplex_store::{Event, KeyValue, RangeRequest, Revision, Store, StoreError};

use super::support::{
    Recorder, ensure_same_kvs, events_after, expect_err, expect_events, kv, next_event, open_watch, range_all,
    show_event, show_kv, state_at, unique_prefix,
};

/// Every key of `state` and of `keys` reads as `state` says at `at`.
async fn check_reads_at(store: &dyn Store, p: &str, keys: &[String], events: &[Event], at: Revision) -> Result<()> {
    let state = state_at(events, at);
    for key in keys {
        let got = store.get(key, Some(at)).await.with_context(|| format!("get {key:?} at {at}"))?;
        ensure!(
            got.as_ref() == state.get(key),
            "get {key:?} at {at}: got {:?}, expected {:?}",
            got.map(|v| show_kv(&v)),
            state.get(key).map(show_kv)
        );
    }
    let want: Vec<KeyValue> = state.into_values().collect();
    let (got, _) = range_all(store, p, Some(at), 2).await?;
    ensure_same_kvs(&got, &want, &format!("range at {at}"))
}

/// compact(r): reads and watches from r on keep working (and caught-up
/// watches keep delivering); older reads fail with Compacted, and so do
/// watches from before r - 1; compacted_revision reports r.
pub async fn compaction_bounds_reads_and_watches(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("compaction");
    let before = store.compacted_revision().await?;
    ensure!(before == 0, "a fresh store reports compacted revision {before}, expected 0");
    let mut rec = Recorder::new(store.clone());
    let keys: Vec<String> = (0..4).map(|i| format!("{p}k{i}")).collect();
    for key in &keys {
        rec.create(key, "v0").await?;
    }
    rec.update(&keys[0], "v1").await?;
    rec.delete(&keys[1]).await?;
    rec.update(&keys[2], "v1").await?;
    rec.update(&keys[0], "v2").await?;
    rec.create(&keys[1], "again").await?;
    rec.update(&keys[3], "v1").await?;
    rec.delete(&keys[2]).await?;
    rec.update(&keys[1], "again2").await?;
    let revisions: Vec<Revision> = rec.events.iter().map(Event::revision).collect();
    let c = revisions[6];
    let mut caught_up = open_watch(&*store, &p, rec.last_revision()).await?;

    store.compact(c).await.with_context(|| format!("compact({c})"))?;
    let compacted = store.compacted_revision().await?;
    ensure!(compacted == c, "after compact({c}) compacted_revision() is {compacted}");

    let current = store.current_revision().await?;
    for at in [c, revisions[7], revisions[9], current] {
        check_reads_at(&*store, &p, &keys, &rec.events, at).await?;
    }
    for at in [c - 1, revisions[3], revisions[0], 1] {
        expect_err!(
            store.get(&keys[0], Some(at)).await,
            StoreError::Compacted { requested, compacted } if *requested == at && *compacted == c
        );
        expect_err!(
            store.range(RangeRequest { revision: Some(at), ..RangeRequest::prefix(&p) }).await,
            StoreError::Compacted { requested, compacted } if *requested == at && *compacted == c
        );
    }
    let latest: Vec<KeyValue> = rec.latest.values().cloned().collect();
    let res = store.range(RangeRequest::prefix(&p)).await?;
    ensure_same_kvs(&res.kvs, &latest, "latest range after compaction")?;

    for after in [0, revisions[0] - 1, revisions[2], c - 2] {
        let watched = tokio::time::timeout(super::support::WATCH_TIMEOUT, store.watch(&p, after))
            .await
            .with_context(|| format!("watch from compacted revision {after} did not return"))?;
        expect_err!(watched.map(|_| "a watch stream"), StoreError::Compacted { compacted, .. } if *compacted == c);
    }
    let mut watches = Vec::new();
    for after in [c, revisions[7], revisions[9], current] {
        let mut watch = open_watch(&*store, &p, after).await?;
        expect_events(&mut watch, &events_after(&rec.events, after), &format!("watch from {after} after compact({c})"))
            .await?;
        watches.push((after, watch));
    }

    let live_from = rec.events.len();
    rec.update(&keys[3], "after compaction").await?;
    let live = rec.events[live_from..].to_vec();
    expect_events(&mut caught_up, &live, "a caught-up watch across compaction").await?;
    for (after, watch) in &mut watches {
        expect_events(watch, &live, &format!("the watch from {after} after a live write")).await?;
    }

    // Compacting again, up to the current revision.
    let c2 = store.current_revision().await?;
    store.compact(c2).await.with_context(|| format!("compact({c2})"))?;
    let compacted = store.compacted_revision().await?;
    ensure!(compacted == c2, "after compact({c2}) compacted_revision() is {compacted}");
    expect_err!(
        store.get(&keys[0], Some(c)).await,
        StoreError::Compacted { requested, compacted } if *requested == c && *compacted == c2
    );
    check_reads_at(&*store, &p, &keys, &rec.events, c2).await?;
    let mut from_c2 = open_watch(&*store, &p, c2).await?;
    let live_from = rec.events.len();
    rec.create(&format!("{p}k9"), "after second compaction").await?;
    let live = rec.events[live_from..].to_vec();
    expect_events(&mut caught_up, &live, "a caught-up watch across two compactions").await?;
    expect_events(&mut from_c2, &live, &format!("watch from {c2} after compact({c2})")).await?;
    let res = store.range(RangeRequest::prefix(&p)).await?;
    let latest: Vec<KeyValue> = rec.latest.values().cloned().collect();
    ensure_same_kvs(&res.kvs, &latest, "latest range after two compactions")
}

/// Keys with a time-to-live are deleted once it passes (a deletion watched
/// with its prev value, at a new revision, readable in history); an update
/// without ttl removes the ttl; an update with one adds it.
pub async fn ttl_keys_expire_and_deletion_is_watched(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("ttl");
    let base = store.current_revision().await?;
    let mut watch = open_watch(&*store, &p, base).await?;
    let secs = |s| Some(Duration::from_secs(s));
    let (a, b, c, d, e) =
        (format!("{p}a"), format!("{p}b-kept"), format!("{p}c"), format!("{p}d-long"), format!("{p}e-last"));

    let ra = store.create(&a, Bytes::from("a"), secs(1)).await?;
    let rb = store.create(&b, Bytes::from("b"), secs(2)).await?;
    let rb2 = store.update(&b, Bytes::from("b2"), rb, None).await.context("update removing the ttl of b")?;
    let rc = store.create(&c, Bytes::from("c"), None).await?;
    let rc2 = store.update(&c, Bytes::from("c2"), rc, secs(1)).await.context("update adding a ttl to c")?;
    let rd = store.create(&d, Bytes::from("d"), secs(600)).await?;
    // Created after b's update, with a longer ttl than b had: had b kept its
    // ttl, b would be deleted before e.
    let re = store.create(&e, Bytes::from("e"), secs(3)).await?;
    ensure!(store.get(&d, None).await?.is_some(), "{d:?} (ttl 600 s) is gone at once");

    // The writes, in order, with the three expiries interleaved wherever
    // they happen (a and c may expire before e is written).
    let mut puts: VecDeque<Event> = [
        Event::Put { kv: kv(&a, "a", ra, ra), prev: None },
        Event::Put { kv: kv(&b, "b", rb, rb), prev: None },
        Event::Put { kv: kv(&b, "b2", rb, rb2), prev: Some(kv(&b, "b", rb, rb)) },
        Event::Put { kv: kv(&c, "c", rc, rc), prev: None },
        Event::Put { kv: kv(&c, "c2", rc, rc2), prev: Some(kv(&c, "c", rc, rc)) },
        Event::Put { kv: kv(&d, "d", rd, rd), prev: None },
        Event::Put { kv: kv(&e, "e", re, re), prev: None },
    ]
    .into();
    let mut pending: BTreeMap<String, KeyValue> = [kv(&a, "a", ra, ra), kv(&c, "c2", rc, rc2), kv(&e, "e", re, re)]
        .into_iter()
        .map(|v| (v.key.clone(), v))
        .collect();
    let mut last = base;
    let mut deletions = Vec::new();
    while !puts.is_empty() || !pending.is_empty() {
        let waiting: Vec<&String> = pending.keys().collect();
        let event =
            next_event(&mut watch, &format!("{} more writes and the expiry of {waiting:?}", puts.len())).await?;
        // Keys that expire together may be deleted by one write (etcd
        // revokes a shared lease at one revision); writes never share one.
        let in_order = match event {
            Event::Put { .. } => event.revision() > last,
            Event::Delete { .. } => event.revision() >= last,
        };
        ensure!(in_order, "watch delivered {} after revision {last}", show_event(&event));
        last = event.revision();
        match &event {
            Event::Put { .. } => {
                let want = puts.pop_front().with_context(|| format!("unexpected event {}", show_event(&event)))?;
                ensure!(event == want, "watch delivered {}, expected {}", show_event(&event), show_event(&want));
            }
            Event::Delete { key, prev, revision } => {
                let Some(want) = pending.remove(key) else {
                    bail!("{key:?} was deleted by expiry though it has no ttl (any more): {}", show_event(&event));
                };
                ensure!(
                    *prev == want,
                    "the expiry of {key:?} carries prev {}, expected {}",
                    show_kv(prev),
                    show_kv(&want)
                );
                deletions.push((key.clone(), *revision, want));
            }
        }
    }
    for key in [&a, &c, &e] {
        ensure!(store.get(key, None).await?.is_none(), "{key:?} still reads back after its expiry was watched");
    }
    ensure!(store.get(&b, None).await? == Some(kv(&b, "b2", rb, rb2)), "{b:?} (ttl removed by update) is gone");
    ensure!(store.get(&d, None).await?.is_some(), "{d:?} (ttl 600 s) is gone");
    let listing = store.range(RangeRequest::prefix(&p)).await?;
    let names: Vec<&str> = listing.kvs.iter().map(|kv| kv.key.as_str()).collect();
    ensure!(names == [b.as_str(), d.as_str()], "after the expiries the prefix holds {names:?}");
    let current = store.current_revision().await?;
    ensure!(current >= last, "current revision {current} is before the last expiry at {last}");
    for (key, revision, version) in &deletions {
        let got = store.get(key, Some(revision - 1)).await?;
        ensure!(got.as_ref() == Some(version), "{key:?} just before its expiry at {revision}: {got:?}");
        ensure!(store.get(key, Some(*revision)).await?.is_none(), "{key:?} exists at its expiry revision {revision}");
    }
    // An expired key can be created again, without a ttl this time.
    let again = store.create(&a, Bytes::from("again"), None).await.context("re-creating an expired key")?;
    let event = next_event(&mut watch, "the re-creation of the expired key").await?;
    ensure!(
        event == Event::Put { kv: kv(&a, "again", again, again), prev: None },
        "re-creating {a:?} after its expiry: watch delivered {}",
        show_event(&event)
    );
    Ok(())
}
