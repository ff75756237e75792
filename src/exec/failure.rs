//! Why a run failed, as data: a stable code per kind of failure (documented
//! in docs/language.md, never reused), the reason, the help computed where
//! the failure was raised, and the place in the pipeline to point at.

use miette::{Diagnostic, LabeledSpan};

use super::report::StepLabel;
use crate::aws::AwsError;
use crate::eval::EvalError;
use crate::image::ImageError;
use crate::resolve::ResolveError;
use crate::syntax::ast::Span;

/// Every way a run can fail. Each has one code; a code has one meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// ECS marked the followed deployment FAILED (the circuit breaker).
    RolloutFailed,
    /// Another deployment took over before the followed one finished.
    RolloutReplaced,
    /// The deployment did not finish within `timeout`.
    RolloutTimeout,
    /// The service's deployment controller is CODE_DEPLOY or EXTERNAL.
    RolloutUnfollowable,
    /// `continue`: no PAUSE hook holds the service's deployment, and none will.
    NotPaused,
    /// `continue`: the deployment did not reach its PAUSE hook within `timeout`.
    PauseTimeout,
    /// A `run-task`'s essential container exited non-zero or never ran.
    TaskFailed,
    /// A `run-task` did not reach what it waits for within `timeout`.
    TaskTimeout,
    /// ECS accepted the `run-task` but started no task.
    TaskNotStarted,
    /// ECS stopped describing a task the run waits on.
    TaskLost,
    /// The container builder failed to build the image.
    BuildFailed,
    /// The container builder failed to push the image.
    PushFailed,
    /// No container builder can be used.
    BuilderMissing,
    /// An AWS call failed.
    Aws,
    /// A `prune` deregistered some revisions, then an AWS call failed.
    PruneFailed,
    /// `rollback` without `to` has no earlier revision to return to.
    RollbackImpossible,
    /// The deploymentConfiguration an `update` would send breaks a rule of
    /// the service's deployment strategy.
    DeploymentConflict,
    /// A value read by the step was never bound.
    Unbound,
    /// A `register`'s base cannot be used.
    TaskDefinition,
    /// A value computed at run time is not one the step can use.
    InvalidValue,
    /// `env("NAME")` without a default, and `NAME` is not set.
    EnvUnset,
    /// A param without a default was not given.
    ParamUnset,
    /// A param's value is not of its type.
    ParamType,
    /// `--param` names no param of the pipeline.
    ParamUnknown,
    /// A signal stopped the run.
    Interrupted,
    /// The step was stopped before it finished: a sibling in `parallel`
    /// failed, or a signal came.
    Cancelled,
}

// `ALL` lists every kind in declaration order; the test checks the order.
const _: () = assert!(FailureKind::ALL.len() == FailureKind::Cancelled as usize + 1);

