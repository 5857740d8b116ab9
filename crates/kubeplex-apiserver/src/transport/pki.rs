//! The server's certificates, kept in `DATA_DIR/pki/`:
//!
//! ```text
//!   ca.crt / ca.key            self-signed CA, 10 years        (generated once, never replaced)
//!    ├── serving.crt / .key    server cert, SANs localhost, 127.0.0.1, ::1, listen host, extra names
//!    └── admin.crt / .key      client cert CN=kubeplex-admin, O=system:masters
//! ```
//!
//! Everything is generated on first start and reused afterwards. The serving certificate is
//! replaced when it no longer covers every wanted name, no longer chains to the CA or is close
//! to expiry; the admin certificate when it no longer chains to the CA or is close to expiry.
//! Keys are ECDSA P-256, PKCS#8 PEM, written with mode 0600.

use std::fs;
use std::io::Write as _;
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::client::danger::ServerCertVerifier as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{RootCertStore, ServerConfig};

use super::{Result, TransportError, crypto_provider};

/// Sub-directory of the data directory holding the certificates.
pub const PKI_DIR: &str = "pki";
/// File name of the CA certificate inside [`PKI_DIR`].
pub const CA_CERT_FILE: &str = "ca.crt";
/// File name of the CA key inside [`PKI_DIR`].
pub const CA_KEY_FILE: &str = "ca.key";
/// File name of the serving certificate inside [`PKI_DIR`].
pub const SERVING_CERT_FILE: &str = "serving.crt";
/// File name of the serving key inside [`PKI_DIR`].
pub const SERVING_KEY_FILE: &str = "serving.key";
/// File name of the administrator's client certificate inside [`PKI_DIR`].
pub const ADMIN_CERT_FILE: &str = "admin.crt";
/// File name of the administrator's client key inside [`PKI_DIR`].
pub const ADMIN_KEY_FILE: &str = "admin.key";

/// User name (CN) of the administrator certificate.
pub const ADMIN_USER: &str = "kubeplex-admin";
/// Group (O) of the administrator certificate.
pub const ADMIN_GROUP: &str = "system:masters";

/// Names every serving certificate covers, whatever the listen address.
pub const DEFAULT_SERVING_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

const CA_VALIDITY_YEARS: i16 = 10;
const LEAF_VALIDITY_YEARS: i16 = 1;
/// Leaf certificates expiring within this time are replaced at start.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

/// A client certificate and its key, both PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key (PKCS#8), PEM.
    pub key_pem: String,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials").field("cert_pem", &self.cert_pem).finish_non_exhaustive()
    }
}

/// What [`Pki::load_or_create`] had to generate (everything else was reused).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Generated {
    /// A new CA (and so new leaf certificates too).
    pub ca: bool,
    /// A new serving certificate.
    pub serving: bool,
    /// A new administrator certificate.
    pub admin: bool,
}

/// The loaded certificates of one server.
pub struct Pki {
    dir: PathBuf,
    ca_cert_pem: String,
    ca_cert_der: CertificateDer<'static>,
    ca_key: KeyPair,
    serving_cert_pem: String,
    serving_key_pem: String,
    serving_names: Vec<String>,
    admin: ClientCredentials,
    generated: Generated,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki")
            .field("dir", &self.dir)
            .field("serving_names", &self.serving_names)
            .field("generated", &self.generated)
            .finish_non_exhaustive()
    }
}

