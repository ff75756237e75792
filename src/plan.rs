//! `ecsflow plan`: walks a checked pipeline with read-only AWS calls and says
//! what each step would change. Values a step would produce (a pushed image, a
//! new revision) stand in as descriptions, so later steps still show what they
//! would do with them.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::aws::{Aws, AwsError, ScalingSuspension, ServiceState};
use crate::check::pipeline::{Action, Base, BindingId, CircuitBreaker, ContainerOverride, Pipeline, Step, Wait};
use crate::eval::{Environment, EvalError, Outcome, Scope, ServiceRef, Val};
use crate::register::{family_of, short, BaseRef};
use crate::syntax::ast::Span;
use crate::taskdef;

#[derive(Debug, Serialize)]
pub struct Plan {
    pub pipeline: String,
    pub region: String,
    /// Whether running the pipeline would change anything.
    pub changes: bool,
    pub steps: Vec<PlannedStep>,
    pub on_failure: Vec<PlannedStep>,
}

#[derive(Debug, Serialize)]
pub struct PlannedStep {
    pub line: usize,
    /// `update web`, `register from web`, …
    pub step: String,
    pub changes: bool,
    /// One line each: what the step would do, with resolved values.
    pub details: Vec<String>,
    /// A unified diff of the task definition, for `register`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<PlannedStep>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlanError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Eval(#[from] EvalError),
    #[error("{message}")]
    #[diagnostic(code("ecsflow::aws"))]
    Aws {
        message: String,
        #[label("in this step")]
        span: Span,
        #[help]
        help: Option<String>,
    },
    #[error("{message}")]
    #[diagnostic(code("ecsflow::taskdef"))]
    TaskDefinition {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
    },
}

impl PlanError {
    fn aws(error: AwsError, span: Span) -> PlanError {
        let help = match error.code.as_deref() {
            Some("ServiceNotFoundException") | Some("ClusterNotFoundException") => {
                Some("check the service's name and cluster in the pipeline, and the region".into())
            }
            Some("AccessDeniedException") | Some("UnrecognizedClientException") => {
                Some("check the AWS credentials and the role's permissions".into())
            }
            _ => None,
        };
        PlanError::Aws { message: error.to_string(), span, help }
    }
}

/// What the plan knows about a service as the steps go.
#[derive(Debug, Clone)]
struct ServiceModel {
    state: ServiceState,
    /// The task definition before this run's first update, for `rollback`.
    before_update: Option<String>,
    scaling: Option<ScalingSuspension>,
    /// The scaling state `suspend-scaling` found, for `resume-scaling`.
    suspended_from: Option<ScalingSuspension>,
}

pub struct Planner<'a> {
    aws: &'a Aws,
    pipeline: &'a Pipeline,
    source: &'a str,
    base_dir: &'a Path,
    env: &'a dyn Environment,
    scope: Scope,
    services: HashMap<ServiceRef, ServiceModel>,
    /// Revisions this plan would register, per family, newest first.
    registered: HashMap<String, Vec<String>>,
}

impl<'a> Planner<'a> {
    pub fn new(
        aws: &'a Aws,
        pipeline: &'a Pipeline,
        source: &'a str,
        base_dir: &'a Path,
        env: &'a dyn Environment,
        scope: Scope,
    ) -> Self {
        Planner { aws, pipeline, source, base_dir, env, scope, services: HashMap::new(), registered: HashMap::new() }
    }

    pub async fn plan(mut self) -> Result<Plan, PlanError> {
        let mut steps = Vec::new();
        for step in &self.pipeline.steps {
            steps.push(self.step(step).await?);
        }
        let mut on_failure = Vec::new();
        for step in &self.pipeline.on_failure {
            // What on-failure would do depends on where the run fails; show
            // its steps against the state before the run.
            on_failure.push(PlannedStep {
                line: self.line(step.keyword),
                step: self.title(step),
                changes: false,
                details: vec!["runs only if a step fails".into()],
                diff: None,
                steps: Vec::new(),
            });
        }
        let changes = steps.iter().any(|s| s.changes);
        Ok(Plan { pipeline: self.pipeline.name.clone(), region: self.aws.region.clone(), changes, steps, on_failure })
    }

    fn line(&self, span: Span) -> usize {
        crate::diagnostic::line_column(self.source, span.start).0
    }

    fn title(&self, step: &Step) -> String {
        self.pipeline.step_title(self.source, step)
    }

    fn value(&self, value: &crate::check::pipeline::Value) -> Result<Val, PlanError> {
        match self.scope.eval(value, self.env)? {
            Outcome::Known(v) => Ok(v),
            Outcome::Unknown(unknown) => Ok(Val::Str(format!("(the value of `{}`)", self.binding_name(unknown.0)))),
        }
    }

