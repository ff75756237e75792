//! Whether a stopped `run-task` task succeeded: a pure judgement over what
//! DescribeTasks said, so it is tested on constructed task states.
//!
//! ECS stops a task when its first essential container exits (stopCode
//! `EssentialContainerExited`) and then stops the others with SIGTERM (exit
//! 143) or, after the stop timeout, SIGKILL (137). Log routers, proxies and
//! agents end that way after every task, so their exits are reported but do
//! not decide. The verdict follows the container whose own exit stopped the
//! task, or the container the step names (`container = "migrate"`).

use super::failure::{FailureKind, StepFailure};
use super::report::StepLabel;
use crate::aws::{ContainerState, TaskState};
use crate::taskdef::short;

/// Exit codes of a container that ECS stopped: 128 + SIGTERM, 128 + SIGKILL.
const STOPPED_BY_ECS: [i32; 2] = [143, 137];

/// What decided the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decider {
    /// The container the step names.
    Named(String),
    /// The essential container whose own exit stopped the task.
    Essential(String),
    /// The step names a container the task does not have.
    Missing(String),
    /// No essential container ran to an exit: the task failed to start.
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskVerdict {
    pub succeeded: bool,
    pub decider: Decider,
    /// The decider's exit code, when it has one.
    pub exit_code: Option<i32>,
    /// Essential containers that exited non-zero on their own but do not
    /// decide, because the step names another container.
    pub overruled: Vec<(String, i32)>,
    /// Essential containers that ECS stopped after the decider exited.
    pub stopped_by_ecs: Vec<(String, i32)>,
}

impl TaskVerdict {
    /// The name of the deciding container, if any.
    pub fn container(&self) -> Option<&str> {
        match &self.decider {
            Decider::Named(name) | Decider::Essential(name) => Some(name),
            Decider::Missing(_) | Decider::Nothing => None,
        }
    }
}

fn stopped_by_ecs(container: &ContainerState) -> bool {
    container.exit_code.is_some_and(|code| STOPPED_BY_ECS.contains(&code))
}

/// Judges a STOPPED task. `essential` says whether the task definition marks
/// a container essential; `named` is the step's `container`.
pub fn judge(task: &TaskState, essential: impl Fn(&str) -> bool, named: Option<&str>) -> TaskVerdict {
    let essentials: Vec<&ContainerState> = task.containers.iter().filter(|c| essential(&c.name)).collect();
    let exited: Vec<&ContainerState> = essentials.iter().copied().filter(|c| c.exit_code.is_some()).collect();
    let on_their_own: Vec<&ContainerState> = exited.iter().copied().filter(|c| !stopped_by_ecs(c)).collect();
    let (decider, exit_code) = match named {
        Some(name) => match task.containers.iter().find(|c| c.name == name) {
            Some(container) => (Decider::Named(name.to_string()), container.exit_code),
            None => (Decider::Missing(name.to_string()), None),
        },
        // Which of several exited first DescribeTasks does not say: a non-zero
        // exit is never hidden behind a zero one.
        None => match on_their_own.iter().find(|c| c.exit_code != Some(0)).or(on_their_own.first()) {
            Some(container) => (Decider::Essential(container.name.clone()), container.exit_code),
            // Every essential container was stopped (StopTask, out of memory):
            // the first one's signal is the task's end.
            None => match exited.first() {
                Some(container) => (Decider::Essential(container.name.clone()), container.exit_code),
                None => (Decider::Nothing, None),
            },
        },
    };
    let decider_name = match &decider {
        Decider::Named(name) | Decider::Essential(name) => Some(name.as_str()),
        Decider::Missing(_) | Decider::Nothing => None,
    };
    let others = |c: &&&ContainerState| Some(c.name.as_str()) != decider_name;
    let overruled = match named {
        Some(_) => on_their_own
            .iter()
            .filter(others)
            .filter_map(|c| c.exit_code.filter(|code| *code != 0).map(|code| (c.name.clone(), code)))
            .collect(),
        None => Vec::new(),
    };
    let stopped = exited
        .iter()
        .filter(others)
        .filter(|c| stopped_by_ecs(c))
        .filter_map(|c| c.exit_code.map(|code| (c.name.clone(), code)))
        .collect();
    TaskVerdict { succeeded: exit_code == Some(0), decider, exit_code, overruled, stopped_by_ecs: stopped }
}

