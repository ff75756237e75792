//! The verdict on DescribeServices answers recorded from the emulator
//! (`tests/fixtures/describe_services/README.md` says how), each parsed by
//! the SDK and `ServiceState::from_sdk` as `ecsflow run` parses them.

use std::time::Duration;

use super::{judge, Earlier, Ours, RolloutVerdict};
use crate::aws::{Aws, DeploymentStatus, RolloutState, ServiceState, TaskStatus};

/// `web`: web:1 (ecs-svc/…3610) → web:2 (ecs-svc/…4120), desired 2, 50–200 %.
const WEB_V2: &str = "ecs-svc/4986469747076754120";
const WEB_V1: &str = "ecs-svc/3389589777985883610";
/// `crashy`: crashy:1 (ecs-svc/…9506) → crashy:2 (ecs-svc/…8781), whose
/// tasks exit 1; the breaker rolls back to crashy:1 as ecs-svc/…0558.
const CRASHY_V2: &str = "ecs-svc/6933836891648858781";
const CRASHY_ROLLBACK: &str = "ecs-svc/7840820544735550558";
/// `api`: api:1 → api:2 (ecs-svc/…2770, slow to start) → api:3 (ecs-svc/…7085)
/// by someone else half a second later.
const API_V2: &str = "ecs-svc/4802512988774642770";
const API_V3: &str = "ecs-svc/7550886089850817085";

/// Shown by the answer before.
const SEEN: Earlier = Earlier { seen: true, missing: false };
/// Shown, then missing from the answer before.
const GONE_ONCE: Earlier = Earlier { seen: true, missing: true };
/// Never shown yet; the answer before did not show it either.
const UNSEEN_TWICE: Earlier = Earlier { seen: false, missing: true };

const EARLY: Duration = Duration::from_secs(1);
const LATE: Duration = Duration::from_secs(16);

