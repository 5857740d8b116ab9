//! Contract cases for reads and writes: revisions, preconditions and their
//! typed errors, reads at past revisions, ranges and paging (also while
//! writers run), value sizes, unusual and invalid keys, prefix isolation, and
//! many concurrent read-modify-write writers.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use kubeplex_store::{Event, KeyValue, MAX_KEY_BYTES, MAX_VALUE_BYTES, RangeRequest, Revision, Store, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::support::{
    Recorder, ensure_same_kvs, expect_err, expect_events, kv, merge_events, next_event, open_watch, range_all,
    show_event, show_kv, state_at, unique_prefix,
};

/// Every write gets a revision greater than every earlier one, reported by
/// `current_revision`; concurrent writes get distinct revisions.
pub async fn revisions_strictly_increase(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("revisions");
    let mut last = store.current_revision().await?;
    ensure!(last >= 0, "current_revision() is negative: {last}");
    let mut rec = Recorder::new(store.clone());

    enum Op {
        Create(&'static str),
        Update(&'static str),
        Delete(&'static str),
    }
    use Op::*;
    let ops = [Create("a"), Update("a"), Create("b"), Delete("a"), Create("a"), Update("b"), Update("a"), Delete("b")];
    for (i, op) in ops.into_iter().enumerate() {
        let revision = match op {
            Create(k) => rec.create(&format!("{p}{k}"), format!("v{i}")).await?,
            Update(k) => rec.update(&format!("{p}{k}"), format!("v{i}")).await?,
            Delete(k) => rec.delete(&format!("{p}{k}")).await?,
        };
        ensure!(revision > last, "write {i} got revision {revision}, not after {last}");
        let current = store.current_revision().await?;
        ensure!(current == revision, "after the write at revision {revision}, current_revision() is {current}");
        last = revision;
    }
    // "a" was recreated: its create_revision is the recreation's.
    let a = format!("{p}a");
    let got = store.get(&a, None).await?;
    ensure!(got.as_ref() == rec.latest.get(&a), "get({a:?}) = {got:?}, expected {:?}", rec.latest.get(&a));
    let b = format!("{p}b");
    ensure!(store.get(&b, None).await?.is_none(), "{b:?} was deleted but get finds it");

    // An unconditional delete also returns a new revision.
    let c = format!("{p}c");
    let created = store.create(&c, Bytes::from("c"), None).await?;
    ensure!(created > last, "create {c:?} got revision {created}, not after {last}");
    let (deleted, prev) = store.delete(&c, None).await?;
    ensure!(deleted > created, "delete {c:?} got revision {deleted}, not after {created}");
    ensure!(prev == kv(&c, "c", created, created), "delete {c:?} returned {}", show_kv(&prev));
    last = deleted;

    // Concurrent writers: distinct revisions, all after the previous ones.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            let key = format!("{p}concurrent-{i:02}");
            tokio::spawn(async move {
                let revision = store.create(&key, Bytes::from(format!("{i}")), None).await?;
                anyhow::Ok((key, revision))
            })
        })
        .collect();
    let mut revisions = HashSet::new();
    let mut highest = last;
    for task in tasks {
        let (key, revision) = task.await??;
        ensure!(revision > last, "concurrent create {key:?} got revision {revision}, not after {last}");
        ensure!(revisions.insert(revision), "two concurrent creates got revision {revision}");
        let got = store.get(&key, None).await?.with_context(|| format!("{key:?} missing after its create"))?;
        ensure!(
            got.mod_revision == revision,
            "{key:?} has mod_revision {} but create returned {revision}",
            got.mod_revision
        );
        highest = highest.max(revision);
    }
    let current = store.current_revision().await?;
    ensure!(current == highest, "current_revision() is {current} after writes up to {highest}");
    let listing = store.range(RangeRequest::prefix(&p)).await?;
    ensure!(
        listing.revision == current && listing.current_revision == current,
        "range at the latest revision reports revision {} and current_revision {}, expected {current}",
        listing.revision,
        listing.current_revision
    );
    Ok(())
}

/// create/update/delete preconditions fail with AlreadyExists, NotFound or
/// Conflict (carrying what is stored), change nothing and consume no revision.
pub async fn preconditions_fail_typed_without_consuming_revisions(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("preconditions");
    let k = format!("{p}k");
    let missing = format!("{p}missing");
    let r1 = store.create(&k, Bytes::from("v1"), None).await?;
    let v1 = kv(&k, "v1", r1, r1);

    expect_err!(store.create(&k, Bytes::from("other"), None).await, StoreError::AlreadyExists { key } if *key == k);
    expect_err!(
        store.create(&k, Bytes::from("other"), Some(Duration::from_secs(60))).await,
        StoreError::AlreadyExists { key } if *key == k
    );
    for expected in [0, r1, r1 + 1] {
        expect_err!(
            store.update(&missing, Bytes::from("x"), expected, None).await,
            StoreError::NotFound { key } if *key == missing
        );
        expect_err!(store.delete(&missing, Some(expected)).await, StoreError::NotFound { key } if *key == missing);
    }
    expect_err!(store.delete(&missing, None).await, StoreError::NotFound { key } if *key == missing);
    ensure!(store.get(&missing, None).await?.is_none(), "a failed update or delete created {missing:?}");

    for wrong in [0, r1 - 1, r1 + 1, r1 + 1000] {
        let err = expect_err!(
            store.update(&k, Bytes::from("x"), wrong, None).await,
            StoreError::Conflict { key, expected, .. } if *key == k && *expected == wrong
        );
        if let StoreError::Conflict { current, .. } = &err {
            ensure!(**current == v1, "update conflict carries {}, expected {}", show_kv(current), show_kv(&v1));
        }
        let err = expect_err!(
            store.delete(&k, Some(wrong)).await,
            StoreError::Conflict { key, expected, .. } if *key == k && *expected == wrong
        );
        if let StoreError::Conflict { current, .. } = &err {
            ensure!(**current == v1, "delete conflict carries {}, expected {}", show_kv(current), show_kv(&v1));
        }
    }
    let current = store.current_revision().await?;
    ensure!(current == r1, "failed writes moved the current revision from {r1} to {current}");
    ensure!(store.get(&k, None).await? == Some(v1.clone()), "failed writes changed {k:?}");

    let r2 = store.update(&k, Bytes::from("v2"), r1, None).await?;
    ensure!(r2 > r1, "update at {r1} returned revision {r2}");
    let v2 = kv(&k, "v2", r1, r2);
    let err = expect_err!(
        store.update(&k, Bytes::from("stale"), r1, None).await,
        StoreError::Conflict { key, expected, .. } if *key == k && *expected == r1
    );
    if let StoreError::Conflict { current, .. } = &err {
        ensure!(**current == v2, "stale update conflict carries {}, expected {}", show_kv(current), show_kv(&v2));
    }
    let current = store.current_revision().await?;
    ensure!(current == r2, "a failed update moved the current revision from {r2} to {current}");

    let (r3, deleted) = store.delete(&k, Some(r2)).await?;
    ensure!(r3 > r2, "delete at {r2} returned revision {r3}");
    ensure!(deleted == v2, "delete returned {}, expected {}", show_kv(&deleted), show_kv(&v2));
    expect_err!(store.update(&k, Bytes::from("x"), r2, None).await, StoreError::NotFound { key } if *key == k);
    expect_err!(store.update(&k, Bytes::from("x"), 0, None).await, StoreError::NotFound { key } if *key == k);
    expect_err!(store.delete(&k, Some(r2)).await, StoreError::NotFound { key } if *key == k);
    expect_err!(store.delete(&k, None).await, StoreError::NotFound { key } if *key == k);
    let current = store.current_revision().await?;
    ensure!(current == r3, "failed writes on a deleted key moved the current revision from {r3} to {current}");
    ensure!(store.get(&k, None).await?.is_none(), "failed writes on a deleted key recreated it");

    let r4 = store.create(&k, Bytes::from("v3"), None).await?;
    ensure!(r4 > r3, "re-create returned revision {r4}, not after {r3}");
    ensure!(store.get(&k, None).await? == Some(kv(&k, "v3", r4, r4)), "re-created key reads back wrong");
    Ok(())
}

/// get returns the latest version, or the version as of any past revision
/// (None where the key did not exist), and refuses future revisions.
pub async fn get_latest_and_past_revisions(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("get");
    let k = format!("{p}k");
    let other = format!("{p}other");
    let r0 = store.create(&other, Bytes::from("o"), None).await?;
    let r1 = store.create(&k, Bytes::from("v1"), None).await?;
    let r2 = store.update(&k, Bytes::from("v2"), r1, None).await?;
    let (r3, _) = store.delete(&k, Some(r2)).await?;
    let r4 = store.create(&k, Bytes::from("v3"), None).await?;
    let r5 = store.update(&other, Bytes::from("o2"), r0, None).await.context("update of the unrelated key")?;

    let cases: [(Option<Revision>, Option<KeyValue>); 9] = [
        (None, Some(kv(&k, "v3", r4, r4))),
        (Some(r0), None),
        (Some(r1 - 1), None),
        (Some(r1), Some(kv(&k, "v1", r1, r1))),
        (Some(r2), Some(kv(&k, "v2", r1, r2))),
        (Some(r3), None),
        (Some(r4), Some(kv(&k, "v3", r4, r4))),
        (Some(r5), Some(kv(&k, "v3", r4, r4))),
        (Some(store.current_revision().await?), Some(kv(&k, "v3", r4, r4))),
    ];
    for (at, want) in cases {
        let got = store.get(&k, at).await.with_context(|| format!("get {k:?} at {at:?}"))?;
        ensure!(
            got == want,
            "get {k:?} at {at:?}: got {:?}, expected {:?}",
            got.map(|v| show_kv(&v)),
            want.map(|v| show_kv(&v))
        );
    }
    let got = store.get(&other, Some(r4)).await?;
    ensure!(got == Some(kv(&other, "o", r0, r0)), "get {other:?} at {r4}: {got:?}");
    ensure!(store.get(&format!("{p}never"), None).await?.is_none(), "a never-written key exists");
    ensure!(store.get(&format!("{p}never"), Some(r2)).await?.is_none(), "a never-written key exists at {r2}");

    let current = store.current_revision().await?;
    for future in [current + 1, current + 1000] {
        expect_err!(
            store.get(&k, Some(future)).await,
            StoreError::FutureRevision { requested, current: now } if *requested == future && *now >= current
        );
    }
    Ok(())
}

/// range lists the keys under a prefix in byte order, pages with limit and
/// start_after, counts what remains, reads past revisions and refuses future
/// ones.
pub async fn range_order_limits_and_past_revisions(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("range");
    let mut rec = Recorder::new(store.clone());
    let mut names: Vec<String> = (0..20).map(|i| format!("k{i:02}")).collect();
    names.extend(["B", "a", "a/b", "a.b", "a0", "a/b/c", "Z", "é", "~", "k1"].map(String::from));
    for name in &names {
        rec.create(&format!("{p}{name}"), name.clone()).await?;
    }
    // Keys just outside the prefix.
    let stem = p.trim_end_matches('/');
    for outside in [stem.to_owned(), format!("{stem}0/k"), format!("{stem}.k"), format!("{stem}-x/k")] {
        store.create(&outside, Bytes::from("outside"), None).await.with_context(|| format!("create {outside:?}"))?;
    }
    let expected: Vec<KeyValue> = rec.latest.values().cloned().collect();
    let n = expected.len();
    let current = store.current_revision().await?;

    let full = store.range(RangeRequest::prefix(&p)).await?;
    ensure_same_kvs(&full.kvs, &expected, "range of every key")?;
    ensure!(full.revision == current, "range read at {}, current is {current}", full.revision);
    ensure!(
        full.current_revision == current,
        "range reports current_revision {}, expected {current}",
        full.current_revision
    );
    ensure!(full.remaining == 0 && !full.more(), "a complete range reports {} remaining", full.remaining);
    for limit in [Some(0), Some(n), Some(n + 5), Some(usize::MAX)] {
        let req = RangeRequest { limit, ..RangeRequest::prefix(&p) };
        let res = store.range(req.clone()).await?;
        ensure_same_kvs(&res.kvs, &expected, &format!("{req:?}"))?;
        ensure!(res.remaining == 0, "{req:?} reports {} remaining", res.remaining);
    }

    let first = store.range(RangeRequest { limit: Some(4), ..RangeRequest::prefix(&p) }).await?;
    ensure_same_kvs(&first.kvs, &expected[..4], "first page of 4")?;
    ensure!(
        first.remaining == (n - 4) as u64 && first.more(),
        "first page of 4 reports {} remaining of {n}",
        first.remaining
    );
    ensure!(first.revision == current, "first page read at {}, current is {current}", first.revision);
    for page in [1, 3, 4, 7, n - 1] {
        let (kvs, at) = range_all(&*store, &p, None, page).await?;
        ensure_same_kvs(&kvs, &expected, &format!("paging {page} at a time"))?;
        ensure!(at == current, "paging read at {at}, current is {current}");
    }

    // start_after is exclusive and need not be a stored key.
    let after_cases = [
        expected[5].key.clone(),
        format!("{p}a1"),
        format!("{p}a/"),
        p.clone(),
        stem.to_owned(),
        expected[n - 1].key.clone(),
        format!("{p}\u{10ffff}"),
    ];
    for start_after in after_cases {
        let want: Vec<KeyValue> = expected.iter().filter(|kv| kv.key > start_after).cloned().collect();
        let req = RangeRequest { start_after: Some(start_after.clone()), ..RangeRequest::prefix(&p) };
        let res = store.range(req.clone()).await?;
        ensure_same_kvs(&res.kvs, &want, &format!("{req:?}"))?;
        ensure!(res.remaining == 0, "{req:?} reports {} remaining", res.remaining);
        let req = RangeRequest { limit: Some(2), ..req };
        let res = store.range(req.clone()).await?;
        ensure_same_kvs(&res.kvs, &want[..want.len().min(2)], &format!("{req:?}"))?;
        ensure!(
            res.remaining == want.len().saturating_sub(2) as u64,
            "{req:?} reports {} remaining, expected {}",
            res.remaining,
            want.len().saturating_sub(2)
        );
    }

    // Past revisions.
    let r_full = current;
    for name in ["k03", "a/b", "é"] {
        rec.update(&format!("{p}{name}"), "changed").await?;
    }
    let r_mid = rec.last_revision();
    for name in ["k00", "a", "~", "k1"] {
        rec.delete(&format!("{p}{name}")).await?;
    }
    for name in ["a00", "zz", "k05x"] {
        rec.create(&format!("{p}{name}"), "new").await?;
    }
    let now = store.current_revision().await?;
    let old = store.range(RangeRequest { revision: Some(r_full), ..RangeRequest::prefix(&p) }).await?;
    ensure_same_kvs(&old.kvs, &expected, &format!("range at past revision {r_full}"))?;
    ensure!(old.revision == r_full, "range at {r_full} reports revision {}", old.revision);
    ensure!(
        old.current_revision == now,
        "range at {r_full} reports current_revision {}, expected {now}",
        old.current_revision
    );
    let (paged, _) = range_all(&*store, &p, Some(r_full), 5).await?;
    ensure_same_kvs(&paged, &expected, &format!("paging at past revision {r_full}"))?;
    let mid: Vec<KeyValue> = state_at(&rec.events, r_mid).into_values().collect();
    let (paged, _) = range_all(&*store, &p, Some(r_mid), 6).await?;
    ensure_same_kvs(&paged, &mid, &format!("paging at past revision {r_mid}"))?;
    let latest: Vec<KeyValue> = rec.latest.values().cloned().collect();
    let res = store.range(RangeRequest::prefix(&p)).await?;
    ensure_same_kvs(&res.kvs, &latest, "range after the changes")?;
    let res = store.range(RangeRequest { revision: Some(now), ..RangeRequest::prefix(&p) }).await?;
    ensure_same_kvs(&res.kvs, &latest, &format!("range at the current revision {now}"))?;

    for future in [now + 1, now + 1000] {
        expect_err!(
            store.range(RangeRequest { revision: Some(future), ..RangeRequest::prefix(&p) }).await,
            StoreError::FutureRevision { requested, current } if *requested == future && *current >= now
        );
    }

    let empty = store.range(RangeRequest::prefix(unique_prefix("empty"))).await?;
    ensure!(empty.kvs.is_empty() && empty.remaining == 0, "range of an unused prefix: {empty:?}");
    ensure!(empty.revision == now && empty.current_revision == now, "range of an unused prefix: {empty:?}");
    Ok(())
}

const SNAPSHOT_KEYS: usize = 120;
const SNAPSHOT_PAGE: usize = 7;
const SNAPSHOT_WRITERS: usize = 4;

/// One random write (update, delete or create) by a writer on its own keys.
async fn churn(rec: &mut Recorder, rng: &mut StdRng, p: &str, writer: usize, n: usize) -> Result<()> {
    let keys: Vec<String> = rec.latest.keys().cloned().collect();
    match rng.random_range(0..4) {
        0 | 1 if !keys.is_empty() => {
            let key = &keys[rng.random_range(0..keys.len())];
            rec.update(key, format!("w{writer}-{n}")).await?;
        }
        2 if keys.len() > 3 => {
            let key = &keys[rng.random_range(0..keys.len())];
            rec.delete(key).await?;
        }
        _ => {
            // Sorts right after an existing key, anywhere in the range.
            let near = rng.random_range(0..SNAPSHOT_KEYS);
            rec.create(&format!("{p}k{near:04}-{writer}-{n}"), format!("w{writer}-{n}")).await?;
        }
    }
    Ok(())
}

/// Paging at the revision of the first page sees one consistent snapshot
/// while concurrent writers update, create and delete keys in the prefix.
pub async fn range_paging_sees_one_snapshot_under_writes(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("snapshot");
    // Writer w owns keys i with i % (WRITERS + 1) == w; the last one is the
    // reader's, which writes between every two pages it reads.
    let mut recs: Vec<Recorder> = (0..=SNAPSHOT_WRITERS).map(|_| Recorder::new(store.clone())).collect();
    for i in 0..SNAPSHOT_KEYS {
        recs[i % (SNAPSHOT_WRITERS + 1)].create(&format!("{p}k{i:04}"), "v0").await?;
    }
    let mut own = recs.pop().context("the reader's recorder")?;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = recs
        .into_iter()
        .enumerate()
        .map(|(w, mut rec)| {
            let (stop, p) = (stop.clone(), p.clone());
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(w as u64);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) && n < 400 {
                    churn(&mut rec, &mut rng, &p, w, n).await?;
                    n += 1;
                }
                anyhow::Ok(rec)
            })
        })
        .collect();

    let reading = async {
        let mut rng = StdRng::seed_from_u64(99);
        let mut snapshots = Vec::new();
        let mut n = 0;
        for _ in 0..3 {
            let first = store.range(RangeRequest { limit: Some(SNAPSHOT_PAGE), ..RangeRequest::prefix(&p) }).await?;
            let at = first.revision;
            let mut left = first.remaining;
            let mut got = first.kvs;
            while left > 0 {
                churn(&mut own, &mut rng, &p, SNAPSHOT_WRITERS, n).await?;
                n += 1;
                ensure!(n < 10_000, "paging does not end");
                let req = RangeRequest {
                    prefix: p.clone(),
                    revision: Some(at),
                    start_after: got.last().map(|kv| kv.key.clone()),
                    limit: Some(SNAPSHOT_PAGE),
                };
                let page = store.range(req.clone()).await.with_context(|| format!("{req:?}"))?;
                ensure!(page.revision == at, "{req:?} answered at revision {}", page.revision);
                ensure!(!page.kvs.is_empty(), "{req:?}: empty page with {left} keys said to remain");
                ensure!(
                    page.kvs.len() as u64 + page.remaining == left,
                    "{req:?}: {} keys + {} remaining, but {left} were said to remain",
                    page.kvs.len(),
                    page.remaining
                );
                left = page.remaining;
                got.extend(page.kvs);
            }
            snapshots.push((at, got));
        }
        anyhow::Ok(snapshots)
    };
    let snapshots = reading.await;
    stop.store(true, Ordering::Relaxed);
    let mut recs = Vec::new();
    for writer in writers {
        recs.push(writer.await??);
    }
    let snapshots = snapshots?;
    recs.push(own);
    let events = merge_events(&recs)?;
    for (at, got) in &snapshots {
        let expected: Vec<KeyValue> = state_at(&events, *at).into_values().collect();
        ensure_same_kvs(got, &expected, &format!("pages read at revision {at} while writers ran"))?;
        let (again, _) = range_all(&*store, &p, Some(*at), 1000).await?;
        ensure_same_kvs(&again, &expected, &format!("a single range at revision {at}"))?;
    }
    Ok(())
}