/// The step's summary on success, or its failure with every container listed.
// The error is every step's; it is built once per task, not passed along.
#[allow(clippy::result_large_err)]
pub fn outcome(
    label: &StepLabel,
    task: &TaskState,
    verdict: &TaskVerdict,
    essential: impl Fn(&str) -> bool,
) -> Result<String, StepFailure> {
    let id = task.arn.rsplit('/').next().unwrap_or(&task.arn);
    let overruled: Vec<String> =
        verdict.overruled.iter().map(|(name, code)| format!("`{name}` exited {code}")).collect();
    let stopped: Vec<String> =
        verdict.stopped_by_ecs.iter().map(|(name, code)| format!("{name} exit {code}")).collect();
    let mut notes = Vec::new();
    if let (Decider::Named(name), false) = (&verdict.decider, overruled.is_empty()) {
        notes.push(format!("judged by `{name}`, as the step names it, though essential {}", overruled.join(", ")));
    }
    if !stopped.is_empty() {
        notes.push(format!("stopped by ECS after it: {}", stopped.join(", ")));
    }
    let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
    if verdict.succeeded {
        return Ok(match &verdict.decider {
            Decider::Named(name) => format!("task {id}: {name} exited 0{notes}"),
            _ if notes.is_empty() => format!("task {id} exited 0"),
            _ => format!("task {id}: {} exited 0{notes}", verdict.container().unwrap_or_default()),
        });
    }
    let stopped_reason = task.stopped_reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default();
    let what = match (&verdict.decider, verdict.exit_code) {
        (Decider::Missing(name), _) => format!("the task has no container `{name}`"),
        (Decider::Nothing, _) => {
            let names: Vec<&str> =
                task.containers.iter().filter(|c| essential(&c.name)).map(|c| c.name.as_str()).collect();
            match names.as_slice() {
                [] => "no essential container ran".to_string(),
                names => format!("{} did not run to an exit", names.join(", ")),
            }
        }
        (_, Some(code)) => format!("{} exited {code}", verdict.container().unwrap_or_default()),
        (_, None) => format!("{} did not run to an exit", verdict.container().unwrap_or_default()),
    };
    let reason = format!("task {id} failed: {what}{stopped_reason}{notes}");
    let help = if let Decider::Missing(name) = &verdict.decider {
        let names: Vec<String> = task.containers.iter().map(|c| format!("`{}`", c.name)).collect();
        format!(
            "`container = \"{name}\"` names no container of {}: it has {}",
            short(&task.task_definition),
            names.join(", ")
        )
    } else if verdict.exit_code.is_none() {
        "a container did not run: the stopped reason says why (an image that cannot be pulled, a missing secret); fix it, then run again".to_string()
    } else {
        format!(
            "the task's logs say why it exited non-zero; fix the command or the image of {}, then run again",
            short(&task.task_definition)
        )
    };
    let mut failure = StepFailure::new(label, FailureKind::TaskFailed, reason, help);
    failure.details.push("containers:".into());
    for container in &task.containers {
        let by_ecs = verdict.stopped_by_ecs.iter().any(|(name, _)| *name == container.name);
        failure.details.push(format!(
            "  {}{}: {}{}{}",
            container.name,
            if essential(&container.name) { "" } else { " (not essential)" },
            container.exit_code.map(|c| format!("exit {c}")).unwrap_or_else(|| "no exit code".into()),
            container.reason.as_ref().map(|r| format!(", {r}")).unwrap_or_default(),
            if by_ecs { " (stopped by ECS)" } else { "" },
        ));
    }
    Err(failure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::TaskStatus;

    fn container(name: &str, exit_code: Option<i32>) -> ContainerState {
        ContainerState { name: name.into(), last_status: Some(TaskStatus::Stopped), exit_code, reason: None }
    }

    fn task(stop_code: &str, reason: &str, containers: Vec<ContainerState>) -> TaskState {
        TaskState {
            arn: "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef".into(),
            task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2".into(),
            last_status: TaskStatus::Stopped,
            desired_status: TaskStatus::Stopped,
            stopped_reason: Some(reason.into()),
            stop_code: Some(stop_code.into()),
            started_by: None,
            stopped_at: None,
            containers,
        }
    }

    const EXITED: &str = "Essential container in task exited";

    fn all_essential(_: &str) -> bool {
        true
    }

    #[test]
    fn the_app_exits_0_and_a_sidecar_stopped_by_ecs_does_not_fail_it() {
        let task = task(
            "EssentialContainerExited",
            EXITED,
            vec![container("app", Some(0)), container("log-router", Some(143))],
        );
        let verdict = judge(&task, all_essential, None);
        assert!(verdict.succeeded);
        assert_eq!(verdict.decider, Decider::Essential("app".into()));
        assert_eq!(verdict.stopped_by_ecs, [("log-router".to_string(), 143)]);
    }

    #[test]
    fn the_app_exits_3_and_the_failure_names_the_app_not_the_sidecar() {
        let task = task(
            "EssentialContainerExited",
            EXITED,
            vec![container("envoy", Some(137)), container("app", Some(3)), container("log-router", Some(143))],
        );
        let verdict = judge(&task, all_essential, None);
        assert!(!verdict.succeeded);
        assert_eq!((verdict.container(), verdict.exit_code), (Some("app"), Some(3)));
        assert_eq!(verdict.stopped_by_ecs, [("envoy".to_string(), 137), ("log-router".to_string(), 143)]);
    }

    #[test]
    fn the_named_container_decides_though_another_essential_exited_1_first() {
        let task =
            task("EssentialContainerExited", EXITED, vec![container("app", Some(1)), container("migrate", Some(0))]);
        let verdict = judge(&task, all_essential, Some("migrate"));
        assert!(verdict.succeeded);
        assert_eq!(verdict.decider, Decider::Named("migrate".into()));
        assert_eq!(verdict.overruled, [("app".to_string(), 1)]);
    }

    #[test]
    fn a_named_non_essential_container_that_fails_fails_the_step() {
        let task =
            task("EssentialContainerExited", EXITED, vec![container("app", Some(0)), container("migrate", Some(2))]);
        let verdict = judge(&task, |name| name == "app", Some("migrate"));
        assert!(!verdict.succeeded);
        assert_eq!((verdict.container(), verdict.exit_code), (Some("migrate"), Some(2)));
        // Without the name the essential app decides.
        assert!(judge(&task, |name| name == "app", None).succeeded);
    }

    #[test]
    fn a_task_that_failed_to_start_fails_with_no_container_deciding() {
        let task = task(
            "TaskFailedToStart",
            "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
            vec![container("app", None), container("log-router", None)],
        );
        let verdict = judge(&task, all_essential, None);
        assert!(!verdict.succeeded);
        assert_eq!((verdict.decider, verdict.exit_code), (Decider::Nothing, None));
        let named = judge(&task, all_essential, Some("app"));
        assert_eq!((named.succeeded, named.exit_code), (false, None));
    }

    #[test]
    fn a_task_stopped_from_outside_fails_on_the_signal() {
        let task = task("UserInitiated", "Task stopped by user", vec![container("app", Some(143))]);
        let verdict = judge(&task, all_essential, None);
        assert!(!verdict.succeeded);
        assert_eq!((verdict.container(), verdict.exit_code), (Some("app"), Some(143)));
    }

    #[test]
    fn non_essential_containers_never_decide_unless_named() {
        let task =
            task("EssentialContainerExited", EXITED, vec![container("init", Some(1)), container("app", Some(0))]);
        assert!(judge(&task, |name| name == "app", None).succeeded);
    }

    #[test]
    fn a_named_container_the_task_lacks_decides_nothing() {
        let task = task("EssentialContainerExited", EXITED, vec![container("app", Some(0))]);
        let verdict = judge(&task, all_essential, Some("migrate"));
        assert_eq!((verdict.succeeded, verdict.decider), (false, Decider::Missing("migrate".into())));
    }

    fn label() -> StepLabel {
        StepLabel { line: 3, title: "run-task td".into(), span: crate::syntax::ast::Span::new(0, 11) }
    }

    #[test]
    fn the_report_says_the_named_container_decided_and_what_the_other_did() {
        let task =
            task("EssentialContainerExited", EXITED, vec![container("app", Some(1)), container("migrate", Some(0))]);
        let verdict = judge(&task, all_essential, Some("migrate"));
        assert_eq!(
            outcome(&label(), &task, &verdict, all_essential).unwrap(),
            "task 0123456789abcdef0123456789abcdef: migrate exited 0 (judged by `migrate`, as the step names it, though essential `app` exited 1)"
        );
    }

    #[test]
    fn the_report_names_the_app_and_marks_what_ecs_stopped() {
        let task = task(
            "EssentialContainerExited",
            EXITED,
            vec![container("app", Some(3)), container("log-router", Some(143))],
        );
        let failure = outcome(&label(), &task, &judge(&task, all_essential, None), all_essential).unwrap_err();
        assert_eq!(
            failure.reason,
            "task 0123456789abcdef0123456789abcdef failed: app exited 3 (Essential container in task exited) (stopped by ECS after it: log-router exit 143)"
        );
        assert_eq!(failure.details, ["containers:", "  app: exit 3", "  log-router: exit 143 (stopped by ECS)"]);
    }

    #[test]
    fn a_task_that_never_started_fails_with_its_stopped_reason() {
        let task = task("TaskFailedToStart", "CannotPullContainerError: no such image", vec![container("app", None)]);
        let failure = outcome(&label(), &task, &judge(&task, all_essential, None), all_essential).unwrap_err();
        assert_eq!(
            failure.reason,
            "task 0123456789abcdef0123456789abcdef failed: app did not run to an exit (CannotPullContainerError: no such image)"
        );
        assert!(failure.help.starts_with("a container did not run: the stopped reason says why"), "{}", failure.help);
    }
}
