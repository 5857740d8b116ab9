//! Request filters that run before the API handlers, as axum middleware
//! (`axum::middleware::from_fn`):
//!
//! - [`require_authenticated`]: a request without a [`ClientIdentity`] gets 401 `Unauthorized`,
//!   except the public health and version paths (`/healthz`, `/livez`, `/readyz`, `/version`,
//!   with or without a `/clusters/<name>` prefix), which anonymous clients may reach.
//! - [`limit_request_body`]: a body over 3 MiB gets 413 `RequestEntityTooLarge`, with the
//!   message upstream's `limitedReadBody` writes.
//!
//! Both answer with a Kubernetes `Status`. Over HTTP/1 they read and discard (a bounded
//! amount of) the body they refuse before answering, so the client, still sending, receives the
//! answer instead of a connection reset.

use axum::body::{Body, HttpBody as _};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use bytes::BytesMut;
use http::{StatusCode, Version, header};
use http_body_util::BodyExt as _;

use super::{ClientIdentity, status_response};

/// Largest request body accepted, in bytes (upstream's `MaxRequestBodyBytes` default).
pub const MAX_REQUEST_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Paths anonymous clients may reach (upstream's `system:public-info-viewer` role).
pub const ANONYMOUS_PATHS: [&str; 5] = ["/healthz", "/livez", "/readyz", "/version", "/version/"];

/// How much of a refused HTTP/1 body is read and discarded before answering; past this the
/// connection is closed after the answer.
const MAX_DISCARD_BYTES: usize = 64 * 1024 * 1024;
/// How long reading a refused body may take.
const DISCARD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Applies the transport filters to `router`: authentication outside, body limit inside. As the
/// body limit is enforced here, axum's own default limit for its extractors (`Bytes`, `Json`,
/// …: 2 MB) is lifted.
pub fn with_transport_filters(router: axum::Router) -> axum::Router {
    router
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(limit_request_body))
        .layer(axum::middleware::from_fn(require_authenticated))
}

/// Whether `path` is reachable without credentials (see [`ANONYMOUS_PATHS`]).
pub fn is_anonymous_path(path: &str) -> bool {
    let path = match path.strip_prefix("/clusters/") {
        Some(rest) => match rest.find('/') {
            Some(slash) if slash > 0 => &rest[slash..],
            _ => return false,
        },
        None => path,
    };
    ANONYMOUS_PATHS.contains(&path)
}

/// The 401 answer: `Status` reason `Unauthorized`, message `Unauthorized`.
pub fn unauthorized() -> Response {
    status_response(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
}

/// The 413 answer: `Status` reason `RequestEntityTooLarge`.
pub fn request_entity_too_large() -> Response {
    status_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RequestEntityTooLarge",
        &format!("Request entity too large: limit is {MAX_REQUEST_BODY_BYTES}"),
    )
}

/// Middleware: 401 for requests without a [`ClientIdentity`], except [`is_anonymous_path`].
pub async fn require_authenticated(request: Request, next: Next) -> Response {
    if request.extensions().get::<ClientIdentity>().is_some() || is_anonymous_path(request.uri().path()) {
        return next.run(request).await;
    }
    refuse(request, unauthorized()).await
}

/// Middleware: 413 for bodies over [`MAX_REQUEST_BODY_BYTES`]. A body with a declared length
/// within the limit passes through as it is; a body of unknown length (chunked) is read here,
/// up to the limit, and handed on in full with its `Content-Length` set.
pub async fn limit_request_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_REQUEST_BODY_BYTES as u64 => {
            return refuse(request, request_entity_too_large()).await;
        }
        Some(_) => return next.run(request).await,
        None if request.body().is_end_stream() => return next.run(request).await,
        None => {}
    }
    let (mut parts, mut body) = request.into_parts();
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => {
                return status_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    &format!("Internal error occurred: {error}"),
                );
            }
        };
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
            if buffer.len() > MAX_REQUEST_BODY_BYTES {
                drop(buffer);
                if parts.version <= Version::HTTP_11 {
                    discard(body).await;
                }
                return request_entity_too_large();
            }
        }
    }
    parts.headers.insert(header::CONTENT_LENGTH, buffer.len().into());
    next.run(Request::from_parts(parts, Body::from(buffer.freeze()))).await
}

