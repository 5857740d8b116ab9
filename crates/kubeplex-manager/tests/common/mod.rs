//! What the manager's integration tests share: an in-process API server on
//! a fresh SQLite directory, and polling for an expected state.

use std::sync::Arc;
use std::time::Duration;

use kubeplex_apiserver::api::ApiServer;
use kubeplex_apiserver::crud;
use kubeplex_store::{StoreOptions, StoreSpec};

/// Polls `check` every 50 ms until it returns something, for at most `limit`.
pub async fn eventually_within<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..limit.as_millis() / 50 {
        if let Some(v) = check() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// An API server with `root` bootstrapped, on a fresh SQLite directory
/// (named after `test`) under the system's temp dir.
pub async fn api_server(test: &str, ca_pem: Option<&str>) -> (Arc<ApiServer>, std::path::PathBuf) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("kubeplex-{test}-test-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = StoreSpec::Sqlite.open(&dir, &StoreOptions::default()).await.unwrap();
    let api = Arc::new(ApiServer::new(store, "127.0.0.1:6443".to_owned()));
    if let Some(pem) = ca_pem {
        api.ca_cert_pem.set(pem.to_owned()).unwrap();
    }
    crud::bootstrap_cluster(&api, "root").await.unwrap();
    (api, dir)
}
