//! A checked pipeline: every name resolved to a binding, every attribute typed
//! and validated, enumerated attributes decoded. This is what `plan` and `run`
//! take; nothing here can be half-checked.

use std::time::Duration;

use crate::syntax::ast::Span;

/// Index into [`Pipeline::bindings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BindingId(pub usize);

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub name: String,
    pub region: Option<Expr>,
    pub cluster: Option<Expr>,
    pub bindings: Vec<Binding>,
    pub steps: Vec<Step>,
    pub on_failure: Vec<Step>,
}

impl Pipeline {
    pub fn binding(&self, id: BindingId) -> &Binding {
        &self.bindings[id.0]
    }

    /// How reports name a step: its head as written (first line, up to its
    /// block), with the `let` that binds it.
    pub fn step_title(&self, source: &str, step: &Step) -> String {
        let text = source.get(step.span.start..step.span.end).unwrap_or_default();
        let head = text.lines().next().unwrap_or_default().split('{').next().unwrap_or_default().trim();
        match step.binds {
            Some(id) => format!("let {} = {head}", self.binding(id).name),
            None => head.to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub span: Span,
    pub kind: BindingKind,
}

#[derive(Debug, Clone)]
pub enum BindingKind {
    Param {
        ty: ParamType,
        default: Option<Expr>,
    },
    Service {
        name: Expr,
    },
    Repository {
        name: Expr,
    },
    /// `let x = expression`.
    Expr(Expr),
    /// `let x = STEP`: bound when the step succeeds.
    StepResult,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Int,
    Number,
    Bool,
    Duration,
}

impl ParamType {
    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Number => "number",
            ParamType::Bool => "bool",
            ParamType::Duration => "duration",
        }
    }
}

/// An expression still to be evaluated at run time (params and step results
/// are known only then).
#[derive(Debug, Clone)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Str(Vec<Part>),
    Int(i64),
    Number(f64),
    Bool(bool),
    Duration(Duration),
    List(Vec<Expr>),
    Map(Vec<(String, Expr)>),
    Env { name: Box<Expr>, default: Option<Box<Expr>> },
    Binding(BindingId),
}

#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    Binding(BindingId, Span),
}

#[derive(Debug, Clone)]
pub struct Step {
    pub keyword: Span,
    pub span: Span,
    /// The `let` binding that receives the step's result.
    pub binds: Option<BindingId>,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    Build(Build),
    Push(Push),
    Register(Register),
    SuspendScaling { service: BindingId },
    ResumeScaling { service: BindingId },
    Update(Box<Update>),
    AwaitStable { services: Vec<BindingId>, timeout: Option<Expr>, until: Until },
    RunTask(RunTask),
    Rollback { service: BindingId, to: Option<Expr> },
    Continue { service: BindingId, action: HookAction, timeout: Option<Expr> },
    Prune { task_definition: Expr, keep: Expr },
    Parallel(Vec<Step>),
}

#[derive(Debug, Clone)]
pub struct Build {
    pub context: Expr,
    pub dockerfile: Option<Expr>,
    pub target: Option<Expr>,
    pub build_args: Option<Expr>,
    pub platform: Option<Expr>,
    pub builder: Option<Builder>,
}

/// The one builder enum, shared with the image module and the command line.
pub use crate::image::BuilderKind as Builder;

#[derive(Debug, Clone)]
pub struct Push {
    pub image: Expr,
    pub repository: BindingId,
    pub tags: Expr,
}

#[derive(Debug, Clone)]
pub struct Register {
    pub base: Base,
    pub containers: Vec<ContainerOverride>,
    pub cpu: Option<Expr>,
    pub memory: Option<Expr>,
}

#[derive(Debug, Clone)]
pub enum Base {
    Service(BindingId),
    File(Expr),
    Family(Expr),
}

#[derive(Debug, Clone)]
pub struct ContainerOverride {
    pub name: String,
    pub span: Span,
    pub image: Option<Expr>,
    pub env: Option<Expr>,
    pub secrets: Option<Expr>,
    pub command: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct Update {
    pub service: BindingId,
    pub task_definition: Option<Expr>,
    pub desired_count: Option<Expr>,
    pub min_healthy_percent: Option<Expr>,
    pub max_percent: Option<Expr>,
    pub force_new_deployment: Option<Expr>,
    pub circuit_breaker: Option<CircuitBreaker>,
    pub health_check_grace: Option<Expr>,
    pub strategy: Option<Strategy>,
    pub bake_time: Option<Expr>,
    pub linear_step_percent: Option<Expr>,
    pub linear_step_bake_time: Option<Expr>,
    pub canary_percent: Option<Expr>,
    pub canary_bake_time: Option<Expr>,
    pub alarms: Option<Expr>,
    pub alarm_rollback: Option<Expr>,
    /// An `int` (COUNT) or a string (`"50%"`, `"250% unbounded"`).
    pub circuit_breaker_threshold: Option<Expr>,
    pub circuit_breaker_reset_on_healthy: Option<Expr>,
    pub early_success: Option<EarlySuccess>,
    pub early_success_cleanup: Option<Cleanup>,
    /// `None` when the block writes no `hook`: the service keeps its own.
    pub hooks: Option<Vec<Hook>>,
}

pub use crate::deployment::{Cleanup, HookAction, Stage, Strategy};

#[derive(Debug, Clone)]
pub enum EarlySuccess {
    Off,
    Percent(Expr),
}

/// `hook pause { … }` or `hook "LAMBDA-ARN" { … }`.
#[derive(Debug, Clone)]
pub struct Hook {
    pub keyword: Span,
    /// `None` for `pause`; else the Lambda function's ARN.
    pub lambda: Option<Expr>,
    pub role: Option<Expr>,
    pub stages: Vec<Stage>,
    pub details: Option<Expr>,
    pub timeout: Option<Expr>,
    pub on_timeout: Option<HookAction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitBreaker {
    Off,
    On,
    Rollback,
}

#[derive(Debug, Clone)]
pub struct RunTask {
    pub task_definition: Expr,
    pub like: Option<BindingId>,
    pub containers: Vec<ContainerOverride>,
    pub wait: Wait,
    pub timeout: Option<Expr>,
    /// `container = "NAME"`: the container whose exit decides the verdict,
    /// instead of the essential one that stopped the task.
    pub judged_by: Option<Expr>,
}

/// When `await-stable` returns: at the end of the deployment (`stable`), or
/// also when a PAUSE lifecycle hook holds it (`paused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Until {
    #[default]
    Stable,
    Paused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Success,
    Running,
    None,
}

/// The defaults users of the AWS console get, and the sketch's `timeout = 10m`.
pub const DEFAULT_AWAIT_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_RUN_TASK_TIMEOUT: Duration = Duration::from_secs(600);
/// How long `continue` waits for the deployment to reach its PAUSE hook.
pub const DEFAULT_CONTINUE_TIMEOUT: Duration = Duration::from_secs(600);
