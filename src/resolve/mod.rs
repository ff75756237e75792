//! Resolution: the phase between the checked pipeline and AWS. A step, the
//! run-time values bound so far ([`Ledger`]) and read-only facts about the
//! account ([`Facts`]) go in; a [`Resolved`] action comes out, with the exact
//! requests a run sends. `plan` renders resolved actions and `run` performs
//! them, so the two cannot decide differently: this is the only place that
//! matches on a step's kind.

pub mod action;
pub mod facts;
pub mod ledger;

use std::path::Path;
use std::time::Duration;

pub use action::*;
pub use facts::{Facts, Forecast};
pub use ledger::{Ledger, ServiceRecord};

use crate::aws::{
    AwsError, CircuitBreakerState, ContainerRun, RunTaskRequest, ScalingSuspension, ServiceUpdate, WantedDeployment,
};
use crate::check::pipeline::{self, Action, Base, BindingId, CircuitBreaker, Expr, Pipeline, Step};
use crate::check::pipeline::{DEFAULT_AWAIT_TIMEOUT, DEFAULT_CONTINUE_TIMEOUT, DEFAULT_RUN_TASK_TIMEOUT};
use crate::deployment::{self, Conflict, HookTarget, Threshold};
use crate::eval::{Environment, EvalError, Outcome, ServiceRef, Value};
use crate::image::{BuildRequest, Builder, BuilderKind};
use crate::syntax::ast::Span;
use crate::taskdef::{self, family_of, reference, short, BaseRef};

/// How a run is set up beyond the pipeline itself.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The pipeline's cluster (ECS's `default` when it names none).
    pub default_cluster: String,
    /// `--builder`, when given.
    pub builder: Option<BuilderKind>,
}

/// Whether a step runs in the pipeline's flow or in the clean-up after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Steps,
    OnFailure,
}

/// Why a step cannot be resolved. `plan` shows it against the source; `run`
/// fails the step with it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ResolveError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Eval(#[from] EvalError),

    #[error("`{name}` has no value: the step that binds it has not run")]
    #[diagnostic(code("ecsflow::unbound"), help("a value bound by a step is known only once that step succeeded"))]
    Unbound {
        name: String,
        #[label("read here")]
        span: Span,
    },

    #[error("{error}")]
    #[diagnostic(code("ecsflow::aws"))]
    Aws {
        error: AwsError,
        #[label("in this step")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code("ecsflow::taskdef"), help("check the task definition the `register` starts from"))]
    TaskDefinition {
        message: String,
        #[label("in this register")]
        span: Span,
    },

    #[error("{message}")]
    #[diagnostic(code("ecsflow::deployment-conflict"))]
    DeploymentConflict {
        message: String,
        #[label("this update")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{family}` has no ACTIVE revision before {current} to roll back to")]
    #[diagnostic(
        code("ecsflow::rollback-impossible"),
        help("name the revision to return to: `rollback SERVICE to REVISION`; `aws ecs list-task-definitions --family-prefix {family}` lists them")
    )]
    NoEarlierRevision {
        family: String,
        current: String,
        #[label("nothing to roll back to")]
        span: Span,
    },
}

impl ResolveError {
    pub fn aws(error: AwsError, span: Span) -> ResolveError {
        let help = Some(error.help());
        ResolveError::Aws { error, span, help }
    }

    fn invalid(message: impl Into<String>, span: Span, label: &str) -> ResolveError {
        ResolveError::Eval(EvalError::Invalid { message: message.into(), span, label: label.into() })
    }

    /// The AWS error behind it, if any.
    pub fn aws_error(&self) -> Option<&AwsError> {
        match self {
            ResolveError::Aws { error, .. } => Some(error),
            _ => None,
        }
    }
}

pub struct Resolver<'a> {
    pub pipeline: &'a Pipeline,
    pub env: &'a dyn Environment,
    /// Where relative paths (build contexts, task definition files) start.
    pub base_dir: &'a Path,
    pub settings: &'a Settings,
}

type Result<T, E = ResolveError> = std::result::Result<T, E>;

