//! Following a deployment to the end, running one-off tasks, and saying why
//! either failed: the service's events and the stopped tasks' reasons and
//! exit codes.

use std::future::Future;
use std::time::{Duration, SystemTime};

// tokio's clock, so that tests can run the waits in paused time.
use tokio::time::Instant;

use super::failure::{FailureKind, StepFailure};
use super::report::StepLabel;
use super::{task_verdict, Runner};
use crate::aws::retry::{note_retry, Backoff};
use crate::aws::{AwsError, ServiceState, TaskState, TaskStatus};
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
/// The reads that explain a failure (stopped tasks) get this long through
/// transient faults: the report must not hang on them.
const DIAGNOSIS_BUDGET: Duration = Duration::from_secs(15);

/// `start + timeout`, for any timeout a pipeline can say (`1000000h` included).
fn deadline_after(start: Instant, timeout: Duration) -> Instant {
    start.checked_add(timeout).unwrap_or_else(|| start + Duration::from_secs(10 * 365 * 24 * 3600))
}

/// The waits of a poll loop through transient faults: growing from the
/// first poll's interval to [`MAX_FAULT_BACKOFF`], said as "retrying: …",
/// and never past the loop's deadline.
struct FaultWaits {
    backoff: Backoff,
}

impl FaultWaits {
    fn new() -> FaultWaits {
        FaultWaits { backoff: Backoff::new(FIRST_POLL, MAX_FAULT_BACKOFF) }
    }

    /// How long to wait before asking again after `error`; `None` when the
    /// error decides: it is final, or `deadline` has passed.
    fn after(&mut self, error: &AwsError, deadline: Instant) -> Option<Duration> {
        let left = deadline.checked_duration_since(Instant::now()).filter(|left| !left.is_zero())?;
        if !error.is_transient() {
            return None;
        }
        let wait = self.backoff.next_wait().min(left);
        note_retry(error, wait);
        Some(wait)
    }

    /// A clean answer: the next fault starts from the first wait again.
    fn answered(&mut self) {
        *self = FaultWaits::new();
    }
}

/// Why a read through faults gave no answer.
enum Unanswered {
    /// A final error, or a transient one at the deadline.
    Error(AwsError),
    /// The deadline came while the read was still retrying.
    Deadline,
}

/// `read` until it answers, through transient faults, until `deadline`; an
/// attempt still retrying at the deadline is given up on.
async fn read_through_faults<T, F, Fut>(deadline: Instant, mut read: F) -> Result<T, Unanswered>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let mut faults = FaultWaits::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let error = match tokio::time::timeout(left, read()).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(error)) => error,
            Err(_) => return Err(Unanswered::Deadline),
        };
        match faults.after(&error, deadline) {
            Some(wait) => tokio::time::sleep(wait).await,
            None => return Err(Unanswered::Error(error)),
        }
    }
}

fn next_poll(interval: Duration) -> Duration {
    (interval * 3 / 2).min(MAX_POLL)
}

