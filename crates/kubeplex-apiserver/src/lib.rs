//! kubeplex's Kubernetes API server: one process serving the Kubernetes API
//! of many logical clusters on one store.
//!
//! ```text
//!  transport (TLS, HTTP/1.1+2, client certs) ─► api::router
//!      api: path ─► discovery | crud | watch ─► objects ─► kubeplex-store
//! ```

pub mod api;
pub mod clusters;
pub mod convert;
pub mod crds;
pub mod crud;
pub mod discovery;
pub mod eviction;
pub mod fieldvalidation;
pub mod http;
pub mod metered_store;
pub mod metrics;
pub mod objects;
pub mod openapi;
pub mod operations;
pub mod overload;
pub mod patch;
pub mod path;
pub mod registry;
pub mod select;
pub mod server;
pub mod strategy;
pub mod table;
pub mod transport;
pub mod watch;
pub mod watchcache;
