//! Runs the cluster benchmark with tiny sizes against the server started as
//! a child process (the crate's own binary, `serve --nodes FILE`): every
//! pod must be created, scheduled and Running, none deleted, and the report
//! must end with the pods-per-second line. Timings are not checked.

use std::path::PathBuf;
use std::time::Duration;

use kubeplex_bench::cluster::{ClusterBenchConfig, ClusterParams, run_cluster_bench};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pod_runs() {
    let params = ClusterParams {
        nodes: 4,
        deployments: 3,
        replicas: 5,
        namespaces: 2,
        creators: 2,
        timeout: Duration::from_secs(120),
        op_timeout: Duration::from_secs(30),
    };
    let config = ClusterBenchConfig {
        params,
        ..ClusterBenchConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_kubeplex-bench")))
    };
    let report = run_cluster_bench(&config, &|_line: &str| {}).await.expect("benchmark runs");
    let text = report.render();
    println!("{text}");
    assert!(report.all_running(), "{text}");
    for span in [report.created, report.bound, report.running] {
        assert_eq!(span.map(|s| s.count), Some(15), "{text}");
    }
    assert_eq!(report.deleted, 0, "{text}");
    assert!(report.scheduled_per_second() > 0.0, "{text}");
    let last = text.lines().last().expect("a last line");
    let rate: f64 = last.strip_prefix("pods running per second: ").expect(last).parse().expect(last);
    assert!(rate > 0.0, "{text}");
}
