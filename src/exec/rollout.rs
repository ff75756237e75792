//! Following a deployment to the end, running one-off tasks, and saying why
//! either failed: the service's events and the stopped tasks' reasons and
//! exit codes.

use std::time::{Duration, Instant, SystemTime};

use super::failure::{FailureKind, StepFailure};
use super::report::StepLabel;
use super::{task_verdict, Runner};
use crate::aws::retry::Backoff;
use crate::aws::{ServiceState, TaskState, TaskStatus};
use crate::check::pipeline::{Step, Wait};
use crate::eval::{ServiceRef, Value};
use crate::resolve::RunTaskAction;
use crate::taskdef::short;

mod verdict;

use verdict::{judge, Earlier, RolloutVerdict};

/// Polling starts fast and slows while nothing changes, never past this,
/// so a failure (and the calls that diagnose it) is seen within 2 s.
const MAX_POLL: Duration = Duration::from_millis(1500);
const FIRST_POLL: Duration = Duration::from_millis(250);
/// Once every new task runs, only the old ones' draining is left: poll this
/// often for a while, so completion is seen promptly (benches/run.sh measured
/// it; docs/performance.md has the numbers).
const ENDGAME_POLL: Duration = Duration::from_millis(150);
const ENDGAME_FOR: Duration = Duration::from_secs(10);
/// How long a deployment or task ECS just created may be missing from its answers.
const CONSISTENCY_GRACE: Duration = Duration::from_secs(15);
/// Under throttling or other transient faults, polling backs off up to this,
/// and keeps going until the step's deadline.
const MAX_FAULT_BACKOFF: Duration = Duration::from_secs(10);

/// `start + timeout`, for any timeout a pipeline can say (`1000000h` included).
fn deadline_after(start: Instant, timeout: Duration) -> Instant {
    start.checked_add(timeout).unwrap_or_else(|| start + Duration::from_secs(10 * 365 * 24 * 3600))
}

fn next_poll(interval: Duration) -> Duration {
    (interval * 3 / 2).min(MAX_POLL)
}