impl Pki {
    /// Loads the certificates from `data_dir/pki/`, generating what is missing.
    ///
    /// `listen_host` is the host part of the listen address (`127.0.0.1`, `[::1]`, `0.0.0.0`,
    /// a DNS name; an unspecified address adds nothing); `extra_names` are further DNS names or
    /// IP addresses the serving certificate must cover.
    pub fn load_or_create(data_dir: &Path, listen_host: &str, extra_names: &[String]) -> Result<Self> {
        let serving_names = serving_names(listen_host, extra_names)?;
        let dir = data_dir.join(PKI_DIR);
        create_private_dir(&dir)?;
        let mut generated = Generated::default();

        // The CA: reused when both files exist, generated when neither does.
        let ca_cert_path = dir.join(CA_CERT_FILE);
        let ca_key_path = dir.join(CA_KEY_FILE);
        let (ca_cert_pem, ca_key) = match read_pair(&ca_cert_path, &ca_key_path)? {
            Some((cert_pem, key_pem)) => {
                let key = KeyPair::from_pem(&key_pem).map_err(|e| invalid(&ca_key_path, e))?;
                (cert_pem, key)
            }
            None => {
                let (cert_pem, key) = generate_ca()?;
                write_file(&ca_key_path, key.serialize_pem().as_bytes(), 0o600)?;
                write_file(&ca_cert_path, cert_pem.as_bytes(), 0o644)?;
                tracing::info!(path = %ca_cert_path.display(), "generated a new CA");
                generated.ca = true;
                (cert_pem, key)
            }
        };
        let ca_cert_der =
            CertificateDer::from_pem_slice(ca_cert_pem.as_bytes()).map_err(|e| invalid(&ca_cert_path, e))?;
        let issuer = Issuer::from_ca_cert_der(&ca_cert_der, &ca_key).map_err(|e| invalid(&ca_cert_path, e))?;
        let roots = Arc::new(root_store(&ca_cert_der).map_err(|e| invalid(&ca_cert_path, e))?);
        let renewal_time = UnixTime::since_unix_epoch(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .saturating_add(RENEW_BEFORE),
        );

        // The serving certificate.
        let serving_cert_path = dir.join(SERVING_CERT_FILE);
        let serving_key_path = dir.join(SERVING_KEY_FILE);
        let existing = if generated.ca { None } else { read_pair(&serving_cert_path, &serving_key_path)? };
        let reusable = existing.filter(|(cert_pem, key_pem)| {
            match check_serving(cert_pem, key_pem, &roots, &serving_names, renewal_time) {
                Ok(()) => true,
                Err(reason) => {
                    tracing::info!(path = %serving_cert_path.display(), %reason, "replacing the serving certificate");
                    false
                }
            }
        });
        let (serving_cert_pem, serving_key_pem) = match reusable {
            Some(pair) => pair,
            None => {
                let pair = generate_serving(&issuer, &serving_names)?;
                write_file(&serving_key_path, pair.1.as_bytes(), 0o600)?;
                write_file(&serving_cert_path, pair.0.as_bytes(), 0o644)?;
                tracing::info!(path = %serving_cert_path.display(), names = ?serving_names, "generated a serving certificate");
                generated.serving = true;
                pair
            }
        };

        // The administrator's client certificate.
        let admin_cert_path = dir.join(ADMIN_CERT_FILE);
        let admin_key_path = dir.join(ADMIN_KEY_FILE);
        let existing = if generated.ca { None } else { read_pair(&admin_cert_path, &admin_key_path)? };
        let reusable =
            existing.filter(|(cert_pem, key_pem)| match check_client(cert_pem, key_pem, &roots, renewal_time) {
                Ok(()) => true,
                Err(reason) => {
                    tracing::info!(path = %admin_cert_path.display(), %reason, "replacing the admin certificate");
                    false
                }
            });
        let admin = match reusable {
            Some((cert_pem, key_pem)) => ClientCredentials { cert_pem, key_pem },
            None => {
                let credentials = generate_client(&issuer, ADMIN_USER, &[ADMIN_GROUP])?;
                write_file(&admin_key_path, credentials.key_pem.as_bytes(), 0o600)?;
                write_file(&admin_cert_path, credentials.cert_pem.as_bytes(), 0o644)?;
                tracing::info!(path = %admin_cert_path.display(), "generated the admin client certificate");
                generated.admin = true;
                credentials
            }
        };

        Ok(Pki {
            dir,
            ca_cert_pem,
            ca_cert_der,
            ca_key,
            serving_cert_pem,
            serving_key_pem,
            serving_names,
            admin,
            generated,
        })
    }

