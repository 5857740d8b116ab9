//! Contract cases for watches: replay from past revisions (0, the start of
//! the history, its middle, the current revision) followed by live events,
//! events written while watches are being opened, and many watchers of one
//! prefix seeing one sequence.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use futures::future::try_join_all;
use kubeplex_store::{Event, Revision, Store, WatchStream};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::support::{
    Recorder, events_after, expect_events, kv, merge_events, next_event, open_watch, show_event, unique_prefix,
};

/// Writes `ops` changes on keys named `{p}{tag}-k<i>`: creates, updates,
/// deletes (with and without precondition) and re-creates.
async fn history(rec: &mut Recorder, p: &str, tag: &str, ops: usize) -> Result<()> {
    let mut next_key = 0;
    for n in 0..ops {
        let keys: Vec<String> = rec.latest.keys().cloned().collect();
        match n % 6 {
            0 | 3 => {
                rec.create(&format!("{p}{tag}-k{next_key:03}"), format!("{tag}-{n}")).await?;
                next_key += 1;
            }
            1 | 4 if !keys.is_empty() => {
                rec.update(&keys[n % keys.len()], format!("{tag}-{n}")).await?;
            }
            2 if !keys.is_empty() => {
                rec.delete(&keys[0]).await?;
            }
            5 if !keys.is_empty() => {
                rec.delete_unconditionally(&keys[keys.len() - 1]).await?;
                // Re-create a deleted key: a put without prev, new create_revision.
                rec.create(&keys[keys.len() - 1], format!("{tag}-{n}-again")).await?;
            }
            _ => {
                rec.create(&format!("{p}{tag}-k{next_key:03}"), format!("{tag}-{n}")).await?;
                next_key += 1;
            }
        }
    }
    Ok(())
}

/// Writes one more key under `p` and checks every watch delivers it next,
/// proving nothing was duplicated or left over before it.
async fn expect_sentinel(store: &dyn Store, p: &str, watches: &mut [(Revision, WatchStream)]) -> Result<()> {
    let key = format!("{p}zz-sentinel");
    let revision = store.create(&key, Bytes::from("sentinel"), None).await?;
    let want = Event::Put { kv: kv(&key, "sentinel", revision, revision), prev: None };
    for (after, watch) in watches.iter_mut() {
        let got = next_event(watch, &format!("the sentinel on the watch from {after}")).await?;
        ensure!(
            got == want,
            "watch from {after}: expected the sentinel {} next, got {}",
            show_event(&want),
            show_event(&got)
        );
    }
    Ok(())
}

/// A watch from any past revision — 0, before the prefix's first write, in
/// the middle, the current revision — replays every later event once, in
/// order, with prev values, then continues with live events.
pub async fn watch_from_past_revisions(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("watch-history");
    let base = store.current_revision().await?;
    let mut rec = Recorder::new(store.clone());
    history(&mut rec, &p, "h", 30).await?;
    let revisions: Vec<Revision> = rec.events.iter().map(Event::revision).collect();
    let current = store.current_revision().await?;
    let n = revisions.len();
    let mut afters = vec![
        0,
        base,
        revisions[0] - 1,
        revisions[0],
        revisions[1],
        revisions[n / 3],
        revisions[n / 2] - 1,
        revisions[n / 2],
        revisions[n - 2],
        current,
    ];
    afters.sort();
    afters.dedup();

    let mut watches = Vec::new();
    for after in afters {
        let mut watch = open_watch(&*store, &p, after).await?;
        let expected = events_after(&rec.events, after);
        expect_events(&mut watch, &expected, &format!("watch from revision {after} (current {current})")).await?;
        watches.push((after, watch));
    }
    let live_from = rec.events.len();
    history(&mut rec, &p, "live", 8).await?;
    let live = rec.events[live_from..].to_vec();
    for (after, watch) in &mut watches {
        expect_events(watch, &live, &format!("live events on the watch from {after}")).await?;
    }
    expect_sentinel(&*store, &p, &mut watches).await
}

const SETUP_WRITERS: usize = 3;
const SETUP_OPS: usize = 60;

/// Watches opened while writers are busy — from the current revision, a
/// little before it, or the start — each deliver exactly the events after
/// their revision, including those written while they were being set up.
pub async fn watch_includes_events_written_during_setup(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("watch-setup");
    let base = store.current_revision().await?;
    let writers: Vec<_> = (0..SETUP_WRITERS)
        .map(|w| {
            let (store, p) = (store.clone(), p.clone());
            tokio::spawn(async move {
                let mut rec = Recorder::new(store);
                history(&mut rec, &p, &format!("w{w}"), SETUP_OPS).await?;
                anyhow::Ok(rec)
            })
        })
        .collect();
    let mut rng = StdRng::seed_from_u64(7);
    let mut watches = Vec::new();
    for i in 0..12 {
        let current = store.current_revision().await?;
        let after = match i % 3 {
            0 => current,
            1 => (current - rng.random_range(1..10)).max(0),
            _ => base,
        };
        watches.push((after, open_watch(&*store, &p, after).await?));
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..10))).await;
    }
    let mut recs = Vec::new();
    for writer in writers {
        recs.push(writer.await??);
    }
    let events = merge_events(&recs)?;
    ensure!(events.len() >= SETUP_WRITERS * SETUP_OPS, "only {} writes were made", events.len());
    for (after, watch) in &mut watches {
        let expected = events_after(&events, *after);
        expect_events(watch, &expected, &format!("watch from {after} opened while writers ran")).await?;
    }
    expect_sentinel(&*store, &p, &mut watches).await
}

/// Forty watchers of one prefix (some opened while writing, some dropped
/// early) all receive the same complete sequence.
pub async fn many_watchers_see_one_sequence(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("watch-many");
    let base = store.current_revision().await?;
    let mut watches = Vec::new();
    for _ in 0..40 {
        watches.push((base, open_watch(&*store, &p, base).await?));
    }
    let writer = {
        let (store, p) = (store.clone(), p.clone());
        tokio::spawn(async move {
            let mut rec = Recorder::new(store);
            history(&mut rec, &p, "m", 80).await?;
            anyhow::Ok(rec)
        })
    };
    // Dropping some watchers while events flow must not disturb the others.
    watches.drain(..10);
    for _ in 0..10 {
        watches.push((base, open_watch(&*store, &p, base).await?));
        tokio::task::yield_now().await;
    }
    let rec = writer.await??;
    let receiving = watches.iter_mut().enumerate().map(|(i, (_, watch))| {
        let events = &rec.events;
        async move { expect_events(watch, events, &format!("watcher {i}")).await }
    });
    try_join_all(receiving).await.context("one of 40 watchers of one prefix")?;
    expect_sentinel(&*store, &p, &mut watches).await
}
