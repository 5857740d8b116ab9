//! Events the workload controllers record on the objects they manage
//! (`core/v1` Event objects, as client-go's legacy recorder writes them),
//! with upstream's per-object spam filter (a burst of 25 events per
//! source and object, then one more every 5 minutes), so that creating
//! thousands of pods does not write thousands of events.
//!
//! ```text
//!  controller ──► Recorder::record(ctx, object ref, type, reason, message)
//!      ──► spam filter (per source + object) ──► POST /api/v1/namespaces/NS/events (spawned, errors logged)
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;

use crate::client::collection;
use crate::{Context, ObjectKey};

/// Upstream's `defaultSpamBurst`.
const SPAM_BURST: f64 = 25.0;
/// Upstream's `defaultSpamQPS`: one token every 5 minutes.
const SPAM_REFILL: Duration = Duration::from_secs(300);

/// The object an event is about.
#[derive(Debug, Clone)]
pub(crate) struct Involved<'a> {
    /// The object's key (cluster, namespace, name).
    pub key: &'a ObjectKey,
    /// `apps/v1`, `batch/v1`.
    pub api_version: &'static str,
    /// `ReplicaSet`, `Deployment`, `Job`.
    pub kind: &'static str,
    /// The object's UID.
    pub uid: Option<&'a str>,
    /// The object's resourceVersion.
    pub resource_version: Option<&'a str>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Records events for one controller (`source` = its component name).
#[derive(Debug)]
pub(crate) struct Recorder {
    source: &'static str,
    buckets: Mutex<HashMap<ObjectKey, Bucket>>,
}

impl Recorder {
    /// A recorder writing events with `source.component = source`.
    pub(crate) fn new(source: &'static str) -> Recorder {
        Recorder { source, buckets: Mutex::new(HashMap::new()) }
    }

    /// Forgets the spam-filter state of an object that went away.
    pub(crate) fn forget(&self, key: &ObjectKey) {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    fn allow(&self, key: &ObjectKey) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(key.clone()).or_insert(Bucket { tokens: SPAM_BURST, at: now });
        let refill = now.duration_since(bucket.at).as_secs_f64() / SPAM_REFILL.as_secs_f64();
        bucket.tokens = (bucket.tokens + refill).min(SPAM_BURST);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Records one event (written in the background; failures are logged).
    pub(crate) fn record(&self, ctx: &Arc<Context>, involved: &Involved<'_>, type_: &str, reason: &str, message: &str) {
        if !self.allow(involved.key) {
            return;
        }
        let now = Timestamp::now();
        let seconds = Timestamp::from_second(now.as_second()).unwrap_or(now);
        let key = involved.key;
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{}.{:x}", key.name, now.as_nanosecond())),
                namespace: Some(key.namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some(involved.api_version.to_owned()),
                kind: Some(involved.kind.to_owned()),
                name: Some(key.name.clone()),
                namespace: Some(key.namespace.clone()),
                uid: involved.uid.map(str::to_owned),
                resource_version: involved.resource_version.map(str::to_owned),
                ..ObjectReference::default()
            },
            reason: Some(reason.to_owned()),
            message: Some(message.to_owned()),
            type_: Some(type_.to_owned()),
            source: Some(EventSource { component: Some(self.source.to_owned()), host: None }),
            first_timestamp: Some(Time(seconds)),
            last_timestamp: Some(Time(seconds)),
            count: Some(1),
            reporting_component: Some(self.source.to_owned()),
            reporting_instance: None,
            ..Event::default()
        };
        let path = collection(&key.cluster, "v1", Some(&key.namespace), "events");
        let client = ctx.client.clone();
        tokio::spawn(async move {
            if let Err(e) = client.create(&path, &event).await {
                tracing::debug!(path = %path, error = %e, "recording an event failed");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spam_filter_allows_a_burst_of_25_per_object() {
        let recorder = Recorder::new("test");
        let a = ObjectKey::new("c", "ns", "a");
        let b = ObjectKey::new("c", "ns", "b");
        assert_eq!((0..30).filter(|_| recorder.allow(&a)).count(), 25);
        assert!(recorder.allow(&b), "another object has its own budget");
        recorder.forget(&a);
        assert!(recorder.allow(&a));
    }
}
