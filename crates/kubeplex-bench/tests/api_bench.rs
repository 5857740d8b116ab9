//! Runs every API workload with tiny parameters against the API server
//! started as a child process (the crate's own binary, `serve`), checking
//! that nothing fails, that the server is gone afterwards and that the
//! report has every row and ends with the per-cluster memory line. Timings
//! are not checked: this runs in the dev profile on a shared machine.

use std::path::PathBuf;
use std::time::Duration;

use kubeplex_bench::api::workloads::{ApiParams, ApiWorkload};
use kubeplex_bench::api::{ApiBenchConfig, run_api_bench};

fn tiny() -> ApiParams {
    ApiParams {
        duration: Duration::from_millis(300),
        clients: 2,
        value_size: 128,
        list_objects: 50,
        page_size: 20,
        watchers: 5,
        watch_rate: 50,
        watch_duration: Duration::from_millis(400),
        watch_writers: 2,
        watch_streams_per_connection: 1,
        clusters: 20,
        crds: 3,
        settle: Duration::from_millis(100),
        drain_timeout: Duration::from_secs(10),
        op_timeout: Duration::from_secs(10),
    }
}

fn config(params: ApiParams) -> ApiBenchConfig {
    ApiBenchConfig { params, ..ApiBenchConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_kubeplex-bench"))) }
}

async fn check(params: ApiParams) {
    let report = run_api_bench(&config(params.clone()), &|_line: &str| {}).await.expect("benchmark runs");
    let text = report.render();
    println!("{text}");
    for workload in ApiWorkload::ALL {
        let result = report.result(workload).unwrap_or_else(|| panic!("no {workload} row:\n{text}"));
        assert_eq!(result.errors, 0, "{workload}: {:?}\n{text}", result.first_error);
        assert!(result.ops > 0, "{workload} did nothing:\n{text}");
        assert!(result.latency.count() > 0, "{workload} has no latencies:\n{text}");
        assert!(result.ops_per_sec() > 0.0, "{workload}:\n{text}");
        let label = workload.label(&params);
        assert!(
            text.lines().any(|line| line.strip_prefix(label.as_str()).is_some_and(|rest| rest.starts_with("  "))),
            "no row for {label:?} in:\n{text}"
        );
    }
    assert_eq!(report.total_errors(), 0);
    // 5 watchers × 20 changes (400 ms at 50/s), all delivered.
    let watch = report.result(ApiWorkload::Watch).expect("watch row");
    assert_eq!(watch.ops, 5 * 20, "watch deliveries:\n{text}");
    let clusters = report.result(ApiWorkload::LogicalClusters).expect("clusters row");
    assert_eq!(clusters.ops, 20, "{text}");
    assert_eq!(report.memory.clusters_created, 20);
    let crds = report.result(ApiWorkload::CrdServed).expect("crd-served row");
    assert_eq!(crds.ops, 3, "{text}");
    for line in ["  CRD served <= 100 ms: p99 ", "  custom object creates >= 80% of ConfigMap creates: ratio "] {
        assert!(text.lines().any(|l| l.starts_with(line)), "no {line:?} in:\n{text}");
    }
    assert!(text.contains("  custom object gets >= 80% of ConfigMap gets: ratio "), "{text}");
    assert!(report.memory.idle.is_some_and(|rss| rss.total > 0), "{text}");

    // The server was killed and reaped.
    let pid = report.memory.pid;
    assert!(pid > 0);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "server {pid} still runs");

    assert!(text.contains("targets (measured, not asserted):"), "{text}");
    assert!(text.contains("server resident memory (VmRSS of pid"), "{text}");
    assert!(!text.contains("first error"), "{text}");
    let last = text.lines().last().expect("output");
    let value = last.strip_prefix("KiB per idle logical cluster: ").unwrap_or_else(|| panic!("last line {last:?}"));
    let (whole, decimal) = value.trim_start_matches('-').split_once('.').unwrap_or_else(|| panic!("{value:?}"));
    assert!(!whole.is_empty() && whole.chars().all(|c| c.is_ascii_digit()), "{value:?}");
    assert!(decimal.len() == 1 && decimal.chars().all(|c| c.is_ascii_digit()), "{value:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_over_http1() {
    check(tiny()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_multiplexed_over_http2() {
    // 5 watchers on 2 HTTP/2 connections (3 + 2 streams).
    check(ApiParams { watch_streams_per_connection: 3, ..tiny() }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_start_is_an_error() {
    let config = ApiBenchConfig {
        start_timeout: Duration::from_secs(5),
        ..ApiBenchConfig::new(PathBuf::from("/nonexistent/kubeplex-bench"))
    };
    let error = run_api_bench(&config, &|_line: &str| {}).await.expect_err("no server");
    assert!(format!("{error:#}").contains("starting /nonexistent/kubeplex-bench serve"), "{error:#}");
}