fn big_value(seed: u8, len: usize) -> Bytes {
    (0..len).map(|i| ((i % 251) as u8) ^ seed).collect::<Vec<u8>>().into()
}

/// Values of exactly MAX_VALUE_BYTES (and empty ones) are stored, listed and
/// watched intact; one byte more is ValueTooLarge before anything happens.
pub async fn values_up_to_the_limit(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("values");
    let base = store.current_revision().await?;
    let mut rec = Recorder::new(store.clone());
    let (a, b, c) = (format!("{p}big-a"), format!("{p}big-b"), format!("{p}big-c"));
    rec.create(&a, big_value(1, MAX_VALUE_BYTES)).await?;
    rec.update(&a, big_value(2, MAX_VALUE_BYTES)).await?;
    rec.create(&b, big_value(3, MAX_VALUE_BYTES)).await?;
    rec.create(&c, big_value(4, MAX_VALUE_BYTES - 1)).await?;
    rec.create(&format!("{p}empty"), Bytes::new()).await?;
    rec.create(&format!("{p}small"), "x").await?;
    for (key, want) in &rec.latest {
        let got = store.get(key, None).await?;
        ensure!(got.as_ref() == Some(want), "get {key:?} = {:?}, expected {}", got.map(|v| show_kv(&v)), show_kv(want));
    }
    let first = rec.events[0].clone();
    let Event::Put { kv: first, .. } = first else { bail!("test bug: first event is not a put") };
    let got = store.get(&a, Some(first.mod_revision)).await?;
    ensure!(got.as_ref() == Some(&first), "get {a:?} at {} = {:?}", first.mod_revision, got.map(|v| show_kv(&v)));

    let expected: Vec<KeyValue> = rec.latest.values().cloned().collect();
    let listing = store.range(RangeRequest::prefix(&p)).await?;
    ensure_same_kvs(&listing.kvs, &expected, "range over three values of the maximum size")?;
    let mut watch = open_watch(&*store, &p, base).await?;
    expect_events(&mut watch, &rec.events, "watch over values of the maximum size").await?;

    let before = store.current_revision().await?;
    let huge = Bytes::from(vec![7u8; MAX_VALUE_BYTES + 1]);
    let too_large = |key: &str, size: usize, limit: usize, expected_key: &str| {
        key == expected_key && size == MAX_VALUE_BYTES + 1 && limit == MAX_VALUE_BYTES
    };
    let h = format!("{p}huge");
    expect_err!(
        store.create(&h, huge.clone(), None).await,
        StoreError::ValueTooLarge { key, size, limit } if too_large(key, *size, *limit, &h)
    );
    expect_err!(
        store.create(&h, huge.clone(), Some(Duration::from_secs(60))).await,
        StoreError::ValueTooLarge { key, size, limit } if too_large(key, *size, *limit, &h)
    );
    let a_rev = rec.latest[&a].mod_revision;
    expect_err!(
        store.update(&a, huge.clone(), a_rev, None).await,
        StoreError::ValueTooLarge { key, size, limit } if too_large(key, *size, *limit, &a)
    );
    // Checked before any I/O: before finding the key missing.
    let m = format!("{p}missing");
    expect_err!(
        store.update(&m, huge.clone(), 1, None).await,
        StoreError::ValueTooLarge { key, size, limit } if too_large(key, *size, *limit, &m)
    );
    let now = store.current_revision().await?;
    ensure!(now == before, "rejected values moved the current revision from {before} to {now}");
    ensure!(store.get(&h, None).await?.is_none(), "a rejected value was stored");
    let got = store.get(&a, None).await?;
    ensure!(got.as_ref() == rec.latest.get(&a), "a rejected update changed {a:?}");

    // The watch sees nothing of the rejected writes: the next event is this.
    rec.update(&format!("{p}small"), "after").await?;
    let last = rec.events.last().cloned().context("the last event")?;
    expect_events(&mut watch, &[last], "watch after rejected writes").await?;
    Ok(())
}

