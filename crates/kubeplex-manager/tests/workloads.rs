//! The workload controllers (Deployment, ReplicaSet, Job) against an
//! in-process API server on a temporary SQLite store: a Deployment of 3
//! replicas gets a ReplicaSet with `pod-template-hash` and 3 pods, rolls out
//! on simulated nodes, and a new image makes a second ReplicaSet; scaling
//! down deletes pods; a Job of 2 completions creates pods one at a time and
//! completes once they succeed (marked Succeeded here, no node needed); a
//! finished Job with a TTL is deleted after it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kubeplex_manager::client::collection;
use kubeplex_manager::{Context, ObjectKey, deployment, gc, job, nodes, replicaset, scheduler, ttlafterfinished};
use serde_json::{Value, json};

/// Polls `check` until it returns something, for at most 30 s.
async fn eventually<T>(what: &str, check: impl FnMut() -> Option<T>) -> T {
    common::eventually_within(what, Duration::from_secs(30), check).await
}

async fn start(with_nodes: bool) -> (Arc<Context>, std::path::PathBuf) {
    let (api, dir) = common::api_server("workloads", None).await;
    let ctx = Context::new(api);
    replicaset::register(&ctx);
    deployment::register(&ctx);
    job::register(&ctx);
    ttlafterfinished::register(&ctx);
    gc::register(&ctx);
    let config = kubeplex_nodesim::default_config();
    if with_nodes {
        scheduler::register(&ctx);
        nodes::register(&ctx, config.clone());
    }
    ctx.start_informers().await.unwrap();
    if with_nodes {
        nodes::ensure_nodes(&ctx, &config).await.unwrap();
    }
    (ctx, dir)
}