    /// The directory holding the files (`DATA_DIR/pki`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the CA certificate file.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.dir.join(CA_CERT_FILE)
    }

    /// The CA certificate, PEM (what clients trust).
    pub fn ca_cert_pem(&self) -> &str {
        &self.ca_cert_pem
    }

    /// The CA certificate, DER.
    pub fn ca_cert_der(&self) -> &CertificateDer<'static> {
        &self.ca_cert_der
    }

    /// The serving certificate, PEM.
    pub fn serving_cert_pem(&self) -> &str {
        &self.serving_cert_pem
    }

    /// The names (DNS names and IP addresses) the serving certificate was asked to cover.
    pub fn serving_names(&self) -> &[String] {
        &self.serving_names
    }

    /// The administrator's client certificate and key (CN=kubeplex-admin, O=system:masters).
    pub fn admin_credentials(&self) -> &ClientCredentials {
        &self.admin
    }

    /// What this load generated.
    pub fn generated(&self) -> Generated {
        self.generated
    }

    /// Issues a new client certificate signed by the CA (valid one year), for `user` (CN) and
    /// `groups` (O). Nothing is written to disk. At most one group is supported for now.
    pub fn issue_client_certificate(&self, user: &str, groups: &[&str]) -> Result<ClientCredentials> {
        let issuer =
            Issuer::from_ca_cert_der(&self.ca_cert_der, &self.ca_key).map_err(|e| invalid(&self.ca_cert_path(), e))?;
        generate_client(&issuer, user, groups)
    }

    /// The TLS server configuration: the serving certificate, ALPN `h2` and `http/1.1`, and
    /// client certificates requested but optional (when sent, they must chain to the CA).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>> {
        let provider = crypto_provider();
        let roots = Arc::new(root_store(&self.ca_cert_der).map_err(TransportError::Tls)?);
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        let chain = vec![
            CertificateDer::from_pem_slice(self.serving_cert_pem.as_bytes())
                .map_err(|e| invalid(&self.dir.join(SERVING_CERT_FILE), e))?,
        ];
        let key = PrivateKeyDer::from_pem_slice(self.serving_key_pem.as_bytes())
            .map_err(|e| invalid(&self.dir.join(SERVING_KEY_FILE), e))?;
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Tls(e.to_string()))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// A TLS client configuration trusting the CA, presenting `credentials` when given, with
    /// the ALPN protocols `alpn` (for in-process clients, benchmarks and tests).
    pub fn client_config(
        &self,
        credentials: Option<&ClientCredentials>,
        alpn: &[&[u8]],
    ) -> Result<Arc<rustls::ClientConfig>> {
        let roots = root_store(&self.ca_cert_der).map_err(TransportError::Tls)?;
        let builder = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Tls(e.to_string()))?
            .with_root_certificates(roots);
        let mut config = match credentials {
            Some(credentials) => {
                let chain = vec![
                    CertificateDer::from_pem_slice(credentials.cert_pem.as_bytes())
                        .map_err(|e| TransportError::Tls(format!("client certificate: {e}")))?,
                ];
                let key = PrivateKeyDer::from_pem_slice(credentials.key_pem.as_bytes())
                    .map_err(|e| TransportError::Tls(format!("client key: {e}")))?;
                builder.with_client_auth_cert(chain, key).map_err(|e| TransportError::Tls(e.to_string()))?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }
}

