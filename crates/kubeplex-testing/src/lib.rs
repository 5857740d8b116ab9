//! Helpers for kubeplex's tests and benchmarks: real servers started on
//! loopback ports, stopped by their PID when dropped.

mod etcd;
mod kubeplex;
mod ports;

pub use etcd::EtcdServer;
pub use kubeplex::{Kubectl, KubeplexServer};
pub use ports::free_port;
