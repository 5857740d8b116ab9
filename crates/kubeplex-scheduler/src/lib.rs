//! The kubeplex scheduler's decisions, as pure logic: a snapshot of the
//! nodes of one logical cluster with what their pods request, the filters
//! and scores of the upstream default profile, and the `FailedScheduling`
//! message when no node fits. The I/O (watching pods and nodes, binding) is
//! elsewhere.
//!
//! ```text
//! Node events ──► Snapshot::upsert_node / remove_node
//! assigned pods ─► Snapshot::add_pod / remove_pod   (PodResources::from_pod)
//! pending pod ──► PodRequirements::from_pod ──► Snapshot::schedule_and_assume
//!                   ├─ Decision::Scheduled { node }   → POST pods/binding
//!                   └─ Decision::Unschedulable { message } → PodScheduled=False + FailedScheduling event
//! ```

mod affinity;
mod error;
mod filters;
mod message;
mod requirements;
mod resources;
mod schedule;
mod snapshot;
mod taints;

pub use error::Error;
pub use filters::{Code, Insufficient, Rejection, plugin, run_filters};
pub use message::{
    EVENT_REASON_FAILED_SCHEDULING, NO_NODES_AVAILABLE, REASON_UNSCHEDULABLE, ReasonHistogram, fit_error,
    preemption_without_victims, truncate_event_message,
};
pub use requirements::PodRequirements;
pub use resources::{PodResources, Resources, is_scalar_resource_name};
pub use schedule::{
    Decision, FailedScheduling, ScheduleOptions, Scheduled, balanced_allocation_score, least_allocated_score,
    num_feasible_nodes_to_find,
};
pub use snapshot::{NodeInfo, NodeUsage, Snapshot};
pub use taints::{NodeTaint, PodToleration};