    fn text(&self, value: &crate::check::pipeline::Value) -> Result<String, PlanError> {
        Ok(self.value(value)?.text())
    }

    fn binding_name(&self, id: BindingId) -> &str {
        &self.pipeline.binding(id).name
    }

    fn service_ref(&self, id: BindingId) -> ServiceRef {
        match self.scope.get(id) {
            Some(Val::Service(service)) => service.clone(),
            _ => ServiceRef { cluster: "default".into(), name: self.binding_name(id).into() },
        }
    }

    async fn service(&mut self, id: BindingId, span: Span) -> Result<ServiceModel, PlanError> {
        let service = self.service_ref(id);
        if let Some(model) = self.services.get(&service) {
            return Ok(model.clone());
        }
        let state =
            self.aws.describe_service(&service.cluster, &service.name).await.map_err(|e| PlanError::aws(e, span))?;
        let model = ServiceModel { state, before_update: None, scaling: None, suspended_from: None };
        self.services.insert(service, model.clone());
        Ok(model)
    }

    fn planned(&self, step: &Step, changes: bool, details: Vec<String>) -> PlannedStep {
        PlannedStep {
            line: self.line(step.keyword),
            step: self.title(step),
            changes,
            details,
            diff: None,
            steps: Vec::new(),
        }
    }