/// The names a serving certificate must cover: the defaults, the listen host (unless it is an
/// unspecified address) and the extra names, without duplicates, IPs normalized.
pub fn serving_names(listen_host: &str, extra_names: &[String]) -> Result<Vec<String>> {
    let mut names: Vec<String> = DEFAULT_SERVING_NAMES.iter().map(|s| s.to_string()).collect();
    let listen = listen_host.trim_start_matches('[').trim_end_matches(']');
    for name in std::iter::once(listen).chain(extra_names.iter().map(String::as_str)) {
        if name.is_empty() {
            continue;
        }
        let normalized = match name.parse::<IpAddr>() {
            Ok(ip) if ip.is_unspecified() => continue,
            Ok(ip) => ip.to_string(),
            Err(_) => {
                let lower = name.to_ascii_lowercase();
                ServerName::try_from(lower.clone())
                    .map_err(|e| TransportError::InvalidHostName { name: name.to_string(), message: e.to_string() })?;
                lower
            }
        };
        if !names.contains(&normalized) {
            names.push(normalized);
        }
    }
    Ok(names)
}

fn invalid(path: &Path, error: impl std::fmt::Display) -> TransportError {
    TransportError::InvalidFile { path: path.to_path_buf(), message: error.to_string() }
}

fn file_error(path: &Path, source: std::io::Error) -> TransportError {
    TransportError::File { path: path.to_path_buf(), source }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| file_error(dir, e))
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(contents) => Ok(Some(contents)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_error(path, e)),
    }
}

/// Reads a certificate and its key: both present, both absent, or an error.
fn read_pair(cert_path: &Path, key_path: &Path) -> Result<Option<(String, String)>> {
    match (read_optional(cert_path)?, read_optional(key_path)?) {
        (Some(cert), Some(key)) => Ok(Some((cert, key))),
        (None, None) => Ok(None),
        (Some(_), None) => {
            Err(TransportError::IncompletePair { present: cert_path.to_path_buf(), missing: key_path.to_path_buf() })
        }
        (None, Some(_)) => {
            Err(TransportError::IncompletePair { present: key_path.to_path_buf(), missing: cert_path.to_path_buf() })
        }
    }
}

/// Writes `contents` to `path` atomically (temporary file, then rename) with `mode`.
pub(crate) fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let mut tmp_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(file_error(&tmp, e)),
    }
    let mut file =
        fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp).map_err(|e| file_error(&tmp, e))?;
    file.write_all(contents).and_then(|()| file.sync_all()).map_err(|e| file_error(&tmp, e))?;
    drop(file);
    // The mode given to open() is filtered by the umask; make it exact.
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(|e| file_error(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| file_error(path, e))
}

fn root_store(ca: &CertificateDer<'static>) -> std::result::Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).map_err(|e| format!("CA certificate: {e}"))?;
    Ok(roots)
}

/// Makes `params` valid from yesterday (tolerates clock skew) for `years` years.
fn set_validity(params: &mut CertificateParams, years: i16) {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let start = today.yesterday().unwrap_or(today);
    let end = today.checked_add(jiff::Span::new().years(years)).unwrap_or(today);
    // jiff dates are valid calendar dates with months 1..=12 and days 1..=31.
    let ymd = |d: jiff::civil::Date| rcgen::date_time_ymd(i32::from(d.year()), d.month() as u8, d.day() as u8);
    params.not_before = ymd(start);
    params.not_after = ymd(end);
}

fn new_key(what: &'static str) -> Result<KeyPair> {
    KeyPair::generate().map_err(|source| TransportError::Generate { what, source })
}

fn generate_ca() -> Result<(String, KeyPair)> {
    let key = new_key("the CA key")?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    let stamp = jiff::Timestamp::now().as_second();
    name.push(DnType::CommonName, format!("kubeplex-ca@{stamp}"));
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    set_validity(&mut params, CA_VALIDITY_YEARS);
    let cert = params.self_signed(&key).map_err(|source| TransportError::Generate { what: "the CA", source })?;
    Ok((cert.pem(), key))
}

