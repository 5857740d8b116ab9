//! The crate's error type.

use thiserror::Error;

/// What can go wrong while reading a nodes file or simulating a node.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum Error {
    /// A nodes file that cannot be read (YAML/JSON syntax, unknown keys,
    /// wrong types), with the parser's message (which names the line).
    #[error("nodes file: {0}")]
    Parse(String),
    /// A nodes file that parses but cannot be used, with the reason.
    #[error("nodes file: {0}")]
    Config(String),
    /// A CIDR that is not `a.b.c.d/n` with its host bits zero.
    #[error("invalid CIDR {0:?}: expected an IPv4 network such as \"10.244.0.0/16\"")]
    InvalidCidr(String),
    /// Every pod IP of a node's pod CIDR is in use.
    #[error("no pod IPs left in {cidr}: all {size} addresses are in use")]
    PodIpsExhausted {
        /// The node's pod CIDR.
        cidr: String,
        /// How many pod IPs the CIDR has.
        size: u32,
    },
    /// An IP that is not one of the pod IPs of the node's pod CIDR.
    #[error("{ip} is not a pod IP of {cidr}")]
    IpOutOfRange {
        /// The address asked for.
        ip: String,
        /// The node's pod CIDR.
        cidr: String,
    },
}
