//! What is particular to the etcd backend, against a real etcd: one shared
//! etcd watch per prefix, late and slow watchers caught up from the buffer
//! or a temporary watch, watches surviving a lost connection, leases shared
//! between keys, and errors that name the endpoint.

#![cfg(feature = "etcd")]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use futures::StreamExt;
use kubeplex_store::etcd::{EtcdOptions, EtcdStore};
use kubeplex_store::{Event, Revision, Store, StoreError, WatchStream};
use kubeplex_testing::EtcdServer;

/// Generous bound for anything that should happen "soon"; tests fail
/// instead of hanging, and never assert on how long things took.
const PATIENCE: Duration = Duration::from_secs(30);

async fn connect(etcd: &EtcdServer, options: EtcdOptions) -> Result<EtcdStore> {
    Ok(EtcdStore::connect(&[etcd.endpoint().to_owned()], options).await?)
}

async fn next_event(stream: &mut WatchStream) -> Result<Event> {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(Ok(event))) => Ok(event),
        Ok(Some(Err(e))) => bail!("watch failed: {e}"),
        Ok(None) => bail!("watch ended"),
        Err(_) => bail!("no event within {PATIENCE:?}"),
    }
}

async fn events(stream: &mut WatchStream, n: usize) -> Result<Vec<Event>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(next_event(stream).await?);
    }
    Ok(out)
}

fn revisions(events: &[Event]) -> Vec<Revision> {
    events.iter().map(Event::revision).collect()
}

