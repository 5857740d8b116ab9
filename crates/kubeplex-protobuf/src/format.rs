//! The JSON text Go gives the special scalar types: `metav1.Time` (RFC 3339, seconds),
//! `metav1.MicroTime` (RFC 3339, microseconds), `metav1.Duration` (`time.Duration.String()`), and
//! float64 numbers (integral values written without a fraction, as `encoding/json` writes them).

use serde_json::{Number, Value};

/// Seconds from the Unix epoch to Go's zero `time.Time` (0001-01-01T00:00:00Z), which
/// `metav1.Time` writes as JSON `null`.
pub(crate) const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DDTHH:MM:SS` for seconds since the epoch, UTC, years padded to four digits as Go does.
fn date_time(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let year = if year < 0 { format!("-{:04}", year.unsigned_abs()) } else { format!("{year:04}") };
    format!("{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}", in_day / 3600, in_day % 3600 / 60, in_day % 60)
}

/// `metav1.Time` JSON: `2006-01-02T15:04:05Z` (UTC, no fraction).
pub(crate) fn rfc3339(seconds: i64) -> String {
    format!("{}Z", date_time(seconds))
}

/// `metav1.MicroTime` JSON: `2006-01-02T15:04:05.000000Z` (UTC, always six digits). `nanos` is
/// normalized as Go's `time.Unix` does (any value, carried into the seconds).
/// Returns `None` for Go's zero time (written as `null`).
pub(crate) fn rfc3339_micro(seconds: i64, nanos: i64) -> Option<String> {
    let total = i128::from(seconds) * NANOS_PER_SECOND + i128::from(nanos);
    let whole = total.div_euclid(NANOS_PER_SECOND);
    let frac = total.rem_euclid(NANOS_PER_SECOND);
    if whole == i128::from(GO_ZERO_TIME_SECONDS) && frac == 0 {
        return None;
    }
    // `whole` is within a few seconds of an i64 value; clamp rather than panic at the extremes.
    let whole = i64::try_from(whole).unwrap_or(if whole < 0 { i64::MIN } else { i64::MAX });
    Some(format!("{}.{:06}Z", date_time(whole), frac / 1000))
}

/// Go's `time.Duration.String()` for `nanos` nanoseconds: `0s`, `1.5s`, `2m0s`, `1h0m0.5s`, `300ms`,
/// `1.2µs`, `-5ns`.
pub(crate) fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let negative = nanos < 0;
    let mut u = nanos.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Below one second: the largest unit that keeps an integer part.
        let (precision, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (whole, frac) = fraction(u, precision);
        out.push_str(&whole.to_string());
        out.push_str(&frac);
        out.push_str(unit);
    } else {
        let (seconds_total, frac) = fraction(u, 9);
        u = seconds_total;
        let seconds = u % 60;
        u /= 60;
        if u > 0 {
            let minutes = u % 60;
            let hours = u / 60;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&format!("{seconds}{frac}s"));
    }
    if negative { format!("-{out}") } else { out }
}

/// Splits `value` into `value / 10^precision` and the fraction `.ddd` with trailing zeros removed
/// (empty when the fraction is zero).
fn fraction(value: u64, precision: u32) -> (u64, String) {
    if precision == 0 {
        return (value, String::new());
    }
    let scale = 10u64.pow(precision);
    let frac = value % scale;
    if frac == 0 {
        return (value / scale, String::new());
    }
    let digits = format!("{frac:0width$}", width = precision as usize);
    (value / scale, format!(".{}", digits.trim_end_matches('0')))
}

/// A float64 as a JSON number, integral values as integers (Go writes `1`, not `1.0`).
/// `None` for NaN and infinities, which JSON cannot hold.
pub(crate) fn float_value(value: f64) -> Option<Value> {
    if !value.is_finite() {
        return None;
    }
    // 2^53: every integer below it is exact in f64 and in i64.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        return Some(Value::Number(Number::from(value as i64)));
    }
    Number::from_f64(value).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_as_go_does() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_323_045), "2026-01-02T03:04:05Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(GO_ZERO_TIME_SECONDS + 1), "0001-01-01T00:00:01Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_800), "10000-01-01T00:00:00Z");
        assert_eq!(rfc3339(GO_ZERO_TIME_SECONDS - 86_400 * 366), "0000-01-01T00:00:00Z");
        assert_eq!(rfc3339(GO_ZERO_TIME_SECONDS - 86_400 * (366 + 365)), "-0001-01-01T00:00:00Z");
    }

    #[test]
    fn formats_micro_times_as_go_does() {
        assert_eq!(rfc3339_micro(1_767_323_045, 123_456_000).as_deref(), Some("2026-01-02T03:04:05.123456Z"));
        assert_eq!(rfc3339_micro(1_767_323_045, 0).as_deref(), Some("2026-01-02T03:04:05.000000Z"));
        assert_eq!(rfc3339_micro(0, -1_000).as_deref(), Some("1969-12-31T23:59:59.999999Z"));
        assert_eq!(rfc3339_micro(0, 1_500_000_000).as_deref(), Some("1970-01-01T00:00:01.500000Z"));
        assert_eq!(rfc3339_micro(GO_ZERO_TIME_SECONDS, 0), None);
        assert!(rfc3339_micro(i64::MAX, i64::MAX).is_some());
    }

    #[test]
    fn formats_durations_as_go_does() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (1_000, "1µs"),
            (1_200, "1.2µs"),
            (1_000_000, "1ms"),
            (1_500_000, "1.5ms"),
            (300_000_000, "300ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (60_000_000_000, "1m0s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_000_000_001, "1h2m3.000000001s"),
            (-5, "-5ns"),
            (-90_000_000_000, "-1m30s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (nanos, text) in cases {
            assert_eq!(go_duration(nanos), text, "{nanos}");
        }
    }

    #[test]
    fn writes_floats_as_go_does() {
        assert_eq!(float_value(1.0), Some(Value::from(1)));
        assert_eq!(float_value(-3.0), Some(Value::from(-3)));
        assert_eq!(float_value(0.5), Some(Value::from(0.5)));
        assert_eq!(float_value(1e300), Number::from_f64(1e300).map(Value::Number));
        assert_eq!(float_value(f64::NAN), None);
        assert_eq!(float_value(f64::INFINITY), None);
    }
}
