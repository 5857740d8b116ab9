//! Facts about the built-in Kubernetes types (being written).