/// Waits until `f` holds, failing after [`PATIENCE`].
async fn eventually(what: &str, mut f: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + PATIENCE;
    while !f() {
        if Instant::now() > deadline {
            bail!("{what}: not reached within {PATIENCE:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// How many watchers the etcd server itself holds, from its metrics.
fn server_watchers(endpoint: &str) -> Result<u64> {
    let authority = endpoint.trim_start_matches("http://");
    let mut conn = TcpStream::connect(authority)?;
    conn.set_read_timeout(Some(PATIENCE))?;
    write!(conn, "GET /metrics HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n")?;
    let mut body = String::new();
    conn.read_to_string(&mut body)?;
    let line = body
        .lines()
        .find(|l| l.starts_with("etcd_debugging_mvcc_watcher_total "))
        .context("etcd reports no etcd_debugging_mvcc_watcher_total")?;
    Ok(line.split_whitespace().nth(1).context("metric value")?.parse::<f64>()? as u64)
}

/// Creates `n` keys `{prefix}k{i}` and returns their revisions.
async fn write_keys(store: &EtcdStore, prefix: &str, from: usize, n: usize) -> Result<Vec<Revision>> {
    let mut revs = Vec::with_capacity(n);
    for i in from..from + n {
        revs.push(store.create(&format!("{prefix}k{i:04}"), Bytes::from(format!("v{i}")), None).await?);
    }
    Ok(revs)
}

#[tokio::test]
async fn unreachable_endpoint_fails_naming_it() -> Result<()> {
    let port = kubeplex_testing::free_port()?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let options = EtcdOptions { connect_timeout: Duration::from_secs(2), ..Default::default() };
    let result = tokio::time::timeout(PATIENCE, EtcdStore::connect(std::slice::from_ref(&endpoint), options)).await;
    let err = result.context("connect hung")?.expect_err("nothing listens there");
    eprintln!("{err}");
    let StoreError::Etcd { endpoints, message } = &err else { bail!("expected an etcd error, got {err:?}") };
    assert_eq!(endpoints, &endpoint);
    assert!(err.to_string().contains(&endpoint), "{err}");
    assert!(message.to_lowercase().contains("refused"), "the cause is named: {message}");
    Ok(())
}

#[tokio::test]
async fn silent_endpoint_fails_within_the_connect_timeout() -> Result<()> {
    // Accepts TCP connections (into the backlog) but never speaks.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let options = EtcdOptions { connect_timeout: Duration::from_secs(1), ..Default::default() };
    let result = tokio::time::timeout(PATIENCE, EtcdStore::connect(std::slice::from_ref(&endpoint), options)).await;
    let err = result.context("connect hung")?.expect_err("no etcd there");
    eprintln!("{err}");
    assert!(matches!(err, StoreError::Etcd { .. }), "{err:?}");
    assert!(err.to_string().contains(&endpoint), "{err}");
    assert!(err.to_string().contains("does not answer"), "{err}");
    Ok(())
}

#[tokio::test]
async fn many_watchers_of_a_prefix_share_one_etcd_watch() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let store = connect(&etcd, EtcdOptions::default()).await?;
    let start = store.current_revision().await?;
    let mut watchers = Vec::new();
    for _ in 0..20 {
        watchers.push(store.watch("/registry/pods/", start).await?);
    }
    let other = store.watch("/registry/nodes/", start).await?;
    let revs = write_keys(&store, "/registry/pods/", 0, 3).await?;
    for w in &mut watchers {
        assert_eq!(revisions(&events(w, 3).await?), revs);
    }
    assert_eq!(store.shared_watches(), 2);
    assert_eq!(store.etcd_watches(), 2, "one etcd watch per prefix, not per watcher");
    assert_eq!(server_watchers(etcd.endpoint())?, 2, "etcd itself holds one watcher per prefix");

    // A watcher joining at the current revision shares it too.
    let mut late = store.watch("/registry/pods/", *revs.last().unwrap_or(&start)).await?;
    let rev = store.create("/registry/pods/x", Bytes::from_static(b"x"), None).await?;
    assert_eq!(next_event(&mut late).await?.revision(), rev);
    assert_eq!(store.etcd_watches(), 2);

    drop(watchers);
    assert_eq!(store.shared_watches(), 2, "the late watcher still holds the prefix");
    drop(late);
    assert_eq!(store.shared_watches(), 1);
    eventually("the pods etcd watch is canceled", || store.etcd_watches() == 1).await?;
    drop(other);
    eventually("every etcd watch is canceled", || store.etcd_watches() == 0).await?;
    assert_eq!(store.shared_watches(), 0);
    eventually("etcd drops its watchers", || server_watchers(etcd.endpoint()).is_ok_and(|n| n == 0)).await?;
    Ok(())
}

#[tokio::test]
async fn late_watcher_is_served_from_the_buffer() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let store = connect(&etcd, EtcdOptions::default()).await?;
    let start = store.current_revision().await?;
    let mut first = store.watch("/b/", start).await?;
    let revs = write_keys(&store, "/b/", 0, 10).await?;
    assert_eq!(revisions(&events(&mut first, 10).await?), revs);

    // Joins after the shared watch has delivered all ten: from the buffer.
    let mut late = store.watch("/b/", revs[3]).await?;
    let got = events(&mut late, 6).await?;
    assert_eq!(revisions(&got), revs[4..]);
    assert_eq!(store.etcd_watches(), 1, "served from the buffer, without a catch-up watch");
    assert_eq!(server_watchers(etcd.endpoint())?, 1);
    let Event::Put { kv, prev } = &got[0] else { bail!("expected a put, got {:?}", got[0]) };
    assert_eq!((kv.key.as_str(), prev), ("/b/k0004", &None));

    let more = write_keys(&store, "/b/", 10, 2).await?;
    assert_eq!(revisions(&events(&mut late, 2).await?), more);
    assert_eq!(revisions(&events(&mut first, 2).await?), more);
    Ok(())
}

#[tokio::test]
async fn late_watcher_beyond_the_buffer_catches_up_then_shares() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let options = EtcdOptions { watch_buffer_events: 4, ..Default::default() };
    let store = connect(&etcd, options).await?;
    let start = store.current_revision().await?;
    let mut first = store.watch("/c/", start).await?;
    let revs = write_keys(&store, "/c/", 0, 30).await?;
    assert_eq!(revisions(&events(&mut first, 30).await?), revs);

    // The buffer holds only the last 4 events: this one needs etcd's history.
    let mut late = store.watch("/c/", start).await?;
    assert_eq!(revisions(&events(&mut late, 30).await?), revs);
    let more = write_keys(&store, "/c/", 30, 5).await?;
    assert_eq!(revisions(&events(&mut late, 5).await?), more);
    assert_eq!(revisions(&events(&mut first, 5).await?), more);
    eventually("the catch-up etcd watch is dropped after joining", || store.etcd_watches() == 1).await?;

    // Once joined it is fed by the shared watch, still exactly once.
    let last = write_keys(&store, "/c/", 35, 3).await?;
    assert_eq!(revisions(&events(&mut late, 3).await?), last);
    Ok(())
}

#[tokio::test]
async fn a_watcher_that_does_not_read_falls_back_and_misses_nothing() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let options = EtcdOptions { watch_buffer_events: 4, watch_channel_capacity: 4, ..Default::default() };
    let store = connect(&etcd, options).await?;
    let start = store.current_revision().await?;
    let mut reader = store.watch("/slow/", start).await?;
    let mut sleeper = store.watch("/slow/", start).await?;
    // The reader reads while the writes go on, the sleeper not at all: its
    // queue overflows and it is moved to a catch-up watch of its own.
    let (revs, read) = tokio::join!(write_keys(&store, "/slow/", 0, 40), events(&mut reader, 40));
    let revs = revs?;
    assert_eq!(revisions(&read?), revs);
    assert_eq!(revisions(&events(&mut sleeper, 40).await?), revs);
    let more = write_keys(&store, "/slow/", 40, 3).await?;
    assert_eq!(revisions(&events(&mut sleeper, 3).await?), more);
    assert_eq!(revisions(&events(&mut reader, 3).await?), more);
    eventually("the sleeper rejoins the shared watch", || store.etcd_watches() == 1).await?;
    Ok(())
}

