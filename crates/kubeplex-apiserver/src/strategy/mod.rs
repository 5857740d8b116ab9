//! Per-kind defaulting and validation (being written).