/// Keys with spaces, SQL wildcards, quotes, backslashes, control
/// characters, unicode and maximal length round-trip through get, range and
/// watch; prefixes holding wildcard characters match literally.
pub async fn unusual_keys_round_trip(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("keys");
    let base = store.current_revision().await?;
    let mut names: Vec<String> = [
        "a b",
        " leading space",
        "trailing space ",
        "100%",
        "%",
        "_",
        "under_score",
        "it's",
        "say \"hi\"",
        "back\\slash",
        "\\",
        "unicodé-ü-中文-Ω",
        "emoji-🦀🎉👩‍👩‍👧",
        "del\u{7f}",
        "ctrl\u{1}\u{1f}",
        "tab\tnewline\nreturn\r",
        "star*question?[bracket]^",
        "high\u{ffff}\u{10ffff}",
        "ÿþ",
        "dot.",
        "..",
        "a//b",
        "plus+equals=amp&hash#",
        "semi;colon:comma,",
        "{braces}<angle>|pipe`tick~",
        "e\u{301}",
        "é",
        "CaSe",
        "case",
    ]
    .map(String::from)
    .into();
    let room = MAX_KEY_BYTES - p.len();
    names.push(format!("long-{}", "x".repeat(room - "long-".len())));
    names.push(format!("long-é-{}", "é".repeat((room - "long-é-".len()) / 2)));
    names.push(format!("long-🦀-{}", "🦀".repeat((room - "long-🦀-".len()) / 4)));

    let mut rec = Recorder::new(store.clone());
    for name in &names {
        let key = format!("{p}{name}");
        ensure!(key.len() <= MAX_KEY_BYTES, "test bug: {} bytes", key.len());
        rec.create(&key, key.clone().into_bytes()).await?;
    }
    // Prefixes with LIKE / GLOB / escape characters, each next to a key its
    // wildcard (or a case-insensitive match) would wrongly include.
    let tricky: [(&str, &str); 9] = [
        ("a_b/", "axb/"),
        ("50%/", "50abc/"),
        ("back\\slash/", "backslash/"),
        ("pct\\%/", "pct\\abc/"),
        ("us\\_/", "us\\a/"),
        ("st*r/", "stxyzr/"),
        ("q?/", "qx/"),
        ("br[ae]/", "bra/"),
        ("CaSe/", "case/"),
    ];
    for (prefix, decoy) in tricky {
        rec.create(&format!("{p}{prefix}k"), "in").await?;
        rec.create(&format!("{p}{decoy}k"), "decoy").await?;
    }
    let created = rec.last_revision();
    for (key, want) in &rec.latest {
        let got = store.get(key, None).await?;
        ensure!(got.as_ref() == Some(want), "get {key:?} = {:?}", got.map(|v| show_kv(&v)));
        let got = store.get(key, Some(want.mod_revision)).await?;
        ensure!(got.as_ref() == Some(want), "get {key:?} at {} = {:?}", want.mod_revision, got.map(|v| show_kv(&v)));
    }
    let expected: Vec<KeyValue> = rec.latest.values().cloned().collect();
    let listing = store.range(RangeRequest::prefix(&p)).await?;
    ensure_same_kvs(&listing.kvs, &expected, "range over unusual keys")?;
    let (paged, _) = range_all(&*store, &p, None, 3).await?;
    ensure_same_kvs(&paged, &expected, "paging over unusual keys (they are start_after)")?;

    // Update some, delete others: events carry the keys exactly.
    for name in names.iter().step_by(2) {
        rec.update(&format!("{p}{name}"), "updated").await?;
    }
    for name in names.iter().skip(1).step_by(3) {
        rec.delete(&format!("{p}{name}")).await?;
    }
    let mut watch = open_watch(&*store, &p, base).await?;
    expect_events(&mut watch, &rec.events, "watch over unusual keys").await?;
    let at_created: Vec<KeyValue> = state_at(&rec.events, created).into_values().collect();
    let (old, _) = range_all(&*store, &p, Some(created), 4).await?;
    ensure_same_kvs(&old, &at_created, &format!("unusual keys at revision {created}"))?;

    for (prefix, _) in tricky {
        let full = format!("{p}{prefix}");
        let want: Vec<KeyValue> = rec.latest.values().filter(|kv| kv.key.starts_with(&full)).cloned().collect();
        ensure!(want.len() == 1, "test bug: {full:?} holds {} keys", want.len());
        let res = store.range(RangeRequest::prefix(&full)).await?;
        ensure_same_kvs(&res.kvs, &want, &format!("range of prefix {full:?}"))?;
        let mut watch = open_watch(&*store, &full, base).await?;
        let history: Vec<Event> = rec.events.iter().filter(|e| e.key().starts_with(&full)).cloned().collect();
        expect_events(&mut watch, &history, &format!("watch of prefix {full:?}")).await?;
        // The sentinel must be next: nothing of the decoy leaked in.
        rec.create(&format!("{p}{prefix}sentinel"), "s").await?;
        let sentinel = rec.events.last().cloned().context("the sentinel event")?;
        expect_events(&mut watch, &[sentinel], &format!("watch of prefix {full:?} after its history")).await?;
    }

    let too_long = format!("{p}{}", "x".repeat(room + 1));
    expect_err!(store.create(&too_long, Bytes::from("v"), None).await, StoreError::InvalidKey { .. });
    Ok(())
}

