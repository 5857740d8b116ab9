//! Go-compatible rendering of JSON values for error messages.
//!
//! Upstream's patch errors embed values printed with Go's `fmt` verbs (`%v`, `%s`, `%q`) and Go type
//! names (`map[string]interface {}`), on values decoded the way the API server decodes them: objects as
//! `map[string]interface{}`, lists as `[]interface{}`, integers as `int64`, other numbers as `float64`.
//! This module reproduces those renderings so our messages read exactly like upstream's, e.g.
//! `map: map[image:nginx] does not contain declared merge key: name`.

use serde_json::{Number, Value};

/// The Go dynamic type a decoded JSON value has on the API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoKind {
    Nil,
    Bool,
    Int,
    Float,
    String,
    Map,
    Slice,
}

/// The Go type of `v` as the API server decodes it (integers that fit in `int64` stay integers).
pub(crate) fn kind(v: &Value) -> GoKind {
    match v {
        Value::Null => GoKind::Nil,
        Value::Bool(_) => GoKind::Bool,
        Value::Number(n) if n.is_i64() => GoKind::Int,
        Value::Number(_) => GoKind::Float,
        Value::String(_) => GoKind::String,
        Value::Object(_) => GoKind::Map,
        Value::Array(_) => GoKind::Slice,
    }
}

/// `reflect.TypeOf(v)` printed with `%s` (a nil value prints as `%!s(<nil>)`).
pub(crate) fn type_name(v: &Value) -> &'static str {
    match kind(v) {
        GoKind::Nil => "%!s(<nil>)",
        GoKind::Bool => "bool",
        GoKind::Int => "int64",
        GoKind::Float => "float64",
        GoKind::String => "string",
        GoKind::Map => "map[string]interface {}",
        GoKind::Slice => "[]interface {}",
    }
}

/// Go's `==` on two `interface{}` values holding decoded JSON. Composite values, which Go cannot
/// compare (it panics), compare structurally here.
pub(crate) fn go_eq(a: &Value, b: &Value) -> bool {
    kind(a) == kind(b) && a == b
}

/// Go's `%v` rendering.
pub fn fmt_v(v: &Value) -> String {
    let mut out = String::new();
    write_v(&mut out, v);
    out
}

fn write_v(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_v(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_v(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                if let Some(item) = map.get(k.as_str()) {
                    write_v(out, item);
                }
            }
            out.push(']');
        }
    }
}

/// Go's `%s` rendering: strings as they are, other scalars as `%!s(type=value)`.
pub(crate) fn fmt_s(v: &Value) -> String {
    let mut out = String::new();
    write_s(&mut out, v);
    out
}

fn write_s(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("%!s(<nil>)"),
        Value::String(s) => out.push_str(s),
        Value::Bool(_) | Value::Number(_) => {
            out.push_str("%!s(");
            out.push_str(type_name(v));
            out.push('=');
            write_v(out, v);
            out.push(')');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_s(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                if let Some(item) = map.get(k.as_str()) {
                    write_s(out, item);
                }
            }
            out.push(']');
        }
    }
}

fn number_v(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    match n.as_f64() {
        Some(f) => float_v(f),
        None => n.to_string(),
    }
}

/// Go's `%v` for a `float64` (`strconv` `'g'` with shortest precision): the shortest round-tripping
/// digits, in exponent form when the decimal exponent is below -4 or at least 6 (`1e+06`, `123456`,
/// `1e-05`).
fn float_v(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf".to_string() } else { "-Inf".to_string() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0".to_string() } else { "0".to_string() };
    }
    // Rust's `{:e}` prints the shortest round-tripping digits: "1.2345e6", "5e-7".
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let nd = digits.len() as i32;
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if nd > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
    } else {
        let dp = exp + 1; // position of the decimal point within `digits`
        if dp <= 0 {
            out.push_str("0.");
            for _ in 0..(-dp) {
                out.push('0');
            }
            out.push_str(&digits);
        } else if dp >= nd {
            out.push_str(&digits);
            for _ in 0..(dp - nd) {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..dp as usize]);
            out.push('.');
            out.push_str(&digits[dp as usize..]);
        }
    }
    out
}

/// Go's `%q` (`strconv.Quote`) for a string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => {
                let cp = c as u32;
                if cp <= 0xffff {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Atoi` on a 64-bit platform, with its error text.
pub(crate) fn atoi(s: &str) -> Result<i64, String> {
    let syntax = || format!("strconv.Atoi: parsing {}: invalid syntax", quote(s));
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    let mut value: i128 = 0;
    for b in digits.bytes() {
        value = value * 10 + i128::from(b - b'0');
        if value > i128::from(i64::MAX) + 1 {
            return Err(format!("strconv.Atoi: parsing {}: value out of range", quote(s)));
        }
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", quote(s)))
}

/// The word Go's `json` decoder uses for a JSON value's type in "cannot unmarshal X into …".
pub(crate) fn json_type_word(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percent_v_matches_go() {
        assert_eq!(
            fmt_v(&json!({"image": "nginx", "ports": [{"containerPort": 80}]})),
            "map[image:nginx ports:[map[containerPort:80]]]"
        );
        assert_eq!(fmt_v(&json!({"b": null, "a": true})), "map[a:true b:<nil>]");
        assert_eq!(fmt_v(&json!([1, "x", 2.5])), "[1 x 2.5]");
        assert_eq!(fmt_v(&json!({})), "map[]");
    }

    #[test]
    fn float_v_matches_go() {
        assert_eq!(float_v(2.5), "2.5");
        assert_eq!(float_v(1e6), "1e+06");
        assert_eq!(float_v(123456.0), "123456");
        assert_eq!(float_v(1234567.0), "1.234567e+06");
        assert_eq!(float_v(0.0001), "0.0001");
        assert_eq!(float_v(0.00001), "1e-05");
        assert_eq!(float_v(-1.5e300), "-1.5e+300");
        assert_eq!(float_v(100.0), "100");
    }

    #[test]
    fn percent_s_matches_go() {
        assert_eq!(fmt_s(&json!("merge")), "merge");
        assert_eq!(fmt_s(&json!(5)), "%!s(int64=5)");
        assert_eq!(fmt_s(&json!(true)), "%!s(bool=true)");
        assert_eq!(fmt_s(&Value::Null), "%!s(<nil>)");
    }

    #[test]
    fn quote_and_atoi_match_go() {
        assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
        assert_eq!(quote("\u{1}"), "\"\\x01\"");
        assert_eq!(atoi("12"), Ok(12));
        assert_eq!(atoi("+3"), Ok(3));
        assert_eq!(atoi("-3"), Ok(-3));
        assert_eq!(atoi("x").unwrap_err(), "strconv.Atoi: parsing \"x\": invalid syntax");
        assert_eq!(atoi("").unwrap_err(), "strconv.Atoi: parsing \"\": invalid syntax");
        assert_eq!(
            atoi("99999999999999999999").unwrap_err(),
            "strconv.Atoi: parsing \"99999999999999999999\": value out of range"
        );
        assert_eq!(atoi("-9223372036854775808"), Ok(i64::MIN));
    }

    #[test]
    fn kinds_and_equality() {
        assert!(!go_eq(&json!(1), &json!(1.0)));
        assert!(go_eq(&json!("a"), &json!("a")));
        assert_eq!(type_name(&json!({})), "map[string]interface {}");
        assert_eq!(type_name(&Value::Null), "%!s(<nil>)");
    }
}
