//! `ecsflow plan`: resolves each step as `run` would, with read-only AWS
//! calls, and renders the resolved actions: what each step would change and
//! the mutating calls it would make. Values a step would produce (a pushed
//! image, a new revision) stand in as predictions, and every call that
//! depends on one says so.

use std::collections::HashMap;

use serde::Serialize;

use crate::aws::{Aws, ScalingSuspension};
use crate::check::pipeline::{BindingId, HookAction, Pipeline, Step, Wait};
use crate::eval::{ServiceRef, Value};
use crate::resolve::{
    Call, Facts, Forecast, Ledger, Moment, ResolveError, Resolved, Resolver, RollbackOutcome, ScalingChange,
};
use crate::taskdef::{self, short};

pub type PlanError = ResolveError;

#[derive(Debug, Serialize)]
pub struct Plan {
    pub pipeline: String,
    pub region: String,
    /// Whether running the pipeline would change anything.
    pub changes: bool,
    pub steps: Vec<PlannedStep>,
    /// What `on-failure` and the automatic clean-up would do after a failure
    /// at the last step.
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
    /// For an `update` that sends one: the whole deploymentConfiguration
    /// sent, as ECS's JSON (the service's own merged with the pipeline's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_configuration: Option<serde_json::Value>,
    /// The mutating AWS calls a run would make for this step, in order.
    pub calls: Vec<Call>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<PlannedStep>,
}

pub struct Planner<'a> {
    aws: &'a Aws,
    pipeline: &'a Pipeline,
    source: &'a str,
    resolver: Resolver<'a>,
    forecast: Forecast<'a>,
    ledger: Ledger,
    /// Bindings whose value the plan predicts, and what is known only at run time.
    predicted: HashMap<BindingId, String>,
    /// Predicted bindings that may turn out to be what already runs (an
    /// image whose digest is known only once pushed).
    uncertain: std::collections::HashSet<BindingId>,
    /// Scaling the steps suspend: the clean-up restores it.
    suspends: Vec<Suspended>,
}

impl<'a> Planner<'a> {
    pub fn new(aws: &'a Aws, source: &'a str, resolver: Resolver<'a>, ledger: Ledger) -> Self {
        Planner {
            aws,
            pipeline: resolver.pipeline,
            source,
            resolver,
            forecast: Forecast::new(aws),
            ledger,
            predicted: HashMap::new(),
            uncertain: Default::default(),
            suspends: Vec::new(),
        }
    }

    pub async fn plan(mut self) -> Result<Plan, PlanError> {
        let mut steps = Vec::new();
        for step in &self.pipeline.steps {
            steps.push(self.step(step, Moment::Steps).await?);
        }
        // After a failure the clean-up first restores the scaling a suspend
        // holds (if the failure comes while it does), then runs `on-failure`,
        // shown as after a failure at the last step, when the run has done the
        // most to undo; then it restores what `on-failure` itself suspended.
        let mut on_failure: Vec<PlannedStep> = self.suspends.iter().map(|s| self.restore_scaling(s)).collect();
        let suspended_before = self.suspends.len();
        for step in &self.pipeline.on_failure {
            let planned = match self.step(step, Moment::OnFailure).await {
                Ok(planned) => planned,
                Err(error) => PlannedStep {
                    details: vec![format!("would fail: {error}")],
                    ..self.planned(step, false, Vec::new(), Vec::new())
                },
            };
            on_failure.push(planned);
        }
        let held: Vec<&Suspended> = self.suspends[suspended_before..]
            .iter()
            .filter(|s| self.ledger.suspended.iter().any(|(service, _)| *service == s.service))
            .collect();
        on_failure.extend(held.into_iter().map(|s| self.restore_scaling(s)));
        let changes = steps.iter().any(|s| s.changes);
        Ok(Plan { pipeline: self.pipeline.name.clone(), region: self.aws.region.clone(), changes, steps, on_failure })
    }