/// Malformed keys and prefixes give InvalidKey from every operation and
/// change nothing.
pub async fn invalid_keys_and_prefixes(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("invalid");
    let ok = format!("{p}ok");
    let r = store.create(&ok, Bytes::from("v"), None).await?;
    let before = store.current_revision().await?;
    let too_long = format!("/{}", "x".repeat(MAX_KEY_BYTES));
    let bad_keys =
        ["", "relative", "relative/x", "/ends-with-slash/", "/", "/nul\0inside", "\0", too_long.as_str(), p.as_str()];
    for key in bad_keys {
        expect_err!(store.get(key, None).await, StoreError::InvalidKey { .. });
        expect_err!(store.get(key, Some(r)).await, StoreError::InvalidKey { .. });
        expect_err!(store.create(key, Bytes::from("v"), None).await, StoreError::InvalidKey { .. });
        expect_err!(
            store.create(key, Bytes::from("v"), Some(Duration::from_secs(60))).await,
            StoreError::InvalidKey { .. }
        );
        expect_err!(store.update(key, Bytes::from("v"), r, None).await, StoreError::InvalidKey { .. });
        expect_err!(store.delete(key, None).await, StoreError::InvalidKey { .. });
        expect_err!(store.delete(key, Some(r)).await, StoreError::InvalidKey { .. });
    }
    let long_prefix = format!("/{}/", "x".repeat(MAX_KEY_BYTES));
    let bad_prefixes = ["", "relative/", "/no-trailing-slash", ok.as_str(), "/nul\0/", long_prefix.as_str()];
    for prefix in bad_prefixes {
        expect_err!(store.range(RangeRequest::prefix(prefix)).await, StoreError::InvalidKey { .. });
        let req = RangeRequest { revision: Some(r), limit: Some(1), ..RangeRequest::prefix(prefix) };
        expect_err!(store.range(req).await, StoreError::InvalidKey { .. });
        let watched = tokio::time::timeout(super::support::WATCH_TIMEOUT, store.watch(prefix, 0))
            .await
            .with_context(|| format!("watch {prefix:?} did not return"))?;
        expect_err!(watched.map(|_| "a watch stream"), StoreError::InvalidKey { .. });
    }
    let now = store.current_revision().await?;
    ensure!(now == before, "rejected requests moved the current revision from {before} to {now}");
    ensure!(store.get(&ok, None).await? == Some(kv(&ok, "v", r, r)), "{ok:?} changed");
    Ok(())
}

