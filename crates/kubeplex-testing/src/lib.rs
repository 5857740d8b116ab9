//! Helpers for kubeplex's tests and benchmarks: real servers started on
//! loopback ports, stopped by their PID when dropped.

mod etcd;
mod ports;

pub use etcd::EtcdServer;
pub use ports::free_port;