    fn planned(&self, step: &Step, changes: bool, details: Vec<String>, calls: Vec<Call>) -> PlannedStep {
        PlannedStep {
            line: crate::diagnostic::line_column(self.source, step.keyword.start).0,
            step: self.pipeline.step_title(self.source, step),
            changes,
            details,
            diff: None,
            deployment_configuration: None,
            calls,
            steps: Vec::new(),
        }
    }

    fn step<'s>(
        &'s mut self,
        step: &'s Step,
        moment: Moment,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<PlannedStep, PlanError>> + 's>> {
        Box::pin(async move { self.step_seeing(step, moment, None).await })
    }

    /// Plans a step. Inside `parallel`, `seen` is the account and the ledger
    /// as the block found them: `run` starts every step of a block at once,
    /// so none resolves against what a sibling does.
    fn step_seeing<'s>(
        &'s mut self,
        step: &'s Step,
        moment: Moment,
        seen: Option<&'s (Forecast<'a>, Ledger)>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<PlannedStep, PlanError>> + 's>> {
        Box::pin(async move {
            let resolved = match seen {
                Some((forecast, ledger)) => self.resolver.resolve(forecast, ledger, step, moment).await?,
                None => self.resolver.resolve(&self.forecast, &self.ledger, step, moment).await?,
            };
            if let Resolved::Parallel(children) = resolved {
                let start = match seen {
                    Some((forecast, ledger)) => (forecast.fork(), ledger.clone()),
                    None => (self.forecast.fork(), self.ledger.clone()),
                };
                let mut planned = Vec::new();
                for child in children {
                    planned.push(self.step_seeing(child, moment, Some(&start)).await?);
                }
                let changes = planned.iter().any(|p| p.changes);
                let mut parallel =
                    self.planned(step, changes, vec![format!("runs {} steps at once", planned.len())], Vec::new());
                parallel.steps = planned;
                return Ok(parallel);
            }
            let mut calls = resolved.calls();
            let depends: Vec<String> = crate::resolve::bindings_read(step)
                .into_iter()
                .filter_map(|id| self.predicted.get(&id).map(|what| (id, what)))
                .map(|(id, what)| format!("`{}` is {what}", self.pipeline.binding(id).name))
                .collect();
            if !depends.is_empty() {
                // Whether a register or an update is needed may only be known
                // then: a rebuilt image can have the digest already deployed.
                let uncertain = crate::resolve::bindings_read(step).iter().any(|id| self.uncertain.contains(id));
                let skip = match &resolved {
                    Resolved::Register(register) if uncertain => {
                        if let Some(id) = step.binds {
                            self.uncertain.insert(id);
                        }
                        register
                            .current
                            .as_ref()
                            .map(|(name, _, _)| format!("; not made if the result equals {name} then"))
                    }
                    Resolved::Update(_) if uncertain => Some("; not made if nothing changes then".to_string()),
                    _ => None,
                };
                for call in &mut calls {
                    call.known_at_run_time = Some(format!("{}{}", depends.join("; "), skip.as_deref().unwrap_or("")));
                }
            }
            let mut planned = self.render(step, &resolved, calls);
            self.foresee(step, &resolved, &mut planned).await?;
            Ok(planned)
        })
    }

    /// What the step would do, in words.
    fn render(&self, step: &Step, resolved: &Resolved<'_>, calls: Vec<Call>) -> PlannedStep {
        let (changes, details) = match resolved {
            Resolved::Build(build) => {
                let with = match &build.builder {
                    Ok(builder) => format!("with {}", builder.kind.program()),
                    Err(error) => format!("(the run would fail here: {error})"),
                };
                let mut details = vec![format!("builds an image from `{}` {with}", build.context)];
                let request = &build.request;
                let dockerfile = request.dockerfile.strip_prefix(&request.context).unwrap_or(&request.dockerfile);
                if dockerfile != std::path::Path::new("Dockerfile") {
                    details.push(format!("dockerfile {}", dockerfile.display()));
                }
                if let Some(target) = &request.target {
                    details.push(format!("target {target}"));
                }
                if let Some(platform) = &request.platform {
                    details.push(format!("platform {platform}"));
                }
                details.extend(request.build_args.iter().map(|(key, value)| format!("build-arg {key}={value}")));
                (true, details)
            }
            Resolved::Push(push) => {
                (true, vec![format!("pushes the image to `{}` with tags {}", push.uri, push.tags.join(", "))])
            }
            // Rendered once the revision is foreseen.
            Resolved::Register(_) => (false, Vec::new()),
            Resolved::Scaling(scaling) => {
                let (none, same) = match scaling.change {
                    ScalingChange::Suspend => ("nothing to suspend", "already suspended"),
                    ScalingChange::Resume => ("nothing to resume", "stays as it is"),
                };
                match scaling.current {
                    None => (false, vec![format!("no scalable target: {none}")]),
                    Some(state) if !scaling.changes() => (false, vec![format!("{same} ({state})")]),
                    Some(state) => (true, vec![format!("{state} → {}", scaling.target)]),
                }
            }
            Resolved::Update(update) => {
                let mut details = update.changes.clone();
                if update.request.force_new_deployment {
                    details.push("starts a new deployment of the same task definition".into());
                }
                if details.is_empty() {
                    details.push("no change".into());
                } else {
                    let desired = update.request.desired_count.unwrap_or(update.before.desired);
                    details.push(format!("rolls out {} (desired {desired})", update.before.name));
                    if let Some(sent) = &update.request.deployment_configuration {
                        details.extend(sent.kept(&update.before.deployment_configuration));
                    }
                }
                (update.sends(), details)
            }
            Resolved::Await(wait) => {
                let names: Vec<&str> = wait.services.iter().map(|s| s.name.as_str()).collect();
                let timeout = humantime::format_duration(wait.timeout);
                (false, vec![format!("waits for {} to be stable (timeout {timeout})", names.join(", "))])
            }
            Resolved::RunTask(run) => {
                let mut details = vec![format!("runs a task of {}", short(&run.request.task_definition))];
                if let Some((name, launch)) = &run.like {
                    details.push(format!("with the network and launch settings of {name} ({launch})"));
                }
                for container in &run.request.containers {
                    if let Some(command) = &container.command {
                        details.push(format!("container {}: command {}", container.name, command.join(",")));
                    }
                    for (key, value) in &container.environment {
                        details.push(format!("container {}: env {key}={value}", container.name));
                    }
                }
                details.push(match (run.wait, &run.container) {
                    (Wait::Success, Some(name)) => format!("waits for container {name} to exit 0"),
                    (Wait::Success, None) => "waits for it to exit 0".into(),
                    (Wait::Running, _) => "waits for it to run".into(),
                    (Wait::None, _) => "does not wait".into(),
                });
                (true, details)
            }
            Resolved::Rollback(rollback) => {
                let name = &rollback.service.name;
                match &rollback.outcome {
                    RollbackOutcome::NothingToRollBack => {
                        (false, vec![format!("nothing to roll back: this run did not update {name}")])
                    }
                    RollbackOutcome::AlreadyThere(target) => {
                        (false, vec![format!("{name} already runs {}", short(target))])
                    }
                    RollbackOutcome::To(target) => {
                        (true, vec![format!("rolls {name} back: {} → {}", short(&rollback.from), short(target))])
                    }
                }
            }
            Resolved::Continue(resume) => {
                let verb = match resume.action {
                    HookAction::Continue => "resumes",
                    HookAction::Rollback => "rolls back",
                };
                let name = &resume.service.name;
                (
                    true,
                    vec![match resume.wait {
                        Some(wait) => format!(
                            "{verb} the deployment of {name} at its PAUSE hook (waits up to {} for the pause)",
                            humantime::format_duration(wait)
                        ),
                        None => format!("{verb} the deployment of {name} at its PAUSE hook, if one holds it"),
                    }],
                )
            }
            Resolved::Prune(prune) => {
                let mut details = if prune.remove.is_empty() {
                    vec![format!(
                        "nothing to deregister: {} ACTIVE revisions of `{}`, keeping {}",
                        prune.active, prune.family, prune.keep
                    )]
                } else {
                    let names: Vec<&str> = prune.remove.iter().map(|(name, _)| name.as_str()).collect();
                    vec![format!(
                        "deregisters {} of `{}`, keeping the newest {}",
                        names.join(", "),
                        prune.family,
                        prune.keep
                    )]
                };
                details.extend(prune.protected.iter().map(|(name, why)| format!("keeps {name}: {why}")));
                (!prune.remove.is_empty(), details)
            }
            Resolved::Parallel(_) => (false, Vec::new()),
        };
        let mut planned = self.planned(step, changes, details, calls);
        if let Resolved::Update(update) = resolved {
            planned.deployment_configuration =
                update.request.deployment_configuration.as_ref().filter(|_| update.sends()).map(|c| c.to_json());
        }
        planned
    }

    /// Records what the step would leave behind, for the steps after it:
    /// the values it binds and what it changes on the account.
    async fn foresee(
        &mut self,
        step: &Step,
        resolved: &Resolved<'_>,
        planned: &mut PlannedStep,
    ) -> Result<(), PlanError> {
        let binds = step.binds;
        match resolved {
            Resolved::Build(build) => {
                let image = format!("(the image built from `{}`)", build.context);
                if let Ok(builder) = &build.builder {
                    self.ledger.images.insert(image.clone(), builder.kind);
                }
                self.predict(binds, Value::Image(image), "the image ID, known at run time".into());
                self.uncertain.extend(binds);
            }
            Resolved::Push(push) => {
                note(&mut planned.calls, "the image digest is known at run time");
                let reference = format!("{}@(digest of this push)", push.uri);
                self.predict(binds, Value::ImageRef(reference), "the pushed image, known at run time".into());
                self.uncertain.extend(binds);
            }
            Resolved::Register(register) => {
                let family = &register.family;
                if let Some((name, arn)) = register.reuses() {
                    planned.details.push(format!("no change: uses {name}"));
                    self.ledger.bind(binds, Value::TaskDefinition(arn.to_string()));
                    return Ok(());
                }
                let next = self
                    .forecast
                    .register(family, &register.input)
                    .await
                    .map_err(|e| ResolveError::aws(e, step.keyword))?;
                planned.changes = true;
                let (from, before) = match &register.current {
                    Some((name, _, input)) => (name.clone(), taskdef::display(input)),
                    None => ("(none)".to_string(), String::new()),
                };
                planned.details.push(match register.current {
                    Some(_) => format!("registers {next}"),
                    None => format!("registers {next}, the family's first revision"),
                });
                planned.diff =
                    Some(unified_diff(&before, &taskdef::display(&register.input), &from, &format!("{next} (new)")));
                note(&mut planned.calls, &format!("ECS numbers the revision at run time: expected {next}"));
                self.predict(
                    binds,
                    Value::TaskDefinition(next.clone()),
                    format!("the revision registered, expected {next}"),
                );
            }
            Resolved::Scaling(scaling) => {
                scaling.record_before(&mut self.ledger);
                if let (ScalingChange::Suspend, Some(found)) = (scaling.change, scaling.current) {
                    // The clean-up restores whatever a suspend found, even all suspended.
                    if !self.suspends.iter().any(|s| s.service == scaling.service) {
                        self.suspends.push(Suspended {
                            service: scaling.service.clone(),
                            found,
                            line: planned.line,
                            title: planned.step.clone(),
                        });
                    }
                }
                if scaling.current.is_some() {
                    self.forecast.set_scaling(&scaling.service, scaling.target);
                }
                scaling.record_after(&mut self.ledger);
            }
            Resolved::Update(update) => {
                update.record_before(&mut self.ledger);
                if !update.sends() {
                    update.record_after(&mut self.ledger, update.current_primary(), None);
                    return Ok(());
                }
                let mut after = update.before.clone();
                let request = &update.request;
                if let Some(td) = &request.task_definition {
                    after.task_definition = td.clone();
                }
                after.desired = request.desired_count.unwrap_or(after.desired);
                after.min_healthy_percent = request.min_healthy_percent.or(after.min_healthy_percent);
                after.max_percent = request.max_percent.or(after.max_percent);
                after.circuit_breaker = request.circuit_breaker.or(after.circuit_breaker);
                after.health_check_grace_seconds =
                    request.health_check_grace_seconds.or(after.health_check_grace_seconds);
                if let Some(sent) = &request.deployment_configuration {
                    after.deployment_configuration = sent.clone();
                }
                let primary = match update.starts_deployment() {
                    true => Some(("(the deployment this update starts)".to_string(), after.task_definition.clone())),
                    false => update.current_primary(),
                };
                update.record_after(&mut self.ledger, primary, None);
                self.forecast.set_service(&update.service, after);
            }
            Resolved::RunTask(_) => self.predict(
                binds,
                Value::Task("(the task this step runs)".into()),
                "the task, known at run time".into(),
            ),
            Resolved::Rollback(rollback) => {
                if let RollbackOutcome::To(target) = &rollback.outcome {
                    let mut after = self
                        .forecast
                        .service(&rollback.service)
                        .await
                        .map_err(|e| ResolveError::aws(e, step.keyword))?;
                    after.task_definition = target.clone();
                    let deployment = ("(the rollback's deployment)".to_string(), target.clone());
                    rollback.record_after(&mut self.ledger, Some(deployment), None);
                    self.forecast.set_service(&rollback.service, after);
                }
            }
            Resolved::Prune(prune) => self.forecast.deregister(&prune.family, &prune.remove),
            Resolved::Await(_) | Resolved::Continue(_) | Resolved::Parallel(_) => {}
        }
        Ok(())
    }

    fn predict(&mut self, binds: Option<BindingId>, value: Value, what: String) {
        if let Some(id) = binds {
            self.predicted.insert(id, what);
        }
        self.ledger.bind(binds, value);
    }

    /// The clean-up's first act after a failure while scaling is suspended:
    /// set it back to what the suspend found.
    fn restore_scaling(&self, suspended: &Suspended) -> PlannedStep {
        let (service, found) = (&suspended.service, suspended.found);
        PlannedStep {
            line: suspended.line,
            step: format!("restore the scaling of {}", service.name),
            changes: true,
            details: vec![format!("automatic while `{}` holds it: all suspended → {found}", suspended.title)],
            diff: None,
            deployment_configuration: None,
            calls: vec![Call {
                api: "application-autoscaling:RegisterScalableTarget",
                target: crate::aws::scaling_resource_id(&service.cluster, &service.name),
                known_at_run_time: None,
            }],
            steps: Vec::new(),
        }
    }
}

/// Adds what only the run will know to each call, after what is there.
fn note(calls: &mut [Call], what: &str) {
    for call in calls {
        call.known_at_run_time = Some(match call.known_at_run_time.take() {
            Some(before) => format!("{what}; {before}"),
            None => what.to_string(),
        });
    }
}

/// A suspend the clean-up would undo.
struct Suspended {
    service: ServiceRef,
    found: ScalingSuspension,
    line: usize,
    title: String,
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
        for call in &s.calls {
            out.push_str(&format!("{pad}    → {call}\n"));
        }
        for child in &s.steps {
            step(out, child, indent + 4);
        }
    }
    for s in &plan.steps {
        step(&mut out, s, 0);
    }
    if !plan.on_failure.is_empty() {
        out.push_str("\non failure (as after a failure at the last step):\n");
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
