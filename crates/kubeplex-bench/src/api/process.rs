//! The API server under test as a child process, so that its memory and CPU
//! time are its own: the benchmark binary re-executes itself with the hidden
//! `serve` subcommand, which runs `kubeplex_apiserver::server::run`.
//!
//! ```text
//!   bench ── spawn EXE serve --data-dir D --listen 127.0.0.1:0 (stdin piped)
//!     │        └─ server::run ─ on_ready: write D/bench-server.url
//!     ├─ wait for D/admin.kubeconfig and D/bench-server.url (child still alive)
//!     ├─ rss(): /proc/PID/status VmRSS, RssAnon, RssFile, RssShmem · cpu_seconds(): /proc/PID/stat
//!     └─ drop: SIGKILL the PID, reap it (also on errors and Ctrl-C)
//!
//!   FreshServer::start ─ temporary directory ─► ServerProcess in DIR/data; drop: kill, then remove DIR
//! ```
//!
//! The child also stops when its stdin closes, so it never outlives the
//! benchmark even when that is killed outright.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use kubeplex_apiserver::server::{ServerConfig, run};
use kubeplex_store::{StoreOptions, StoreSpec};
use tokio::io::AsyncReadExt as _;

/// The file the child writes its serving URL to once it is ready.
pub const URL_FILE: &str = "bench-server.url";
/// The administrator kubeconfig the server writes.
pub const KUBECONFIG_FILE: &str = "admin.kubeconfig";
/// Clock ticks per second in `/proc/PID/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// A running API server child process; killed when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    url: String,
}

