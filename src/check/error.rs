//! Every mistake the checker can report. Each variant has a stable code that
//! users search for (`ecsflow::<code>`): never rename or reuse one. The doc
//! comment on each says how a user resolves it; docs/language.md shows a
//! failing example of each.

use miette::Diagnostic;
use thiserror::Error;

use crate::syntax::ast::Span;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum CheckError {
    /// A name is used that nothing defines. Fix the spelling or define it.
    #[error("unknown name `{name}`")]
    #[diagnostic(code("ecsflow::unknown-name"))]
    UnknownName {
        name: String,
        #[label("not defined in this pipeline")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    /// A function other than `env` is called.
    #[error("unknown function `{name}`")]
    #[diagnostic(
        code("ecsflow::unknown-name"),
        help(r#"the only function is `env("NAME")` or `env("NAME", "default")`"#)
    )]
    UnknownFunction {
        name: String,
        #[label("not a function")]
        span: Span,
    },

    /// A name is used on a line above the one that defines it. Move the
    /// definition up.
    #[error("`{name}` is used before it is defined")]
    #[diagnostic(code("ecsflow::use-before-definition"))]
    UseBeforeDefinition {
        name: String,
        #[label(primary, "used here")]
        span: Span,
        #[label("defined later, here")]
        defined: Span,
        #[help]
        help: String,
    },

    /// Two definitions share a name. Rename or remove one.
    #[error("`{name}` is defined twice")]
    #[diagnostic(code("ecsflow::duplicate-name"))]
    DuplicateName {
        name: String,
        #[label(primary, "defined again here")]
        span: Span,
        #[label("first defined here")]
        first: Span,
        #[help]
        help: String,
    },

    /// A value of one type stands where another is expected.
    #[error("expected {expected}, found `{found}`")]
    #[diagnostic(code("ecsflow::type-mismatch"))]
    TypeMismatch {
        expected: String,
        found: String,
        #[label(primary, "this is `{found}`")]
        span: Span,
        #[label("{bound_label}")]
        bound: Option<Span>,
        bound_label: String,
        #[help]
        help: Option<String>,
    },

    /// A step or container block has an attribute it does not take.
    #[error("`{step}` has no attribute `{name}`")]
    #[diagnostic(code("ecsflow::unknown-attribute"))]
    UnknownAttribute {
        step: String,
        name: String,
        #[label("unknown attribute")]
        span: Span,
        #[help]
        help: String,
    },

    /// A required attribute is missing.
    #[error("`{step}` needs `{name}`")]
    #[diagnostic(code("ecsflow::missing-attribute"))]
    MissingAttribute {
        step: String,
        name: String,
        #[label("`{name}` is missing")]
        span: Span,
        #[help]
        help: String,
    },

    /// An attribute, container block or map key is given twice.
    #[error("{what} `{name}` is given twice")]
    #[diagnostic(code("ecsflow::duplicate-attribute"), help("remove one of them"))]
    DuplicateAttribute {
        what: &'static str,
        name: String,
        #[label(primary, "given again here")]
        span: Span,
        #[label("first given here")]
        first: Span,
    },

    /// A value has the right type but is out of range or malformed.
    #[error("{message}")]
    #[diagnostic(code("ecsflow::invalid-value"))]
    InvalidValue {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
        #[help]
        help: Option<String>,
    },

    /// With these numbers ECS can never start a new task without breaking
    /// min-healthy-percent, so the rollout would hang until its timeout.
    #[error("this rollout can never replace a task: with desired-count {desired}, ECS keeps at least {min_healthy} healthy and runs at most {max_running}")]
    #[diagnostic(code("ecsflow::rollout-cannot-progress"))]
    RolloutCannotProgress {
        desired: i64,
        min_healthy: i64,
        max_running: i64,
        #[label(primary, "allows at most {max_running} running")]
        span: Span,
        #[label("at least {min_healthy} must stay healthy")]
        min_span: Span,
        #[help]
        help: String,
    },

    /// Autoscaling suspended and not resumed would stay suspended after a
    /// successful run.
    #[error("scaling of `{service}` is suspended and never resumed")]
    #[diagnostic(code("ecsflow::scaling-not-resumed"))]
    ScalingNotResumed {
        service: String,
        #[label("suspended here")]
        span: Span,
        #[help]
        help: String,
    },

    /// A `register file "…"` base that cannot be used.
    #[error("{message}")]
    #[diagnostic(code("ecsflow::taskdef-file"))]
    TaskdefFile {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
        #[help]
        help: Option<String>,
    },

    /// A container block names a container the task definition lacks.
    #[error("the task definition has no container `{name}`")]
    #[diagnostic(code("ecsflow::unknown-container"))]
    UnknownContainer {
        name: String,
        #[label(primary, "no such container")]
        span: Span,
        #[label("the task definition comes from here")]
        base: Span,
        #[help]
        help: String,
    },

    /// A build context or Dockerfile that does not exist.
    #[error("{what} `{path}` {problem}")]
    #[diagnostic(code("ecsflow::missing-path"))]
    MissingPath {
        what: &'static str,
        path: String,
        /// "does not exist" or "is not a directory".
        problem: &'static str,
        #[label("{problem}")]
        span: Span,
        #[help]
        help: String,
    },

    /// Two steps of one `parallel` block would race on a service, or one
    /// needs a value another is still producing.
    #[error("{message}")]
    #[diagnostic(code("ecsflow::parallel-conflict"))]
    ParallelConflict {
        message: String,
        #[label(primary, "{label}")]
        span: Span,
        label: String,
        #[label("{other_label}")]
        other: Span,
        other_label: String,
        #[help]
        help: String,
    },

    /// A binding nothing uses. Remove it or prefix it with `_`.
    #[error("`{name}` is never used")]
    #[diagnostic(code("ecsflow::unused-binding"), severity(Warning))]
    UnusedBinding {
        name: String,
        #[label("bound here")]
        span: Span,
        #[help]
        help: String,
    },

    /// `await-stable` on a service the pipeline never updates or rolls back:
    /// it waits for no deployment of this run.
    #[error("`await-stable` waits for `{service}`, which this pipeline never updates")]
    #[diagnostic(code("ecsflow::await-without-update"), severity(Warning))]
    AwaitWithoutUpdate {
        service: String,
        #[label("never updated")]
        span: Span,
        #[help]
        help: String,
    },

    /// An attribute for one deployment strategy in a block that writes
    /// another (`canary-percent` with `strategy = linear`). Remove one.
    #[error("{message}")]
    #[diagnostic(code("ecsflow::strategy-conflict"))]
    StrategyConflict {
        message: String,
        #[label(primary, "{label}")]
        span: Span,
        label: String,
        #[label("the strategy is set here")]
        strategy: Span,
        #[help]
        help: String,
    },

    /// A lifecycle hook at a stage where it cannot run: a pause hook at a
    /// traffic shift, or a stage the block's strategy does not have.
    #[error("{message}")]
    #[diagnostic(code("ecsflow::hook-stage"))]
    HookStage {
        message: String,
        #[label(primary, "{label}")]
        span: Span,
        label: String,
        #[label("the strategy is set here")]
        strategy: Option<Span>,
        #[help]
        help: String,
    },

    /// A push whose only tag is `latest`.
    #[error("the only tag pushed is `latest`")]
    #[diagnostic(
        code("ecsflow::latest-tag-only"),
        severity(Warning),
        help(r#"add an immutable tag, such as the commit: `tags = [tag, "latest"]`; `latest` alone hides which build is live"#)
    )]
    LatestTagOnly {
        #[label("only `latest`")]
        span: Span,
    },

    /// `rollback SERVICE` in the main flow before the service was updated:
    /// there is no earlier revision of this run to return to.
    #[error("nothing to roll back: `{service}` is not updated before this `rollback`")]
    #[diagnostic(code("ecsflow::nothing-to-roll-back"), severity(Warning))]
    NothingToRollBack {
        service: String,
        #[label("no update of `{service}` before this")]
        span: Span,
        #[help]
        help: String,
    },

    /// `continue SERVICE` in the main flow before any update of the service:
    /// no deployment of this run can be paused there.
    #[error("`continue` resumes `{service}`, which this pipeline does not update before it")]
    #[diagnostic(code("ecsflow::continue-without-update"), severity(Warning))]
    ContinueWithoutUpdate {
        service: String,
        #[label("no update of `{service}` before this")]
        span: Span,
        #[help]
        help: String,
    },
}

