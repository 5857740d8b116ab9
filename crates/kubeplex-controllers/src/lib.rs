//! What kubeplex's controllers decide, as pure logic over Kubernetes types:
//! given an object and what it owns, the actions that bring the world to
//! the desired state and the status to report. The runtime that feeds them
//! from the watch cache and writes through the API layer is elsewhere.

mod error;
pub mod deployment;
pub mod endpoints;
pub mod ipalloc;
pub mod job;
pub mod pods;
pub mod replicaset;

pub use error::Error;
