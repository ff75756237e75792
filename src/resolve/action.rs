//! Resolved actions: a step with every value evaluated and every decision
//! taken, down to the exact AWS requests. `plan` renders them, `run` performs
//! them; [`Resolved::calls`] is the list of mutating calls both agree on.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::{Map, Value as Json};

use crate::aws::{scaling_resource_id, RunTaskRequest, ScalingSuspension, ServiceState, ServiceUpdate};
use crate::check::pipeline::{HookAction, Step, Until, Wait};
use crate::eval::ServiceRef;
use crate::image::{BuildRequest, Builder, ImageError};
use crate::resolve::Ledger;
use crate::taskdef::short;

/// One mutating AWS call a step makes, named as IAM names the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Call {
    /// `service:Action`, e.g. `ecs:UpdateService`.
    pub api: &'static str,
    /// What it acts on: `cluster/service`, `family:revision`, a family, a
    /// scalable target's resource id, a repository.
    pub target: String,
    /// Set when part of the call is only known once the run gets there (a
    /// pushed digest, the revision number ECS assigns): what, and what the
    /// plan expects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_at_run_time: Option<String>,
}

impl Call {
    fn new(api: &'static str, target: impl Into<String>) -> Call {
        Call { api, target: target.into(), known_at_run_time: None }
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.api, self.target)?;
        if let Some(note) = &self.known_at_run_time {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

// One a step, resolved and consumed at once: boxing the large ones buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Resolved<'p> {
    Build(BuildAction),
    Push(PushAction),
    Register(RegisterAction),
    Scaling(ScalingAction),
    Update(UpdateAction),
    Await(AwaitAction),
    RunTask(RunTaskAction),
    Rollback(RollbackAction),
    Continue(ContinueAction),
    Prune(PruneAction),
    /// Its steps are resolved each when it starts.
    Parallel(&'p [Step]),
}

pub struct BuildAction {
    /// The context as written, for reports.
    pub context: String,
    pub request: BuildRequest,
    /// The builder to use, or why there is none.
    pub builder: Result<Builder, ImageError>,
}

pub struct PushAction {
    /// The image ID a `build` of this run bound.
    pub image: String,
    /// The repository's full URI.
    pub uri: String,
    /// Whether it is an ECR repository (the push then needs an ECR token).
    pub ecr: bool,
    pub tags: Vec<String>,
    pub builder: Result<Builder, ImageError>,
}

pub struct RegisterAction {
    pub family: String,
    /// The exact RegisterTaskDefinition input.
    pub input: Map<String, Json>,
    /// The revision compared with: `(family:revision, ARN, its input)`.
    pub current: Option<(String, String, Map<String, Json>)>,
}

impl RegisterAction {
    /// The registered revision the input equals, which is used instead of a new one.
    pub fn reuses(&self) -> Option<(&str, &str)> {
        match &self.current {
            Some((name, arn, current)) if *current == self.input => Some((name, arn)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalingChange {
    Suspend,
    Resume,
}

pub struct ScalingAction {
    pub change: ScalingChange,
    pub service: ServiceRef,
    /// The target's state now; `None` when the service has no scalable target.
    pub current: Option<ScalingSuspension>,
    /// The state it is set to: all suspended, or what the suspend found.
    pub target: ScalingSuspension,
}

impl ScalingAction {
    pub fn changes(&self) -> bool {
        self.current.is_some_and(|current| current != self.target)
    }

    /// Recorded before a suspend is sent: from then on the clean-up restores
    /// what it found. A second suspend keeps the state found by the first.
    pub fn record_before(&self, ledger: &mut Ledger) {
        if let (ScalingChange::Suspend, Some(found)) = (self.change, self.current) {
            ledger.suspending(&self.service, found);
        }
    }

    /// Recorded once a resume is done: only then does the clean-up no longer
    /// need to restore it.
    pub fn record_after(&self, ledger: &mut Ledger) {
        if let (ScalingChange::Resume, Some(_)) = (self.change, self.current) {
            ledger.resumed(&self.service);
        }
    }
}

pub struct UpdateAction {
    pub service: ServiceRef,
    /// The service as it was before the update.
    pub before: ServiceState,
    /// The exact UpdateService input.
    pub request: ServiceUpdate,
    /// `what: from → to` for each setting that changes.
    pub changes: Vec<String>,
}

impl UpdateAction {
    /// An update that changes nothing is not sent.
    pub fn sends(&self) -> bool {
        !self.changes.is_empty() || self.request.force_new_deployment
    }

    /// Whether ECS starts a deployment for it: a new task definition, or a
    /// forced one. Counts and percentages only change the running one.
    pub fn starts_deployment(&self) -> bool {
        self.request.force_new_deployment
            || self.request.task_definition.as_ref().is_some_and(|td| short(td) != short(&self.before.task_definition))
    }

    /// Recorded before the call is sent (or in its place when none is): if
    /// the call is cut off it may still have gone through, and `rollback`
    /// must know where to return.
    pub fn record_before(&self, ledger: &mut Ledger) {
        ledger.updating(&self.service, &self.before.task_definition);
    }

    /// Recorded once ECS answered: `primary` is the service's deployment then,
    /// `(id, task definition)`. Returns whether it is a new one.
    pub fn record_after(&self, ledger: &mut Ledger, primary: Option<(String, String)>, at: Option<SystemTime>) -> bool {
        let previous = self.before.primary().map(|d| d.id.clone());
        let started = primary.as_ref().is_some_and(|(id, _)| Some(id) != previous.as_ref());
        // Follow a deployment this run started; an update that started none
        // keeps following the one it had.
        ledger.deployed(&self.service, primary, started, at);
        started
    }

    /// The deployment the service follows when nothing is sent.
    pub fn current_primary(&self) -> Option<(String, String)> {
        self.before.primary().map(|d| (d.id.clone(), d.task_definition.clone()))
    }
}

pub struct AwaitAction {
    pub services: Vec<ServiceRef>,
    pub timeout: Duration,
    /// Whether a pause at a lifecycle hook ends the wait.
    pub until: Until,
}

pub struct RunTaskAction {
    /// The exact RunTask input.
    pub request: RunTaskRequest,
    /// The service whose network and launch settings it copies, with its launch type.
    pub like: Option<(String, String)>,
    pub wait: Wait,
    pub timeout: Duration,
    /// The container whose exit decides the verdict (`container = "NAME"`);
    /// otherwise the essential container whose exit stopped the task.
    pub container: Option<String>,
}

pub struct RollbackAction {
    pub service: ServiceRef,
    /// The task definition it runs now.
    pub from: String,
    /// The ids of the service's deployments now (see [`ServiceUpdate::deployments_before`]).
    pub deployments_before: Vec<String>,
    pub outcome: RollbackOutcome,
}

impl RollbackAction {
    /// Recorded once ECS answered: the rollback's deployment is the one to follow.
    pub fn record_after(&self, ledger: &mut Ledger, primary: Option<(String, String)>, at: Option<SystemTime>) {
        ledger.deployed(&self.service, primary, true, at);
    }
}

/// `continue`: ContinueServiceDeployment on the service's deployment once a
/// PAUSE hook holds it. Which deployment and hook is known only at run time.
pub struct ContinueAction {
    pub service: ServiceRef,
    pub action: HookAction,
    /// How long to wait for the deployment to reach its PAUSE hook; `None`
    /// in the clean-up after a failure, which acts only on a deployment
    /// paused already.
    pub wait: Option<Duration>,
}

pub enum RollbackOutcome {
    /// In the clean-up, for a service this run did not update.
    NothingToRollBack,
    /// It already runs the target.
    AlreadyThere(String),
    /// UpdateService to this task definition, then wait for the rollout.
    To(String),
}

pub struct PruneAction {
    pub family: String,
    pub keep: usize,
    /// How many ACTIVE revisions the family has.
    pub active: usize,
    /// `(family:revision, ARN)` to deregister, newest first.
    pub remove: Vec<(String, String)>,
    /// Revisions kept though older than the newest `keep`, and why.
    pub protected: Vec<(String, String)>,
}

impl Resolved<'_> {
    /// The mutating AWS calls performing this action makes, in order.
    pub fn calls(&self) -> Vec<Call> {
        match self {
            Resolved::Build(_) | Resolved::Await(_) | Resolved::Parallel(_) => Vec::new(),
            // One manifest put per tag (the layer uploads before them are
            // ECR's too: ecr:InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload).
            Resolved::Push(push) if push.ecr => {
                push.tags.iter().map(|tag| Call::new("ecr:PutImage", format!("{}:{tag}", push.uri))).collect()
            }
            Resolved::Push(_) => Vec::new(),
            Resolved::Register(register) => match register.reuses() {
                Some(_) => Vec::new(),
                None => vec![Call::new("ecs:RegisterTaskDefinition", register.family.clone())],
            },
            Resolved::Scaling(scaling) if scaling.changes() => vec![Call::new(
                "application-autoscaling:RegisterScalableTarget",
                scaling_resource_id(&scaling.service.cluster, &scaling.service.name),
            )],
            Resolved::Scaling(_) => Vec::new(),
            Resolved::Update(update) if update.sends() => {
                vec![Call::new("ecs:UpdateService", update.service.to_string())]
            }
            Resolved::Update(_) => Vec::new(),
            Resolved::RunTask(run) => vec![Call::new(
                "ecs:RunTask",
                format!("{}/{}", run.request.cluster, short(&run.request.task_definition)),
            )],
            Resolved::Rollback(rollback) => match rollback.outcome {
                RollbackOutcome::To(_) => vec![Call::new("ecs:UpdateService", rollback.service.to_string())],
                _ => Vec::new(),
            },
            Resolved::Continue(resume) => vec![Call {
                api: "ecs:ContinueServiceDeployment",
                target: resume.service.to_string(),
                known_at_run_time: Some("the service deployment and its PAUSE hook are known at run time".into()),
            }],
            Resolved::Prune(prune) => {
                prune.remove.iter().map(|(name, _)| Call::new("ecs:DeregisterTaskDefinition", name.clone())).collect()
            }
        }
    }
}