impl CheckError {
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            CheckError::UnusedBinding { .. }
                | CheckError::AwaitWithoutUpdate { .. }
                | CheckError::LatestTagOnly { .. }
                | CheckError::NothingToRollBack { .. }
                | CheckError::ContinueWithoutUpdate { .. }
        )
    }

    /// Where the diagnostic points first; used to order a file's diagnostics.
    pub fn position(&self) -> usize {
        use CheckError::*;
        match self {
            UnknownName { span, .. }
            | UnknownFunction { span, .. }
            | UseBeforeDefinition { span, .. }
            | DuplicateName { span, .. }
            | TypeMismatch { span, .. }
            | UnknownAttribute { span, .. }
            | MissingAttribute { span, .. }
            | DuplicateAttribute { span, .. }
            | InvalidValue { span, .. }
            | RolloutCannotProgress { span, .. }
            | ScalingNotResumed { span, .. }
            | TaskdefFile { span, .. }
            | UnknownContainer { span, .. }
            | MissingPath { span, .. }
            | ParallelConflict { span, .. }
            | StrategyConflict { span, .. }
            | HookStage { span, .. }
            | UnusedBinding { span, .. }
            | AwaitWithoutUpdate { span, .. }
            | LatestTagOnly { span }
            | NothingToRollBack { span, .. }
            | ContinueWithoutUpdate { span, .. } => span.start,
        }
    }
}