#[tokio::test]
async fn deletes_and_updates_carry_previous_values() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let store = connect(&etcd, EtcdOptions::default()).await?;
    let start = store.current_revision().await?;
    let mut w = store.watch("/p/", start).await?;
    let r1 = store.create("/p/a", Bytes::from_static(b"1"), None).await?;
    let r2 = store.update("/p/a", Bytes::from_static(b"2"), r1, None).await?;
    let (r3, deleted) = store.delete("/p/a", Some(r2)).await?;
    assert_eq!(deleted.value, Bytes::from_static(b"2"));
    let got = events(&mut w, 3).await?;
    let Event::Put { prev: Some(prev), .. } = &got[1] else { bail!("update without prev: {:?}", got[1]) };
    assert_eq!((prev.value.as_ref(), prev.mod_revision), (b"1".as_ref(), r1));
    let Event::Delete { key, revision, prev } = &got[2] else { bail!("expected a delete: {:?}", got[2]) };
    assert_eq!((key.as_str(), *revision, prev.mod_revision, prev.create_revision), ("/p/a", r3, r2, r1));
    Ok(())
}

#[tokio::test]
async fn keys_with_similar_ttls_share_a_lease() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let store = connect(&etcd, EtcdOptions::default()).await?;
    let ttl = Some(Duration::from_secs(120));
    for i in 0..10 {
        store.create(&format!("/events/e{i}"), Bytes::from_static(b"event"), ttl).await?;
    }
    let mut raw = etcd_client::Client::connect([etcd.endpoint()], None).await?;
    let resp = raw.get("/events/", Some(etcd_client::GetOptions::new().with_prefix())).await?;
    let leases: Vec<i64> = resp.kvs().iter().map(|kv| kv.lease()).collect();
    assert_eq!(leases.len(), 10);
    assert!(leases[0] != 0 && leases.iter().all(|&l| l == leases[0]), "one shared lease: {leases:?}");
    assert_eq!(raw.leases().await?.leases().len(), 1);
    assert_eq!(store.pooled_leases().await, 1);

    // A much longer ttl does not fit that lease.
    store.create("/events/long", Bytes::from_static(b"event"), Some(Duration::from_secs(3600))).await?;
    assert_eq!(raw.leases().await?.leases().len(), 2);

    // An update without ttl detaches the key; one with a ttl reuses the lease.
    let kv = store.get("/events/e0", None).await?.context("e0")?;
    store.update("/events/e0", Bytes::from_static(b"kept"), kv.mod_revision, None).await?;
    let kv1 = store.get("/events/e1", None).await?.context("e1")?;
    store.update("/events/e1", Bytes::from_static(b"again"), kv1.mod_revision, ttl).await?;
    let resp = raw.get("/events/e0", None).await?;
    assert_eq!(resp.kvs()[0].lease(), 0);
    let resp = raw.get("/events/e1", None).await?;
    assert_eq!(resp.kvs()[0].lease(), leases[0]);
    Ok(())
}

