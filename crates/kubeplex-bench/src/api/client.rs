//! A minimal HTTPS client for the API benchmark: one TLS connection per
//! client (HTTP/1.1 keep-alive, or HTTP/2 with streams shared by cloning),
//! the administrator's client certificate, JSON bodies.
//!
//! ```text
//!   Tls::from_data_dir(DIR)  (pki/ca.crt, pki/admin.crt, pki/admin.key; ring only)
//!     └─ Conn::connect(addr, Protocol) ── TCP (nodelay) ── TLS ── hyper client conn
//!          ├─ request(method, path, body) ─► (status, whole body)
//!          └─ stream(path)                 ─► (status, body read frame by frame)
//! ```
//!
//! An HTTP/1 connection that broke is re-opened by the next request (that
//! request's time includes the reconnect).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Which HTTP version a connection speaks (chosen by ALPN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// The client side of TLS: the server's CA and the admin certificate.
#[derive(Clone, Debug)]
pub struct Tls {
    http1: Arc<rustls::ClientConfig>,
    http2: Arc<rustls::ClientConfig>,
}

impl Tls {
    /// Reads `DIR/pki/ca.crt`, `DIR/pki/admin.crt` and `DIR/pki/admin.key`.
    pub fn from_data_dir(data_dir: &Path) -> anyhow::Result<Tls> {
        let pki = data_dir.join("pki");
        let read = |name: &str| -> anyhow::Result<Vec<u8>> {
            let path = pki.join(name);
            std::fs::read(&path).with_context(|| format!("reading {}", path.display()))
        };
        let (ca, cert, key) = (read("ca.crt")?, read("admin.crt")?, read("admin.key")?);
        Tls::from_pem(&ca, &cert, &key)
    }

    /// A client trusting `ca_pem` and presenting `cert_pem` with `key_pem`.
    pub fn from_pem(ca_pem: &[u8], cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Tls> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            roots.add(cert.context("parsing the CA certificate")?).context("adding the CA certificate")?;
        }
        if roots.is_empty() {
            bail!("no CA certificate found");
        }
        let chain = CertificateDer::pem_slice_iter(cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .context("parsing the client certificate")?;
        let config = |alpn: &[u8]| -> anyhow::Result<Arc<rustls::ClientConfig>> {
            let key = PrivateKeyDer::from_pem_slice(key_pem).context("parsing the client key")?;
            let mut config =
                rustls::ClientConfig::builder_with_provider(kubeplex_apiserver::transport::crypto_provider())
                    .with_safe_default_protocol_versions()
                    .context("TLS protocol versions")?
                    .with_root_certificates(roots.clone())
                    .with_client_auth_cert(chain.clone(), key)
                    .context("the client certificate")?;
            config.alpn_protocols = vec![alpn.to_vec()];
            Ok(Arc::new(config))
        };
        Ok(Tls { http1: config(b"http/1.1")?, http2: config(b"h2")? })
    }
}

#[derive(Debug)]
enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

/// One keep-alive connection to the server.
#[derive(Debug)]
pub struct Conn {
    addr: SocketAddr,
    tls: Tls,
    protocol: Protocol,
    sender: Sender,
    /// How many times it was re-opened after breaking.
    pub reconnects: u64,
}

async fn open(addr: SocketAddr, tls: &Tls, protocol: Protocol) -> anyhow::Result<Sender> {
    let tcp = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
    tcp.set_nodelay(true).context("TCP_NODELAY")?;
    let config = match protocol {
        Protocol::Http1 => tls.http1.clone(),
        Protocol::Http2 => tls.http2.clone(),
    };
    let name = ServerName::IpAddress(addr.ip().into());
    let stream = TlsConnector::from(config).connect(name, tcp).await.with_context(|| format!("TLS with {addr}"))?;
    let io = TokioIo::new(stream);
    match protocol {
        Protocol::Http1 => {
            let (sender, connection) = http1::handshake(io).await.context("HTTP/1.1 handshake")?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(Sender::Http1(sender))
        }
        Protocol::Http2 => {
            let (sender, connection) =
                http2::Builder::new(TokioExecutor::new()).handshake(io).await.context("HTTP/2 handshake")?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            Ok(Sender::Http2(sender))
        }
    }
}

impl Conn {
    /// Opens a connection (TCP, TLS, HTTP handshake).
    pub async fn connect(addr: SocketAddr, tls: &Tls, protocol: Protocol) -> anyhow::Result<Conn> {
        let sender = open(addr, tls, protocol).await?;
        Ok(Conn { addr, tls: tls.clone(), protocol, sender, reconnects: 0 })
    }

    /// Another handle on the same HTTP/2 connection (its own stream per
    /// request); `None` for HTTP/1.
    pub fn share(&self) -> Option<Conn> {
        match &self.sender {
            Sender::Http2(sender) => Some(Conn {
                addr: self.addr,
                tls: self.tls.clone(),
                protocol: self.protocol,
                sender: Sender::Http2(sender.clone()),
                reconnects: 0,
            }),
            Sender::Http1(_) => None,
        }
    }

    fn build(&self, method: Method, path: &str, body: Option<Bytes>) -> anyhow::Result<Request<Full<Bytes>>> {
        self.build_as(method, path, body, "application/json")
    }

    fn build_as(
        &self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
        content_type: &str,
    ) -> anyhow::Result<Request<Full<Bytes>>> {
        let authority = self.addr.to_string();
        let builder = match self.protocol {
            Protocol::Http1 => Request::builder().uri(path).header(header::HOST, authority),
            Protocol::Http2 => Request::builder().uri(format!("https://{authority}{path}")),
        };
        let builder = builder.method(method).header(header::ACCEPT, "application/json");
        let request = match body {
            Some(body) => builder.header(header::CONTENT_TYPE, content_type).body(Full::new(body)),
            None => builder.body(Full::new(Bytes::new())),
        };
        request.with_context(|| format!("building the request for {path}"))
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<hyper::Response<Incoming>> {
        if let Sender::Http1(sender) = &self.sender
            && sender.is_closed()
        {
            self.sender = open(self.addr, &self.tls, self.protocol).await.context("re-opening the connection")?;
            self.reconnects += 1;
        }
        match &mut self.sender {
            Sender::Http1(sender) => {
                sender.ready().await.context("connection not ready")?;
                Ok(sender.send_request(request).await?)
            }
            Sender::Http2(sender) => {
                sender.ready().await.context("connection not ready")?;
                Ok(sender.send_request(request).await?)
            }
        }
    }

    /// Sends a request and reads the whole response body.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let request = self.build(method, path, body)?;
        let response = self.send(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await.context("reading the response body")?.to_bytes();
        Ok((status, body))
    }

    /// Sends a request whose body is of `content_type` (a patch:
    /// `application/apply-patch+yaml`) and reads the whole response body.
    pub async fn request_as(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
        content_type: &str,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let request = self.build_as(method, path, Some(body), content_type)?;
        let response = self.send(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await.context("reading the response body")?.to_bytes();
        Ok((status, body))
    }

    /// Sends a GET and returns as soon as the response headers are in; the
    /// body is read by the caller (a watch).
    pub async fn stream(&mut self, path: &str) -> anyhow::Result<(StatusCode, Incoming)> {
        let request = self.build(Method::GET, path, None)?;
        let response = self.send(request).await?;
        Ok((response.status(), response.into_body()))
    }
}

/// A short description of a failed response: status and the start of the body.
pub fn describe(status: StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    format!("{status}: {}", text.trim())
}
