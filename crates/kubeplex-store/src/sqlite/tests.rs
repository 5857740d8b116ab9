//! Tests of what is particular to the SQLite backend (the behaviour shared
//! with etcd is in `tests/contract.rs`).

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;

use super::{SqliteOptions, SqliteStore};
use crate::{Event, RangeRequest, Store, StoreError};

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(dir.path().join("store.db"), SqliteOptions::default()).expect("open store")
}

#[tokio::test]
async fn second_open_is_locked_until_the_first_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(&dir);
    let err = SqliteStore::open(dir.path().join("store.db"), SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    assert!(err.to_string().contains("store.db"), "{err}");
    drop(first);
    open(&dir);
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = SqliteStore::open(&path, SqliteOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

#[tokio::test]
async fn revisions_and_data_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.create("/a/1", Bytes::from_static(b"one"), None).await.unwrap();
    let rev = store.create("/a/2", Bytes::from_static(b"two"), None).await.unwrap();
    let (del_rev, _) = store.delete("/a/2", None).await.unwrap();
    assert!(del_rev > rev);
    drop(store);

    let store = open(&dir);
    assert_eq!(store.current_revision().await.unwrap(), del_rev);
    assert_eq!(store.get("/a/1", None).await.unwrap().unwrap().value, Bytes::from_static(b"one"));
    assert!(store.get("/a/2", None).await.unwrap().is_none());
    assert!(store.create("/a/3", Bytes::new(), None).await.unwrap() > del_rev);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watcher_that_falls_behind_catches_up_from_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let mut watch = store.watch("/w/", 0).await.unwrap();
    // Sequential writes are one batch each: more than the broadcast buffer.
    let n = super::EVENT_BUFFER as i64 + 500;
    for i in 0..n {
        store.create(&format!("/w/{i:06}"), Bytes::new(), None).await.unwrap();
    }
    for i in 0..n {
        let event = tokio::time::timeout(Duration::from_secs(10), watch.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(event.revision(), i + 1);
        assert_eq!(event.key(), format!("/w/{i:06}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn automatic_compaction_keeps_a_bounded_history() {
    let dir = tempfile::tempdir().unwrap();
    let options = SqliteOptions { compaction_interval: Duration::from_millis(100), ..Default::default() };
    let store = SqliteStore::open(dir.path().join("store.db"), options).unwrap();
    let mut rev = store.create("/c/k", Bytes::from_static(b"0"), None).await.unwrap();
    for i in 1..50 {
        rev = store.update("/c/k", Bytes::from(i.to_string()), rev, None).await.unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while store.compacted_revision().await.unwrap() < rev {
        assert!(tokio::time::Instant::now() < deadline, "no automatic compaction");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let err = store.get("/c/k", Some(rev - 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Compacted { .. }), "{err}");
    assert_eq!(store.get("/c/k", Some(rev)).await.unwrap().unwrap().value, Bytes::from_static(b"49"));
    // Only the latest version is left on disk.
    let conn = rusqlite::Connection::open(dir.path().join("store.db")).unwrap();
    let rows: i64 = conn.query_row("SELECT count(*) FROM kv", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_keys_survive_a_restart_and_still_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    store.create("/t/e", Bytes::new(), Some(Duration::from_millis(300))).await.unwrap();
    drop(store);
    let store = open(&dir);
    let mut watch = store.watch("/t/", store.current_revision().await.unwrap()).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), watch.next()).await.unwrap().unwrap().unwrap();
    assert!(matches!(event, Event::Delete { ref key, .. } if key == "/t/e"), "{event:?}");
}

#[test]
fn range_reads_use_the_key_index() {
    let dir = tempfile::tempdir().unwrap();
    let conn = super::schema::open_writer(&dir.path().join("plan.db")).unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", super::read::RANGE_SQL))
        .unwrap()
        .query_map(rusqlite::params![b"/a/".as_slice(), b"/a0".as_slice(), b"".as_slice(), 10], |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("kv_key_rev"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    println!("{plan}");
}

#[tokio::test]
async fn paging_reports_what_remains() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    for i in 0..10 {
        store.create(&format!("/p/{i}"), Bytes::new(), None).await.unwrap();
    }
    store.delete("/p/3", None).await.unwrap();
    let page = store.range(RangeRequest { limit: Some(4), ..RangeRequest::prefix("/p/") }).await.unwrap();
    let keys: Vec<_> = page.kvs.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["/p/0", "/p/1", "/p/2", "/p/4"]);
    assert_eq!(page.remaining, 5);
}

#[test]
fn cached_statements_are_not_prepared_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(super::schema::open_writer(&path).unwrap());
    let conn = super::schema::open_reader(&path).unwrap();
    for i in 0..20 {
        super::read::get(&conn, &format!("/k/{i}"), 100).unwrap();
    }
    let sql = "SELECT rev, create_rev, deleted, value FROM kv WHERE key = ?1 AND rev <= ?2 ORDER BY rev DESC LIMIT 1";
    let stmt = conn.prepare_cached(sql).unwrap();
    assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "get's statement was re-prepared");
}