/// "/t1/" sees neither "/t10/x" nor "/t1" nor "/t1.x": in range or watch.
pub async fn prefix_isolation(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("isolation");
    let base = store.current_revision().await?;
    let mut rec = Recorder::new(store.clone());
    for decoy in
        ["t10/x", "t1", "t1.x", "t1-x", "t10", "t100/y/z", "t2/y", "t0/z", "t1x/q", "T1/a", "t/1", "t1\u{7f}/a"]
    {
        rec.create(&format!("{p}{decoy}"), "decoy").await?;
    }
    rec.create(&format!("{p}t1/a"), "in").await?;
    rec.create(&format!("{p}t1/b/c"), "in").await?;
    rec.update(&format!("{p}t10/x"), "decoy2").await?;
    rec.create(&format!("{p}t11/a"), "decoy").await?;
    rec.update(&format!("{p}t1/a"), "in2").await?;
    rec.delete(&format!("{p}t1.x")).await?;
    rec.delete(&format!("{p}t10")).await?;

    ensure!(
        rec.latest.keys().filter(|k| k.starts_with(&format!("{p}t1/"))).count() == 2,
        "test bug: t1/ holds other than two keys"
    );
    for sub in ["t1/", "t10/", "t1/b/", "t100/", "t/", "t1x/", ""] {
        let full = format!("{p}{sub}");
        let want: Vec<KeyValue> = rec.latest.values().filter(|kv| kv.key.starts_with(&full)).cloned().collect();
        let res = store.range(RangeRequest::prefix(&full)).await?;
        ensure_same_kvs(&res.kvs, &want, &format!("range of {full:?}"))?;
        let (paged, _) = range_all(&*store, &full, None, 1).await?;
        ensure_same_kvs(&paged, &want, &format!("paging one key at a time through {full:?}"))?;
        let mut watch = open_watch(&*store, &full, base).await?;
        let history: Vec<Event> = rec.events.iter().filter(|e| e.key().starts_with(&full)).cloned().collect();
        expect_events(&mut watch, &history, &format!("watch of {full:?}")).await?;
        rec.create(&format!("{full}zz-sentinel"), "s").await?;
        let sentinel = rec.events.last().cloned().context("the sentinel event")?;
        expect_events(&mut watch, &[sentinel], &format!("watch of {full:?} after its history")).await?;
    }
    Ok(())
}

