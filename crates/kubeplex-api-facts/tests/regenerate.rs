//! The committed data is exactly what the generator makes from the Go sources.
//!
//! Needs the git mirrors of kubernetes/api, apimachinery, apiextensions-apiserver and kube-aggregator
//! (directory from `KUBEPLEX_API_FACTS_MIRRORS`, default `/work/.mirror`), so it is ignored by
//! default: `cargo test -p kubeplex-api-facts --test regenerate -- --ignored`.

use std::path::PathBuf;
use std::process::Command;

#[test]
#[ignore = "needs git mirrors of the Kubernetes Go modules"]
fn committed_data_matches_the_generator() {
    let mirrors = PathBuf::from(std::env::var("KUBEPLEX_API_FACTS_MIRRORS").unwrap_or_else(|_| "/work/.mirror".into()));
    let source = |name: &str, tag: &str| format!("{}@{tag}", mirrors.join(name).join("repo").display());
    let output = Command::new(env!("CARGO_BIN_EXE_generate-api-facts"))
        .arg("--api")
        .arg(source("kubernetes+api", "v0.36.3"))
        .arg("--apimachinery")
        .arg(source("kubernetes+apimachinery", "v0.36.3"))
        .arg("--apiextensions")
        .arg(source("kubernetes+apiextensions-apiserver", "v0.36.3"))
        .arg("--kube-aggregator")
        .arg(source("kubernetes+kube-aggregator", "v0.36.2"))
        .args(["--kubernetes-version", "v1.36", "--check", "--out"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/data/api-facts-v1.36.json"))
        .output()
        .expect("run generate-api-facts");
    assert!(output.status.success(), "generate-api-facts --check failed:\n{}", String::from_utf8_lossy(&output.stderr));
}