#[tokio::test]
async fn expiry_is_watched_as_deletes_with_prev() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let store = connect(&etcd, EtcdOptions::default()).await?;
    let start = store.current_revision().await?;
    let mut w = store.watch("/ttl/", start).await?;
    let ra = store.create("/ttl/a", Bytes::from_static(b"a"), Some(Duration::from_secs(1))).await?;
    let rb = store.create("/ttl/b", Bytes::from_static(b"b"), Some(Duration::from_secs(1))).await?;
    store.create("/ttl/keep", Bytes::from_static(b"k"), None).await?;
    let got = events(&mut w, 5).await?;
    let mut deleted: Vec<(String, Revision)> = got[3..]
        .iter()
        .map(|e| match e {
            Event::Delete { key, prev, .. } => Ok((key.clone(), prev.mod_revision)),
            other => bail!("expected an expiry delete, got {other:?}"),
        })
        .collect::<Result<_>>()?;
    deleted.sort();
    assert_eq!(deleted, vec![("/ttl/a".to_owned(), ra), ("/ttl/b".to_owned(), rb)]);
    assert!(store.get("/ttl/a", None).await?.is_none());
    assert!(store.get("/ttl/keep", None).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn compaction_is_reported_with_numbers() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let store = connect(&etcd, EtcdOptions::default()).await?;
    assert_eq!(store.compacted_revision().await?, 0);
    let revs = write_keys(&store, "/k/", 0, 10).await?;
    store.compact(revs[5]).await?;
    assert_eq!(store.compacted_revision().await?, revs[5]);
    store.compact(revs[2]).await.context("compacting less is a no-op")?;

    // Another client (another kubeplex replica) compacts further.
    let other = connect(&etcd, EtcdOptions::default()).await?;
    other.compact(revs[7]).await?;
    assert_eq!(store.compacted_revision().await?, revs[7]);

    match store.get("/k/k0000", Some(revs[1])).await {
        Err(StoreError::Compacted { requested, compacted }) => assert_eq!((requested, compacted), (revs[1], revs[7])),
        other => bail!("expected Compacted, got {other:?}"),
    }
    assert!(store.get("/k/k0000", Some(revs[7])).await?.is_some());
    let current = store.current_revision().await?;
    match store.get("/k/k0000", Some(current + 5)).await {
        Err(StoreError::FutureRevision { requested, current: c }) => assert_eq!((requested, c), (current + 5, current)),
        other => bail!("expected FutureRevision, got {other:?}"),
    }
    match store.watch("/k/", revs[1]).await {
        Err(StoreError::Compacted { requested, compacted }) => assert_eq!((requested, compacted), (revs[1], revs[7])),
        Err(e) => bail!("expected Compacted, got {e:?}"),
        Ok(_) => bail!("expected Compacted, got a stream"),
    }
    let mut w = store.watch("/k/", revs[7]).await?;
    assert_eq!(revisions(&events(&mut w, 2).await?), revs[8..]);
    Ok(())
}

