//! Forgiving reads from a JSON object: a missing, `null` or mistyped field
//! reads as Go's zero value (`""`, `0`, `false`, an empty list), so a printer
//! never panics on an odd object and prints what upstream prints for an
//! unset field.

use jiff::Timestamp;
use serde_json::Value;

/// The value at `path`, `None` when absent or `null` (a nil Go pointer).
pub(crate) fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for key in path {
        cur = cur.get(key)?;
    }
    if cur.is_null() { None } else { Some(cur) }
}

/// Whether a non-null value is at `path` (a non-nil Go pointer).
pub(crate) fn has(v: &Value, path: &[&str]) -> bool {
    get(v, path).is_some()
}

/// The string at `path`, `""` otherwise.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    get(v, path).and_then(Value::as_str).unwrap_or("")
}

/// The integer at `path`, `None` when absent or not a number.
pub(crate) fn opt_int_at(v: &Value, path: &[&str]) -> Option<i64> {
    let n = get(v, path)?;
    n.as_i64()
        .or_else(|| n.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| n.as_f64().map(|f| f as i64))
}

/// The integer at `path`, `0` otherwise.
pub(crate) fn int_at(v: &Value, path: &[&str]) -> i64 {
    opt_int_at(v, path).unwrap_or(0)
}

/// The boolean at `path`, `false` otherwise.
pub(crate) fn bool_at(v: &Value, path: &[&str]) -> bool {
    get(v, path).and_then(Value::as_bool).unwrap_or(false)
}

/// The list at `path`, empty otherwise.
pub(crate) fn list_at<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    get(v, path).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The number of entries of the map at `path`, `0` otherwise.
pub(crate) fn map_len(v: &Value, path: &[&str]) -> usize {
    get(v, path).and_then(Value::as_object).map_or(0, serde_json::Map::len)
}

/// The string entries of the map at `path` (non-string values skipped).
pub(crate) fn string_map<'a>(v: &'a Value, path: &[&str]) -> Vec<(&'a str, &'a str)> {
    get(v, path)
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s))).collect())
        .unwrap_or_default()
}

/// The timestamp at `path`, `None` when absent, unparsable or Go's zero time
/// (`0001-01-01T00:00:00Z`), which upstream treats as unset.
pub(crate) fn time_at(v: &Value, path: &[&str]) -> Option<Timestamp> {
    let ts: Timestamp = str_at(v, path).parse().ok()?;
    // Go's zero time.Time, the year-1 epoch that `IsZero` reports.
    if ts.as_second() == -62_135_596_800 && ts.subsec_nanosecond() == 0 { None } else { Some(ts) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn forgiving_reads() {
        let v = json!({"a": {"b": "x", "n": 3, "f": 2.9, "t": true, "z": null, "l": [1], "m": {"k": "v", "o": 1}}});
        assert_eq!(str_at(&v, &["a", "b"]), "x");
        assert_eq!(str_at(&v, &["a", "n"]), "");
        assert_eq!(str_at(&v, &["a", "missing", "deeper"]), "");
        assert_eq!(int_at(&v, &["a", "n"]), 3);
        assert_eq!(int_at(&v, &["a", "f"]), 2);
        assert_eq!(int_at(&v, &["a", "b"]), 0);
        assert_eq!(opt_int_at(&v, &["a", "z"]), None);
        assert!(bool_at(&v, &["a", "t"]));
        assert!(!bool_at(&v, &["a", "b"]));
        assert!(!has(&v, &["a", "z"]));
        assert!(has(&v, &["a", "l"]));
        assert_eq!(list_at(&v, &["a", "l"]).len(), 1);
        assert!(list_at(&v, &["a", "m"]).is_empty());
        assert_eq!(map_len(&v, &["a", "m"]), 2);
        assert_eq!(string_map(&v, &["a", "m"]), vec![("k", "v")]);
        assert_eq!(map_len(&json!("scalar"), &["x"]), 0);
    }

    #[test]
    fn timestamps() {
        let v = json!({"t": "2025-03-04T05:06:07Z", "zero": "0001-01-01T00:00:00Z", "bad": "yesterday",
                       "micro": "2025-03-04T05:06:07.123456Z"});
        assert_eq!(time_at(&v, &["t"]).map(|t| t.as_second()), Some(1_741_064_767));
        assert_eq!(time_at(&v, &["zero"]), None);
        assert_eq!(time_at(&v, &["bad"]), None);
        assert_eq!(time_at(&v, &["missing"]), None);
        assert_eq!(time_at(&v, &["micro"]).map(|t| t.subsec_nanosecond()), Some(123_456_000));
    }
}