fn answer(name: &str) -> ServiceState {
    let path = format!("{}/tests/fixtures/describe_services/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let body = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(Aws::answering(&body).describe_service("prod", "any")).expect("the answer describes a service")
}

/// The verdict on a deployment seen in an earlier answer.
fn judged<'a>(state: &'a ServiceState, followed: &'a str) -> RolloutVerdict<'a> {
    judge(state, followed, SEEN, EARLY)
}

fn deployment_id(verdict: &RolloutVerdict) -> Option<String> {
    match verdict {
        RolloutVerdict::Done { ours } | RolloutVerdict::InProgress { ours, .. } => Some(ours.id.clone()),
        RolloutVerdict::Failed { ours, .. } | RolloutVerdict::Replaced { ours, .. } => Some(ours.id().to_string()),
        RolloutVerdict::Unfollowable | RolloutVerdict::NotYetVisible => None,
    }
}

#[test]
fn the_sdk_path_gives_the_states_as_enums() {
    let state = answer("breaker_failed_rolling_back");
    let states: Vec<_> = state.deployments.iter().map(|d| (d.status.clone(), d.rollout_state.clone())).collect();
    assert_eq!(
        states,
        [
            (DeploymentStatus::Primary, Some(RolloutState::InProgress)),
            (DeploymentStatus::Active, Some(RolloutState::Failed)),
            (DeploymentStatus::Active, Some(RolloutState::Completed)),
        ]
    );
    assert_eq!(state.primary().map(|d| d.id.as_str()), Some(CRASHY_ROLLBACK));
}

#[test]
fn values_the_api_adds_later_are_kept_not_refused() {
    assert_eq!(DeploymentStatus::from("DRAINING_SOON"), DeploymentStatus::Other("DRAINING_SOON".into()));
    assert_eq!(RolloutState::from("BAKING").to_string(), "BAKING");
    assert_eq!(TaskStatus::from("STOPPED"), TaskStatus::Stopped);
    assert_eq!(TaskStatus::Deactivating.as_str(), "DEACTIVATING");
}

#[test]
fn a_completed_rollout_is_done() {
    let state = answer("completed");
    let verdict = judged(&state, WEB_V2);
    assert!(matches!(verdict, RolloutVerdict::Done { .. }), "{verdict:?}");
    assert_eq!(verdict.describe("web"), "web stable on web:2 (2/2 running)");
}

#[test]
fn new_tasks_pending_while_old_ones_run_is_in_progress() {
    let state = answer("new_tasks_pending_old_running");
    let verdict = judged(&state, WEB_V2);
    assert!(matches!(verdict, RolloutVerdict::InProgress { draining: 1, .. }), "{verdict:?}");
    assert_eq!(verdict.describe("web"), "web: 0/2 running, 2 pending, 1 old still running");
}

#[test]
fn every_new_task_running_is_not_done_while_the_old_deployment_is_listed() {
    let state = answer("old_deployment_draining");
    let verdict = judged(&state, WEB_V2);
    assert!(matches!(verdict, RolloutVerdict::InProgress { draining: 0, .. }), "{verdict:?}");
    assert_eq!(verdict.describe("web"), "web: 2/2 running, 0 pending");
}

#[test]
fn failed_tasks_before_the_breaker_trips_are_progress_not_failure() {
    let state = answer("failed_tasks_in_progress");
    let verdict = judged(&state, CRASHY_V2);
    assert!(matches!(verdict, RolloutVerdict::InProgress { draining: 1, .. }), "{verdict:?}");
    assert_eq!(verdict.describe("crashy"), "crashy: 0/2 running, 2 pending, 2 failed, 1 old still running");
}

#[test]
fn a_circuit_breaker_failure_with_rollback_is_a_failure() {
    let state = answer("breaker_failed_rolling_back");
    let verdict = judged(&state, CRASHY_V2);
    let RolloutVerdict::Failed { ours: Ours::Shown(ours), why, back_to: Some(back_to) } = &verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(
        (ours.id.as_str(), why.as_str(), back_to.id.as_str()),
        (CRASHY_V2, "ECS deployment circuit breaker: tasks failed to start", CRASHY_ROLLBACK)
    );
    assert_eq!(
        verdict.describe("crashy"),
        "crashy: deployment ecs-svc/6933836891648858781 of crashy:2 failed: ECS deployment circuit breaker: tasks failed to start; ECS is rolling back to crashy:1"
    );
}

#[test]
fn a_deployment_gone_after_a_breaker_rollback_is_a_failure_even_though_the_service_is_stable() {
    let state = answer("breaker_failed_gone");
    // One answer without it may be stale; the next one without it settles it.
    assert_eq!(judged(&state, CRASHY_V2), RolloutVerdict::NotYetVisible);
    let verdict = judge(&state, CRASHY_V2, GONE_ONCE, EARLY);
    assert!(matches!(verdict, RolloutVerdict::Failed { ours: Ours::Gone(CRASHY_V2), .. }), "{verdict:?}");
    assert_eq!(
        verdict.describe("crashy"),
        "crashy: deployment ecs-svc/6933836891648858781 failed: tasks failed to start; ECS rolled back to ecs-svc/7840820544735550558 (crashy:1)"
    );
    // The rollback's own deployment is stable; following it would be.
    assert!(matches!(judged(&state, CRASHY_ROLLBACK), RolloutVerdict::Done { .. }));
}

#[test]
fn a_deployment_replaced_by_someone_elses_is_not_followed_to_theirs() {
    let state = answer("replaced_by_newer");
    let verdict = judged(&state, API_V2);
    let RolloutVerdict::Replaced { ours: Ours::Shown(ours), by: Some(by) } = &verdict else { panic!("{verdict:?}") };
    assert_eq!((ours.id.as_str(), by.id.as_str()), (API_V2, API_V3));
    assert_eq!(
        verdict.describe("api"),
        "api: deployment ecs-svc/4802512988774642770 was replaced by ecs-svc/7550886089850817085 (api:3) before it finished"
    );
}

#[test]
fn a_deployment_ecs_does_not_show_yet_is_waited_for_within_the_grace() {
    // The answer from just before the update: only web:1's deployment.
    let state = answer("steady_before_update");
    assert_eq!(judge(&state, WEB_V2, Earlier::default(), Duration::ZERO), RolloutVerdict::NotYetVisible);
    assert_eq!(judge(&state, WEB_V2, UNSEEN_TWICE, Duration::from_millis(14_999)), RolloutVerdict::NotYetVisible);
}

#[test]
fn a_deployment_ecs_never_shows_is_replaced_once_the_grace_is_over() {
    let state = answer("steady_before_update");
    // Past the grace, one answer without it is still not enough.
    assert_eq!(judge(&state, WEB_V2, Earlier::default(), LATE), RolloutVerdict::NotYetVisible);
    let verdict = judge(&state, WEB_V2, UNSEEN_TWICE, LATE);
    assert!(matches!(verdict, RolloutVerdict::Replaced { ours: Ours::Gone(WEB_V2), by: Some(_) }), "{verdict:?}");
    assert_eq!(deployment_id(&verdict).as_deref(), Some(WEB_V2));
    assert_eq!(
        verdict.describe("web"),
        "web: deployment ecs-svc/4986469747076754120 was replaced by ecs-svc/3389589777985883610 (web:1) before it finished"
    );
}

#[test]
fn a_deployment_seen_before_and_gone_now_gets_no_grace_but_a_second_look() {
    let state = answer("steady_before_update");
    // One stale answer may drop it: ECS is eventually consistent.
    assert_eq!(judge(&state, WEB_V2, SEEN, EARLY), RolloutVerdict::NotYetVisible);
    let gone_twice = SEEN.after(&RolloutVerdict::NotYetVisible);
    assert_eq!(gone_twice, Earlier { seen: true, missing: true });
    assert!(matches!(judge(&state, WEB_V2, gone_twice, EARLY), RolloutVerdict::Replaced { ours: Ours::Gone(_), .. }));
}

#[test]
fn a_deployment_back_in_the_next_answer_is_followed_on() {
    let state = answer("completed");
    let once_missing = Earlier { seen: true, missing: true };
    let verdict = judge(&state, WEB_V2, once_missing, EARLY);
    assert!(matches!(verdict, RolloutVerdict::Done { .. }), "{verdict:?}");
    assert_eq!(once_missing.after(&verdict), SEEN);
}

#[test]
fn a_desired_count_change_is_done_only_when_every_task_runs() {
    // ECS says COMPLETED at once: the deployment did not change, the count did.
    let scaling = answer("desired_count_scaling_up");
    assert_eq!(scaling.primary().and_then(|d| d.rollout_state.clone()), Some(RolloutState::Completed));
    let verdict = judged(&scaling, WEB_V2);
    assert!(matches!(verdict, RolloutVerdict::InProgress { draining: 0, .. }), "{verdict:?}");
    assert_eq!(verdict.describe("web"), "web: 2/4 running, 0 pending");

    let done = answer("desired_count_done");
    assert_eq!(judged(&done, WEB_V2).describe("web"), "web stable on web:2 (4/4 running)");
}

#[test]
fn an_old_deployment_that_is_not_primary_was_replaced() {
    let state = answer("new_tasks_pending_old_running");
    let verdict = judged(&state, WEB_V1);
    assert!(matches!(verdict, RolloutVerdict::Replaced { ours: Ours::Shown(_), .. }), "{verdict:?}");
}

#[test]
fn a_service_without_ecs_deployments_cannot_be_followed() {
    let mut state = answer("completed");
    state.deployments.clear();
    assert_eq!(judge(&state, WEB_V2, Earlier::default(), EARLY), RolloutVerdict::Unfollowable);
}