fn task_id(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

impl Runner<'_> {
    /// Waits until the deployment this run started on `service` is done.
    pub(super) async fn await_stable(
        &self,
        id: usize,
        label: &StepLabel,
        service: &ServiceRef,
        timeout: Duration,
    ) -> Result<String, StepFailure> {
        let started = Instant::now();
        let deadline = deadline_after(started, timeout);
        let record = self.state.lock().expect("state lock").ledger.services.get(service).cloned().unwrap_or_default();
        let mut earlier = Earlier::default();
        let mut followed = record.deployment.clone();
        let mut interval = FIRST_POLL;
        // The first answer is asked for at once; later ones after `interval`.
        let mut wait = Duration::ZERO;
        let mut endgame_since: Option<Instant> = None;
        let mut last = String::new();
        let mut faults = Backoff::new(FIRST_POLL, MAX_FAULT_BACKOFF);
        loop {
            let state = match self.poller.describe(&service.cluster, &service.name, wait).await {
                Ok(state) => state,
                // Throttling, 5xx, a reset: only ECS's answer decides, so wait
                // for one, backing off, until the step's own deadline.
                Err(error) if error.is_transient() && Instant::now() < deadline => {
                    wait = faults.next_wait().min(deadline - Instant::now());
                    crate::aws::retry::note_retry(&error, wait);
                    last.clear();
                    continue;
                }
                // The step's own time is up while AWS still answers with faults:
                // that is a timeout, with the fault as its last word.
                Err(error) if error.is_transient() => {
                    let waited = humantime::format_duration(Duration::from_secs(timeout.as_secs()));
                    let reason = format!(
                        "timed out after {waited} waiting for {}; the last answers were faults: {error}",
                        service.name
                    );
                    let help = format!(
                        "AWS did not answer cleanly at the end; see where {} stands with `aws ecs describe-services --cluster {} --services {}`, and raise the `timeout` of `await-stable` if the rollout is only slow",
                        service.name, service.cluster, service.name
                    );
                    return Err(StepFailure::new(label, FailureKind::RolloutTimeout, reason, help));
                }
                Err(error) => return Err(StepFailure::aws(label, error)),
            };
            faults = Backoff::new(FIRST_POLL, MAX_FAULT_BACKOFF);
            let ours_id =
                followed.get_or_insert_with(|| state.primary().map(|d| d.id.clone()).unwrap_or_default()).clone();
            let verdict = judge(&state, &ours_id, earlier, started.elapsed());
            earlier = earlier.after(&verdict);
            let (ours, progress) = match &verdict {
                RolloutVerdict::NotYetVisible if Instant::now() < deadline => {
                    wait = FIRST_POLL.min(deadline - Instant::now());
                    continue;
                }
                RolloutVerdict::NotYetVisible => {
                    let waited = humantime::format_duration(Duration::from_secs(timeout.as_secs()));
                    let reason = format!(
                        "timed out after {waited}: deployment {ours_id} of {} never showed in ECS's answers",
                        service.name
                    );
                    let help = format!(
                        "ECS has not listed the deployment yet; see where {} stands with `aws ecs describe-services --cluster {} --services {}`, and raise the `timeout` of `await-stable`",
                        service.name, service.cluster, service.name
                    );
                    return Err(StepFailure::new(label, FailureKind::RolloutTimeout, reason, help));
                }
                RolloutVerdict::InProgress { ours, .. } => (*ours, verdict.describe(&service.name)),
                RolloutVerdict::Done { .. } => return Ok(verdict.describe(&service.name)),
                RolloutVerdict::Unfollowable => {
                    let help = format!(
                        "`await-stable` follows ECS rolling deployments only: drop it for {} and wait in its deployment controller (for CodeDeploy, `aws deploy wait deployment-successful`)",
                        service.name
                    );
                    let reason = verdict.describe(&service.name);
                    return Err(StepFailure::new(label, FailureKind::RolloutUnfollowable, reason, help));
                }
                RolloutVerdict::Failed { ours, back_to, .. } => {
                    let td = ours.task_definition().map(str::to_string).or(record.deployment_task_definition.clone());
                    let revision = td.as_deref().map(short).unwrap_or_else(|| "the new revision".into());
                    let mut help = format!(
                        "the events and stopped tasks below say why the tasks of {revision} did not stay up; fix the image, its health check or the task definition, then run again"
                    );
                    if back_to.is_none() {
                        help.push_str(&format!(
                            "; ECS is not rolling {} back: `circuit-breaker = rollback` on the `update`, or `rollback {}` in `on-failure`, would",
                            service.name, service.name
                        ));
                    }
                    let reason = verdict.describe(&service.name);
                    let failure = StepFailure::new(label, FailureKind::RolloutFailed, reason, help);
                    return Err(self.diagnosed(failure, &state, record.updated_at, td.as_deref()).await);
                }
                RolloutVerdict::Replaced { ours, .. } => {
                    let td = ours.task_definition().map(str::to_string).or(record.deployment_task_definition.clone());
                    let help = format!(
                        "something else updated {} while this run followed it (another pipeline or a person); see which deployment is live with `aws ecs describe-services --cluster {} --services {}`, then run again",
                        service.name, service.cluster, service.name
                    );
                    let reason = verdict.describe(&service.name);
                    let failure = StepFailure::new(label, FailureKind::RolloutReplaced, reason, help);
                    return Err(self.diagnosed(failure, &state, record.updated_at, td.as_deref()).await);
                }
            };
            if progress != last {
                self.report.progress(id, label, &progress);
                interval = FIRST_POLL;
                last = progress.clone();
            }
            let now = Instant::now();
            if now >= deadline {
                let waited = humantime::format_duration(Duration::from_secs(timeout.as_secs()));
                let reason = format!(
                    "timed out after {waited} waiting for deployment {} of {}: {progress}",
                    ours.id,
                    short(&ours.task_definition)
                );
                let help = if ours.failed > 0 {
                    format!(
                        "tasks of {} keep failing: the stopped tasks below say why; fix it, then run again",
                        short(&ours.task_definition)
                    )
                } else {
                    format!("if the rollout is only slow, raise the `timeout` of `await-stable` (it was {waited})")
                };
                let failure = StepFailure::new(label, FailureKind::RolloutTimeout, reason, help);
                return Err(self.diagnosed(failure, &state, record.updated_at, Some(&ours.task_definition)).await);
            }
            if ours.running < ours.desired || ours.pending > 0 {
                endgame_since = None;
            } else if endgame_since.get_or_insert_with(Instant::now).elapsed() < ENDGAME_FOR {
                interval = interval.min(ENDGAME_POLL);
            }
            wait = interval.min(deadline - now);
            interval = next_poll(interval);
        }
    }

    /// A failure with the service's recent events and the stopped tasks of
    /// the failed revision.
    async fn diagnosed(
        &self,
        mut failure: StepFailure,
        state: &ServiceState,
        since: Option<SystemTime>,
        task_definition: Option<&str>,
    ) -> StepFailure {
        let details = &mut failure.details;
        // A second of slack for clocks; older events belong to earlier deployments.
        let since = since.map(|t| t - Duration::from_secs(1));
        let mut events: Vec<_> = state
            .events
            .iter()
            .filter(|e| match (since, e.at) {
                (Some(s), Some(at)) => at >= s,
                _ => true,
            })
            .take(10)
            .collect();
        events.reverse();
        if !events.is_empty() {
            details.push("recent service events:".into());
            details.extend(events.iter().map(|e| {
                let at = e.at.map(|t| humantime::format_rfc3339_seconds(t).to_string()).unwrap_or_default();
                format!("  {at} {}", e.message)
            }));
        }
        let cluster = state.cluster.rsplit('/').next().unwrap_or(&state.cluster).to_string();
        let stopped = match self.aws.list_tasks(&cluster, Some(&state.name), None, true).await {
            Ok(arns) => self.aws.describe_tasks(&cluster, &arns).await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let mut stopped: Vec<&TaskState> = stopped
            .iter()
            .filter(|t| task_definition.is_none_or(|td| short(&t.task_definition) == short(td)))
            .collect();
        stopped.sort_by_key(|t| std::cmp::Reverse(t.stopped_at));
        if !stopped.is_empty() {
            details.push(format!(
                "stopped tasks{}:",
                task_definition.map(|td| format!(" of {}", short(td))).unwrap_or_default()
            ));
            for task in stopped.iter().take(5) {
                details.push(format!("  {}", describe_stopped(task)));
            }
        }
        failure
    }

    /// `run-task`: starts the task like the `like` service's, and waits as asked.
    pub(super) async fn run_task(
        &self,
        id: usize,
        label: &StepLabel,
        step: &Step,
        run: RunTaskAction,
    ) -> Result<String, StepFailure> {
        let request = &run.request;
        let cluster = request.cluster.clone();
        let tasks = self.aws.run_task(request).await.map_err(|e| StepFailure::aws(label, e))?;
        let Some(task) = tasks.into_iter().next() else {
            let help = format!(
                "ECS gave no reason: check the capacity of cluster `{cluster}` and the launch type and network of the `like` service, then run again"
            );
            return Err(StepFailure::new(label, FailureKind::TaskNotStarted, "ECS started no task", help));
        };
        self.bind(step, Value::Task(task.arn.clone()));
        let short_id = task_id(&task.arn).to_string();
        if run.wait == Wait::None {
            return Ok(format!("started task {short_id}"));
        }
        let waiting = (cluster.clone(), task.arn.clone(), label.title.clone());
        self.state.lock().expect("state lock").waiting_tasks.push(waiting);
        let result = self.wait_for_task(id, label, &run, &cluster, &task.arn).await;
        self.state.lock().expect("state lock").waiting_tasks.retain(|(_, arn, _)| *arn != task.arn);
        result
    }

    async fn wait_for_task(
        &self,
        id: usize,
        label: &StepLabel,
        run: &RunTaskAction,
        cluster: &str,
        arn: &str,
    ) -> Result<String, StepFailure> {
        let short_id = task_id(arn).to_string();
        let started = Instant::now();
        let timeout = run.timeout;
        let deadline = deadline_after(started, timeout);
        let mut interval = FIRST_POLL;
        let mut last: Option<TaskStatus> = None;
        loop {
            let found = self
                .aws
                .describe_tasks(cluster, &[arn.to_string()])
                .await
                .map_err(|e| StepFailure::aws(label, e))?
                .into_iter()
                .next();
            let current = match found {
                Some(current) => current,
                // Just started: ECS may not describe it yet.
                None if started.elapsed() < CONSISTENCY_GRACE => {
                    tokio::time::sleep(FIRST_POLL).await;
                    continue;
                }
                None => {
                    let help = format!(
                        "whether the task succeeded is unknown: look for it with `aws ecs describe-tasks --cluster {cluster} --tasks {arn}` or in its logs before running again"
                    );
                    let reason = format!("ECS no longer describes task {short_id}");
                    return Err(StepFailure::new(label, FailureKind::TaskLost, reason, help));
                }
            };
            if last.as_ref() != Some(&current.last_status) {
                self.report.progress(id, label, &format!("task {short_id}: {}", current.last_status));
                last = Some(current.last_status.clone());
                interval = FIRST_POLL;
            }
            if current.last_status == TaskStatus::Stopped {
                return self.task_outcome(label, &current, run.container.as_deref()).await;
            }
            if run.wait == Wait::Running && current.last_status == TaskStatus::Running {
                return Ok(format!("task {short_id} is running"));
            }
            let now = Instant::now();
            if now >= deadline {
                let stopped = self.aws.stop_task(cluster, arn, "ecsflow: run-task timed out").await;
                let waited = humantime::format_duration(Duration::from_secs(timeout.as_secs()));
                let help = match run.wait {
                    Wait::Running => format!(
                        "the task never reached RUNNING: its image pull or the cluster's capacity may be the cause; raise the `run-task`'s `timeout` (it was {waited}) if it is only slow"
                    ),
                    _ => format!(
                        "the task's logs say what it was doing; raise the `run-task`'s `timeout` (it was {waited}) if it is only slow"
                    ),
                };
                let reason = format!("task {short_id} was still {} after {waited}", current.last_status);
                let mut failure = StepFailure::new(label, FailureKind::TaskTimeout, reason, help);
                failure.details.push(match stopped {
                    Ok(()) => format!("stopped task {short_id}"),
                    Err(e) => format!("could not stop task {short_id}: {e}; it may still be running"),
                });
                return Err(failure);
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = next_poll(interval);
        }
    }

    /// A stopped task's verdict ([`judge`](super::task_verdict::judge)), in words.
    async fn task_outcome(
        &self,
        label: &StepLabel,
        task: &TaskState,
        named: Option<&str>,
    ) -> Result<String, StepFailure> {
        let definition =
            self.aws.describe_task_definition(&task.task_definition).await.map_err(|e| StepFailure::aws(label, e))?;
        let essential = |name: &str| -> bool {
            definition
                .json
                .get("containerDefinitions")
                .and_then(|d| d.as_array())
                .and_then(|defs| defs.iter().find(|d| d.get("name").and_then(|n| n.as_str()) == Some(name)))
                .and_then(|d| d.get("essential"))
                .and_then(|e| e.as_bool())
                .unwrap_or(true)
        };
        let verdict = task_verdict::judge(task, essential, named);
        task_verdict::outcome(label, task, &verdict, essential)
    }
}

fn describe_stopped(task: &TaskState) -> String {
    let codes: Vec<String> = task
        .containers
        .iter()
        .map(|c| match c.exit_code {
            Some(code) => format!("{} exit {code}", c.name),
            None => format!("{} no exit code", c.name),
        })
        .collect();
    format!(
        "{}: {}{}",
        task_id(&task.arn),
        task.stopped_reason.as_deref().unwrap_or("stopped"),
        if codes.is_empty() { String::new() } else { format!(" ({})", codes.join(", ")) }
    )
}