const COUNTER_WRITERS: usize = 100;
const COUNTERS: usize = 10;
const INCREMENTS: usize = 3;

/// Increments `key` by read-modify-write, retrying on conflicts with the
/// version the conflict reports. Returns the acknowledged (revision, value).
async fn increment(store: &dyn Store, key: &str) -> Result<(Revision, u64)> {
    let mut known = store.get(key, None).await?;
    for _ in 0..10_000 {
        match known {
            None => match store.create(key, Bytes::from("1"), None).await {
                Ok(revision) => return Ok((revision, 1)),
                Err(StoreError::AlreadyExists { .. }) => known = store.get(key, None).await?,
                Err(e) => return Err(e).with_context(|| format!("create {key:?}")),
            },
            Some(kv) => {
                let text = std::str::from_utf8(&kv.value).context("counter value")?;
                let next = text.parse::<u64>().with_context(|| format!("counter value {text:?}"))? + 1;
                match store.update(key, Bytes::from(next.to_string()), kv.mod_revision, None).await {
                    Ok(revision) => return Ok((revision, next)),
                    Err(StoreError::Conflict { current, expected, .. }) => {
                        ensure!(
                            expected == kv.mod_revision,
                            "conflict reports expected {expected}, not {}",
                            kv.mod_revision
                        );
                        ensure!(
                            current.mod_revision > kv.mod_revision && current.key == key,
                            "conflict on {key:?} at {} carries {}",
                            kv.mod_revision,
                            show_kv(&current)
                        );
                        known = Some(*current);
                    }
                    Err(StoreError::NotFound { .. }) => bail!("counter {key:?} disappeared"),
                    Err(e) => return Err(e).with_context(|| format!("update {key:?}")),
                }
            }
        }
    }
    bail!("no increment of {key:?} succeeded in 10000 attempts")
}

