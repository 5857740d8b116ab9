//! `kubeplex store …` driven as a user would: the real binary, real files,
//! a real etcd.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kubeplex_testing::EtcdServer;

fn kubeplex(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubeplex"))
        .arg("store")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("KUBEPLEX_STORE")
        .output()
        .expect("run kubeplex")
}

fn ok(data_dir: &Path, args: &[&str]) -> String {
    let out = kubeplex(data_dir, args);
    assert!(out.status.success(), "kubeplex {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn fails(data_dir: &Path, args: &[&str]) -> String {
    let out = kubeplex(data_dir, args);
    assert!(!out.status.success(), "kubeplex {args:?} should have failed");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn writes_survive_between_processes_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(ok(d, &["put", "/demo/a", "hello world"]), "1\n");
    assert_eq!(ok(d, &["put", "/demo/b", "two"]), "2\n");
    assert_eq!(ok(d, &["put", "/demo/a", "again"]), "3\n");
    assert_eq!(ok(d, &["get", "/demo/a"]), "again\n");
    assert_eq!(ok(d, &["get", "/demo/a", "--revision", "2"]), "hello world\n");
    assert_eq!(ok(d, &["list", "/demo/"]), "/demo/a\t3\tagain\n/demo/b\t2\ttwo\n");
    assert_eq!(ok(d, &["list", "/demo/", "--limit", "1"]), "/demo/a\t3\tagain\n# 1 more at revision 3\n");
    assert_eq!(ok(d, &["delete", "/demo/b"]), "4\n");
    assert!(fails(d, &["get", "/demo/b"]).contains("key \"/demo/b\" not found"));
    assert_eq!(ok(d, &["compact", "3"]), "compacted to 3\n");
    let status = ok(d, &["status"]);
    assert!(status.contains("backend: sqlite\n"), "{status}");
    assert!(status.contains("store.db"), "{status}");
    assert!(status.contains("revision: 4\ncompacted: 3\n"), "{status}");
    let err = fails(d, &["get", "/demo/a", "--revision", "1"]);
    assert!(err.contains("revision 1 has been compacted"), "{err}");
}

#[test]
fn watch_prints_history_and_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &["put", "/w/x", "1"]);
    ok(d, &["put", "/other/y", "2"]);
    ok(d, &["delete", "/w/x"]);

    let mut watch = Command::new(env!("CARGO_BIN_EXE_kubeplex"))
        .args(["store", "--data-dir"])
        .arg(d)
        .args(["watch", "/w/", "--after", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "PUT\t1\t/w/x\t1");
    assert_eq!(lines.next().unwrap().unwrap(), "DELETE\t3\t/w/x");

    // While the watcher has the store open, another process is refused.
    let err = fails(d, &["get", "/w/x"]);
    assert!(err.contains("is locked by another process"), "{err}");
    assert!(err.contains("store.db"), "{err}");
    watch.kill().unwrap();
    watch.wait().unwrap();
    ok(d, &["status"]);
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(fails(d, &["get", "nokey"]).contains("must start with '/'"));
    assert!(fails(d, &["list", "/no-slash"]).contains("a prefix must end with '/'"));
    assert!(fails(d, &["--store", "mysql://x", "status"]).contains("expected `sqlite` or `etcd://HOST:PORT"));
    std::fs::write(d.join("store.db"), vec![7u8; 4096]).unwrap();
    let err = fails(d, &["status"]);
    assert!(err.contains("is corrupt or not a kubeplex database"), "{err}");
}

#[test]
fn the_same_commands_work_on_etcd() {
    let etcd = EtcdServer::start().expect("start etcd (install Debian's etcd-server)");
    let spec = format!("etcd://{}", etcd.endpoint().trim_start_matches("http://"));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let rev: i64 = ok(d, &["--store", &spec, "put", "/demo/a", "on etcd"]).trim().parse().unwrap();
    assert_eq!(ok(d, &["--store", &spec, "get", "/demo/a"]), "on etcd\n");
    assert_eq!(ok(d, &["--store", &spec, "list", "/demo/"]), format!("/demo/a\t{rev}\ton etcd\n"));
    let status = ok(d, &["--store", &spec, "status"]);
    assert!(status.contains("backend: etcd\n"), "{status}");
    assert!(!d.join("store.db").exists(), "etcd must not create a SQLite file");
}

#[test]
fn an_unreachable_etcd_is_named_in_the_error() {
    let port = kubeplex_testing::free_port().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let err = fails(dir.path(), &["--store", &format!("etcd://127.0.0.1:{port}"), "status"]);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60), "gave up only after {:?}", started.elapsed());
}
