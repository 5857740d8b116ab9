//! Pure Kubernetes API logic for kubeplex, with no I/O: errors as `Status`
//! objects, the descriptors of served resources, selectors, names and
//! quantities. The API server and the controllers build on it.

pub mod crd;
pub mod names;
pub mod quantity;
pub mod resource;
pub mod schema;
pub mod selector;
pub mod status;