fn generate_serving(issuer: &Issuer<'_, &KeyPair>, names: &[String]) -> Result<(String, String)> {
    let what = "the serving certificate";
    let key = new_key(what)?;
    let mut params =
        CertificateParams::new(names.to_vec()).map_err(|source| TransportError::Generate { what, source })?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "kubeplex-apiserver");
    params.distinguished_name = name;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, LEAF_VALIDITY_YEARS);
    let cert = params.signed_by(&key, issuer).map_err(|source| TransportError::Generate { what, source })?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn generate_client(issuer: &Issuer<'_, &KeyPair>, user: &str, groups: &[&str]) -> Result<ClientCredentials> {
    let what = "a client certificate";
    if groups.len() > 1 {
        return Err(TransportError::Unsupported("client certificates with more than one group (O)".into()));
    }
    let key = new_key(what)?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    for group in groups {
        name.push(DnType::OrganizationName, *group);
    }
    name.push(DnType::CommonName, user);
    params.distinguished_name = name;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, LEAF_VALIDITY_YEARS);
    let cert = params.signed_by(&key, issuer).map_err(|source| TransportError::Generate { what, source })?;
    Ok(ClientCredentials { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

/// Parses a certificate + key pair and checks that the key belongs to the certificate.
fn parse_pair(cert_pem: &str, key_pem: &str) -> std::result::Result<CertificateDer<'static>, String> {
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| format!("certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| format!("key: {e}"))?;
    rustls::sign::CertifiedKey::from_der(vec![cert.clone()], key, &crypto_provider())
        .map_err(|e| format!("key and certificate: {e}"))?;
    Ok(cert)
}

/// Ok when the serving pair chains to the CA, covers every name and stays valid past `at`.
fn check_serving(
    cert_pem: &str,
    key_pem: &str,
    roots: &Arc<RootCertStore>,
    names: &[String],
    at: UnixTime,
) -> std::result::Result<(), String> {
    let cert = parse_pair(cert_pem, key_pem)?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(roots.clone(), crypto_provider())
        .build()
        .map_err(|e| e.to_string())?;
    for name in names {
        let server_name = ServerName::try_from(name.as_str()).map_err(|e| format!("{name}: {e}"))?;
        verifier.verify_server_cert(&cert, &[], &server_name, &[], at).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// Ok when the client pair chains to the CA and stays valid past `at`.
fn check_client(
    cert_pem: &str,
    key_pem: &str,
    roots: &Arc<RootCertStore>,
    at: UnixTime,
) -> std::result::Result<(), String> {
    let cert = parse_pair(cert_pem, key_pem)?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(roots.clone(), crypto_provider())
        .build()
        .map_err(|e| e.to_string())?;
    verifier.verify_client_cert(&cert, &[], at).map_err(|e| e.to_string())?;
    Ok(())
}

/// The identity a verified client certificate carries: CN (the last one, as Go reads it) is
/// the user, every O value a group. `None` when the certificate does not parse or has no CN.
pub fn identity_of_certificate(cert: &CertificateDer<'_>) -> Option<super::ClientIdentity> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let subject = parsed.subject();
    let user = subject.iter_common_name().filter_map(|cn| cn.as_str().ok()).last()?.to_string();
    if user.is_empty() {
        return None;
    }
    let groups = subject.iter_organization().filter_map(|o| o.as_str().ok()).map(str::to_string).collect();
    Some(super::ClientIdentity { user, groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn pki_can_be_shared_between_tasks() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<Pki>();
    }

    #[test]
    fn generates_then_reuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("first load");
        assert_eq!(first.generated(), Generated { ca: true, serving: true, admin: true });
        for key in [CA_KEY_FILE, SERVING_KEY_FILE, ADMIN_KEY_FILE] {
            assert_eq!(mode(&dir.path().join(PKI_DIR).join(key)), 0o600, "{key}");
        }
        let second = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("second load");
        assert_eq!(second.generated(), Generated::default());
        assert_eq!(first.ca_cert_pem(), second.ca_cert_pem());
        assert_eq!(first.serving_cert_pem(), second.serving_cert_pem());
        assert_eq!(first.admin_credentials(), second.admin_credentials());
    }

    #[test]
    fn new_listen_host_replaces_only_the_serving_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("first load");
        let second = Pki::load_or_create(dir.path(), "kubeplex.example", &["10.1.2.3".into()]).expect("second load");
        assert_eq!(second.generated(), Generated { ca: false, serving: true, admin: false });
        assert_eq!(first.ca_cert_pem(), second.ca_cert_pem());
        assert_ne!(first.serving_cert_pem(), second.serving_cert_pem());
        assert_eq!(first.admin_credentials(), second.admin_credentials());
        // The old names are covered still (defaults), the new ones too: a third load reuses it.
        let third = Pki::load_or_create(dir.path(), "kubeplex.example", &["10.1.2.3".into()]).expect("third load");
        assert_eq!(third.generated(), Generated::default());
    }

    #[test]
    fn serving_names_are_normalized() {
        let names = serving_names("[::1]", &["Example.COM".into(), "0:0::1".into(), "".into()]).expect("names");
        assert_eq!(names, ["localhost", "127.0.0.1", "::1", "example.com"]);
        let names = serving_names("0.0.0.0", &[]).expect("names");
        assert_eq!(names, ["localhost", "127.0.0.1", "::1"]);
        assert!(matches!(serving_names("bad name", &[]), Err(TransportError::InvalidHostName { .. })));
    }

    #[test]
    fn admin_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("load");
        let cert = CertificateDer::from_pem_slice(pki.admin_credentials().cert_pem.as_bytes()).expect("pem");
        let identity = identity_of_certificate(&cert).expect("identity");
        assert_eq!(identity.user, ADMIN_USER);
        assert_eq!(identity.groups, [ADMIN_GROUP]);
        let jane = pki.issue_client_certificate("jane", &[]).expect("issue");
        let cert = CertificateDer::from_pem_slice(jane.cert_pem.as_bytes()).expect("pem");
        let identity = identity_of_certificate(&cert).expect("identity");
        assert_eq!(identity, crate::transport::ClientIdentity { user: "jane".into(), groups: vec![] });
        // Kubernetes does not authenticate a certificate without a CommonName.
        let nameless = pki.issue_client_certificate("", &["system:masters"]).expect("issue");
        let cert = CertificateDer::from_pem_slice(nameless.cert_pem.as_bytes()).expect("pem");
        assert_eq!(identity_of_certificate(&cert), None);
        assert!(matches!(pki.issue_client_certificate("x", &["a", "b"]), Err(TransportError::Unsupported(_))));
    }

    #[test]
    fn incomplete_pair_names_the_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("load");
        let key = dir.path().join(PKI_DIR).join(CA_KEY_FILE);
        fs::remove_file(&key).expect("remove");
        let error = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect_err("must fail");
        let message = error.to_string();
        assert!(message.contains("ca.crt") && message.contains("ca.key"), "{message}");
    }

    #[test]
    fn corrupt_key_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("load");
        let key = dir.path().join(PKI_DIR).join(CA_KEY_FILE);
        fs::write(&key, "not a key").expect("write");
        let error = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect_err("must fail");
        assert!(error.to_string().contains(&key.display().to_string()), "{error}");
    }

    #[test]
    fn foreign_admin_certificate_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let other = tempfile::tempdir().expect("tempdir");
        Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("load");
        Pki::load_or_create(other.path(), "127.0.0.1", &[]).expect("load other");
        for file in [ADMIN_CERT_FILE, ADMIN_KEY_FILE] {
            fs::copy(other.path().join(PKI_DIR).join(file), dir.path().join(PKI_DIR).join(file)).expect("copy");
        }
        let reloaded = Pki::load_or_create(dir.path(), "127.0.0.1", &[]).expect("reload");
        assert_eq!(reloaded.generated(), Generated { ca: false, serving: false, admin: true });
    }
}
