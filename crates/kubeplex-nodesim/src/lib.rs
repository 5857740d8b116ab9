//! Simulated nodes (as KWOK does), as pure logic: the nodes file, the Node
//! and Lease objects of each simulated node, the status a pod goes through
//! on a simulated node, pod IPs, and the answers to log/exec requests. The
//! I/O (heartbeats, status writes, timers) is the runtime's.
//!
//! ```text
//!  nodes file ──config::parse_nodes_file──► NodesConfig { cluster → [NodeSpec] }
//!  NodeSpec ──node::node──► Node          Node ──node::heartbeat──► conditions patch
//!  node name ──lease::node_lease──► Lease  Lease ──lease::renew_lease──► Lease
//!  Pod ──pod::next_transition──► (when, Start | Exit | StopContainers | Delete)
//!        ──pod::running_status / exit_status / stopped_status──► PodStatus
//!  node podCIDR ──ipam::PodIpAllocator──► pod IPs
//!  Pod ──streams::simulated_logs / stream_refused──► log text / 400
//! ```

pub mod config;
mod error;
pub mod ids;
pub mod ipam;
pub mod lease;
pub mod node;
pub mod pod;
pub mod qos;
pub mod streams;

pub use config::{ClusterNodes, DEFAULT_NODES_YAML, NodeSpec, NodesConfig, default_config, parse_nodes_file};
pub use error::Error;
pub use ipam::{Ipv4Cidr, PodIpAllocator};
pub use lease::{next_lease_renewal, node_lease, renew_lease};
pub use node::{NodeHeartbeat, heartbeat, next_heartbeat, node};
pub use pod::{Transition, exit_status, next_transition, running_status, stopped_status};
pub use streams::{StreamKind, log_container, simulated_logs, stream_refused};
