//! Pure Kubernetes API logic (being written).