fn pods_of(ctx: &Context, owner_uid: &str) -> Vec<Arc<Pod>> {
    ctx.pods.controlled_by(owner_uid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_rolls_out_and_updates() {
    let (ctx, dir) = start(true).await;
    let deployments = collection("root", "apps/v1", Some("default"), "deployments");
    let d: Deployment = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"automountServiceAccountToken": false, "containers": [{"name": "app", "image": "nginx:1.27"}]}
            }
        }
    }))
    .unwrap();
    let d = ctx.client.create(&deployments, &d).await.unwrap();
    let uid = d.metadata.uid.clone().unwrap();

    // One ReplicaSet with pod-template-hash, 3 pods carrying the hash.
    let rs = eventually("a ReplicaSet of 3", || {
        let rss = ctx.replica_sets.controlled_by(&uid);
        let rs = rss.first()?.clone();
        (rss.len() == 1 && rs.spec.as_ref()?.replicas == Some(3)).then_some(rs)
    })
    .await;
    let hash = rs.metadata.labels.as_ref().and_then(|l| l.get("pod-template-hash")).cloned().unwrap();
    assert_eq!(rs.metadata.name.as_deref(), Some(format!("web-{hash}").as_str()));
    assert_eq!(
        rs.metadata.annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).map(String::as_str),
        Some("1")
    );
    let rs_uid = rs.metadata.uid.clone().unwrap();
    eventually("3 pods", || (pods_of(&ctx, &rs_uid).len() == 3).then_some(())).await;
    for pod in pods_of(&ctx, &rs_uid) {
        assert_eq!(pod.metadata.labels.as_ref().and_then(|l| l.get("pod-template-hash")), Some(&hash));
        assert!(pod.metadata.name.as_deref().unwrap().starts_with(&format!("web-{hash}-")));
    }

    // The rollout completes on simulated nodes; the revision annotation is on the Deployment.
    let key = ObjectKey::new("root", "default", "web");
    eventually("rollout complete", || {
        let d = ctx.deployments.get(&key)?;
        kubeplex_controllers::deployment::rollout_complete(&d).then_some(())
    })
    .await;
    let d = ctx.deployments.get(&key).unwrap();
    assert_eq!(
        d.metadata.annotations.as_ref().and_then(|a| a.get("deployment.kubernetes.io/revision")).map(String::as_str),
        Some("1")
    );
    let status = d.status.clone().unwrap();
    assert_eq!((status.replicas, status.updated_replicas, status.available_replicas), (Some(3), Some(3), Some(3)));

    // ScalingReplicaSet event from the deployment-controller.
    let events_path = collection("root", "v1", Some("default"), "events");
    let events: Value = ctx.client.get(&events_path).await.unwrap();
    let items: Vec<Event> = serde_json::from_value(events["items"].clone()).unwrap();
    assert!(
        items.iter().any(|e| e.reason.as_deref() == Some("ScalingReplicaSet")
            && e.message.as_deref() == Some(format!("Scaled up replica set web-{hash} from 0 to 3").as_str())
            && e.source.as_ref().and_then(|s| s.component.as_deref()) == Some("deployment-controller")),
        "events: {items:?}"
    );
    assert!(items.iter().any(|e| e.reason.as_deref() == Some("SuccessfulCreate")
        && e.involved_object.name.as_deref() == Some(format!("web-{hash}").as_str())));

    // A new image: a second ReplicaSet (revision 2) takes over.
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}}}});
    let _: Deployment = ctx.client.strategic_patch(&format!("{deployments}/web"), &patch).await.unwrap();
    let new_rs = eventually("a second ReplicaSet", || {
        let rss = ctx.replica_sets.controlled_by(&uid);
        rss.iter().find(|r| r.metadata.uid.as_deref() != Some(rs_uid.as_str())).cloned()
    })
    .await;
    assert_eq!(
        new_rs
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("deployment.kubernetes.io/revision"))
            .map(String::as_str),
        Some("2")
    );
    eventually("rollout of revision 2 complete", || {
        let d = ctx.deployments.get(&key)?;
        let old = ctx.replica_sets.get(&ObjectKey::new("root", "default", rs.metadata.name.as_deref()?))?;
        (kubeplex_controllers::deployment::rollout_complete(&d)
            && old.spec.as_ref()?.replicas == Some(0)
            && d.metadata.annotations.as_ref()?.get("deployment.kubernetes.io/revision")? == "2")
            .then_some(())
    })
    .await;
    let new_uid = new_rs.metadata.uid.clone().unwrap();
    eventually("3 new pods", || {
        let pods = pods_of(&ctx, &new_uid);
        (pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).count() == 3).then_some(())
    })
    .await;

    // Scale down to 1: the ReplicaSet deletes 2 pods.
    let _: Deployment =
        ctx.client.merge_patch(&format!("{deployments}/web"), &json!({"spec": {"replicas": 1}})).await.unwrap();
    eventually("1 active pod", || {
        let pods = pods_of(&ctx, &new_uid);
        (pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).count() == 1).then_some(())
    })
    .await;

    // Back to the first image (what `kubectl rollout undo` patches): the first
    // ReplicaSet is reused as revision 3, no third one; scaled through /scale to 2.
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}});
    let _: Deployment = ctx.client.strategic_patch(&format!("{deployments}/web"), &patch).await.unwrap();
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
                       "metadata": {"name": "web", "namespace": "default"}, "spec": {"replicas": 2}});
    let _: Value = ctx.client.replace(&format!("{deployments}/web/scale"), &scale).await.unwrap();
    eventually("revision 3 on the first ReplicaSet, 2 replicas", || {
        let d = ctx.deployments.get(&key)?;
        let first = ctx.replica_sets.get(&ObjectKey::new("root", "default", rs.metadata.name.as_deref()?))?;
        let annotations = first.metadata.annotations.as_ref()?;
        (kubeplex_controllers::deployment::rollout_complete(&d)
            && d.spec.as_ref()?.replicas == Some(2)
            && first.spec.as_ref()?.replicas == Some(2)
            && annotations.get("deployment.kubernetes.io/revision")? == "3"
            && annotations.get("deployment.kubernetes.io/revision-history")? == "1"
            && ctx.replica_sets.controlled_by(&uid).len() == 2)
            .then_some(())
    })
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_its_completions() {
    let (ctx, dir) = start(false).await;
    let jobs = collection("root", "batch/v1", Some("default"), "jobs");
    let pods_path = collection("root", "v1", Some("default"), "pods");
    let j: Job = serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {
            "completions": 2,
            "template": {"spec": {"restartPolicy": "Never", "automountServiceAccountToken": false,
                                  "containers": [{"name": "pi", "image": "perl:5"}]}}
        }
    }))
    .unwrap();
    let j = ctx.client.create(&jobs, &j).await.unwrap();
    let uid = j.metadata.uid.clone().unwrap();
    let key = ObjectKey::new("root", "default", "pi");

    for round in 1..=2 {
        // One pod at a time (parallelism 1), with the tracking finalizer.
        let pod = eventually("an active Job pod", || {
            pods_of(&ctx, &uid)
                .into_iter()
                .find(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Succeeded"))
        })
        .await;
        assert!(pod.metadata.finalizers.iter().flatten().any(|f| f == "batch.kubernetes.io/job-tracking"));
        assert_eq!(pod.metadata.labels.as_ref().and_then(|l| l.get("job-name")).map(String::as_str), Some("pi"));
        let name = pod.metadata.name.clone().unwrap();
        let mut done = (*pod).clone();
        let status = done.status.get_or_insert_with(Default::default);
        status.phase = Some("Succeeded".into());
        let _: Pod = ctx.client.replace(&format!("{pods_path}/{name}/status"), &done).await.unwrap();
        eventually("the success counted", || {
            let j = ctx.jobs.get(&key)?;
            (j.status.as_ref()?.succeeded? == round).then_some(())
        })
        .await;
        // Counted, the finalizer is gone.
        eventually("the finalizer removed", || {
            let p = ctx.pods.get(&ObjectKey::new("root", "default", &name))?;
            (!p.metadata.finalizers.iter().flatten().any(|f| f == "batch.kubernetes.io/job-tracking")).then_some(())
        })
        .await;
    }
    let done = eventually("the Job complete", || {
        let j = ctx.jobs.get(&key)?;
        let conds = j.status.as_ref()?.conditions.clone()?;
        conds.iter().any(|c| c.type_ == "Complete" && c.status == "True").then_some(j)
    })
    .await;
    let status = done.status.clone().unwrap();
    assert_eq!(status.succeeded, Some(2));
    assert!(status.completion_time.is_some());
    assert_eq!(pods_of(&ctx, &uid).len(), 2, "no extra pods");
    let _ = std::fs::remove_dir_all(dir);
}

