//! The in-process client controllers write with: requests go to the API
//! server's router without a socket, so defaulting, validation, admission,
//! field management and graceful deletion apply exactly as for `kubectl`.
//!
//! ```text
//!  controller ──► Client::create(cluster, path, &pod) ──► api::router (oneshot) ──► registry ──► store
//! ```

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use kubeplex_apiserver::api::{ApiServer, router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

use crate::Error;

/// The field manager (and user agent) of kubeplex's controllers.
pub const FIELD_MANAGER: &str = "kubeplex-controller-manager";

/// The query of every write: the controllers' field manager, and no
/// unknown-field check (bodies are typed objects, serialized here, so the
/// check could never find anything and would cost a second parse).
const WRITE_QUERY: &str = "fieldManager=kubeplex-controller-manager&fieldValidation=Ignore";

/// Sends requests to the API server in-process.
#[derive(Clone, Debug)]
pub struct Client {
    router: Router,
}

/// The path of a resource collection (`/api/v1/namespaces/NS/pods`) in a
/// logical cluster.
pub fn collection(cluster: &str, group_version: &str, namespace: Option<&str>, plural: &str) -> String {
    let root = if group_version.contains('/') { "apis" } else { "api" };
    match namespace {
        Some(ns) => format!("/clusters/{cluster}/{root}/{group_version}/namespaces/{ns}/{plural}"),
        None => format!("/clusters/{cluster}/{root}/{group_version}/{plural}"),
    }
}

impl Client {
    /// A client of `api`.
    pub fn new(api: Arc<ApiServer>) -> Client {
        Client { router: router(api) }
    }

    /// Sends one request; the body of a 2xx reply, or the `Status` of an
    /// error as [`Error::Api`].
    pub async fn send(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Result<Vec<u8>, Error> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ACCEPT, "application/json")
            .header(header::USER_AGENT, FIELD_MANAGER)
            .body(Body::from(body))
            .map_err(|e| Error::Request(e.to_string()))?;
        let response = self.router.clone().oneshot(request).await.map_err(|e| Error::Request(e.to_string()))?;
        let status = response.status();
        let bytes = response.into_body().collect().await.map_err(|e| Error::Request(e.to_string()))?.to_bytes();
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let message = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
        Err(Error::Api { code: status.as_u16(), message })
    }

    async fn json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &B,
    ) -> Result<T, Error> {
        let body = serde_json::to_vec(body).map_err(|e| Error::Request(e.to_string()))?;
        let reply = self.send(method, path, content_type, body).await?;
        serde_json::from_slice(&reply).map_err(|e| Error::Request(format!("decoding the reply of {path}: {e}")))
    }

    /// `POST` of `object` to the collection at `path`.
    pub async fn create<T: Serialize + DeserializeOwned>(&self, path: &str, object: &T) -> Result<T, Error> {
        self.json(Method::POST, &format!("{path}?{WRITE_QUERY}"), "application/json", object).await
    }

    /// `PUT` of `object` at `path` (the object, or its `/status`).
    pub async fn replace<T: Serialize + DeserializeOwned>(&self, path: &str, object: &T) -> Result<T, Error> {
        self.json(Method::PUT, &format!("{path}?{WRITE_QUERY}"), "application/json", object).await
    }

    /// A JSON merge patch of the object at `path`.
    pub async fn merge_patch<T: DeserializeOwned>(&self, path: &str, patch: &Value) -> Result<T, Error> {
        let path = format!("{path}?{WRITE_QUERY}");
        self.json(Method::PATCH, &path, "application/merge-patch+json", patch).await
    }

    /// A strategic merge patch of the object at `path`.
    pub async fn strategic_patch<T: DeserializeOwned>(&self, path: &str, patch: &Value) -> Result<T, Error> {
        let path = format!("{path}?{WRITE_QUERY}");
        self.json(Method::PATCH, &path, "application/strategic-merge-patch+json", patch).await
    }

    /// `POST` of a subresource (`pods/NAME/binding`) whose reply is a
    /// `Status`.
    pub async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<(), Error> {
        let body = serde_json::to_vec(body).map_err(|e| Error::Request(e.to_string()))?;
        self.send(Method::POST, path, "application/json", body).await.map(drop)
    }

    /// `DELETE` of the object at `path` with `options` (a `DeleteOptions`);
    /// an object already gone is not an error.
    pub async fn delete(&self, path: &str, options: &Value) -> Result<(), Error> {
        let body = serde_json::to_vec(options).map_err(|e| Error::Request(e.to_string()))?;
        match self.send(Method::DELETE, path, "application/json", body).await {
            Ok(_) => Ok(()),
            Err(Error::Api { code, .. }) if code == StatusCode::NOT_FOUND.as_u16() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `GET` of the object at `path`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let reply = self.send(Method::GET, path, "application/json", Vec::new()).await?;
        serde_json::from_slice(&reply).map_err(|e| Error::Request(format!("decoding the reply of {path}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_are_addressed_per_cluster() {
        assert_eq!(collection("root", "v1", Some("demo"), "pods"), "/clusters/root/api/v1/namespaces/demo/pods");
        assert_eq!(collection("t1", "apps/v1", None, "deployments"), "/clusters/t1/apis/apps/v1/deployments");
    }

    #[test]
    fn writes_name_the_field_manager() {
        assert!(WRITE_QUERY.starts_with(&format!("fieldManager={FIELD_MANAGER}&")));
    }
}
