//! Runs every store workload with tiny parameters against SQLite and against
//! a real etcd started on loopback, checking that nothing fails and that the
//! report has every row and ends with the ratio line. Timings are not
//! checked: this runs in the dev profile on a shared machine.

use std::time::Duration;

use kubeplex_bench::workloads::{Workload, WorkloadParams};
use kubeplex_bench::{Backend, Report, StoreBenchConfig, run_store_bench};

fn tiny() -> WorkloadParams {
    WorkloadParams {
        duration: Duration::from_millis(200),
        writers: 8,
        readers: 2,
        value_size: 1024,
        range_keys: 300,
        watchers: 5,
        watch_rate: 200,
        watch_duration: Duration::from_millis(500),
        watch_writers: 4,
        drain_timeout: Duration::from_secs(10),
        op_timeout: Duration::from_secs(10),
    }
}

async fn run(backends: Vec<Backend>) -> Report {
    let config = StoreBenchConfig { backends, params: tiny(), ..StoreBenchConfig::default() };
    run_store_bench(&config, &|_line: &str| {}).await.expect("benchmark runs")
}

/// Every workload ran on `backend`, did something and failed nothing.
fn check_backend(report: &Report, backend: Backend) {
    let text = report.render();
    for workload in Workload::ALL {
        let result =
            report.result(workload, backend).unwrap_or_else(|| panic!("no {workload} row for {backend}:\n{text}"));
        assert_eq!(result.errors, 0, "{workload} on {backend}: {:?}\n{text}", result.first_error);
        assert!(result.ops > 0, "{workload} on {backend} did nothing:\n{text}");
        assert!(result.latency.count() > 0, "{workload} on {backend} has no latencies:\n{text}");
        assert!(result.ops_per_sec() > 0.0, "{workload} on {backend}:\n{text}");
        let label = workload.label(&report.params);
        let has_row = text.lines().any(|line| {
            line.strip_prefix(label.as_str())
                .is_some_and(|rest| rest.starts_with("  ") && rest.trim_start().starts_with(backend.name()))
        });
        assert!(has_row, "no row for {label:?} on {backend} in:\n{text}");
    }
    // 5 watchers × 100 events, all delivered.
    let watch = report.result(Workload::Watch, backend).expect("watch row");
    assert_eq!(watch.ops, 5 * 100, "watch deliveries on {backend}:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_on_sqlite() {
    let report = run(vec![Backend::Sqlite]).await;
    check_backend(&report, Backend::Sqlite);
    assert_eq!(report.ratio_line(), "sqlite/etcd concurrent-write throughput ratio: n/a");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_on_both_backends() {
    let report = run(vec![Backend::Sqlite, Backend::Etcd]).await;
    check_backend(&report, Backend::Sqlite);
    check_backend(&report, Backend::Etcd);
    assert_eq!(report.total_errors(), 0);
    let text = report.render();
    println!("{text}");
    let last = text.lines().last().expect("output");
    let ratio = last
        .strip_prefix("sqlite/etcd concurrent-write throughput ratio: ")
        .unwrap_or_else(|| panic!("last line {last:?}"));
    let (whole, decimals) = ratio.split_once('.').unwrap_or_else(|| panic!("ratio {ratio:?}"));
    assert!(!whole.is_empty() && whole.chars().all(|c| c.is_ascii_digit()), "ratio {ratio:?}");
    assert!(decimals.len() == 2 && decimals.chars().all(|c| c.is_ascii_digit()), "ratio {ratio:?}");
    assert!(text.contains("targets (measured, not asserted):"), "{text}");
    assert!(!text.contains("first error"), "{text}");
}