impl<'a> Resolver<'a> {
    pub fn value(&self, ledger: &Ledger, value: &Expr) -> Result<Value> {
        match ledger.scope.eval(value, self.env)? {
            Outcome::Known(v) => Ok(v),
            Outcome::Unknown(unknown) => {
                Err(ResolveError::Unbound { name: self.pipeline.binding(unknown.0).name.clone(), span: value.span })
            }
        }
    }

    fn text(&self, ledger: &Ledger, value: &Expr) -> Result<String> {
        Ok(self.value(ledger, value)?.text())
    }

    fn optional_text(&self, ledger: &Ledger, value: &Option<Expr>) -> Result<Option<String>> {
        value.as_ref().map(|v| self.text(ledger, v)).transpose()
    }

    fn int(&self, ledger: &Ledger, value: &Option<Expr>) -> Result<Option<i32>> {
        let Some(value) = value else { return Ok(None) };
        match self.value(ledger, value)? {
            Value::Int(n) => i32::try_from(n)
                .map(Some)
                .map_err(|_| ResolveError::invalid(format!("{n} is out of range"), value.span, "this number")),
            other => Err(ResolveError::invalid(
                format!("expected a number, found `{}`", other.text()),
                value.span,
                "this value",
            )),
        }
    }

    fn pairs(&self, ledger: &Ledger, value: &Option<Expr>) -> Result<Vec<(String, String)>> {
        match value.as_ref().map(|v| self.value(ledger, v)).transpose()? {
            Some(Value::Map(entries)) => Ok(entries.into_iter().map(|(k, v)| (k, v.text())).collect()),
            _ => Ok(Vec::new()),
        }
    }

    fn list(&self, ledger: &Ledger, value: &Option<Expr>) -> Result<Option<Vec<String>>> {
        match value.as_ref().map(|v| self.value(ledger, v)).transpose()? {
            Some(Value::List(items)) => Ok(Some(items.iter().map(Value::text).collect())),
            _ => Ok(None),
        }
    }

    /// The service a binding names.
    pub fn service(&self, ledger: &Ledger, id: BindingId) -> ServiceRef {
        match ledger.scope.get(id) {
            Some(Value::Service(service)) => service.clone(),
            _ => ServiceRef { cluster: "default".into(), name: self.pipeline.binding(id).name.clone() },
        }
    }

