//! The store contract suite: every case is written once, as an async
//! function of `Arc<dyn Store>`, and run against every backend — SQLite on a
//! fresh database file, etcd on a fresh real etcd server — as one test per
//! (backend, case), named `sqlite::<case>` and `etcd::<case>`.
//!
//! ```text
//!   contract/kv.rs ─────┐
//!   contract/watch.rs ──┼─ case(Arc<dyn Store>) ──► sqlite::<case>  (TempDir)
//!   contract/lifecycle ─┘   (contract/support.rs) └► etcd::<case>   (EtcdServer)
//! ```
//!
//! Without etcd the etcd tests fail, naming the cause; they never skip.
//! Each case runs under a generous timeout, and so does every wait on a
//! watch, so a bug fails a test instead of hanging the suite. Nothing is
//! asserted about timings.

mod common;

mod contract {
    pub mod kv;
    pub mod lifecycle;
    pub mod support;
    pub mod watch;
}

use std::future::Future;
use std::time::Duration;

/// The longest a case may take before it is failed as hung.
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

async fn run_case(name: &str, case: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    match tokio::time::timeout(CASE_TIMEOUT, case).await {
        Ok(result) => result,
        Err(_) => anyhow::bail!("{name} did not finish within {CASE_TIMEOUT:?}: a request or watch hung"),
    }
}

/// One `#[tokio::test]` per backend and case.
macro_rules! contract_suite {
    ($($group:ident :: $case:ident),+ $(,)?) => {
        #[cfg(feature = "sqlite")]
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $case() -> anyhow::Result<()> {
                    let backend = crate::common::sqlite()?;
                    crate::run_case(
                        concat!("sqlite::", stringify!($case)),
                        crate::contract::$group::$case(backend.store()),
                    )
                    .await
                }
            )+
        }

        #[cfg(feature = "etcd")]
        mod etcd {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $case() -> anyhow::Result<()> {
                    let backend = crate::common::etcd().await?;
                    crate::run_case(
                        concat!("etcd::", stringify!($case)),
                        crate::contract::$group::$case(backend.store()),
                    )
                    .await
                }
            )+
        }
    };
}

contract_suite! {
    kv::revisions_strictly_increase,
    kv::preconditions_fail_typed_without_consuming_revisions,
    kv::get_latest_and_past_revisions,
    kv::range_order_limits_and_past_revisions,
    kv::range_paging_sees_one_snapshot_under_writes,
    kv::values_up_to_the_limit,
    kv::unusual_keys_round_trip,
    kv::invalid_keys_and_prefixes,
    kv::prefix_isolation,
    kv::concurrent_read_modify_write_counters,
    watch::watch_from_past_revisions,
    watch::watch_includes_events_written_during_setup,
    watch::many_watchers_see_one_sequence,
    lifecycle::compaction_bounds_reads_and_watches,
    lifecycle::ttl_keys_expire_and_deletion_is_watched,
}
