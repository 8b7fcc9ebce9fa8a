//! What run control keeps between requests: a step-out in progress per task, and whether
//! reverse execution is offered.

/// Whether reverse execution is advertised (hsxd `record`, `step_back`,
/// `reverse_continue`; a launch records from the load on).
pub(super) const SUPPORTS_STEP_BACK: bool = true;
/// A step that finishes when the task reaches `temp_addr` at depth ≤ `target_depth`.
#[derive(Debug, Clone)]
pub(super) struct PendingStep {
    /// The return address (a temporary breakpoint).
    pub temp_addr: u32,
    /// Stack depth at which the step is complete.
    pub target_depth: usize,
    /// `next`: the line being stepped over, to finish after the return.
    pub then_next: Option<Option<(String, u32)>>,
}