    /// Resolves one step against what the run has done and what AWS holds.
    pub async fn resolve<'p>(
        &self,
        facts: &impl Facts,
        ledger: &Ledger,
        step: &'p Step,
        moment: Moment,
    ) -> Result<Resolved<'p>> {
        let span = step.keyword;
        let aws = |error: AwsError| ResolveError::aws(error, span);
        Ok(match &step.action {
            Action::Build(build) => Resolved::Build(self.build(ledger, build)?),
            Action::Push(push) => {
                let image = match self.value(ledger, &push.image)? {
                    Value::Image(image) => image,
                    other => {
                        return Err(ResolveError::invalid(
                            format!("`{}` is not an image this run built", other.text()),
                            push.image.span,
                            "not a built image",
                        ))
                    }
                };
                let repository = match ledger.scope.get(push.repository) {
                    Some(Value::Repository(repository)) => repository.clone(),
                    _ => return Err(ResolveError::invalid("the repository has no value", span, "in this push")),
                };
                let tags = match self.value(ledger, &push.tags)? {
                    Value::List(items) => items.iter().map(Value::text).collect(),
                    other => vec![other.text()],
                };
                // A name is this account's ECR repository; a URI is used as given.
                let uri = if crate::image::is_repository_uri(&repository) {
                    repository
                } else {
                    facts.repository_uri(&repository).await.map_err(aws)?
                };
                let host = uri.split('/').next().unwrap_or_default();
                let kind = ledger.images.get(&image).copied();
                Resolved::Push(PushAction {
                    ecr: crate::aws::ecr_host(host).is_some(),
                    image,
                    uri,
                    tags,
                    builder: Builder::choose(kind, self.settings.builder),
                })
            }
            Action::Register(register) => Resolved::Register(self.register(facts, ledger, register, span).await?),
            Action::SuspendScaling { service } => {
                let service = self.service(ledger, *service);
                let current = facts.scaling(&service).await.map_err(aws)?;
                Resolved::Scaling(ScalingAction {
                    change: ScalingChange::Suspend,
                    service,
                    current,
                    target: ScalingSuspension::ALL,
                })
            }
            Action::ResumeScaling { service } => {
                let service = self.service(ledger, *service);
                let current = facts.scaling(&service).await.map_err(aws)?;
                let target = ledger.suspended_from(&service).unwrap_or(ScalingSuspension::NONE);
                Resolved::Scaling(ScalingAction { change: ScalingChange::Resume, service, current, target })
            }
            Action::Update(update) => Resolved::Update(self.update(facts, ledger, update, span).await?),
            Action::AwaitStable { services, timeout, until } => Resolved::Await(AwaitAction {
                services: services.iter().map(|s| self.service(ledger, *s)).collect(),
                timeout: self.duration(ledger, timeout)?.unwrap_or(DEFAULT_AWAIT_TIMEOUT),
                until: *until,
            }),
            Action::RunTask(run) => {
                let task_definition = self.text(ledger, &run.task_definition)?;
                let (cluster, launch, like) = match run.like {
                    Some(like) => {
                        let service = self.service(ledger, like);
                        let state = facts.service(&service).await.map_err(aws)?;
                        let launch_type =
                            state.launch.launch_type.clone().unwrap_or_else(|| "capacity provider strategy".into());
                        (service.cluster, state.launch, Some((state.name, launch_type)))
                    }
                    None => (self.settings.default_cluster.clone(), Default::default(), None),
                };
                let mut containers = Vec::new();
                for container in &run.containers {
                    containers.push(ContainerRun {
                        name: container.name.clone(),
                        command: self.list(ledger, &container.command)?,
                        environment: self.pairs(ledger, &container.env)?,
                    });
                }
                let request = RunTaskRequest {
                    cluster,
                    task_definition,
                    launch,
                    containers,
                    // startedBy takes up to 36 letters, digits, `-`, `/` and `_`.
                    started_by: format!("ecsflow/{}", self.pipeline.name)
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_') { c } else { '_' })
                        .take(36)
                        .collect(),
                };
                Resolved::RunTask(RunTaskAction {
                    request,
                    like,
                    wait: run.wait,
                    timeout: self.duration(ledger, &run.timeout)?.unwrap_or(DEFAULT_RUN_TASK_TIMEOUT),
                    container: self.optional_text(ledger, &run.judged_by)?,
                })
            }
            Action::Rollback { service, to } => {
                Resolved::Rollback(self.rollback(facts, ledger, *service, to, span, moment).await?)
            }
            Action::Continue { service, action, timeout } => Resolved::Continue(ContinueAction {
                service: self.service(ledger, *service),
                action: *action,
                wait: match moment {
                    Moment::Steps => Some(self.duration(ledger, timeout)?.unwrap_or(DEFAULT_CONTINUE_TIMEOUT)),
                    Moment::OnFailure => None,
                },
            }),
            Action::Prune { task_definition, keep } => {
                Resolved::Prune(self.prune(facts, ledger, task_definition, keep, span).await?)
            }
            Action::Parallel(children) => Resolved::Parallel(children),
        })
    }

    fn duration(&self, ledger: &Ledger, value: &Option<Expr>) -> Result<Option<Duration>> {
        Ok(match value.as_ref().map(|v| self.value(ledger, v)).transpose()? {
            Some(Value::Duration(d)) => Some(d),
            _ => None,
        })
    }

    fn build(&self, ledger: &Ledger, build: &pipeline::Build) -> Result<BuildAction> {
        let context_text = self.text(ledger, &build.context)?;
        let context = self.base_dir.join(&context_text);
        if !context.is_dir() {
            return Err(ResolveError::invalid(
                format!("build context `{context_text}` is not a directory"),
                build.context.span,
                "not a directory",
            ));
        }
        let dockerfile_text = self.optional_text(ledger, &build.dockerfile)?.unwrap_or_else(|| "Dockerfile".into());
        let dockerfile = context.join(&dockerfile_text);
        if !dockerfile.is_file() {
            let span = build.dockerfile.as_ref().map_or(build.context.span, |v| v.span);
            return Err(ResolveError::invalid(
                format!("Dockerfile `{}` does not exist", Path::new(&context_text).join(&dockerfile_text).display()),
                span,
                "does not exist",
            ));
        }
        Ok(BuildAction {
            context: context_text,
            request: BuildRequest {
                context,
                dockerfile,
                target: self.optional_text(ledger, &build.target)?,
                build_args: self.pairs(ledger, &build.build_args)?,
                platform: self.optional_text(ledger, &build.platform)?,
            },
            builder: Builder::choose(build.builder, self.settings.builder),
        })
    }

    async fn register(
        &self,
        facts: &impl Facts,
        ledger: &Ledger,
        register: &pipeline::Register,
        span: Span,
    ) -> Result<RegisterAction> {
        let base_ref = match &register.base {
            Base::Service(service) => BaseRef::Service(self.service(ledger, *service)),
            Base::Family(family) => BaseRef::Family(self.text(ledger, family)?),
            Base::File(path) => BaseRef::File(self.text(ledger, path)?),
        };
        let base = taskdef::base(facts, &base_ref, self.base_dir).await.map_err(|error| match error {
            taskdef::BaseError::Aws(error) => ResolveError::aws(error, span),
            other => ResolveError::TaskDefinition { message: other.to_string(), span },
        })?;
        let changes = taskdef::changes(register, &|v| self.value(ledger, v))?;
        let mut input = base.input;
        taskdef::apply(&mut input, &changes)
            .map_err(|error| ResolveError::TaskDefinition { message: error.to_string(), span })?;
        Ok(RegisterAction { family: base.family, input, current: base.current })
    }

    async fn update(
        &self,
        facts: &impl Facts,
        ledger: &Ledger,
        update: &pipeline::Update,
        span: Span,
    ) -> Result<UpdateAction> {
        let service = self.service(ledger, update.service);
        let before = facts.service(&service).await.map_err(|e| ResolveError::aws(e, span))?;
        let grace = match update.health_check_grace.as_ref().map(|v| self.value(ledger, v)).transpose()? {
            Some(Value::Duration(d)) => Some(i32::try_from(d.as_secs()).unwrap_or(i32::MAX)),
            _ => None,
        };
        let force = matches!(
            update.force_new_deployment.as_ref().map(|v| self.value(ledger, v)).transpose()?,
            Some(Value::Bool(true))
        );
        let min_healthy_percent = self.int(ledger, &update.min_healthy_percent)?;
        let max_percent = self.int(ledger, &update.max_percent)?;
        let circuit_breaker = update.circuit_breaker.map(|b| match b {
            CircuitBreaker::Off => CircuitBreakerState { enable: false, rollback: false },
            CircuitBreaker::On => CircuitBreakerState { enable: true, rollback: false },
            CircuitBreaker::Rollback => CircuitBreakerState { enable: true, rollback: true },
        });
        let wanted = WantedDeployment {
            min_healthy_percent,
            max_percent,
            breaker: circuit_breaker,
            ..self.wanted_deployment(ledger, update)?
        };
        // Read, merge, write: the service's own configuration with only what
        // the pipeline says changed, so its alarms and breaker threshold stay.
        let deployment_configuration = (!wanted.is_empty()).then(|| before.deployment_configuration.merged(&wanted));
        if let Some(merged) = deployment_configuration.as_ref().filter(|_| wanted.sets_strategy_settings()) {
            self.strategy_rules(merged, &wanted, span)?;
        }
        let request = ServiceUpdate {
            cluster: service.cluster.clone(),
            service: service.name.clone(),
            task_definition: self.optional_text(ledger, &update.task_definition)?,
            desired_count: self.int(ledger, &update.desired_count)?,
            min_healthy_percent,
            max_percent,
            force_new_deployment: force,
            circuit_breaker,
            health_check_grace_seconds: grace,
            deployment_configuration,
            deployments_before: before.deployments.iter().map(|d| d.id.clone()).collect(),
        };
        let mut changes = Vec::new();
        let mut change = |what: &str, from: String, to: String| {
            if from != to {
                changes.push(format!("{what}: {from} → {to}"));
            }
        };
        if let Some(to) = &request.task_definition {
            change("task-definition", short(&before.task_definition), short(to));
        }
        if let Some(to) = request.desired_count {
            change("desired-count", before.desired.to_string(), to.to_string());
        }
        let unset = |v: Option<i32>| v.map_or_else(|| "(unset)".to_string(), |v| v.to_string());
        if let Some(to) = request.min_healthy_percent {
            change("min-healthy-percent", unset(before.min_healthy_percent), to.to_string());
        }
        if let Some(to) = request.max_percent {
            change("max-percent", unset(before.max_percent), to.to_string());
        }
        if let Some(to) = request.circuit_breaker {
            change("circuit-breaker", breaker_word(before.circuit_breaker).into(), breaker_word(Some(to)).into());
        }
        if let Some(to) = request.health_check_grace_seconds {
            change(
                "health-check-grace",
                format!("{}s", before.health_check_grace_seconds.unwrap_or(0)),
                format!("{to}s"),
            );
        }
        if let Some(merged) = &request.deployment_configuration {
            changes.extend(merged.changes_from(&before.deployment_configuration));
        }
        Ok(UpdateAction { service, before, request, changes })
    }

    /// The strategy settings an `update` writes, evaluated.
    fn wanted_deployment(&self, ledger: &Ledger, update: &pipeline::Update) -> Result<WantedDeployment> {
        let minutes = |value: &Option<Expr>| -> Result<Option<i32>> {
            let Some(expr) = value else { return Ok(None) };
            match self.value(ledger, expr)? {
                Value::Duration(d) if d.as_secs() % 60 == 0 && d.subsec_nanos() == 0 => {
                    Ok(Some(i32::try_from(d.as_secs() / 60).unwrap_or(i32::MAX)))
                }
                other => Err(ResolveError::invalid(
                    format!("`{}` is not whole minutes", other.text()),
                    expr.span,
                    "ECS counts this in minutes",
                )),
            }
        };
        let number = |value: &Option<Expr>| -> Result<Option<f64>> {
            let Some(expr) = value else { return Ok(None) };
            match self.value(ledger, expr)? {
                Value::Int(n) => Ok(Some(n as f64)),
                Value::Number(x) => Ok(Some(x)),
                other => Err(ResolveError::invalid(
                    format!("expected a number, found `{}`", other.text()),
                    expr.span,
                    "this value",
                )),
            }
        };
        let boolean = |value: &Option<Expr>| -> Result<Option<bool>> {
            Ok(match value.as_ref().map(|v| self.value(ledger, v)).transpose()? {
                Some(Value::Bool(b)) => Some(b),
                _ => None,
            })
        };
        let threshold = match &update.circuit_breaker_threshold {
            None => None,
            Some(expr) => Some(match self.value(ledger, expr)? {
                Value::Int(n) => Threshold::Count(i32::try_from(n).unwrap_or(i32::MAX)),
                other => Threshold::parse(&other.text()).ok_or_else(|| {
                    ResolveError::invalid(
                        format!("`{}` is not a circuit breaker threshold", other.text()),
                        expr.span,
                        "expected a count, \"50%\" or \"250% unbounded\"",
                    )
                })?,
            }),
        };
        let alarms = match &update.alarms {
            Some(expr) => match self.value(ledger, expr)? {
                Value::List(items) => Some(items.iter().map(Value::text).collect()),
                other => Some(vec![other.text()]),
            },
            None => None,
        };
        let early_success = match &update.early_success {
            None => None,
            Some(pipeline::EarlySuccess::Off) => Some(deployment::EarlySuccess::Off),
            Some(pipeline::EarlySuccess::Percent(expr)) => {
                self.int(ledger, &Some(expr.clone()))?.map(deployment::EarlySuccess::Percent)
            }
        };
        let hooks = match &update.hooks {
            None => None,
            Some(hooks) => Some(
                hooks
                    .iter()
                    .map(|hook| {
                        Ok(deployment::Hook {
                            target: match &hook.lambda {
                                Some(arn) => HookTarget::Lambda(self.text(ledger, arn)?),
                                None => HookTarget::Pause,
                            },
                            role: self.optional_text(ledger, &hook.role)?,
                            stages: hook.stages.clone(),
                            details: match hook.details.as_ref().map(|d| self.value(ledger, d)).transpose()? {
                                Some(Value::Map(entries)) => {
                                    Some(entries.into_iter().map(|(k, v)| (k, v.text())).collect())
                                }
                                _ => None,
                            },
                            timeout_minutes: minutes(&hook.timeout)?,
                            on_timeout: hook.on_timeout,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
        };
        Ok(WantedDeployment {
            breaker_threshold: threshold,
            breaker_reset_on_healthy: boolean(&update.circuit_breaker_reset_on_healthy)?,
            strategy: update.strategy,
            bake_time_minutes: minutes(&update.bake_time)?,
            linear_step_percent: number(&update.linear_step_percent)?,
            linear_step_bake_minutes: minutes(&update.linear_step_bake_time)?,
            canary_percent: number(&update.canary_percent)?,
            canary_bake_minutes: minutes(&update.canary_bake_time)?,
            alarms,
            alarm_rollback: boolean(&update.alarm_rollback)?,
            early_success,
            early_success_cleanup: update.early_success_cleanup,
            hooks,
            ..WantedDeployment::default()
        })
    }

    /// ECS's strategy rules on the configuration the update would send: the
    /// checker knows the strategy only when the block writes it.
    fn strategy_rules(
        &self,
        merged: &crate::aws::DeploymentSettings,
        wanted: &WantedDeployment,
        span: Span,
    ) -> Result<()> {
        if let Some((percent, min)) = merged.early_success_below_min() {
            return Err(ResolveError::DeploymentConflict {
                message: format!("early success at {percent}% is below the minimum healthy percent ({min}%)"),
                span,
                help: format!("ECS requires the early-success percentage to be at least `min-healthy-percent`: raise `early-success` to {min}, or lower `min-healthy-percent`"),
            });
        }
        let strategy = merged.strategy();
        let usage = merged.strategy_use(wanted);
        let Some(conflict) = usage.conflicts(strategy).into_iter().next() else { return Ok(()) };
        let source = if wanted.strategy.is_some() { "" } else { " (the service's own)" };
        let message = format!("{}{source}", conflict.describe(strategy, &usage.hooks));
        let help = match conflict {
            Conflict::NotForStrategy { attribute: "early-success", .. } if wanted.early_success.is_none() => {
                "the service has early success criteria, which only a rolling deployment takes: add `early-success = off`".to_string()
            }
            Conflict::NotForStrategy { attribute, wants } => {
                format!("write `strategy = {}` in this update, or remove `{attribute}`", wants.word())
            }
            Conflict::PauseAt { .. } => "ECS runs only Lambda hooks during a traffic shift".to_string(),
            Conflict::StageNotInStrategy { .. } if wanted.hooks.is_none() => {
                "the service's own hooks need a strategy with traffic shifts: write the hooks anew with `hook … { at = [...] }`, or keep the strategy".to_string()
            }
            Conflict::StageNotInStrategy { .. } => {
                "a rolling deployment's hooks run at `reconcile-service`, `pre-scale-up` or `post-scale-up`; or write `strategy = blue-green`".to_string()
            }
        };
        Err(ResolveError::DeploymentConflict { message, span, help })
    }

    async fn rollback(
        &self,
        facts: &impl Facts,
        ledger: &Ledger,
        service: BindingId,
        to: &Option<Expr>,
        span: Span,
        moment: Moment,
    ) -> Result<RollbackAction> {
        let service = self.service(ledger, service);
        let current = facts.service(&service).await.map_err(|e| ResolveError::aws(e, span))?;
        let deployments_before = current.deployments.iter().map(|d| d.id.clone()).collect();
        let from = current.task_definition;
        let target = match to {
            Some(to) => self.text(ledger, to)?,
            None => match ledger.before_update(&service) {
                Some(before) => before,
                // After a failure, only what this run changed is undone.
                None if moment == Moment::OnFailure => {
                    return Ok(RollbackAction {
                        service,
                        from,
                        deployments_before,
                        outcome: RollbackOutcome::NothingToRollBack,
                    })
                }
                None => self.previous_revision(facts, &from, span).await?,
            },
        };
        let target = reference::in_family_of(&target, &from);
        let outcome = if short(&target) == short(&from) {
            RollbackOutcome::AlreadyThere(target)
        } else {
            RollbackOutcome::To(target)
        };
        Ok(RollbackAction { service, from, deployments_before, outcome })
    }

    /// The revision before `current` in its family, for a `rollback` with
    /// nothing recorded by this run.
    async fn previous_revision(&self, facts: &impl Facts, current: &str, span: Span) -> Result<String> {
        let name = short(current);
        let family = family_of(&name);
        let number = reference::revision_of(&name).unwrap_or(i64::MAX);
        let revisions = facts.revisions(&family).await.map_err(|e| ResolveError::aws(e, span))?;
        revisions
            .into_iter()
            .find(|(revision, _)| *revision < number)
            .map(|(_, arn)| arn)
            .ok_or(ResolveError::NoEarlierRevision { family, current: name, span })
    }

    async fn prune(
        &self,
        facts: &impl Facts,
        ledger: &Ledger,
        task_definition: &Expr,
        keep: &Expr,
        span: Span,
    ) -> Result<PruneAction> {
        let family = family_of(&self.text(ledger, task_definition)?);
        let keep = match self.value(ledger, keep)? {
            Value::Int(n) if n >= 1 => n as usize,
            other => {
                return Err(ResolveError::invalid(
                    format!("`keep` must be at least 1, found {}", other.text()),
                    keep.span,
                    "keeps too few",
                ))
            }
        };
        let protected = self.protected_revisions(facts, ledger, span).await?;
        let revisions = facts.revisions(&family).await.map_err(|e| ResolveError::aws(e, span))?;
        let mut remove = Vec::new();
        let mut kept = Vec::new();
        for (_, arn) in revisions.iter().skip(keep) {
            let name = short(arn);
            match protected.iter().find(|(p, _)| *p == name) {
                Some((_, why)) => kept.push((name, why.clone())),
                None => remove.push((name, arn.clone())),
            }
        }
        Ok(PruneAction { family, keep, active: revisions.len(), remove, protected: kept })
    }

    /// Revisions `prune` must keep, each with why: what any service of the
    /// pipeline's clusters runs or deploys, what this run deployed or would
    /// roll back to, and the targets of `rollback … to` in `on-failure`.
    async fn protected_revisions(
        &self,
        facts: &impl Facts,
        ledger: &Ledger,
        span: Span,
    ) -> Result<Vec<(String, String)>> {
        let mut protected = Vec::new();
        let mut services: Vec<_> = ledger.services.iter().collect();
        services.sort_by_key(|(service, _)| service.to_string());
        for (service, record) in services {
            if let Some(td) = &record.deployment_task_definition {
                protected.push((short(td), format!("this run deploys it to {service}")));
            }
            if let Some(td) = &record.before_update {
                protected.push((short(td), format!("{service} returns to it on rollback")));
            }
        }
        for step in &self.pipeline.on_failure {
            if let Action::Rollback { to: Some(to), .. } = &step.action {
                if let Ok(value) = self.value(ledger, to) {
                    protected.push((short(&value.text()), "the target of a `rollback … to` in on-failure".into()));
                }
            }
        }
        let mut clusters = ledger.scope.clusters();
        if !clusters.contains(&self.settings.default_cluster) {
            clusters.push(self.settings.default_cluster.clone());
        }
        for cluster in &clusters {
            for service in facts.cluster_services(cluster).await.map_err(|e| ResolveError::aws(e, span))? {
                protected.push((short(&service.task_definition), format!("{cluster}/{} runs it", service.name)));
                for deployment in &service.deployments {
                    protected.push((
                        short(&deployment.task_definition),
                        format!("{cluster}/{} is deploying it", service.name),
                    ));
                }
            }
        }
        Ok(protected)
    }
}

fn breaker_word(breaker: Option<CircuitBreakerState>) -> &'static str {
    match breaker {
        Some(b) if b.enable && b.rollback => "rollback",
        Some(b) if b.enable => "on",
        _ => "off",
    }
}

/// Every value a step reads (for `parallel`, its steps' values).
pub fn values_read(step: &Step) -> Vec<&Expr> {
    let mut values: Vec<&Expr> = Vec::new();
    match &step.action {
        Action::Build(b) => {
            values.push(&b.context);
            values.extend([&b.dockerfile, &b.target, &b.build_args, &b.platform].into_iter().flatten());
        }
        Action::Push(p) => values.extend([&p.image, &p.tags]),
        Action::Register(r) => {
            if let Base::File(v) | Base::Family(v) = &r.base {
                values.push(v);
            }
            values.extend([&r.cpu, &r.memory].into_iter().flatten());
            for c in &r.containers {
                values.extend([&c.image, &c.env, &c.secrets, &c.command].into_iter().flatten());
            }
        }
        Action::Update(u) => values.extend(
            [
                &u.task_definition,
                &u.desired_count,
                &u.min_healthy_percent,
                &u.max_percent,
                &u.force_new_deployment,
                &u.health_check_grace,
                &u.bake_time,
                &u.linear_step_percent,
                &u.linear_step_bake_time,
                &u.canary_percent,
                &u.canary_bake_time,
                &u.alarms,
                &u.alarm_rollback,
                &u.circuit_breaker_threshold,
                &u.circuit_breaker_reset_on_healthy,
            ]
            .into_iter()
            .flatten()
            .chain(match &u.early_success {
                Some(pipeline::EarlySuccess::Percent(percent)) => Some(percent),
                _ => None,
            })
            .chain(
                u.hooks
                    .iter()
                    .flatten()
                    .flat_map(|h| [&h.lambda, &h.role, &h.details, &h.timeout].into_iter().flatten()),
            ),
        ),
        Action::AwaitStable { timeout, .. } => values.extend(timeout),
        Action::RunTask(r) => {
            values.push(&r.task_definition);
            values.extend([&r.timeout, &r.judged_by].into_iter().flatten());
            for c in &r.containers {
                values.extend([&c.env, &c.command].into_iter().flatten());
            }
        }
        Action::Rollback { to, .. } => values.extend(to),
        Action::Continue { timeout, .. } => values.extend(timeout),
        Action::Prune { task_definition, keep } => values.extend([task_definition, keep]),
        Action::Parallel(steps) => values.extend(steps.iter().flat_map(values_read)),
        Action::SuspendScaling { .. } | Action::ResumeScaling { .. } => {}
    }
    values
}

/// The bindings a step's values refer to, each once, in order.
pub fn bindings_read(step: &Step) -> Vec<BindingId> {
    fn walk(value: &Expr, out: &mut Vec<BindingId>) {
        use crate::check::pipeline::{ExprKind, Part};
        match &value.kind {
            ExprKind::Binding(id) => out.push(*id),
            ExprKind::Str(parts) => out.extend(parts.iter().filter_map(|p| match p {
                Part::Binding(id, _) => Some(*id),
                Part::Text(_) => None,
            })),
            ExprKind::List(items) => items.iter().for_each(|v| walk(v, out)),
            ExprKind::Map(entries) => entries.iter().for_each(|(_, v)| walk(v, out)),
            ExprKind::Env { name, default } => {
                walk(name, out);
                if let Some(default) = default {
                    walk(default, out);
                }
            }
            ExprKind::Int(_) | ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Duration(_) => {}
        }
    }
    let mut out = Vec::new();
    for value in values_read(step) {
        walk(value, &mut out);
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|id| seen.insert(*id));
    out
}
