//! Validation of keys, prefixes and values shared by every backend, and the
//! byte arithmetic of prefix ranges.

use crate::{Result, StoreError};

/// The largest value accepted: 1.5 MiB, etcd's default request limit.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024 * 3 / 2;

/// The longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 4096;

/// Checks that `key` can be stored: it starts with `/`, is at most
/// [`MAX_KEY_BYTES`] long, and holds no NUL character.
pub fn validate_key(key: &str) -> Result<()> {
    check(key)?;
    if key.ends_with('/') {
        return Err(invalid(key, "a key must not end with '/' (that is a prefix)"));
    }
    Ok(())
}

/// Checks a prefix for `range`/`watch`: like a key, but it must end with `/`
/// so that `/a/t1/` never matches `/a/t10/...`.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    check(prefix)?;
    if !prefix.ends_with('/') {
        return Err(invalid(prefix, "a prefix must end with '/'"));
    }
    Ok(())
}

/// Checks the size of a value written under `key`.
pub fn validate_value(key: &str, value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StoreError::ValueTooLarge { key: key.to_owned(), size: value.len(), limit: MAX_VALUE_BYTES });
    }
    Ok(())
}

/// The smallest byte string greater than every string starting with
/// `prefix` (etcd's `range_end` for a prefix). `None` when there is none
/// (a prefix of only `0xff` bytes).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn check(key: &str) -> Result<()> {
    if !key.starts_with('/') {
        return Err(invalid(key, "must start with '/'"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(invalid(key, "longer than 4096 bytes"));
    }
    if key.contains('\0') {
        return Err(invalid(key, "contains a NUL character"));
    }
    Ok(())
}

fn invalid(key: &str, reason: &'static str) -> StoreError {
    let shown: String = key.chars().take(200).collect();
    StoreError::InvalidKey { key: shown, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_prefixes() {
        assert!(validate_key("/registry/pods/c/ns/a b%_é").is_ok());
        assert!(validate_key("").is_err());
        assert!(validate_key("registry").is_err());
        assert!(validate_key("/a/").is_err());
        assert!(validate_key("/a\0b").is_err());
        assert!(validate_key(&format!("/{}", "x".repeat(MAX_KEY_BYTES))).is_err());
        assert!(validate_prefix("/").is_ok());
        assert!(validate_prefix("/registry/pods/").is_ok());
        assert!(validate_prefix("/registry/pods").is_err());
    }

    #[test]
    fn values() {
        assert!(validate_value("/k", &vec![0; MAX_VALUE_BYTES]).is_ok());
        let err = validate_value("/k", &vec![0; MAX_VALUE_BYTES + 1]).unwrap_err();
        assert!(err.to_string().contains("larger than the limit of 1572864 bytes"), "{err}");
    }

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end(b"/a/"), Some(b"/a0".to_vec()));
        assert_eq!(prefix_end(b"/a\xff"), Some(b"/b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
    }
}
