//! Runs the apply benchmark with tiny sizes (20 objects) against servers
//! started as child processes (the crate's own binary, `serve`) and real
//! kubectl ($KUBECTL_1_37, else the machine's `kubectl`), checking only that
//! every step ran without errors (server-side apply included, 6 Deployments),
//! that the servers are gone afterwards and that the report has its rows and
//! target lines. Timings are not checked.

use std::path::PathBuf;
use std::time::Duration;

use kubeplex_bench::apply::ssa::{SsaParams, SsaStep, TARGET_LINE_START};
use kubeplex_bench::apply::{ApplyBenchConfig, ApplyParams, ApplyStep, kubectl_from_env, run_apply_bench};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applies_a_small_directory() {
    let params = ApplyParams {
        objects: 20,
        namespaces: 2,
        openapi_requests: 20,
        settle: Duration::from_millis(100),
        op_timeout: Duration::from_secs(30),
        kubectl_timeout: Duration::from_secs(120),
        ssa: SsaParams { deployments: 6, rounds: 2, concurrency: 4 },
    };
    let config = ApplyBenchConfig {
        params,
        ..ApplyBenchConfig::new(PathBuf::from(env!("CARGO_BIN_EXE_kubeplex-bench")), kubectl_from_env())
    };
    let report = run_apply_bench(&config, &|_line: &str| {}).await.expect("benchmark runs");
    let text = report.render();
    println!("{text}");
    assert_eq!(report.total_errors(), 0, "{text}");
    for which in ApplyStep::ALL {
        let step = report.step(which).unwrap_or_else(|| panic!("no {which:?} step:\n{text}"));
        assert_eq!(step.result.ops, 20, "{which:?}:\n{text}");
        assert!(text.contains(&which.label(20)), "no row for {which:?}:\n{text}");
    }
    assert!(report.openapi_load.documents > 10, "{text}");
    let latency = report.openapi_latency.result.as_ref().expect("OpenAPI latency measured");
    assert_eq!(latency.ops, 20, "{text}");
    assert!(report.openapi_latency.url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{text}");
    assert!(report.memory.idle.is_some() && report.memory.loaded.is_some(), "{text}");
    for start in ["  OpenAPI document from cache <= 1.00 ms: p99 ", "  idle memory with OpenAPI loaded <= 50.0 MiB: "] {
        assert!(text.lines().any(|l| l.starts_with(start)), "no {start:?} in:\n{text}");
    }
    let ssa = report.ssa.as_ref().expect("the server-side apply part ran");
    for which in SsaStep::ALL {
        let step = ssa.step(which).unwrap_or_else(|| panic!("no {which:?} step:\n{text}"));
        let rounds = if which == SsaStep::Create { 1 } else { 2 };
        assert_eq!(step.result.ops, 6 * rounds, "{which:?}:\n{text}");
        assert!(text.contains(&which.label(&ssa.params)), "no row for {which:?}:\n{text}");
        // Every request of a changing step writes. (Re-applying the same
        // configuration should write nothing; its write count is reported,
        // not checked here.)
        if which != SsaStep::Unchanged {
            let writes = 6 * rounds;
            assert!(step.result.detail.contains(&format!(", {writes} writes")), "{which:?}:\n{text}");
        }
    }
    let target = format!("  {TARGET_LINE_START}");
    assert_eq!(text.lines().filter(|l| l.starts_with(&target)).count(), 1, "{text}");
    assert!(
        text.lines().any(|l| l.starts_with(&target) && l.ends_with(" µs server cpu per request (target ≤ 500 µs)"))
    );
    assert!(!text.contains("first error"), "{text}");
    assert!(text.lines().last().is_some_and(|l| l.starts_with("kubectl/API create wall-time ratio: ")), "{text}");
    let pid = report.memory.pid;
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "server {pid} still runs");
}
