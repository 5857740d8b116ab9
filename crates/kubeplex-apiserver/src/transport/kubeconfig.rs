//! Kubeconfig files for clients of this server: `DATA_DIR/admin.kubeconfig` (the administrator
//! against `root`) and one per logical cluster (the same credentials, the server URL with
//! `/clusters/<name>` appended). Written as YAML by hand: every scalar is a double-quoted
//! string (JSON string syntax is valid YAML), so no YAML library is needed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::Result;
use super::pki::{ADMIN_USER, ClientCredentials, Pki, write_file};

/// File name of the administrator kubeconfig inside the data directory.
pub const ADMIN_KUBECONFIG_FILE: &str = "admin.kubeconfig";
/// Name of the cluster and the context in the administrator kubeconfig.
pub const ADMIN_CONTEXT: &str = "kubeplex";

/// One cluster, one user, one context (the current one).
#[derive(Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    /// Name of the cluster entry.
    pub cluster: String,
    /// Name of the context (also `current-context`).
    pub context: String,
    /// Name of the user entry.
    pub user: String,
    /// Server URL (`https://HOST:PORT[/clusters/NAME]`).
    pub server: String,
    /// CA certificate the client trusts, PEM.
    pub ca_pem: String,
    /// Client certificate and key.
    pub credentials: ClientCredentials,
}

impl std::fmt::Debug for Kubeconfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kubeconfig")
            .field("cluster", &self.cluster)
            .field("context", &self.context)
            .field("user", &self.user)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Kubeconfig {
    /// The administrator's kubeconfig for `server` (see [`server_url`]): cluster and context
    /// `kubeplex`, user `kubeplex-admin`.
    pub fn admin(pki: &Pki, server: &str) -> Self {
        Kubeconfig {
            cluster: ADMIN_CONTEXT.to_string(),
            context: ADMIN_CONTEXT.to_string(),
            user: ADMIN_USER.to_string(),
            server: server.trim_end_matches('/').to_string(),
            ca_pem: pki.ca_cert_pem().to_string(),
            credentials: pki.admin_credentials().clone(),
        }
    }

    /// The administrator's kubeconfig for the logical cluster `name`: server
    /// `SERVER/clusters/NAME`, cluster and context `kubeplex-NAME`, user `kubeplex-admin`.
    pub fn admin_for_logical_cluster(pki: &Pki, server: &str, name: &str) -> Self {
        let mut config = Self::admin(pki, server);
        config.server = format!("{}/clusters/{name}", config.server);
        config.cluster = format!("{ADMIN_CONTEXT}-{name}");
        config.context = config.cluster.clone();
        config
    }

    /// The kubeconfig as YAML.
    pub fn to_yaml(&self) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        let q = |s: &str| serde_json::Value::from(s).to_string();
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: {cluster}\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\n\
             users:\n\
             - name: {user}\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\n\
             contexts:\n\
             - name: {context}\n  context:\n    cluster: {cluster}\n    user: {user}\n\
             current-context: {context}\n\
             preferences: {{}}\n",
            cluster = q(&self.cluster),
            server = q(&self.server),
            ca = q(&b64(&self.ca_pem)),
            user = q(&self.user),
            cert = q(&b64(&self.credentials.cert_pem)),
            key = q(&b64(&self.credentials.key_pem)),
            context = q(&self.context),
        )
    }

    /// Writes the kubeconfig to `path` (atomically, mode 0600: it holds a private key).
    pub fn write(&self, path: &Path) -> Result<()> {
        write_file(path, self.to_yaml().as_bytes(), 0o600)
    }
}

/// The `https://` URL clients use for a server listening on `addr`; an unspecified address
/// (`0.0.0.0`, `::`) becomes the loopback address of its family.
pub fn server_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("https://{}", SocketAddr::new(ip, addr.port()))
}

/// Writes `DATA_DIR/admin.kubeconfig` for `server` and returns its path.
pub fn write_admin_kubeconfig(data_dir: &Path, pki: &Pki, server: &str) -> Result<PathBuf> {
    let path = data_dir.join(ADMIN_KUBECONFIG_FILE);
    Kubeconfig::admin(pki, server).write(&path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(yaml: &str) -> serde_json::Value {
        serde_saphyr::from_str(yaml).expect("valid YAML")
    }

    #[test]
    fn admin_kubeconfig_has_the_kubectl_shape() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("pki");
        let path = write_admin_kubeconfig(dir.path(), &pki, "https://127.0.0.1:6443").expect("write");
        assert_eq!(path, dir.path().join("admin.kubeconfig"));
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).expect("metadata").permissions().mode() & 0o777, 0o600);
        let v = value(&std::fs::read_to_string(&path).expect("read"));
        assert_eq!(v["current-context"], "kubeplex");
        assert_eq!(v["clusters"][0]["name"], "kubeplex");
        assert_eq!(v["clusters"][0]["cluster"]["server"], "https://127.0.0.1:6443");
        let ca = v["clusters"][0]["cluster"]["certificate-authority-data"].as_str().expect("ca");
        let ca = base64::engine::general_purpose::STANDARD.decode(ca).expect("base64");
        assert_eq!(ca, pki.ca_cert_pem().as_bytes());
        assert_eq!(v["users"][0]["name"], "kubeplex-admin");
        assert!(v["users"][0]["user"]["client-key-data"].is_string());
        assert_eq!(v["contexts"][0]["context"]["cluster"], "kubeplex");
        assert_eq!(v["contexts"][0]["context"]["user"], "kubeplex-admin");
    }

    #[test]
    fn logical_cluster_kubeconfig_appends_the_prefix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("pki");
        let config = Kubeconfig::admin_for_logical_cluster(&pki, "https://[::1]:6443/", "team-a");
        let v = value(&config.to_yaml());
        assert_eq!(v["clusters"][0]["cluster"]["server"], "https://[::1]:6443/clusters/team-a");
        assert_eq!(v["current-context"], "kubeplex-team-a");
        assert_eq!(v["contexts"][0]["name"], "kubeplex-team-a");
        assert_eq!(v["contexts"][0]["context"]["cluster"], "kubeplex-team-a");
    }

    #[test]
    fn server_urls() {
        assert_eq!(server_url("127.0.0.1:6443".parse().expect("addr")), "https://127.0.0.1:6443");
        assert_eq!(server_url("0.0.0.0:1".parse().expect("addr")), "https://127.0.0.1:1");
        assert_eq!(server_url("[::]:6443".parse().expect("addr")), "https://[::1]:6443");
    }
}
