//! Fresh store backends for the integration tests: a SQLite database in its
//! own temporary directory, or a real etcd server on loopback, each handed
//! out as `Arc<dyn Store>` and removed (the server killed by its PID) when
//! the [`TestStore`] is dropped.
//!
//! ```text
//!   TestStore ── store: Arc<dyn Store> ──► SqliteStore ─► <tempdir>/store.db
//!             └─ keeps alive ────────────► TempDir | EtcdServer (own data dir)
//! ```
//!
//! Every test gets its own backend, so cases never see each other's writes,
//! revisions or compactions. A missing etcd is an error, never a skip.

#![allow(dead_code)] // each test binary uses a part of this module

use std::sync::Arc;

use anyhow::Context;
use kubeplex_store::Store;

/// A store for one test, with whatever keeps its backend alive.
#[derive(Debug)]
pub struct TestStore {
    // Declared first so it is dropped before its directory or server.
    store: Arc<dyn Store>,
    _backing: Backing,
}

#[derive(Debug)]
enum Backing {
    #[cfg(feature = "sqlite")]
    Sqlite(tempfile::TempDir),
    #[cfg(feature = "etcd")]
    Etcd(kubeplex_testing::EtcdServer),
}

impl TestStore {
    /// The store, to hand to a contract case.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

/// A SQLite store on a new database file in a new temporary directory.
#[cfg(feature = "sqlite")]
pub fn sqlite() -> anyhow::Result<TestStore> {
    use kubeplex_store::sqlite::{SqliteOptions, SqliteStore};

    let dir = tempfile::Builder::new().prefix("kubeplex-store-test-").tempdir()?;
    let path = dir.path().join("store.db");
    let store = SqliteStore::open(&path, SqliteOptions::default())
        .with_context(|| format!("opening a fresh SQLite store at {}", path.display()))?;
    Ok(TestStore { store: Arc::new(store), _backing: Backing::Sqlite(dir) })
}

/// An etcd store on a new etcd server (its own data directory, loopback
/// ports). Fails, with the reason, when etcd cannot be started.
#[cfg(feature = "etcd")]
pub async fn etcd() -> anyhow::Result<TestStore> {
    use kubeplex_store::etcd::{EtcdOptions, EtcdStore};
    use kubeplex_testing::EtcdServer;

    let server = tokio::task::spawn_blocking(EtcdServer::start).await?.context(
        "the etcd tests need a real etcd server and fail without one: \
         install Debian's etcd-server (or point ETCD_BIN at an etcd binary)",
    )?;
    let endpoint = server.endpoint().to_owned();
    let store = EtcdStore::connect(std::slice::from_ref(&endpoint), EtcdOptions::default())
        .await
        .with_context(|| format!("connecting to the test etcd at {endpoint}"))?;
    Ok(TestStore { store: Arc::new(store), _backing: Backing::Etcd(server) })
}
