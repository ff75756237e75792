//! Is the rollout `await-stable` follows done, failed, replaced or still
//! going? Decided from one DescribeServices answer and what the answer before
//! it showed, with no I/O and no clock, so recorded answers test it
//! (`tests/fixtures/describe_services/`).

use std::time::Duration;

use super::CONSISTENCY_GRACE;
use crate::aws::{Deployment, DeploymentStatus, RolloutState, ServiceState};
use crate::taskdef::short;

/// What one answer says about the followed deployment.
#[derive(Debug, Clone, PartialEq)]
pub enum RolloutVerdict<'a> {
    /// The service has no ECS deployments: its deployment controller is
    /// CODE_DEPLOY or EXTERNAL.
    Unfollowable,
    /// Ours is not in the answer (yet, or again) and may still appear: ECS
    /// is eventually consistent.
    NotYetVisible,
    /// Ours is COMPLETED (or has no rollout state), alone, and every task runs.
    Done { ours: &'a Deployment },
    /// ECS marked ours FAILED, or dropped it after a "deployment failed" event.
    Failed { ours: Ours<'a>, why: String, back_to: Option<&'a Deployment> },
    /// Another deployment took over before ours finished.
    Replaced { ours: Ours<'a>, by: Option<&'a Deployment> },
    /// Still rolling out; `draining` tasks of older deployments still run.
    InProgress { ours: &'a Deployment, draining: i32 },
}

/// The followed deployment, in the answer or gone from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ours<'a> {
    Shown(&'a Deployment),
    /// Shown before (or past the grace) but not now: only its id is left.
    Gone(&'a str),
}

impl Ours<'_> {
    pub fn id(&self) -> &str {
        match self {
            Ours::Shown(d) => &d.id,
            Ours::Gone(id) => id,
        }
    }

    /// The task definition it rolls out, when the answer still says.
    pub fn task_definition(&self) -> Option<&str> {
        match self {
            Ours::Shown(d) => Some(&d.task_definition),
            Ours::Gone(_) => None,
        }
    }
}

/// What the earlier answers of one wait showed of the followed deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Earlier {
    /// An earlier answer showed it.
    pub seen: bool,
    /// The answer just before this one did not show it.
    pub missing: bool,
}

impl Earlier {
    /// What the next answer's judgement will know, after this `verdict`.
    pub fn after(self, verdict: &RolloutVerdict) -> Earlier {
        let missing = *verdict == RolloutVerdict::NotYetVisible;
        Earlier { seen: self.seen || !missing, missing }
    }
}

/// Judges `state` for the deployment `followed`, knowing what the `earlier`
/// answers showed; `waited` is the time since the wait began.
pub fn judge<'a>(state: &'a ServiceState, followed: &'a str, earlier: Earlier, waited: Duration) -> RolloutVerdict<'a> {
    if state.deployments.is_empty() {
        return RolloutVerdict::Unfollowable;
    }
    let primary = state.primary();
    let Some(ours) = state.deployments.iter().find(|d| d.id == followed) else {
        // ECS is eventually consistent: one answer without it may be stale,
        // so it takes two in a row, and a new one gets a grace besides.
        if !earlier.missing || (!earlier.seen && waited < CONSISTENCY_GRACE) {
            return RolloutVerdict::NotYetVisible;
        }
        // Gone between two answers: ECS says why in its events.
        let failed = format!("(deployment {followed}) deployment failed");
        return match state.events.iter().find(|e| e.message.contains(&failed)) {
            Some(event) => RolloutVerdict::Failed {
                ours: Ours::Gone(followed),
                why: event
                    .message
                    .rsplit("deployment failed: ")
                    .next()
                    .unwrap_or("failed")
                    .trim_end_matches('.')
                    .into(),
                back_to: primary,
            },
            None => RolloutVerdict::Replaced { ours: Ours::Gone(followed), by: primary },
        };
    };
    // A circuit-breaker rollback is a failure, whatever runs afterwards.
    if ours.rollout_state == Some(RolloutState::Failed) {
        return RolloutVerdict::Failed {
            ours: Ours::Shown(ours),
            why: ours.rollout_reason.as_deref().unwrap_or("rollout failed").trim_end_matches('.').into(),
            back_to: primary.filter(|p| p.id != ours.id),
        };
    }
    if ours.status != DeploymentStatus::Primary {
        return RolloutVerdict::Replaced { ours: Ours::Shown(ours), by: primary };
    }
    // Stable means done and whole: COMPLETED (or no rollout state at all)
    // and every task running, with no other deployment left.
    let alone = state.deployments.len() == 1;
    let done = matches!(ours.rollout_state, Some(RolloutState::Completed) | None);
    if done && alone && ours.running == ours.desired && ours.pending == 0 {
        return RolloutVerdict::Done { ours };
    }
    let draining = state.deployments.iter().filter(|d| d.id != ours.id).map(|d| d.running).sum();
    RolloutVerdict::InProgress { ours, draining }
}

impl RolloutVerdict<'_> {
    /// One line for the report: the success, the progress or the failure.
    pub fn describe(&self, service: &str) -> String {
        let deployment = |d: Option<&Deployment>| match d {
            Some(d) => format!("{} ({})", d.id, short(&d.task_definition)),
            None => "another deployment".into(),
        };
        match self {
            RolloutVerdict::Unfollowable => format!(
                "{service} has no ECS deployments to follow: services with the CODE_DEPLOY or EXTERNAL deployment controller are not supported by await-stable"
            ),
            RolloutVerdict::NotYetVisible => format!("{service}: waiting for ECS to show the deployment"),
            RolloutVerdict::Done { ours } => format!(
                "{service} stable on {} ({}/{} running)",
                short(&ours.task_definition),
                ours.running,
                ours.desired
            ),
            RolloutVerdict::InProgress { ours, draining } => format!(
                "{service}: {}/{} running, {} pending{}{}",
                ours.running,
                ours.desired,
                ours.pending,
                if ours.failed > 0 { format!(", {} failed", ours.failed) } else { String::new() },
                if *draining > 0 { format!(", {draining} old still running") } else { String::new() },
            ),
            RolloutVerdict::Failed { ours: Ours::Shown(ours), why, back_to } => format!(
                "{service}: deployment {} of {} failed: {why}{}",
                ours.id,
                short(&ours.task_definition),
                back_to.map(|p| format!("; ECS is rolling back to {}", short(&p.task_definition))).unwrap_or_default()
            ),
            RolloutVerdict::Failed { ours: Ours::Gone(id), why, back_to } => {
                format!("{service}: deployment {id} failed: {why}; ECS rolled back to {}", deployment(*back_to))
            }
            RolloutVerdict::Replaced { ours, by } => {
                format!("{service}: deployment {} was replaced by {} before it finished", ours.id(), deployment(*by))
            }
        }
    }
}

#[cfg(test)]
mod tests;
