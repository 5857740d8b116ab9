//! Durations as people read them in `kubectl get`: the `5m`, `3h12m`, `2d4h`
//! of the Age, Duration and Restarts columns, with the precision and cut-over
//! points of `k8s.io/apimachinery/pkg/util/duration` (`HumanDuration`,
//! `ShortHumanDuration`), and the `<unknown>` Age of a missing timestamp.

use jiff::{SignedDuration, Timestamp};

const SECOND: i128 = 1_000_000_000;
const MINUTE: i128 = 60 * SECOND;
const HOUR: i128 = 60 * MINUTE;

/// `HumanDuration`: about 2–3 significant figures (`90s`, `5m30s`, `45m`,
/// `3h12m`, `20h`, `3d4h`, `20d`, `2y45d`, `9y`). Up to one second in the
/// future reads `0s` (clock skew), further `<invalid>`.
pub fn human_duration(d: SignedDuration) -> String {
    let nanos = d.as_nanos();
    // Go truncates toward zero (`int(d.Seconds())`), as does `/` on integers.
    let seconds = nanos / SECOND;
    if seconds < -1 {
        return "<invalid>".to_owned();
    } else if seconds < 0 {
        return "0s".to_owned();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = nanos / MINUTE;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = nanos / HOUR;
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) }
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let days = (hours / 24) % 365;
        if days == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{days}d", hours / 24 / 365) }
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// `ShortHumanDuration`: one unit only (`59s`, `59m`, `23h`, `364d`, `2y`).
pub fn short_human_duration(d: SignedDuration) -> String {
    let nanos = d.as_nanos();
    let seconds = nanos / SECOND;
    if seconds < -1 {
        "<invalid>".to_owned()
    } else if seconds < 0 {
        "0s".to_owned()
    } else if seconds < 60 {
        format!("{seconds}s")
    } else if nanos / MINUTE < 60 {
        format!("{}m", nanos / MINUTE)
    } else if nanos / HOUR < 24 {
        format!("{}h", nanos / HOUR)
    } else if nanos / HOUR < 24 * 365 {
        format!("{}d", nanos / HOUR / 24)
    } else {
        format!("{}y", nanos / (HOUR * 24 * 365))
    }
}

/// The Age of something that happened at `at`: `<unknown>` when there is no
/// timestamp (upstream's `translateTimestampSince` of a zero time).
pub(crate) fn since(at: Option<Timestamp>, now: Timestamp) -> String {
    match at {
        Some(at) => human_duration(now.duration_since(at)),
        None => "<unknown>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: i64) -> SignedDuration {
        SignedDuration::from_secs(s)
    }

    #[test]
    fn human_duration_boundaries() {
        let cases: &[(i64, &str)] = &[
            (-3, "<invalid>"),
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (1, "1s"),
            (59, "59s"),
            (60, "60s"),
            (119, "119s"),
            (120, "2m"),
            (121, "2m1s"),
            (5 * 60 + 30, "5m30s"),
            (9 * 60 + 59, "9m59s"),
            (10 * 60, "10m"),
            (10 * 60 + 59, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 12 * 60 + 5, "3h12m"),
            (8 * 3600 - 1, "7h59m"),
            (8 * 3600, "8h"),
            (48 * 3600 - 1, "47h"),
            (48 * 3600, "2d"),
            (3 * 86400 + 4 * 3600, "3d4h"),
            (8 * 86400 - 1, "7d23h"),
            (8 * 86400, "8d"),
            (2 * 365 * 86400 - 1, "729d"),
            (2 * 365 * 86400, "2y"),
            (2 * 365 * 86400 + 45 * 86400, "2y45d"),
            (8 * 365 * 86400 - 1, "7y364d"),
            (8 * 365 * 86400, "8y"),
            (20 * 365 * 86400, "20y"),
        ];
        for &(s, want) in cases {
            assert_eq!(human_duration(secs(s)), want, "{s}s");
        }
    }

    #[test]
    fn human_duration_subsecond_truncates_toward_zero() {
        assert_eq!(human_duration(SignedDuration::from_millis(-1999)), "0s");
        assert_eq!(human_duration(SignedDuration::from_millis(-2000)), "<invalid>");
        assert_eq!(human_duration(SignedDuration::from_millis(119_999)), "119s");
        assert_eq!(human_duration(SignedDuration::from_millis(1_500)), "1s");
    }

    #[test]
    fn short_human_duration_boundaries() {
        let cases: &[(i64, &str)] = &[
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (59, "59s"),
            (60, "1m"),
            (3599, "59m"),
            (3600, "1h"),
            (86399, "23h"),
            (86400, "1d"),
            (365 * 86400 - 1, "364d"),
            (365 * 86400, "1y"),
            (3 * 365 * 86400 + 5, "3y"),
        ];
        for &(s, want) in cases {
            assert_eq!(short_human_duration(secs(s)), want, "{s}s");
        }
    }

    #[test]
    fn since_unknown_and_known() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        assert_eq!(since(None, now), "<unknown>");
        let at: Timestamp = "2025-01-01T11:55:00Z".parse().unwrap();
        assert_eq!(since(Some(at), now), "5m");
    }
}