/// A timeout of `await-stable` before any clean answer about our deployment:
/// `what` was last seen, `why` it is unknown how the rollout stands.
fn unseen_timeout(label: &StepLabel, service: &ServiceRef, timeout: Duration, what: &str, why: &str) -> StepFailure {
    let waited = humantime::format_duration(Duration::from_secs(timeout.as_secs()));
    let help = format!(
        "{why}; see where {} stands with `aws ecs describe-services --cluster {} --services {}`, and raise the `timeout` of `await-stable` if the rollout is only slow",
        service.name, service.cluster, service.name
    );
    StepFailure::new(label, FailureKind::RolloutTimeout, format!("timed out after {waited}: {what}"), help)
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
        let mut faults = FaultWaits::new();
        loop {
            let state = match self.poller.describe(&service.cluster, &service.name, wait).await {
                Ok(state) => state,
                // Throttling, 5xx, a reset: only ECS's answer decides, so wait
                // for one, backing off, until the step's own deadline.
                Err(error) => match faults.after(&error, deadline) {
                    Some(fault_wait) => {
                        wait = fault_wait;
                        last.clear();
                        continue;
                    }
                    // The step's own time is up while AWS still answers with
                    // faults: that is a timeout, with the fault as its last word.
                    None if error.is_transient() => {
                        let what = format!("waiting for {}; the last answers were faults: {error}", service.name);
                        return Err(unseen_timeout(
                            label,
                            service,
                            timeout,
                            &what,
                            "AWS did not answer cleanly at the end",
                        ));
                    }
                    None => return Err(StepFailure::aws(label, error)),
                },
            };
            faults.answered();
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
                    let what = format!("deployment {ours_id} of {} never showed in ECS's answers", service.name);
                    return Err(unseen_timeout(
                        label,
                        service,
                        timeout,
                        &what,
                        "ECS has not listed the deployment yet",
                    ));
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
        // Through faults like the wait's reads, for a short while: without
        // them the report still says what failed.
        let deadline = Instant::now() + DIAGNOSIS_BUDGET;
        let stopped = match read_through_faults(deadline, || {
            self.aws.list_tasks(&cluster, Some(&state.name), None, true)
        })
        .await
        {
            Ok(arns) => {
                read_through_faults(deadline, || self.aws.describe_tasks(&cluster, &arns)).await.unwrap_or_default()
            }
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
        let arns = [arn.to_string()];
        loop {
            // Throttling, 5xx, a reset: only ECS's answer decides, so wait for
            // one, backing off, until the step's own deadline.
            let found = match read_through_faults(deadline, || self.aws.describe_tasks(cluster, &arns)).await {
                Ok(found) => found.into_iter().next(),
                Err(Unanswered::Error(error)) if !error.is_transient() => return Err(StepFailure::aws(label, error)),
                Err(_) => return Err(self.task_timed_out(label, run, cluster, arn, last.as_ref()).await),
            };
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
                return self.task_outcome(label, &current, run.container.as_deref(), deadline).await;
            }
            if run.wait == Wait::Running && current.last_status == TaskStatus::Running {
                return Ok(format!("task {short_id} is running"));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(self.task_timed_out(label, run, cluster, arn, last.as_ref()).await);
            }
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = next_poll(interval);
        }
    }

    /// The `run-task`'s timeout: the task is stopped, and the failure says
    /// what it was last seen doing (`status`: nothing, when every read failed).
    async fn task_timed_out(
        &self,
        label: &StepLabel,
        run: &RunTaskAction,
        cluster: &str,
        arn: &str,
        status: Option<&TaskStatus>,
    ) -> StepFailure {
        let short_id = task_id(arn);
        let stopped = self.aws.stop_task(cluster, arn, "ecsflow: run-task timed out").await;
        let waited = humantime::format_duration(Duration::from_secs(run.timeout.as_secs()));
        let help = match run.wait {
            Wait::Running => format!(
                "the task never reached RUNNING: its image pull or the cluster's capacity may be the cause; raise the `run-task`'s `timeout` (it was {waited}) if it is only slow"
            ),
            _ => format!(
                "the task's logs say what it was doing; raise the `run-task`'s `timeout` (it was {waited}) if it is only slow"
            ),
        };
        let reason = match status {
            Some(status) => format!("task {short_id} was still {status} after {waited}"),
            None => format!("ECS did not describe task {short_id} within {waited}: its answers were errors"),
        };
        let mut failure = StepFailure::new(label, FailureKind::TaskTimeout, reason, help);
        failure.details.push(match stopped {
            Ok(()) => format!("stopped task {short_id}"),
            Err(e) => format!("could not stop task {short_id}: {e}; it may still be running"),
        });
        failure
    }

    /// A stopped task's verdict ([`judge`](super::task_verdict::judge)), in words.
    async fn task_outcome(
        &self,
        label: &StepLabel,
        task: &TaskState,
        named: Option<&str>,
        deadline: Instant,
    ) -> Result<String, StepFailure> {
        // The task has stopped: its verdict waits for this read through
        // faults until the step's deadline, and a while past it if need be.
        let deadline = deadline.max(Instant::now() + DIAGNOSIS_BUDGET);
        let definition = read_through_faults(deadline, || self.aws.describe_task_definition(&task.task_definition))
            .await
            .map_err(|unanswered| match unanswered {
                Unanswered::Error(error) => StepFailure::aws(label, error),
                Unanswered::Deadline => StepFailure::aws(
                    label,
                    AwsError::new("ecs:DescribeTaskDefinition", "no answer before the step's deadline"),
                ),
            })?;
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::aws::retry::{observed, Observer};
    use crate::aws::ErrorKind;

    fn throttled() -> AwsError {
        AwsError {
            kind: ErrorKind::Throttled,
            ..AwsError::new("ecs:DescribeTasks", "ThrottlingException: Rate exceeded")
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_outlasts_the_read_budget_until_the_deadline_and_says_so() {
        // Each attempt stands for a read that gave up after its own budget:
        // two minutes of them, then an answer, within a ten-minute step.
        let started = Instant::now();
        let notes = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen = notes.clone();
        let observer: Observer = Arc::new(move |note: &str| seen.lock().unwrap().push(note.to_string()));
        let read = || async {
            if started.elapsed() < Duration::from_secs(120) {
                tokio::time::sleep(crate::aws::retry::READ_BUDGET).await;
                Err(throttled())
            } else {
                Ok("STOPPED")
            }
        };
        let answer = observed(observer, read_through_faults(started + Duration::from_secs(600), read)).await;
        assert_eq!(answer.ok(), Some("STOPPED"));
        let notes = notes.lock().unwrap();
        assert!(!notes.is_empty() && notes.iter().all(|n| n.starts_with("retrying: throttled (ecs:DescribeTasks)")));
    }

    #[tokio::test(start_paused = true)]
    async fn faults_end_at_the_deadline_and_a_final_error_at_once() {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(30);
        let given_up = read_through_faults(deadline, || async {
            tokio::time::sleep(Duration::from_secs(7)).await;
            Err::<(), _>(throttled())
        })
        .await;
        assert!(matches!(given_up, Err(Unanswered::Deadline)));
        assert_eq!(started.elapsed(), Duration::from_secs(30));

        let calls = AtomicUsize::new(0);
        let denied = read_through_faults(deadline + Duration::from_secs(60), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(AwsError::new("ecs:DescribeTasks", "AccessDeniedException"))
        })
        .await;
        assert!(matches!(denied, Err(Unanswered::Error(e)) if !e.is_transient()));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
