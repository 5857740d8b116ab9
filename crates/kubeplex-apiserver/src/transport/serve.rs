//! The HTTPS accept loop: TLS (ALPN `h2`, `http/1.1`), then HTTP/1.1 or HTTP/2 by hyper-util's
//! connection builder, each request handed to the axum router with the client's verified
//! identity attached.
//!
//! ```text
//!   accept ──► peek: plain HTTP? ──► "400 Client sent an HTTP request to an HTTPS server."
//!     │
//!     ▼
//!   TLS handshake (timeout) ──► peer cert (already verified against the CA) ──► ClientIdentity
//!     │
//!     ▼
//!   ALPN h2 → HTTP/2 only · http/1.1 → HTTP/1 only · none → sniffed
//!     │                                   each request: + ClientIdentity, + ConnectInfo<SocketAddr>
//!     ▼
//!   axum::Router
//! ```
//!
//! On shutdown the listener closes, open connections are asked to finish (HTTP/1 after the
//! current response, HTTP/2 with GOAWAY) and whatever still runs after the drain timeout is cut.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use super::pki::identity_of_certificate;

/// What Go's `net/http` answers to plain HTTP on a TLS port; kubeplex answers the same.
const PLAIN_HTTP_RESPONSE: &[u8] = b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// Tunables of [`serve_with_options`].
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Longest time from accepting a connection to the end of its TLS handshake.
    pub handshake_timeout: Duration,
    /// Longest time an HTTP/1 client may take to send a request's headers.
    pub header_read_timeout: Duration,
    /// Longest time open connections get to finish after shutdown is asked for; long-running
    /// responses (watches) that do not end by themselves are cut after it.
    pub drain_timeout: Duration,
    /// Concurrent HTTP/2 streams per connection (kube-apiserver allows 1000).
    pub http2_max_concurrent_streams: u32,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(10),
            http2_max_concurrent_streams: 1000,
        }
    }
}

/// Serves `app` over HTTPS on `listener` until `shutdown` completes, then drains (see
/// [`ServeOptions::default`]). Accept errors are logged and retried, never fatal.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
) {
    serve_with_options(listener, tls, app, shutdown, ServeOptions::default()).await
}

/// [`serve`] with explicit [`ServeOptions`].
pub async fn serve_with_options(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
    options: ServeOptions,
) {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = GracefulShutdown::new();
    let options = Arc::new(options);
    let mut connections = JoinSet::new();
    let local = listener.local_addr().ok();
    tracing::info!(address = ?local, "serving HTTPS");
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    connections.spawn(connection(
                        stream,
                        remote,
                        acceptor.clone(),
                        app.clone(),
                        graceful.watcher(),
                        options.clone(),
                    ));
                }
                Err(error) => accept_error(error).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    tracing::info!(address = ?local, open = graceful.count(), "shutting down: draining connections");
    if tokio::time::timeout(options.drain_timeout, graceful.shutdown()).await.is_err() {
        tracing::info!(address = ?local, "drain timeout: closing the remaining connections");
    }
    connections.shutdown().await;
}

/// Accept errors are about one connection (reset before accept) or about resources (too many
/// open files); for the latter, wait a little instead of spinning.
async fn accept_error(error: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(error.kind(), ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock) {
        tracing::debug!(%error, "accept");
        return;
    }
    tracing::warn!(%error, "accept failed; retrying");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn connection(
    mut stream: TcpStream,
    remote: SocketAddr,
    acceptor: TlsAcceptor,
    app: axum::Router,
    watcher: Watcher,
    options: Arc<ServeOptions>,
) {
    let _ = stream.set_nodelay(true);
    // A TLS connection starts with a handshake record (0x16); a letter means plain HTTP.
    let mut first = [0u8; 1];
    match tokio::time::timeout(options.handshake_timeout, stream.peek(&mut first)).await {
        Ok(Ok(1)) if first[0].is_ascii_uppercase() => {
            let _ = stream.write_all(PLAIN_HTTP_RESPONSE).await;
            let _ = stream.shutdown().await;
            return;
        }
        Ok(Ok(1)) => {}
        _ => return,
    }
    let tls = match tokio::time::timeout(options.handshake_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%remote, %error, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%remote, "TLS handshake timed out");
            return;
        }
    };
    let (_, session) = tls.get_ref();
    // The verifier has checked any certificate sent against the CA; it only remains to read it.
    let identity = session.peer_certificates().and_then(|chain| chain.first()).and_then(identity_of_certificate);
    let alpn = session.alpn_protocol().map(<[u8]>::to_vec);

    let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
        if let Some(identity) = &identity {
            request.extensions_mut().insert(identity.clone());
        }
        request.extensions_mut().insert(ConnectInfo(remote));
        app.clone().oneshot(request)
    });

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(options.header_read_timeout).keep_alive(true);
    builder.http2().timer(TokioTimer::new()).max_concurrent_streams(options.http2_max_concurrent_streams);
    let builder = match alpn.as_deref() {
        Some(b"h2") => builder.http2_only(),
        Some(b"http/1.1") => builder.http1_only(),
        _ => builder,
    };
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
    if let Err(error) = watcher.watch(connection.into_owned()).await {
        tracing::debug!(%remote, %error, "connection ended with an error");
    }
}
