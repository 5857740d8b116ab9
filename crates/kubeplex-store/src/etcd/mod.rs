//! The etcd v3 backend (being written).

use std::time::Duration;

/// Options for [`EtcdStore`].
#[derive(Clone, Debug)]
pub struct EtcdOptions {
    /// How long to wait for a connection to an endpoint.
    pub connect_timeout: Duration,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions { connect_timeout: Duration::from_secs(5) }
    }
}

/// A store on an etcd v3 cluster.
#[derive(Debug)]
pub struct EtcdStore {}
