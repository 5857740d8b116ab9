//! kubeplex's Kubernetes API server: one process serving the Kubernetes API
//! of many logical clusters on one store.
//!
//! ```text
//!  transport (TLS, HTTP/1.1+2, client certs)
//!    ─► operations (/metrics, fair in-flight limits per cluster)
//!    ─► api::router: path ─► registry (built-in + the cluster's CRDs)
//!         ─► discovery | openapi | crud | patch | watch
//!              (fieldvalidation, strategy, convert, table, managed: managedFields
//!               on every write, server-side apply)
//!         ─► objects ─► metered store ─► kubeplex-store
//!  controllers: crds (names, Established, cleanup), clusters (reaper)
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
pub mod managed;
pub mod metered_store;
pub mod metrics;
pub mod objects;
pub mod openapi;
pub mod operations;
pub mod overload;
pub mod patch;
pub mod podstreams;
pub mod path;
pub mod registry;
pub mod select;
pub mod server;
pub mod serviceips;
pub mod strategy;
pub mod table;
pub mod transport;
pub mod watch;
pub mod watchcache;