    fn step<'s>(
        &'s mut self,
        step: &'s Step,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<PlannedStep, PlanError>> + 's>> {
        Box::pin(async move {
            let planned = match &step.action {
                Action::Build(build) => {
                    let step_builder = build.builder.map(|b| match b {
                        crate::check::pipeline::Builder::Docker => crate::image::BuilderKind::Docker,
                        crate::check::pipeline::Builder::Podman => crate::image::BuilderKind::Podman,
                        crate::check::pipeline::Builder::Buildah => crate::image::BuilderKind::Buildah,
                    });
                    let with = match crate::image::Builder::choose(step_builder, None) {
                        Ok(builder) => format!("with {}", builder.kind.program()),
                        Err(error) => format!("(the run would fail here: {error})"),
                    };
                    let mut details = vec![format!("builds an image from `{}` {with}", self.text(&build.context)?)];
                    if let Some(dockerfile) = &build.dockerfile {
                        details.push(format!("dockerfile {}", self.text(dockerfile)?));
                    }
                    if let Some(target) = &build.target {
                        details.push(format!("target {}", self.text(target)?));
                    }
                    if let Some(platform) = &build.platform {
                        details.push(format!("platform {}", self.text(platform)?));
                    }
                    if let Some(Val::Map(args)) = build.build_args.as_ref().map(|v| self.value(v)).transpose()? {
                        for (key, value) in args {
                            details.push(format!("build-arg {key}={}", value.text()));
                        }
                    }
                    if let Some(id) = step.binds {
                        let context = self.text(&build.context)?;
                        self.scope.set(id, Val::Image(format!("(the image built from `{context}`)")));
                    }
                    self.planned(step, true, details)
                }
                Action::Push(push) => {
                    let repository = match self.scope.get(push.repository) {
                        Some(v) => v.text(),
                        None => self.binding_name(push.repository).to_string(),
                    };
                    // A name is looked up now, so a missing repository shows before the run.
                    let repository = if crate::image::is_repository_uri(&repository) {
                        repository
                    } else {
                        self.aws.repository_uri(&repository).await.map_err(|e| PlanError::aws(e, step.keyword))?
                    };
                    let tags = match self.value(&push.tags)? {
                        Val::List(items) => items.iter().map(Val::text).collect::<Vec<_>>().join(", "),
                        other => other.text(),
                    };
                    let details = vec![format!("pushes the image to `{repository}` with tags {tags}")];
                    if let Some(id) = step.binds {
                        self.scope.set(id, Val::ImageRef(format!("{repository}@(digest of this push)")));
                    }
                    self.planned(step, true, details)
                }
                Action::Register(register) => self.register(step, register).await?,
                Action::SuspendScaling { service } => {
                    let mut model = self.service(*service, step.keyword).await?;
                    let current = match model.scaling {
                        Some(state) => Some(state),
                        None => self.scaling(&model.state, step.keyword).await?,
                    };
                    let (changes, details) = match current {
                        None => (false, vec!["no scalable target: nothing to suspend".to_string()]),
                        Some(state) if state == ScalingSuspension::ALL => {
                            (false, vec![format!("already suspended ({state})")])
                        }
                        Some(state) => (true, vec![format!("{state} → all suspended")]),
                    };
                    model.suspended_from = current;
                    model.scaling = current.map(|_| ScalingSuspension::ALL);
                    self.services.insert(self.service_ref(*service), model);
                    self.planned(step, changes, details)
                }
                Action::ResumeScaling { service } => {
                    let mut model = self.service(*service, step.keyword).await?;
                    let current = match model.scaling {
                        Some(state) => Some(state),
                        None => self.scaling(&model.state, step.keyword).await?,
                    };
                    let target = model.suspended_from.unwrap_or(ScalingSuspension::NONE);
                    let (changes, details) = match current {
                        None => (false, vec!["no scalable target: nothing to resume".to_string()]),
                        Some(state) if state == target => (false, vec![format!("stays as it is ({state})")]),
                        Some(state) => (true, vec![format!("{state} → {target}")]),
                    };
                    model.scaling = current.map(|_| target);
                    self.services.insert(self.service_ref(*service), model);
                    self.planned(step, changes, details)
                }
                Action::Update(update) => {
                    let mut model = self.service(update.service, step.keyword).await?;
                    let state = &model.state;
                    let mut details = Vec::new();
                    let mut changes = false;
                    let mut change = |what: &str, from: String, to: String| {
                        if from != to {
                            changes = true;
                            details.push(format!("{what}: {from} → {to}"));
                        }
                    };
                    let mut new_td = None;
                    if let Some(td) = &update.task_definition {
                        let to = self.value(td)?.text();
                        change("task-definition", short(&state.task_definition), short(&to));
                        new_td = Some(to);
                    }
                    let mut desired = state.desired.to_string();
                    if let Some(v) = &update.desired_count {
                        desired = self.value(v)?.text();
                        change("desired-count", state.desired.to_string(), desired.clone());
                    }
                    if let Some(v) = &update.min_healthy_percent {
                        change("min-healthy-percent", opt(state.min_healthy_percent), self.value(v)?.text());
                    }
                    if let Some(v) = &update.max_percent {
                        change("max-percent", opt(state.max_percent), self.value(v)?.text());
                    }
                    if let Some(breaker) = update.circuit_breaker {
                        let from = match state.circuit_breaker {
                            Some(b) if b.enable && b.rollback => "rollback",
                            Some(b) if b.enable => "on",
                            _ => "off",
                        };
                        let to = match breaker {
                            CircuitBreaker::Off => "off",
                            CircuitBreaker::On => "on",
                            CircuitBreaker::Rollback => "rollback",
                        };
                        change("circuit-breaker", from.into(), to.into());
                    }
                    if let Some(v) = &update.health_check_grace {
                        let to = match self.value(v)? {
                            Val::Duration(d) => format!("{}s", d.as_secs()),
                            other => other.text(),
                        };
                        change("health-check-grace", format!("{}s", state.health_check_grace_seconds.unwrap_or(0)), to);
                    }
                    let force = match &update.force_new_deployment {
                        Some(v) => self.value(v)? == Val::Bool(true),
                        None => false,
                    };
                    if force {
                        changes = true;
                        details.push("starts a new deployment of the same task definition".into());
                    }
                    if details.is_empty() {
                        details.push("no change".into());
                    } else if changes {
                        details.push(format!("rolls out {} (desired {desired})", state.name));
                    }
                    if let Some(td) = new_td {
                        if model.before_update.is_none() {
                            model.before_update = Some(model.state.task_definition.clone());
                        }
                        model.state.task_definition = td;
                    }
                    self.services.insert(self.service_ref(update.service), model);
                    self.planned(step, changes, details)
                }
                Action::AwaitStable { services, timeout } => {
                    let names: Vec<String> = services.iter().map(|s| self.service_ref(*s).name).collect();
                    let timeout = match timeout {
                        Some(t) => self.value(t)?.text(),
                        None => humantime::format_duration(crate::check::pipeline::DEFAULT_AWAIT_TIMEOUT).to_string(),
                    };
                    self.planned(
                        step,
                        false,
                        vec![format!("waits for {} to be stable (timeout {timeout})", names.join(", "))],
                    )
                }
                Action::RunTask(run) => {
                    let td = self.value(&run.task_definition)?.text();
                    let mut details = vec![format!("runs a task of {}", short(&td))];
                    if let Some(like) = run.like {
                        let model = self.service(like, step.keyword).await?;
                        let launch = &model.state.launch;
                        details.push(format!(
                            "with the network and launch settings of {} ({})",
                            model.state.name,
                            launch.launch_type.as_deref().unwrap_or("capacity provider strategy")
                        ));
                    }
                    for container in &run.containers {
                        details.extend(self.container_lines(container)?);
                    }
                    details.push(match run.wait {
                        Wait::Success => "waits for it to exit 0".into(),
                        Wait::Running => "waits for it to run".into(),
                        Wait::None => "does not wait".into(),
                    });
                    if let Some(id) = step.binds {
                        self.scope.set(id, Val::Task("(the task this step runs)".into()));
                    }
                    self.planned(step, true, details)
                }
                Action::Rollback { service, to } => {
                    let model = self.service(*service, step.keyword).await?;
                    let target = match to {
                        Some(to) => Some(self.value(to)?.text()),
                        None => model.before_update.clone(),
                    };
                    let details = match &target {
                        Some(target) => vec![format!(
                            "rolls {} back: {} → {}",
                            model.state.name,
                            short(&model.state.task_definition),
                            short(target)
                        )],
                        None => vec![format!(
                            "rolls {} back to the revision before {}",
                            model.state.name,
                            short(&model.state.task_definition)
                        )],
                    };
                    self.planned(step, true, details)
                }
                Action::Prune { task_definition, keep } => self.prune(step, task_definition, keep).await?,
                Action::Parallel(children) => {
                    let mut planned = Vec::new();
                    for child in children {
                        planned.push(self.step(child).await?);
                    }
                    let changes = planned.iter().any(|p| p.changes);
                    let mut step = self.planned(step, changes, vec![format!("runs {} steps at once", planned.len())]);
                    step.steps = planned;
                    step
                }
            };
            Ok(planned)
        })
    }

