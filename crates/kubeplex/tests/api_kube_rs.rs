//! kube-rs against the real server: typed CRUD, paged lists, optimistic
//! concurrency, watches (including a 410 for a compacted resourceVersion)
//! and a `kube::runtime::watcher` that carries on across a restart.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};
use kubeplex_testing::KubeplexServer;

async fn client(server: &KubeplexServer) -> Client {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig()).expect("read admin.kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await.expect("kube config");
    Client::try_from(config).expect("kube client")
}

fn cm(name: &str, value: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
        data: Some([("v".to_owned(), value.to_owned())].into()),
        ..Default::default()
    }
}

async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f).await.unwrap_or_else(|_| panic!("{what} took too long"))
}

#[tokio::test(flavor = "multi_thread")]
async fn typed_crud_paging_and_conflicts() {
    let server = KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "default");
    for i in 0..25 {
        api.create(&PostParams::default(), &cm(&format!("c{i:02}"), "0")).await.unwrap();
    }
    // Paged list: 10 at a time, continue tokens, remaining counts.
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(10);
    let first = api.list(&params).await.unwrap();
    assert_eq!(first.metadata.remaining_item_count, Some(15));
    let mut page = first;
    loop {
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        match page.metadata.continue_.clone().filter(|c| !c.is_empty()) {
            Some(token) => {
                params = params.continue_token(&token);
                page = api.list(&params).await.unwrap();
            }
            None => break,
        }
    }
    assert_eq!(names.len(), 25);
    assert_eq!(names.first().map(String::as_str), Some("c00"));

    // A stale update is a 409 Conflict with upstream's message.
    let current = api.get("c00").await.unwrap();
    let mut first_writer = current.clone();
    first_writer.data = Some([("v".to_owned(), "1".to_owned())].into());
    api.replace("c00", &PostParams::default(), &first_writer).await.unwrap();
    let mut stale = current;
    stale.data = Some([("v".to_owned(), "2".to_owned())].into());
    match api.replace("c00", &PostParams::default(), &stale).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
            assert!(status.message.contains("the object has been modified"), "{}", status.message);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(api.get("c00").await.unwrap().data.unwrap()["v"], "1");
    match api.create(&PostParams::default(), &cm("c00", "x")).await {
        Err(kube::Error::Api(status)) => assert_eq!((status.code, status.reason.as_str()), (409, "AlreadyExists")),
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_compacted_resource_version_is_410_and_clients_recover() {
    let server = KubeplexServer::start_with(env!("CARGO_BIN_EXE_kubeplex"), &["--compaction-interval", "1s"]).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "default");
    let first = api.create(&PostParams::default(), &cm("old", "0")).await.unwrap();
    let old_rv = first.metadata.resource_version.unwrap();
    for i in 0..5 {
        api.create(&PostParams::default(), &cm(&format!("n{i}"), "0")).await.unwrap();
    }
    // Compaction runs every second up to the revision seen a second before.
    tokio::time::sleep(Duration::from_secs(3)).await;
    api.create(&PostParams::default(), &cm("late", "0")).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut events = api.watch(&WatchParams::default(), &old_rv).await.unwrap().boxed();
    match within("the 410", events.try_next()).await.unwrap() {
        Some(WatchEvent::Error(status)) => assert_eq!((status.code, status.reason.as_str()), (410, "Expired")),
        other => panic!("expected a 410 ERROR event, got {other:?}"),
    }
    // What a client does next: relist, then watch from the list's version.
    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 7);
    let rv = list.metadata.resource_version.unwrap();
    let mut events = api.watch(&WatchParams::default(), &rv).await.unwrap().boxed();
    api.create(&PostParams::default(), &cm("after", "0")).await.unwrap();
    match within("the ADDED event", events.try_next()).await.unwrap() {
        Some(WatchEvent::Added(cm)) => assert_eq!(cm.metadata.name.as_deref(), Some("after")),
        other => panic!("expected ADDED, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runtime_watcher_carries_on_across_a_restart() {
    let mut server = KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).unwrap();
    let client = client(&server).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    api.create(&PostParams::default(), &cm("before", "0")).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watch_api = api.clone();
    let task = tokio::spawn(async move {
        let mut stream = watcher(watch_api, watcher::Config::default()).boxed();
        while let Some(event) = stream.next().await {
            if let Ok(watcher::Event::Apply(cm) | watcher::Event::InitApply(cm)) = event {
                let _ = tx.send(cm.metadata.name.unwrap_or_default());
            }
        }
    });
    assert_eq!(within("the initial object", rx.recv()).await.as_deref(), Some("before"));
    api.create(&PostParams::default(), &cm("during", "0")).await.unwrap();
    assert_eq!(within("a live event", rx.recv()).await.as_deref(), Some("during"));

    let _server = tokio::task::spawn_blocking(move || {
        server.restart().unwrap();
        server
    })
    .await
    .unwrap();
    // The watcher reconnects on its own and resumes.
    let mut created = false;
    for _ in 0..100 {
        if api.create(&PostParams::default(), &cm("after-restart", "0")).await.is_ok() {
            created = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(created, "the restarted server did not accept a create");
    while within("the event after the restart", rx.recv()).await.expect("watcher alive") != "after-restart" {}
    task.abort();
}