#[tokio::test]
async fn large_ranges_and_values_decode() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let store = connect(&etcd, EtcdOptions::default()).await?;
    let big = Bytes::from(vec![b'x'; kubeplex_store::MAX_VALUE_BYTES]);
    let rev = store.create("/big/value", big.clone(), None).await?;
    let kv = store.get("/big/value", None).await?.context("big value")?;
    assert_eq!((kv.value.len(), kv.mod_revision), (big.len(), rev));

    let value = Bytes::from(vec![b'v'; 1024]);
    let writes = futures::stream::iter(0..10_000)
        .map(|i| {
            let (store, value) = (&store, value.clone());
            async move { store.create(&format!("/many/k{i:05}"), value, None).await }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    for w in writes {
        w?;
    }
    let all = store.range(kubeplex_store::RangeRequest::prefix("/many/")).await?;
    assert_eq!((all.kvs.len(), all.remaining), (10_000, 0));
    let page = store
        .range(kubeplex_store::RangeRequest {
            prefix: "/many/".into(),
            start_after: Some("/many/k00099".into()),
            limit: Some(100),
            revision: Some(all.revision),
        })
        .await?;
    assert_eq!(page.kvs.first().map(|kv| kv.key.as_str()), Some("/many/k00100"));
    assert_eq!((page.kvs.len(), page.remaining), (100, 9_800));
    Ok(())
}

/// A TCP proxy in front of etcd whose connections can be cut and restored.
struct Proxy {
    endpoint: String,
    cut: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    fn start(target: &str) -> Result<Proxy> {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let (cut, stop) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (cut2, stop2, conns2) = (Arc::clone(&cut), Arc::clone(&stop), Arc::clone(&conns));
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let client = match listener.accept() {
                    Ok((client, _)) => client,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    }
                };
                if cut2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(&target) else { continue };
                let mut list = conns2.lock().unwrap_or_else(|e| e.into_inner());
                for s in [&client, &server] {
                    if let Ok(s) = s.try_clone() {
                        list.push(s);
                    }
                }
                drop(list);
                for (mut from, mut to) in
                    [(client.try_clone(), server.try_clone()), (server.try_clone(), client.try_clone())]
                        .into_iter()
                        .filter_map(|(a, b)| Some((a.ok()?, b.ok()?)))
                {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                        let _ = from.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Ok(Proxy { endpoint, cut, stop, conns, thread: Some(thread) })
    }

    /// Breaks every open connection and refuses new ones.
    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.conns.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[tokio::test]
async fn a_broken_watch_resumes_after_the_last_revision_it_delivered() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let proxy = Proxy::start(etcd.endpoint())?;
    let store = EtcdStore::connect(std::slice::from_ref(&proxy.endpoint), EtcdOptions::default()).await?;
    let direct = connect(&etcd, EtcdOptions::default()).await?;
    let start = store.current_revision().await?;
    let mut w = store.watch("/r/", start).await?;
    let before = write_keys(&direct, "/r/", 0, 3).await?;
    assert_eq!(revisions(&events(&mut w, 3).await?), before);

    proxy.cut();
    let during = write_keys(&direct, "/r/", 3, 3).await?;
    proxy.restore();
    let after = write_keys(&direct, "/r/", 6, 2).await?;
    let got = events(&mut w, 5).await?;
    assert_eq!(revisions(&got), [during, after].concat(), "nothing lost or repeated across the reconnect");
    assert_eq!(store.etcd_watches(), 1);
    Ok(())
}

#[tokio::test]
async fn a_broken_watch_whose_resume_point_was_compacted_ends_with_compacted() -> Result<()> {
    let etcd = EtcdServer::start()?;
    let proxy = Proxy::start(etcd.endpoint())?;
    let store = EtcdStore::connect(std::slice::from_ref(&proxy.endpoint), EtcdOptions::default()).await?;
    let direct = connect(&etcd, EtcdOptions::default()).await?;
    let start = store.current_revision().await?;
    let mut a = store.watch("/z/", start).await?;
    let mut b = store.watch("/z/", start).await?;
    let before = write_keys(&direct, "/z/", 0, 2).await?;
    assert_eq!(revisions(&events(&mut a, 2).await?), before);
    assert_eq!(revisions(&events(&mut b, 2).await?), before);

    proxy.cut();
    let during = write_keys(&direct, "/z/", 2, 3).await?;
    direct.compact(during[2]).await?;
    proxy.restore();
    for w in [&mut a, &mut b] {
        match tokio::time::timeout(PATIENCE, w.next()).await.context("no end within patience")? {
            Some(Err(StoreError::Compacted { requested, compacted })) => {
                assert_eq!((requested, compacted), (before[1], during[2]));
            }
            other => bail!("expected the stream to end with Compacted, got {other:?}"),
        }
        assert!(w.next().await.is_none(), "the stream ends after its error");
    }
    eventually("the failed shared watch is dropped", || store.shared_watches() == 0 && store.etcd_watches() == 0)
        .await?;
    // A new watch of the prefix from a readable revision works again.
    let mut fresh = store.watch("/z/", during[2]).await?;
    let rev = direct.create("/z/new", Bytes::from_static(b"n"), None).await?;
    assert_eq!(next_event(&mut fresh).await?.revision(), rev);
    Ok(())
}