impl FailureKind {
    pub const ALL: [FailureKind; 26] = [
        FailureKind::RolloutFailed,
        FailureKind::RolloutReplaced,
        FailureKind::RolloutTimeout,
        FailureKind::RolloutUnfollowable,
        FailureKind::NotPaused,
        FailureKind::PauseTimeout,
        FailureKind::TaskFailed,
        FailureKind::TaskTimeout,
        FailureKind::TaskNotStarted,
        FailureKind::TaskLost,
        FailureKind::BuildFailed,
        FailureKind::PushFailed,
        FailureKind::BuilderMissing,
        FailureKind::Aws,
        FailureKind::PruneFailed,
        FailureKind::RollbackImpossible,
        FailureKind::DeploymentConflict,
        FailureKind::Unbound,
        FailureKind::TaskDefinition,
        FailureKind::InvalidValue,
        FailureKind::EnvUnset,
        FailureKind::ParamUnset,
        FailureKind::ParamType,
        FailureKind::ParamUnknown,
        FailureKind::Interrupted,
        FailureKind::Cancelled,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FailureKind::RolloutFailed => "ecsflow::rollout-failed",
            FailureKind::RolloutReplaced => "ecsflow::rollout-replaced",
            FailureKind::RolloutTimeout => "ecsflow::rollout-timeout",
            FailureKind::RolloutUnfollowable => "ecsflow::rollout-unfollowable",
            FailureKind::NotPaused => "ecsflow::not-paused",
            FailureKind::PauseTimeout => "ecsflow::pause-timeout",
            FailureKind::TaskFailed => "ecsflow::task-failed",
            FailureKind::TaskTimeout => "ecsflow::task-timeout",
            FailureKind::TaskNotStarted => "ecsflow::task-not-started",
            FailureKind::TaskLost => "ecsflow::task-lost",
            FailureKind::BuildFailed => "ecsflow::build-failed",
            FailureKind::PushFailed => "ecsflow::push-failed",
            FailureKind::BuilderMissing => "ecsflow::builder-missing",
            FailureKind::Aws => "ecsflow::aws",
            FailureKind::PruneFailed => "ecsflow::prune-failed",
            FailureKind::RollbackImpossible => "ecsflow::rollback-impossible",
            FailureKind::DeploymentConflict => "ecsflow::deployment-conflict",
            FailureKind::Unbound => "ecsflow::unbound",
            FailureKind::TaskDefinition => "ecsflow::taskdef",
            FailureKind::InvalidValue => "ecsflow::invalid-value",
            FailureKind::EnvUnset => "ecsflow::env-unset",
            FailureKind::ParamUnset => "ecsflow::param-unset",
            FailureKind::ParamType => "ecsflow::param-type",
            FailureKind::ParamUnknown => "ecsflow::param-unknown",
            FailureKind::Interrupted => "ecsflow::interrupted",
            FailureKind::Cancelled => "ecsflow::cancelled",
        }
    }

    /// The failure in a few words: the heading of the rendered report.
    pub fn summary(self) -> &'static str {
        match self {
            FailureKind::RolloutFailed => "the deployment failed",
            FailureKind::RolloutReplaced => "another deployment replaced this one",
            FailureKind::RolloutTimeout => "the deployment did not finish in time",
            FailureKind::RolloutUnfollowable => "this service's deployments cannot be followed",
            FailureKind::NotPaused => "no deployment is paused to continue",
            FailureKind::PauseTimeout => "the deployment did not pause in time",
            FailureKind::TaskFailed => "the task failed",
            FailureKind::TaskTimeout => "the task did not finish in time",
            FailureKind::TaskNotStarted => "ECS started no task",
            FailureKind::TaskLost => "ECS lost track of the task",
            FailureKind::BuildFailed => "the image did not build",
            FailureKind::PushFailed => "the image was not pushed",
            FailureKind::BuilderMissing => "no container builder to use",
            FailureKind::Aws => "an AWS call failed",
            FailureKind::PruneFailed => "the prune stopped part-way",
            FailureKind::RollbackImpossible => "there is nothing to roll back to",
            FailureKind::DeploymentConflict => "ECS would refuse this deployment configuration",
            FailureKind::Unbound => "a value is not bound",
            FailureKind::TaskDefinition => "the task definition cannot be used",
            FailureKind::InvalidValue => "a value cannot be used",
            FailureKind::EnvUnset => "an environment variable is not set",
            FailureKind::ParamUnset => "a param has no value",
            FailureKind::ParamType => "a param's value is not of its type",
            FailureKind::ParamUnknown => "no such param",
            FailureKind::Interrupted => "the run was interrupted",
            FailureKind::Cancelled => "the step was cancelled",
        }
    }

    /// The label on the step when the failure has no more precise place.
    fn label(self) -> &'static str {
        match self {
            FailureKind::RolloutFailed => "this rollout failed",
            FailureKind::RolloutReplaced => "this rollout was replaced",
            FailureKind::RolloutTimeout => "waited here",
            FailureKind::RolloutUnfollowable => "cannot follow this rollout",
            FailureKind::NotPaused => "nothing paused to continue",
            FailureKind::PauseTimeout => "waited here for the pause",
            FailureKind::TaskFailed
            | FailureKind::TaskTimeout
            | FailureKind::TaskNotStarted
            | FailureKind::TaskLost => "this task",
            _ => "this step failed",
        }
    }

    /// The kind of a resolution error, whose own code it keeps.
    pub fn of_resolve(error: &ResolveError) -> FailureKind {
        match error {
            ResolveError::Eval(error) => FailureKind::of_eval(error),
            ResolveError::Unbound { .. } => FailureKind::Unbound,
            ResolveError::Aws { .. } => FailureKind::Aws,
            ResolveError::TaskDefinition { .. } => FailureKind::TaskDefinition,
            ResolveError::NoEarlierRevision { .. } => FailureKind::RollbackImpossible,
            ResolveError::DeploymentConflict { .. } => FailureKind::DeploymentConflict,
        }
    }

    fn of_eval(error: &EvalError) -> FailureKind {
        match error {
            EvalError::EnvUnset { .. } => FailureKind::EnvUnset,
            EvalError::ParamUnset { .. } => FailureKind::ParamUnset,
            EvalError::ParamType { .. } => FailureKind::ParamType,
            EvalError::UnknownParam { .. } => FailureKind::ParamUnknown,
            EvalError::Invalid { .. } => FailureKind::InvalidValue,
        }
    }
}

/// Why a step failed, with what the user needs to see to act on it.
#[derive(Debug, Clone)]
pub struct StepFailure {
    pub step: StepLabel,
    pub kind: FailureKind,
    pub reason: String,
    /// What to do next, computed where the failure was raised.
    pub help: String,
    /// What the report underlines: the step, or the value the failure is about.
    pub at: Span,
    pub label: String,
    /// Service events, stopped tasks' reasons and exit codes.
    pub details: Vec<String>,
}