    async fn scaling(&self, state: &ServiceState, span: Span) -> Result<Option<ScalingSuspension>, PlanError> {
        let cluster = state.cluster.rsplit('/').next().unwrap_or(&state.cluster).to_string();
        self.aws.scaling_suspension(&cluster, &state.name).await.map_err(|e| PlanError::aws(e, span))
    }

    fn container_lines(&self, container: &ContainerOverride) -> Result<Vec<String>, PlanError> {
        let mut lines = Vec::new();
        if let Some(command) = &container.command {
            lines.push(format!("container {}: command {}", container.name, self.value(command)?.text()));
        }
        if let Some(Val::Map(env)) = container.env.as_ref().map(|v| self.value(v)).transpose()? {
            for (key, value) in env {
                lines.push(format!("container {}: env {key}={}", container.name, value.text()));
            }
        }
        Ok(lines)
    }

    async fn register(
        &mut self,
        step: &Step,
        register: &crate::check::pipeline::Register,
    ) -> Result<PlannedStep, PlanError> {
        let span = step.keyword;
        let base_ref = match &register.base {
            Base::Service(id) => BaseRef::Service(self.service_ref(*id)),
            Base::Family(family) => BaseRef::Family(self.text(family)?),
            Base::File(path) => BaseRef::File(self.text(path)?),
        };
        let base =
            crate::register::base(self.aws, &base_ref, self.base_dir).await.map_err(|e| self.base_error(e, span))?;
        let compare_with = base.current.map(|(name, _, input)| (name, input));
        let (base_input, family) = (base.input, base.family);
        let mut input = base_input;
        let changes = crate::register::changes(register, &|v| self.value(v))?;
        taskdef::apply(&mut input, &changes).map_err(|e| self.td_error(e, span))?;
        // The number ECS would give: one past the family's newest revision.
        let newest = match self.registered.get(&family).and_then(|r| r.first()) {
            Some(planned) => Some(planned.clone()),
            None => {
                let revisions = self.aws.active_revisions(&family).await.map_err(|e| PlanError::aws(e, span))?;
                revisions.first().map(|(_, arn)| short(arn))
            }
        };
        let next = newest.as_deref().map(next_revision).unwrap_or_else(|| format!("{family}:1"));
        let (changes, details, diff, result) = match &compare_with {
            Some((name, current)) if *current == input => {
                (false, vec![format!("no change: uses {name}")], None, name.clone())
            }
            Some((name, current)) => {
                let diff =
                    unified_diff(&taskdef::display(current), &taskdef::display(&input), name, &format!("{next} (new)"));
                (true, vec![format!("registers {next}")], Some(diff), next)
            }
            None => {
                let diff = unified_diff("", &taskdef::display(&input), "(none)", &format!("{next} (new)"));
                (true, vec![format!("registers {next}, the family's first revision")], Some(diff), next)
            }
        };
        if changes {
            self.registered.entry(family.clone()).or_default().insert(0, result.clone());
        }
        if let Some(id) = step.binds {
            self.scope.set(id, Val::TaskDefinition(result));
        }
        let mut planned = self.planned(step, changes, details);
        planned.diff = diff;
        Ok(planned)
    }

