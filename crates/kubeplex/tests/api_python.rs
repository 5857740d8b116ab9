//! The Python `kubernetes` client (PyPI, installed by `scripts/test` into a
//! virtualenv named by `$KUBEPLEX_PYTHON`) against the real server: the
//! checks are in `tests/python/client_test.py`.

use std::process::Command;

use kubeplex_testing::KubeplexServer;

#[test]
fn python_client_crud_conflicts_patches_watch_and_paging() {
    let python = std::env::var("KUBEPLEX_PYTHON")
        .expect("$KUBEPLEX_PYTHON is not set: run the tests with scripts/test, which installs the Python client");
    let server = KubeplexServer::start(env!("CARGO_BIN_EXE_kubeplex")).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_test.py");
    let out = Command::new(python).arg(script).arg(server.kubeconfig()).output().expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "python client checks failed:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
}