impl StepFailure {
    /// A failure labelled on the step itself.
    pub fn new(step: &StepLabel, kind: FailureKind, reason: impl Into<String>, help: impl Into<String>) -> Self {
        StepFailure {
            step: step.clone(),
            kind,
            reason: reason.into(),
            help: help.into(),
            at: step.span,
            label: kind.label().into(),
            details: Vec::new(),
        }
    }

    pub fn aws(step: &StepLabel, error: AwsError) -> Self {
        let help = error.help();
        StepFailure::new(step, FailureKind::Aws, error.to_string(), help)
    }

    /// A failure to resolve the step, labelled where the resolver points.
    pub fn resolve(step: &StepLabel, error: ResolveError) -> Self {
        let kind = FailureKind::of_resolve(&error);
        let help = error.help().map(|h| h.to_string()).unwrap_or_else(|| match &error {
            ResolveError::Aws { error, .. } => error.help(),
            _ => "fix the value the label points at, then run again".into(),
        });
        let labels: Vec<LabeledSpan> = error.labels().map(|l| l.collect()).unwrap_or_default();
        let mut failure = StepFailure::new(step, kind, error.to_string(), help);
        if let Some(label) = labels.first() {
            failure.at = Span::new(label.offset(), label.offset() + label.len());
            failure.label = label.label().unwrap_or(kind.label()).to_string();
        }
        failure
    }

    /// A builder's failure; `pushing` says which step met it.
    pub fn image(step: &StepLabel, error: ImageError, pushing: bool) -> Self {
        let (kind, help) = match &error {
            ImageError::NoBuilder | ImageError::NotInstalled(_) | ImageError::UnknownBuilder(_) => (
                FailureKind::BuilderMissing,
                "install docker (with buildx), podman or buildah, or name an installed one with the step's `builder`, --builder or ECSFLOW_BUILDER".to_string(),
            ),
            _ if pushing => (
                FailureKind::PushFailed,
                "check the builder's output below: the registry's login (ECR's comes from the run's AWS credentials), that the repository exists, and that this identity may push to it".to_string(),
            ),
            _ => (
                FailureKind::BuildFailed,
                "the builder's output below says what failed; fix the Dockerfile or the build context, then run again".to_string(),
            ),
        };
        let mut failure = StepFailure::new(step, kind, error.to_string(), help);
        let output = error.output();
        if !output.is_empty() {
            failure.details.push("builder output:".into());
            // The whole output, bounded so a runaway build cannot flood the log.
            let skip = output.len().saturating_sub(400);
            if skip > 0 {
                failure.details.push(format!("  … {skip} earlier lines"));
            }
            failure.details.extend(output[skip..].iter().map(|l| format!("  | {l}")));
        }
        failure
    }

    /// How the report shows it against the pipeline's source.
    pub fn diagnostic(&self) -> FailureDiagnostic {
        FailureDiagnostic { kind: self.kind, help: self.help.clone(), at: Some((self.at, self.label.clone())) }
    }
}

/// A failure as miette renders it: the code, the summary, the label on the
/// pipeline's source and the help.
#[derive(Debug, Clone)]
pub struct FailureDiagnostic {
    pub kind: FailureKind,
    pub help: String,
    pub at: Option<(Span, String)>,
}

impl std::fmt::Display for FailureDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind.summary())
    }
}

impl std::error::Error for FailureDiagnostic {}

impl Diagnostic for FailureDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (span, label) = self.at.as_ref()?;
        let labeled = LabeledSpan::new_primary_with_span(Some(label.clone()), (span.start, span.end - span.start));
        Some(Box::new(std::iter::once(labeled)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_distinct_and_documented_in_the_language_reference() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md")).unwrap();
        let mut seen = std::collections::HashSet::new();
        for (index, kind) in FailureKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, index, "FailureKind::ALL is out of order at {kind:?}");
            assert!(seen.insert(kind.code()), "{} is used twice", kind.code());
            assert!(
                doc.contains(&format!("### `{}`", kind.code())),
                "docs/language.md has no section for `{}`",
                kind.code()
            );
        }
    }

    #[test]
    fn resolution_failures_keep_the_resolvers_code() {
        use miette::Diagnostic as _;
        let span = Span::new(0, 1);
        let errors = [
            ResolveError::Unbound { name: "td".into(), span },
            ResolveError::aws(AwsError::new("ecs:DescribeServices", "no"), span),
            ResolveError::TaskDefinition { message: "no".into(), span },
            ResolveError::NoEarlierRevision { family: "web".into(), current: "web:1".into(), span },
            ResolveError::Eval(EvalError::EnvUnset { name: "X".into(), span, help: String::new() }),
            ResolveError::Eval(EvalError::Invalid { message: "no".into(), span, label: String::new() }),
        ];
        for error in errors {
            assert_eq!(
                Some(FailureKind::of_resolve(&error).code().to_string()),
                error.code().map(|c| c.to_string()),
                "{error}"
            );
        }
    }
}