/// Answers `response` to `request` without handing it on; over HTTP/1 the body is first read
/// and discarded (unless the client waits for `100 Continue`, which it then does not get).
async fn refuse(request: Request, response: Response) -> Response {
    let expects_continue =
        request.headers().get(header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if request.version() <= Version::HTTP_11 && !expects_continue && !request.body().is_end_stream() {
        discard(request.into_body()).await;
    }
    response
}

/// Reads and drops `body`, at most [`MAX_DISCARD_BYTES`] and for at most [`DISCARD_TIMEOUT`].
async fn discard(mut body: Body) {
    let read = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                seen = seen.saturating_add(data.len());
                if seen > MAX_DISCARD_BYTES {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_TIMEOUT, read).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    fn app() -> axum::Router {
        let router = axum::Router::new()
            .route("/healthz", axum::routing::get(|| async { "ok" }))
            .route("/clusters/{name}/healthz", axum::routing::get(|| async { "ok" }))
            .route(
                "/echo",
                axum::routing::post(|request: Request| async move {
                    let length = request.headers().get(header::CONTENT_LENGTH).cloned();
                    let body = request.into_body().collect().await.map(|b| b.to_bytes().len()).unwrap_or(0);
                    format!("{body} {length:?}")
                }),
            );
        with_transport_filters(router)
    }

    async fn call(request: http::Request<Body>) -> (StatusCode, String) {
        let response = app().oneshot(request).await.expect("infallible");
        let status = response.status();
        let body = response.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn admin() -> ClientIdentity {
        ClientIdentity { user: "kubeplex-admin".into(), groups: vec!["system:masters".into()] }
    }

    #[test]
    fn anonymous_paths() {
        for path in ["/healthz", "/livez", "/readyz", "/version", "/clusters/a/healthz", "/clusters/root/version"] {
            assert!(is_anonymous_path(path), "{path}");
        }
        for path in
            ["/", "/api", "/healthz/ping", "/clusters/healthz", "/clusters//healthz", "/clusters/a", "/x/healthz"]
        {
            assert!(!is_anonymous_path(path), "{path}");
        }
    }

    #[tokio::test]
    async fn anonymous_requests_get_401_except_public_paths() {
        let request = http::Request::post("/echo").body(Body::from("x")).expect("request");
        let (status, body) = call(request).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains(r#""reason":"Unauthorized""#), "{body}");
        let (status, body) = call(http::Request::get("/healthz").body(Body::empty()).expect("request")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ok"));
        let (status, _) = call(http::Request::get("/clusters/t1/healthz").body(Body::empty()).expect("request")).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[tokio::test]
    async fn declared_oversize_body_gets_413() {
        let mut request = http::Request::post("/echo")
            .header(header::CONTENT_LENGTH, MAX_REQUEST_BODY_BYTES + 1)
            .body(Body::from(vec![b'x'; MAX_REQUEST_BODY_BYTES + 1]))
            .expect("request");
        request.extensions_mut().insert(admin());
        let (status, body) = call(request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            body,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Request entity too large: limit is 3145728","reason":"RequestEntityTooLarge","code":413}"#
        );
    }

    /// A body of unknown length (no `Content-Length`), sent as the given chunks.
    fn chunked(chunks: Vec<Vec<u8>>) -> Body {
        let frames = chunks
            .into_iter()
            .map(|c| Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(bytes::Bytes::from(c))));
        Body::new(http_body_util::StreamBody::new(futures::stream::iter(frames)))
    }

    #[tokio::test]
    async fn undeclared_bodies_are_buffered_and_limited() {
        let body = chunked(vec![vec![b'y'; 1000], vec![b'z'; 24]]);
        let mut request = http::Request::post("/echo").body(body).expect("request");
        request.extensions_mut().insert(admin());
        let (status, body) = call(request).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, r#"1024 Some("1024")"#));

        let body = chunked(vec![vec![b'y'; 1024 * 1024]; 4]);
        let mut request = http::Request::post("/echo").body(body).expect("request");
        request.extensions_mut().insert(admin());
        let (status, body) = call(request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body.contains("limit is 3145728"), "{body}");
    }
}
