//! HTTP plumbing of the API handlers: query parameters, request bodies
//! (JSON, YAML; a missing Content-Type is JSON), and responses (JSON
//! objects, `Status` errors).

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use kubeplex_core::status::ApiError;
use serde_json::Value;

/// The largest request body accepted (upstream's limit is 3 MiB).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Decoded query parameters (later values of a repeated name win).
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        Query(raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A boolean parameter: `true`/`1` (upstream's parsing).
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("true" | "1" | "True" | "TRUE"))
    }

    /// A non-negative integer parameter; a malformed one is a 400.
    pub fn uint(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => {
                v.parse().map(Some).map_err(|_| ApiError::bad_request(format!("invalid value {v:?} for {name}")))
            }
        }
    }
}

/// Reads the request body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|e| {
        let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if too_large {
            ApiError::too_large(MAX_BODY_BYTES)
        } else {
            ApiError::bad_request(format!("reading the request body: {e}"))
        }
    })
}

/// The media type of a request body, without parameters; JSON if absent.
pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/json".to_owned())
}

/// Decodes an object body in JSON, YAML or protobuf; `api_version` and
/// `what` (the kind) name what the endpoint expects, for messages and for a
/// protobuf envelope that leaves them out.
pub fn decode_object(headers: &HeaderMap, body: &[u8], api_version: &str, what: &str) -> Result<Value, ApiError> {
    let media = content_type(headers);
    if kubeplex_protobuf::is_protobuf_content_type(&media) {
        // Unknown protobuf fields are not refused: upstream decodes protobuf
        // leniently even under fieldValidation=Strict.
        let decoded = kubeplex_protobuf::decode_body_as(body, api_version, what)
            .map_err(|e| ApiError::bad_request(format!("{what}: couldn't decode protobuf: {e}")))?;
        let mut object = decoded.object;
        if let Some(map) = object.as_object_mut() {
            map.insert("apiVersion".into(), Value::String(decoded.api_version));
            map.insert("kind".into(), Value::String(decoded.kind));
        }
        return Ok(object);
    }
    let value: Value = match media.as_str() {
        "application/json" | "*/*" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("{what}: couldn't decode JSON: {e}")))?,
        "application/yaml" | "application/x-yaml" | "text/yaml" => {
            let text =
                std::str::from_utf8(body).map_err(|_| ApiError::bad_request(format!("{what}: body is not UTF-8")))?;
            // Repeated keys are not an error here (the last one wins, as
            // upstream's YAML reader): field validation reports them.
            crate::fieldvalidation::parse_yaml(text)
                .map_err(|e| ApiError::bad_request(format!("{what}: couldn't decode YAML: {e}")))?
                .into_value()
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    Ok(value)
}

/// A JSON response.
pub fn json(status: StatusCode, value: &Value) -> Response {
    json_bytes(status, Bytes::from(serde_json::to_vec(value).unwrap_or_default()), "application/json")
}

/// A response of already-encoded JSON with the given Content-Type.
pub fn json_bytes(status: StatusCode, bytes: Bytes, content_type: &'static str) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Adds one `Warning: 299 - "<text>"` header per distinct text (upstream's
/// `NewWarningHeader` format; kubectl prints `Warning: <text>`).
pub fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    let mut sent = std::collections::HashSet::new();
    for text in warnings.iter().filter(|t| !t.is_empty()) {
        if !sent.insert(text.as_str()) {
            continue;
        }
        let header = format!("299 - {}", kubeplex_patch::go_quote(text));
        if let Ok(value) = HeaderValue::from_bytes(header.as_bytes()) {
            response.headers_mut().append(header::WARNING, value);
        }
    }
    response
}

/// An error as a `Status` response.
pub fn error(err: &ApiError) -> Response {
    let status = StatusCode::from_u16(err.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(status, &err.to_status());
    if let Some(seconds) = err.retry_after_seconds() {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Lets handlers return `Result<Response, ApiError>`.
#[derive(Debug)]
pub struct Reply(pub Result<Response, ApiError>);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(response) => response,
            Err(err) => error(&err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let q = Query::parse(Some("labelSelector=app+in+%28a%2Cb%29&watch=1&limit=500&limit=10"));
        assert_eq!(q.get("labelSelector"), Some("app in (a,b)"));
        assert!(q.flag("watch"));
        assert_eq!(q.uint("limit").unwrap(), Some(10));
        assert!(Query::parse(Some("limit=x")).uint("limit").is_err());
    }

    #[test]
    fn bodies() {
        let mut headers = HeaderMap::new();
        assert_eq!(decode_object(&headers, br#"{"a":1}"#, "v1", "x").unwrap()["a"], 1);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/yaml"));
        assert_eq!(decode_object(&headers, b"a: 1\nb: [x]\n", "v1", "x").unwrap()["b"][0], "x");
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(decode_object(&headers, b"", "v1", "x").unwrap_err().code, 415);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.kubernetes.protobuf"));
        assert_eq!(decode_object(&headers, b"{}", "v1", "ConfigMap").unwrap_err().code, 400);
    }
}