impl ServerProcess {
    /// Starts `exe serve --data-dir DATA_DIR --listen 127.0.0.1:0 ARGS…` and
    /// waits (up to `timeout`) until it has written its kubeconfig and URL.
    pub async fn start(
        exe: &Path,
        data_dir: &Path,
        args: &[String],
        timeout: Duration,
    ) -> anyhow::Result<ServerProcess> {
        let child = Command::new(exe)
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {} serve", exe.display()))?;
        // From here on, dropping `server` kills the child.
        let mut server = ServerProcess { child, addr: SocketAddr::from(([127, 0, 0, 1], 0)), url: String::new() };
        let deadline = Instant::now() + timeout;
        let url_file = data_dir.join(URL_FILE);
        let kubeconfig = data_dir.join(KUBECONFIG_FILE);
        loop {
            if let Some(status) = server.child.try_wait().context("checking on the server")? {
                bail!("the server exited before it was ready ({status})");
            }
            if kubeconfig.is_file()
                && let Ok(url) = std::fs::read_to_string(&url_file)
                && let Some(addr) = addr_of_url(url.trim())
            {
                server.url = url.trim().to_string();
                server.addr = addr;
                break;
            }
            if Instant::now() >= deadline {
                bail!("the server was not ready after {timeout:?} (no {} yet)", url_file.display());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The port is bound before the URL is written; check it answers.
        while tokio::net::TcpStream::connect(server.addr).await.is_err() {
            if Instant::now() >= deadline {
                bail!("the server does not accept connections on {}", server.addr);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(server)
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its URL (`https://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its resident memory (VmRSS and its parts).
    pub fn rss(&self) -> anyhow::Result<Rss> {
        let path = format!("/proc/{}/status", self.pid());
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        Rss::from_status(&text).with_context(|| format!("no VmRSS in {path}"))
    }

    /// The CPU time (user + system) it has used so far, in seconds.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds_of(&format!("/proc/{}/stat", self.pid()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // SIGKILL by PID, then reap, so no zombie is left behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server started in a temporary data directory of its own: the server
/// is killed, then the directory removed, when this is dropped.
#[derive(Debug)]
pub struct FreshServer {
    // Declared before `temp`: fields drop in order, so the server is gone
    // before its directory is removed.
    pub server: ServerProcess,
    data_dir: PathBuf,
    temp: tempfile::TempDir,
}

impl FreshServer {
    /// Makes a temporary directory `PREFIX…` (in `temp_parent`, default the
    /// system's) and starts the server with its data in `DIR/data` and the
    /// further `args` of `serve`.
    pub async fn start(
        exe: &Path,
        temp_parent: Option<&Path>,
        prefix: &str,
        args: &[String],
        timeout: Duration,
    ) -> anyhow::Result<FreshServer> {
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        let temp = match temp_parent {
            Some(parent) => {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
                builder.tempdir_in(parent)
            }
            None => builder.tempdir(),
        }
        .context("creating the server's data directory")?;
        let data_dir = temp.path().join("data");
        let server = ServerProcess::start(exe, &data_dir, args, timeout).await?;
        Ok(FreshServer { server, data_dir, temp })
    }

    /// The server's data directory (`pki/`, `admin.kubeconfig`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The temporary directory holding the data directory, for the
    /// benchmark's own files.
    pub fn temp_dir(&self) -> &Path {
        self.temp.path()
    }
}

/// The CPU time (user + system) of this process so far, in seconds.
pub fn own_cpu_seconds() -> anyhow::Result<f64> {
    cpu_seconds_of("/proc/self/stat")
}

/// The CPU time (user + system) of this process's children that ended and
/// were waited for (cutime + cstime of `/proc/self/stat`), in seconds.
pub fn children_cpu_seconds() -> anyhow::Result<f64> {
    let path = "/proc/self/stat";
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let ticks = stat_children_cpu_ticks(&text).with_context(|| format!("no children's CPU times in {path}"))?;
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

fn cpu_seconds_of(path: &str) -> anyhow::Result<f64> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let ticks = stat_cpu_ticks(&text).with_context(|| format!("no CPU times in {path}"))?;
    Ok(ticks as f64 / TICKS_PER_SECOND)
}

/// Resident memory of a process, in KiB, from `/proc/PID/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rss {
    /// `VmRSS`: everything resident.
    pub total: u64,
    /// `RssAnon`: heap and stacks.
    pub anon: u64,
    /// `RssFile`: mapped files (the binary, SQLite's memory-mapped database).
    pub file: u64,
    /// `RssShmem`: shared memory (SQLite's WAL index).
    pub shmem: u64,
}

impl Rss {
    /// The figures of a `/proc/PID/status` text (`None` without `VmRSS`;
    /// a missing part counts as 0).
    pub fn from_status(status: &str) -> Option<Rss> {
        let part = |name| status_field_kib(status, name).unwrap_or(0);
        Some(Rss {
            total: status_field_kib(status, "VmRSS")?,
            anon: part("RssAnon"),
            file: part("RssFile"),
            shmem: part("RssShmem"),
        })
    }
}

impl std::fmt::Display for Rss {
    /// `355.1 MiB (anon 120.0, file 230.0, shmem 5.1)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |kib: u64| kib as f64 / 1024.0;
        write!(
            f,
            "{:.1} MiB (anon {:.1}, file {:.1}, shmem {:.1})",
            mib(self.total),
            mib(self.anon),
            mib(self.file),
            mib(self.shmem)
        )
    }
}

/// A `Name:   1234 kB` field of `/proc/PID/status`, in KiB.
pub fn status_field_kib(status: &str, name: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(':')?;
        let mut words = rest.split_whitespace();
        let value = words.next()?.parse().ok()?;
        (words.next() == Some("kB")).then_some(value)
    })
}

/// utime + stime (fields 14 and 15) of a `/proc/PID/stat` line, in ticks.
/// The command name (field 2) may hold spaces and parentheses, so fields
/// are counted from the last `)`.
pub fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// cutime + cstime (fields 16 and 17) of a `/proc/PID/stat` line, in ticks:
/// the CPU time of children that ended and were waited for.
pub fn stat_children_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let cutime: u64 = fields.get(13)?.parse().ok()?;
    let cstime: u64 = fields.get(14)?.parse().ok()?;
    Some(cutime + cstime)
}

/// `127.0.0.1:PORT` from `https://127.0.0.1:PORT`.
fn addr_of_url(url: &str) -> Option<SocketAddr> {
    url.strip_prefix("https://")?.trim_end_matches('/').parse().ok()
}

/// The hidden `serve` subcommand: runs the API server on the SQLite store in
/// `data_dir` until Ctrl-C, SIGTERM or the end of stdin; writes
/// `DATA_DIR/bench-server.url` once ready. With a nodes file it also runs
/// the controllers, the scheduler and those simulated nodes (as `kubeplex
/// server --nodes FILE`); without, the API alone.
pub async fn serve(data_dir: PathBuf, listen: SocketAddr, nodes: Option<PathBuf>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let nodes = match nodes {
        Some(path) => {
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            let config = kubeplex_nodesim::parse_nodes_file(&text).with_context(|| format!("{}", path.display()))?;
            Some(config)
        }
        None => None,
    };
    let url_file = data_dir.join(URL_FILE);
    let config = ServerConfig {
        data_dir,
        listen,
        store: StoreSpec::Sqlite,
        store_options: StoreOptions::default(),
        inflight: Default::default(),
    };
    let mut write_error = None;
    let components = async |api| match nodes {
        Some(nodes) => {
            let manager = kubeplex_manager::ManagerConfig { nodes: Some(nodes) };
            kubeplex_manager::start(api, manager).await.map(drop).map_err(|e| e.to_string())
        }
        None => Ok(()),
    };
    let result = run(config, stop_signal(), components, |url, _kubeconfig| {
        // Written aside and renamed, so the reader never sees half a URL.
        let partial = url_file.with_extension("partial");
        let written = std::fs::write(&partial, url).and_then(|()| std::fs::rename(&partial, &url_file));
        if let Err(e) = written {
            write_error = Some(format!("writing {}: {e}", url_file.display()));
        }
    })
    .await;
    result.context("the API server")?;
    if let Some(e) = write_error {
        bail!(e);
    }
    Ok(())
}

/// Completes on Ctrl-C, SIGTERM, or when stdin reaches its end (the
/// benchmark holding the other end went away).
async fn stop_signal() {
    let stdin_closed = async {
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 64];
        loop {
            match stdin.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
        () = stdin_closed => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tkubeplex-bench\nVmPeak:\t  100 kB\nVmRSS:\t   23456 kB\nRssAnon:\t 1 kB\n";
        assert_eq!(status_field_kib(status, "VmRSS"), Some(23456));
        assert_eq!(status_field_kib(status, "RssAnon"), Some(1));
        assert_eq!(status_field_kib(status, "VmSwap"), None);
        assert_eq!(status_field_kib("VmRSS: lots", "VmRSS"), None);
        let rss = Rss::from_status(status).expect("VmRSS");
        assert_eq!(rss, Rss { total: 23456, anon: 1, file: 0, shmem: 0 });
        assert_eq!(rss.to_string(), "22.9 MiB (anon 0.0, file 0.0, shmem 0.0)");
        assert_eq!(Rss::from_status("RssAnon:\t 1 kB\n"), None);
    }

    #[test]
    fn reads_cpu_ticks() {
        // Field 2 with a space and a parenthesis; utime 1234, stime 56, cutime 7, cstime 13.
        let stat = "4242 (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 7 13 20 0 3 0 99 1000 200";
        assert_eq!(stat_cpu_ticks(stat), Some(1290));
        assert_eq!(stat_children_cpu_ticks(stat), Some(20));
        assert_eq!(stat_cpu_ticks("4242 (short) S 1"), None);
        assert_eq!(stat_children_cpu_ticks("4242 (short) S 1"), None);
        let own = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
        assert!(stat_cpu_ticks(&own).is_some(), "{own}");
    }

    #[test]
    fn urls() {
        assert_eq!(addr_of_url("https://127.0.0.1:6443"), Some(SocketAddr::from(([127, 0, 0, 1], 6443))));
        assert_eq!(addr_of_url("https://127.0.0.1:6443/"), Some(SocketAddr::from(([127, 0, 0, 1], 6443))));
        assert_eq!(addr_of_url("http://127.0.0.1:6443"), None);
    }
}