/// A finished Job with `ttlSecondsAfterFinished` is deleted that long after
/// it finished, its pods with it (foreground); one without a TTL stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_job_goes_after_its_ttl() {
    let (ctx, dir) = start(true).await;
    let jobs = collection("root", "batch/v1", Some("default"), "jobs");
    let job = |name: &str, ttl: Option<i32>| -> Job {
        let mut j = json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "automountServiceAccountToken": false,
                                           "containers": [{"name": "c", "image": "busybox"}]}}}
        });
        if let Some(ttl) = ttl {
            j["spec"]["ttlSecondsAfterFinished"] = ttl.into();
        }
        serde_json::from_value(j).unwrap()
    };
    let short: Job = ctx.client.create(&jobs, &job("short", Some(1))).await.unwrap();
    let _: Job = ctx.client.create(&jobs, &job("kept", None)).await.unwrap();
    let short_uid = short.metadata.uid.clone().unwrap();
    let finished = |name: &str| {
        let j = ctx.jobs.get(&ObjectKey::new("root", "default", name))?;
        let conds = j.status.as_ref()?.conditions.clone()?;
        conds.iter().any(|c| c.type_ == "Complete" && c.status == "True").then_some(())
    };
    eventually("the kept Job complete", || finished("kept")).await;
    eventually("the short Job and its pod deleted", || {
        let gone = ctx.jobs.get(&ObjectKey::new("root", "default", "short")).is_none();
        (gone && pods_of(&ctx, &short_uid).is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(finished("kept").is_some(), "a Job without a TTL stays");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_set_adopts_orphans_and_releases_strays() {
    let (ctx, dir) = start(false).await;
    let pods_path = collection("root", "v1", Some("default"), "pods");
    let rss = collection("root", "apps/v1", Some("default"), "replicasets");
    let bare: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "stray", "namespace": "default", "labels": {"app": "db"}},
        "spec": {"automountServiceAccountToken": false, "containers": [{"name": "db", "image": "postgres:17"}]}
    }))
    .unwrap();
    ctx.client.create(&pods_path, &bare).await.unwrap();
    let rs: k8s_openapi::api::apps::v1::ReplicaSet = serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                         "spec": {"automountServiceAccountToken": false,
                                  "containers": [{"name": "db", "image": "postgres:17"}]}}
        }
    }))
    .unwrap();
    let rs = ctx.client.create(&rss, &rs).await.unwrap();
    let uid = rs.metadata.uid.clone().unwrap();
    // The orphan is adopted and one more pod made: 2 in all.
    eventually("2 pods, the stray adopted", || {
        let pods = pods_of(&ctx, &uid);
        (pods.len() == 2 && pods.iter().any(|p| p.metadata.name.as_deref() == Some("stray"))).then_some(())
    })
    .await;
    let key = ObjectKey::new("root", "default", "db");
    eventually("status replicas 2", || (ctx.replica_sets.get(&key)?.status.as_ref()?.replicas == 2).then_some(()))
        .await;
    // A relabelled pod is released and replaced.
    let _: Pod = ctx
        .client
        .merge_patch(&format!("{pods_path}/stray"), &json!({"metadata": {"labels": {"app": "other"}}}))
        .await
        .unwrap();
    eventually("the stray released and replaced", || {
        let pods = pods_of(&ctx, &uid);
        let stray = ctx.pods.get(&ObjectKey::new("root", "default", "stray"))?;
        (pods.len() == 2 && stray.metadata.owner_references.as_ref().is_none_or(Vec::is_empty)).then_some(())
    })
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_job_frees_its_pods_of_the_finalizer() {
    let (ctx, dir) = start(false).await;
    let jobs = collection("root", "batch/v1", Some("default"), "jobs");
    let j: Job = serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": {"parallelism": 2, "completions": 2,
                 "template": {"spec": {"restartPolicy": "Never", "automountServiceAccountToken": false,
                                       "containers": [{"name": "w", "image": "busybox"}]}}}
    }))
    .unwrap();
    let j = ctx.client.create(&jobs, &j).await.unwrap();
    let uid = j.metadata.uid.clone().unwrap();
    let names: Vec<String> = eventually("2 pods", || {
        let pods = pods_of(&ctx, &uid);
        (pods.len() == 2).then(|| pods.iter().filter_map(|p| p.metadata.name.clone()).collect())
    })
    .await;
    ctx.client.delete(&format!("{jobs}/w"), &json!({"propagationPolicy": "Orphan"})).await.unwrap();
    eventually("finalizers gone", || {
        names
            .iter()
            .all(|name| {
                ctx.pods.get(&ObjectKey::new("root", "default", name)).is_some_and(|p| {
                    !p.metadata.finalizers.iter().flatten().any(|f| f == "batch.kubernetes.io/job-tracking")
                })
            })
            .then_some(())
    })
    .await;
    let _ = std::fs::remove_dir_all(dir);
}

/// A rough load check (not run by default): 10 Deployments of 100 replicas
/// get their 1,000 pods; prints how long it took.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load check; run with --ignored --nocapture"]
async fn a_thousand_pods_from_ten_deployments() {
    let (ctx, dir) = start(false).await;
    let deployments = collection("root", "apps/v1", Some("default"), "deployments");
    let started = std::time::Instant::now();
    for i in 0..10 {
        let d: Deployment = serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("d{i}"), "namespace": "default"},
            "spec": {"replicas": 100, "selector": {"matchLabels": {"app": format!("d{i}")}},
                     "template": {"metadata": {"labels": {"app": format!("d{i}")}},
                                  "spec": {"automountServiceAccountToken": false,
                                           "containers": [{"name": "app", "image": "nginx"}]}}}
        }))
        .unwrap();
        ctx.client.create(&deployments, &d).await.unwrap();
    }
    for _ in 0..1200 {
        if ctx.pods.len() >= 1000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("{} pods after {:?}", ctx.pods.len(), started.elapsed());
    assert_eq!(ctx.pods.len(), 1000);
    let _ = std::fs::remove_dir_all(dir);
}