/// 100 concurrent read-modify-write writers on 10 shared counters lose and
/// duplicate nothing: counters equal the acknowledged increments, and a
/// watch sees exactly the acknowledged revisions, in order.
pub async fn concurrent_read_modify_write_counters(store: Arc<dyn Store>) -> Result<()> {
    let p = unique_prefix("counters");
    let base = store.current_revision().await?;
    let tasks: Vec<_> = (0..COUNTER_WRITERS)
        .map(|t| {
            let (store, p) = (store.clone(), p.clone());
            tokio::spawn(async move {
                let mut acks = Vec::new();
                for i in 0..INCREMENTS {
                    let key = format!("{p}c{}", (t + i * 37) % COUNTERS);
                    let (revision, value) = increment(&*store, &key).await?;
                    acks.push((revision, key, value));
                }
                anyhow::Ok(acks)
            })
        })
        .collect();
    let mut acks = Vec::new();
    for task in tasks {
        acks.extend(task.await??);
    }
    acks.sort();
    let mut revisions = HashSet::new();
    for (revision, key, _) in &acks {
        ensure!(*revision > base, "increment of {key:?} got revision {revision}, not after {base}");
        ensure!(revisions.insert(*revision), "two acknowledged writes got revision {revision}");
    }
    // In revision order, each counter's acknowledged values are 1, 2, 3, ...
    let mut per_counter: BTreeMap<&str, Vec<(Revision, u64)>> = BTreeMap::new();
    for (revision, key, value) in &acks {
        per_counter.entry(key).or_default().push((*revision, *value));
    }
    ensure!(per_counter.len() == COUNTERS, "{} counters were written, expected {COUNTERS}", per_counter.len());
    let mut expected_events = Vec::new();
    for (key, writes) in &per_counter {
        let values: Vec<u64> = writes.iter().map(|w| w.1).collect();
        let want: Vec<u64> = (1..=writes.len() as u64).collect();
        ensure!(values == want, "{key:?}: acknowledged values in revision order are {values:?}");
        let got = store.get(key, None).await?.with_context(|| format!("counter {key:?} missing"))?;
        let (last_rev, last_value) = writes[writes.len() - 1];
        ensure!(
            got.value == last_value.to_string().as_bytes() && got.mod_revision == last_rev,
            "counter {key:?} is {}, expected {last_value} at revision {last_rev}",
            show_kv(&got)
        );
        let created = writes[0].0;
        let mut prev: Option<KeyValue> = None;
        for (revision, value) in writes {
            let now = kv(key, value.to_string(), created, *revision);
            expected_events.push(Event::Put { kv: now.clone(), prev: prev.replace(now) });
        }
    }
    ensure!(acks.len() == COUNTER_WRITERS * INCREMENTS, "{} increments acknowledged", acks.len());
    expected_events.sort_by_key(Event::revision);
    let mut watch = open_watch(&*store, &p, base).await?;
    expect_events(&mut watch, &expected_events, "watch of the counters from the start").await?;
    let sentinel = format!("{p}sentinel");
    let r = store.create(&sentinel, Bytes::from("s"), None).await?;
    let event = next_event(&mut watch, "the sentinel after the counters").await?;
    ensure!(
        event == Event::Put { kv: kv(&sentinel, "s", r, r), prev: None },
        "after the acknowledged increments the watch delivered {}",
        show_event(&event)
    );
    Ok(())
}
