//! The delay before a Job replaces failed pods (upstream `backoff_utils.go`), worked out from
//! the pods themselves instead of an in-memory record: the failures that finished after the
//! last success count, and the delay doubles from 10 s per failure up to 10 min.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use super::{Ctx, DEFAULT_POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF};

/// The delay for `failures` consecutive failures (upstream `getRemainingTimeForFailuresCount`
/// without the elapsed part).
pub(crate) fn delay_for(failures: u32) -> Duration {
    let mut delay = DEFAULT_POD_FAILURE_BACKOFF;
    for _ in 1..failures {
        delay = delay.saturating_mul(2);
        if delay >= MAX_POD_FAILURE_BACKOFF {
            return MAX_POD_FAILURE_BACKOFF;
        }
    }
    delay
}

/// How long pod creation must still wait at `now`, or `None` when it may go ahead.
pub(super) fn remaining(ctx: &Ctx<'_>, now: Timestamp) -> Option<Duration> {
    let last_success = ctx.facts.iter().filter(|f| f.phase == "Succeeded").filter_map(|f| f.finished_at()).max();
    let mut failures = 0u32;
    let mut last_failure: Option<Timestamp> = None;
    for f in ctx.facts.iter().filter(|f| ctx.is_failed(f)) {
        let Some(at) = f.finished_at() else { continue };
        if last_success.is_some_and(|s| at <= s) {
            continue;
        }
        failures += 1;
        last_failure = Some(last_failure.map_or(at, |l| l.max(at)));
    }
    let last = last_failure?;
    let delay = delay_for(failures);
    let elapsed = Duration::try_from(now.duration_since(last)).unwrap_or(Duration::ZERO);
    delay.checked_sub(elapsed).filter(|d| !d.is_zero())
}
