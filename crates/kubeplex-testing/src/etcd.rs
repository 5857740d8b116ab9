//! A real etcd server (Debian's `etcd-server`) on loopback, with its own data
//! directory, durable defaults, and a request limit large enough for a
//! 1.5 MiB value plus its key.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::free_port;

/// A running etcd, killed (by PID) and its data removed on drop.
#[derive(Debug)]
pub struct EtcdServer {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl EtcdServer {
    /// Starts `etcd` from `$ETCD_BIN` or the `PATH` and waits until it
    /// accepts client connections.
    pub fn start() -> anyhow::Result<Self> {
        let bin = std::env::var_os("ETCD_BIN").map(PathBuf::from).unwrap_or_else(|| "etcd".into());
        let mut last_err = None;
        // A free port can be taken between probing and binding: retry.
        for _ in 0..5 {
            let dir = tempfile::Builder::new().prefix("kubeplex-etcd-").tempdir()?;
            let (client, peer) = (free_port()?, free_port()?);
            let endpoint = format!("http://127.0.0.1:{client}");
            let peer_url = format!("http://127.0.0.1:{peer}");
            let log = std::fs::File::create(dir.path().join("etcd.log"))?;
            let child = Command::new(&bin)
                .arg("--name=kubeplex-test")
                .arg(format!("--data-dir={}", dir.path().join("data").display()))
                .arg(format!("--listen-client-urls={endpoint}"))
                .arg(format!("--advertise-client-urls={endpoint}"))
                .arg(format!("--listen-peer-urls={peer_url}"))
                .arg(format!("--initial-advertise-peer-urls={peer_url}"))
                .arg(format!("--initial-cluster=kubeplex-test={peer_url}"))
                .arg("--max-request-bytes=2097152")
                .arg("--logger=zap")
                .arg("--log-outputs=stderr")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting {} (install Debian's etcd-server)", bin.display()))?;
            let mut server = EtcdServer { child, endpoint, _dir: dir };
            match server.wait_ready(client, Duration::from_secs(20)) {
                Ok(()) => return Ok(server),
                Err(e) => {
                    last_err = Some(e);
                    drop(server);
                }
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("etcd did not start")))
    }

    /// The client URL, e.g. `http://127.0.0.1:23790`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn wait_ready(&mut self, port: u16, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(self._dir.path().join("etcd.log")).unwrap_or_default();
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join("\n");
                bail!("etcd exited with {status} before becoming ready:\n{tail}");
            }
            // etcd accepts connections only once it has a leader and serves.
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("etcd did not accept connections on port {port} within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
