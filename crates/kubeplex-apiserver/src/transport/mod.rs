//! HTTPS transport of the API server: certificates, kubeconfigs, TLS serving and the
//! filters every request passes before it reaches the API handlers.
//!
//! ```text
//!   data dir ──► pki::Pki::load_or_create ──► CA, serving cert, admin client cert (pki/*.crt, *.key)
//!                      │                                   │
//!                      │ server_config()                   └──► kubeconfig::write_admin_kubeconfig
//!                      ▼                                            (DIR/admin.kubeconfig)
//!   TcpListener ──► serve::serve ── TLS (ALPN h2, http/1.1; client cert optional, verified against the CA)
//!                      │
//!                      ▼  request extensions: ClientIdentity (CN → user, O → groups), ConnectInfo
//!            filters::require_authenticated (401 Status)  ──►  filters::limit_request_body (413 Status)
//!                      │
//!                      ▼
//!                 axum::Router of the API
//! ```

pub mod filters;
pub mod kubeconfig;
pub mod pki;
pub mod serve;

use std::path::PathBuf;

pub use filters::{MAX_REQUEST_BODY_BYTES, limit_request_body, require_authenticated, with_transport_filters};
pub use kubeconfig::{Kubeconfig, server_url, write_admin_kubeconfig};
pub use pki::{ClientCredentials, Pki};
pub use serve::{ServeOptions, serve, serve_with_options};

/// Who sent a request, as proven by a client certificate our CA signed: the certificate's
/// subject CommonName is the user and each Organization value a group, as in Kubernetes.
///
/// [`serve`] inserts it as a request extension; a request without a (usable) client
/// certificate has no such extension.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientIdentity {
    /// The user name (subject CN).
    pub user: String,
    /// The groups (subject O values, in certificate order).
    pub groups: Vec<String>,
}

impl ClientIdentity {
    /// The groups upstream's authentication reports for the user: the
    /// certificate's, then `system:authenticated`.
    pub fn authenticated_groups(&self) -> Vec<String> {
        let mut groups = self.groups.clone();
        if !groups.iter().any(|g| g == "system:authenticated") {
            groups.push("system:authenticated".to_owned());
        }
        groups
    }
}

/// Errors of the transport layer. File errors name the file.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Reading or writing a file (or directory) failed.
    #[error("{path}: {source}")]
    File {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file exists but does not hold what it should (bad PEM, a key that does not parse, …).
    #[error("{path}: {message}")]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Only one of a key pair's files exists, so it can be neither reused nor safely replaced.
    #[error("{present} exists but {missing} does not; remove {present} to have a new pair generated")]
    IncompletePair {
        /// The file that exists.
        present: PathBuf,
        /// The file that is missing.
        missing: PathBuf,
    },
    /// A host name or address cannot be put into a certificate.
    #[error("invalid host name {name:?} for the serving certificate: {message}")]
    InvalidHostName {
        /// The name as given.
        name: String,
        /// Why it was refused.
        message: String,
    },
    /// Generating a key or a certificate failed.
    #[error("generating {what}: {source}")]
    Generate {
        /// What was being generated.
        what: &'static str,
        /// The underlying error.
        source: rcgen::Error,
    },
    /// A request this version cannot serve yet.
    #[error("not supported yet: {0}")]
    Unsupported(String),
    /// Building the TLS configuration failed.
    #[error("TLS configuration: {0}")]
    Tls(String),
}

/// Result type of the transport layer.
pub type Result<T, E = TransportError> = std::result::Result<T, E>;

/// The crypto provider every TLS object of kubeplex uses (ring; aws-lc-rs is kept out).
pub fn crypto_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// A Kubernetes `Status` failure response (`Content-Type: application/json`), in the field
/// order the API server writes.
pub(crate) fn status_response(code: http::StatusCode, reason: &str, message: &str) -> axum::response::Response {
    let body = serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    let mut response = axum::response::Response::new(axum::body::Body::from(body.to_string()));
    *response.status_mut() = code;
    response.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn status_body_matches_kubernetes() {
        let response = status_response(http::StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()[http::header::CONTENT_TYPE], "application/json");
        let body = response.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(
            std::str::from_utf8(&body).expect("utf-8"),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#
        );
    }
}