    async fn prune(
        &mut self,
        step: &Step,
        task_definition: &crate::check::pipeline::Value,
        keep: &crate::check::pipeline::Value,
    ) -> Result<PlannedStep, PlanError> {
        let span = step.keyword;
        let td = self.value(task_definition)?.text();
        let family = family_of(&td);
        let keep = match self.value(keep)? {
            Val::Int(n) => n.max(1) as usize,
            _ => 1,
        };
        let mut revisions: Vec<String> = self
            .aws
            .active_revisions(&family)
            .await
            .map_err(|e| PlanError::aws(e, span))?
            .into_iter()
            .map(|(_, arn)| short(&arn))
            .collect();
        // Revisions this run registers are the newest.
        for planned in self.registered.get(&family).into_iter().flatten().rev() {
            revisions.insert(0, planned.clone());
        }
        // As `run` does: whatever any service of these clusters runs, and what
        // this plan would deploy or roll back to.
        let clusters = self.scope.clusters();
        let mut protected: Vec<String> =
            crate::register::live_revisions(self.aws, &clusters).await.map_err(|e| PlanError::aws(e, span))?;
        protected.extend(
            self.services
                .values()
                .flat_map(|m| [Some(m.state.task_definition.clone()), m.before_update.clone()])
                .flatten()
                .map(|t| short(&t)),
        );
        let doomed: Vec<String> =
            revisions.iter().skip(keep).filter(|name| !protected.contains(name)).cloned().collect();
        let details = if doomed.is_empty() {
            vec![format!("nothing to deregister: {} ACTIVE revisions of `{family}`, keeping {keep}", revisions.len())]
        } else {
            vec![format!("deregisters {} of `{family}`, keeping the newest {keep}", doomed.join(", "))]
        };
        Ok(self.planned(step, !doomed.is_empty(), details))
    }

    fn base_error(&self, error: crate::register::BaseError, span: Span) -> PlanError {
        match error {
            crate::register::BaseError::Aws(e) => PlanError::aws(e, span),
            other => PlanError::TaskDefinition { message: other.to_string(), span, label: "in this register".into() },
        }
    }

    fn td_error(&self, error: taskdef::TaskdefError, span: Span) -> PlanError {
        PlanError::TaskDefinition { message: error.to_string(), span, label: "in this register".into() }
    }
}

fn opt(value: Option<i32>) -> String {
    value.map(|v| v.to_string()).unwrap_or_else(|| "(unset)".into())
}

fn next_revision(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((family, revision)) => match revision.parse::<i64>() {
            Ok(n) => format!("{family}:{}", n + 1),
            Err(_) => format!("{family}:(next)"),
        },
        None => format!("{name}:(next)"),
    }
}

fn unified_diff(before: &str, after: &str, from: &str, to: &str) -> String {
    similar::TextDiff::from_lines(before, after).unified_diff().context_radius(3).header(from, to).to_string()
}

/// Renders a plan for people.
pub fn render(plan: &Plan) -> String {
    let mut out = format!("plan for pipeline `{}` in {}\n\n", plan.pipeline, plan.region);
    fn step(out: &mut String, s: &PlannedStep, indent: usize) {
        let pad = " ".repeat(indent);
        let mark = if s.changes { "~" } else { " " };
        out.push_str(&format!("{pad}{mark} {}  (line {})\n", s.step, s.line));
        for detail in &s.details {
            out.push_str(&format!("{pad}    {detail}\n"));
        }
        if let Some(diff) = &s.diff {
            for line in diff.lines() {
                out.push_str(&format!("{pad}    {line}\n"));
            }
        }
        for child in &s.steps {
            step(out, child, indent + 4);
        }
    }
    for s in &plan.steps {
        step(&mut out, s, 0);
    }
    if !plan.on_failure.is_empty() {
        out.push_str("\non failure:\n");
        for s in &plan.on_failure {
            step(&mut out, s, 2);
        }
    }
    let changing = count(&plan.steps);
    out.push_str(&if plan.changes {
        format!("\n{changing} step{} would change something\n", if changing == 1 { "" } else { "s" })
    } else {
        "\nno changes: running this pipeline would change nothing\n".to_string()
    });
    out
}

fn count(steps: &[PlannedStep]) -> usize {
    steps.iter().map(|s| if s.steps.is_empty() { usize::from(s.changes) } else { count(&s.steps) }).sum()
}
