//! What each step does at run time.

use std::path::Path;
use std::time::SystemTime;

use serde_json::Value as Json;

use super::report::StepLabel;
use super::{Runner, StepFailure};
use crate::aws::{AwsError, CircuitBreakerState, ScalingSuspension, ServiceUpdate};
use crate::check::pipeline::{Action, Base, CircuitBreaker, Step, DEFAULT_AWAIT_TIMEOUT};
use crate::check::pipeline::{Build, Builder as BuilderWord, Push};
use crate::eval::{ServiceRef, Val};
use crate::image::{BuildRequest, Builder, BuilderKind, ImageError};
use crate::register::{self, family_of, short, BaseRef};
use crate::taskdef;

impl Runner<'_> {
    pub(super) fn aws_failure(&self, label: &StepLabel, error: AwsError) -> StepFailure {
        self.fail(label, error.to_string())
    }

    pub(super) async fn act(&self, id: usize, label: &StepLabel, step: &Step) -> Result<String, StepFailure> {
        match &step.action {
            Action::Build(build) => self.build(id, label, step, build).await,
            Action::Push(push) => self.push(id, label, step, push).await,
            Action::Register(register) => {
                let base_ref = match &register.base {
                    Base::Service(service) => BaseRef::Service(self.service(*service)),
                    Base::Family(family) => BaseRef::Family(self.value(label, family)?.text()),
                    Base::File(path) => BaseRef::File(self.value(label, path)?.text()),
                };
                let base = register::base(self.aws, &base_ref, self.base_dir)
                    .await
                    .map_err(|e| self.fail(label, e.to_string()))?;
                let changes = register::changes(register, &|v| self.value(label, v))?;
                let mut input = base.input;
                taskdef::apply(&mut input, &changes).map_err(|e| self.fail(label, e.to_string()))?;
                if let Some((name, arn, current)) = &base.current {
                    if *current == input {
                        self.bind(step, Val::TaskDefinition(arn.clone()));
                        return Ok(format!("no change: uses {name}"));
                    }
                }
                let registered = self
                    .aws
                    .register_task_definition(&Json::Object(input))
                    .await
                    .map_err(|e| self.aws_failure(label, e))?;
                self.bind(step, Val::TaskDefinition(registered.arn.clone()));
                Ok(format!("registered {}", short(&registered.arn)))
            }
            Action::SuspendScaling { service } => {
                let service = self.service(*service);
                let current = self
                    .aws
                    .scaling_suspension(&service.cluster, &service.name)
                    .await
                    .map_err(|e| self.aws_failure(label, e))?;
                let Some(current) = current else {
                    return Ok(format!("{} has no scalable target: nothing to suspend", service.name));
                };
                {
                    // A second suspend keeps the state found by the first.
                    let mut state = self.state.lock().expect("state lock");
                    if !state.suspended.iter().any(|(s, _)| *s == service) {
                        state.suspended.push((service.clone(), current));
                    }
                }
                if current != ScalingSuspension::ALL {
                    self.aws
                        .set_scaling_suspension(&service.cluster, &service.name, ScalingSuspension::ALL)
                        .await
                        .map_err(|e| self.aws_failure(label, e))?;
                }
                Ok(format!("suspended (was {current})"))
            }
            Action::ResumeScaling { service } => {
                let service = self.service(*service);
                // The entry stays until the state is restored, so a failure or a
                // signal in between still leaves the clean-up something to restore.
                let prior = {
                    let state = self.state.lock().expect("state lock");
                    state.suspended.iter().find(|(s, _)| *s == service).map(|(_, p)| *p)
                };
                let current = self
                    .aws
                    .scaling_suspension(&service.cluster, &service.name)
                    .await
                    .map_err(|e| self.aws_failure(label, e))?;
                let Some(current) = current else {
                    return Ok(format!("{} has no scalable target: nothing to resume", service.name));
                };
                let target = prior.unwrap_or(ScalingSuspension::NONE);
                if current != target {
                    self.aws
                        .set_scaling_suspension(&service.cluster, &service.name, target)
                        .await
                        .map_err(|e| self.aws_failure(label, e))?;
                }
                self.state.lock().expect("state lock").suspended.retain(|(s, _)| *s != service);
                Ok(format!("restored ({target})"))
            }
            Action::Update(update) => {
                let service = self.service(update.service);
                let before = self
                    .aws
                    .describe_service(&service.cluster, &service.name)
                    .await
                    .map_err(|e| self.aws_failure(label, e))?;
                let int = |v: &Option<crate::check::pipeline::Value>| -> Result<Option<i32>, StepFailure> {
                    match v.as_ref().map(|v| self.value(label, v)).transpose()? {
                        Some(Val::Int(n)) => {
                            i32::try_from(n).map(Some).map_err(|_| self.fail(label, format!("{n} is out of range")))
                        }
                        Some(other) => Err(self.fail(label, format!("expected a number, found `{}`", other.text()))),
                        None => Ok(None),
                    }
                };
                let grace = match update.health_check_grace.as_ref().map(|v| self.value(label, v)).transpose()? {
                    Some(Val::Duration(d)) => Some(i32::try_from(d.as_secs()).unwrap_or(i32::MAX)),
                    _ => None,
                };
                let request = ServiceUpdate {
                    cluster: service.cluster.clone(),
                    service: service.name.clone(),
                    task_definition: update
                        .task_definition
                        .as_ref()
                        .map(|v| self.value(label, v).map(|v| v.text()))
                        .transpose()?,
                    desired_count: int(&update.desired_count)?,
                    min_healthy_percent: int(&update.min_healthy_percent)?,
                    max_percent: int(&update.max_percent)?,
                    force_new_deployment: matches!(
                        update.force_new_deployment.as_ref().map(|v| self.value(label, v)).transpose()?,
                        Some(Val::Bool(true))
                    ),
                    circuit_breaker: update.circuit_breaker.map(|b| match b {
                        CircuitBreaker::Off => CircuitBreakerState { enable: false, rollback: false },
                        CircuitBreaker::On => CircuitBreakerState { enable: true, rollback: false },
                        CircuitBreaker::Rollback => CircuitBreakerState { enable: true, rollback: true },
                    }),
                    health_check_grace_seconds: grace,
                };
                let asked_at = SystemTime::now();
                // Recorded before the call: if it is cut off (a signal, a failing
                // `parallel` sibling) the request may still have gone through,
                // and `rollback` must know where to return.
                self.state
                    .lock()
                    .expect("state lock")
                    .services
                    .entry(service.clone())
                    .or_default()
                    .before_update
                    .get_or_insert(before.task_definition.clone());
                let updated = self.aws.update_service(&request).await.map_err(|e| self.aws_failure(label, e))?;
                let primary = updated.primary().cloned();
                let previous_primary = before.primary().map(|d| d.id.clone());
                {
                    let mut state = self.state.lock().expect("state lock");
                    let record = state.services.entry(service.clone()).or_default();
                    let new_deployment = primary.as_ref().is_some_and(|d| Some(&d.id) != previous_primary.as_ref());
                    // Follow a deployment this run started; an update that
                    // started none keeps following the one it had.
                    if new_deployment || record.deployment.is_none() {
                        record.deployment = primary.as_ref().map(|d| d.id.clone());
                        record.deployment_task_definition = primary.as_ref().map(|d| d.task_definition.clone());
                        record.updated_at = Some(asked_at);
                    }
                }
                let _ = id;
                Ok(match primary {
                    Some(d) if Some(&d.id) != previous_primary.as_ref() => {
                        format!("started deployment {} of {}", d.id, short(&d.task_definition))
                    }
                    _ => "updated; no new deployment".to_string(),
                })
            }
            Action::AwaitStable { services, timeout } => {
                let timeout = match timeout.as_ref().map(|t| self.value(label, t)).transpose()? {
                    Some(Val::Duration(d)) => d,
                    _ => DEFAULT_AWAIT_TIMEOUT,
                };
                let services: Vec<ServiceRef> = services.iter().map(|s| self.service(*s)).collect();
                let waits = services.iter().map(|service| self.await_stable(id, label, service, timeout));
                let done = futures_util::future::try_join_all(waits).await?;
                Ok(done.join("; "))
            }
            Action::RunTask(run) => self.run_task(id, label, step, run).await,
            Action::Rollback { service, to } => {
                let service = self.service(*service);
                let current = self
                    .aws
                    .describe_service(&service.cluster, &service.name)
                    .await
                    .map_err(|e| self.aws_failure(label, e))?;
                let recorded =
                    self.state.lock().expect("state lock").services.get(&service).and_then(|r| r.before_update.clone());
                let target = match to {
                    Some(to) => self.value(label, to)?.text(),
                    None => match recorded {
                        Some(before) => before,
                        // After a failure, only what this run changed is undone.
                        None if self.cleaning_up.load(std::sync::atomic::Ordering::Relaxed) => {
                            return Ok(format!("nothing to roll back: this run did not update {}", service.name));
                        }
                        None => self.previous_revision(label, &current.task_definition).await?,
                    },
                };
                // A bare number is a revision of the service's own family.
                let target = if !target.is_empty() && target.chars().all(|c| c.is_ascii_digit()) {
                    format!("{}:{target}", family_of(&current.task_definition))
                } else {
                    target
                };
                if short(&target) == short(&current.task_definition) {
                    return Ok(format!("{} already runs {}", service.name, short(&target)));
                }
                let request = ServiceUpdate {
                    cluster: service.cluster.clone(),
                    service: service.name.clone(),
                    task_definition: Some(target.clone()),
                    ..ServiceUpdate::default()
                };
                let asked_at = SystemTime::now();
                let updated = self.aws.update_service(&request).await.map_err(|e| self.aws_failure(label, e))?;
                {
                    let mut state = self.state.lock().expect("state lock");
                    let record = state.services.entry(service.clone()).or_default();
                    record.deployment = updated.primary().map(|d| d.id.clone());
                    record.deployment_task_definition = updated.primary().map(|d| d.task_definition.clone());
                    record.updated_at = Some(asked_at);
                }
                self.await_stable(id, label, &service, DEFAULT_AWAIT_TIMEOUT).await?;
                Ok(format!(
                    "rolled {} back from {} to {}",
                    service.name,
                    short(&current.task_definition),
                    short(&target)
                ))
            }
            Action::Prune { task_definition, keep } => {
                let family = family_of(&self.value(label, task_definition)?.text());
                let keep = match self.value(label, keep)? {
                    Val::Int(n) if n >= 1 => n as usize,
                    other => return Err(self.fail(label, format!("`keep` must be at least 1, found {}", other.text()))),
                };
                let protected = self.protected_revisions(label).await?;
                let revisions = self.aws.active_revisions(&family).await.map_err(|e| self.aws_failure(label, e))?;
                let doomed: Vec<String> = revisions
                    .iter()
                    .skip(keep)
                    .map(|(_, arn)| arn.clone())
                    .filter(|arn| !protected.contains(&short(arn)))
                    .collect();
                let mut done = Vec::new();
                for arn in &doomed {
                    if let Err(error) = self.aws.deregister_task_definition(arn).await {
                        let mut failure = self.aws_failure(label, error);
                        failure.details.push(format!(
                            "deregistered before the error: {}",
                            if done.is_empty() { "none".to_string() } else { done.join(", ") }
                        ));
                        return Err(failure);
                    }
                    done.push(short(arn));
                }
                Ok(if done.is_empty() {
                    format!("nothing to deregister in `{family}` ({} ACTIVE, keeping {keep})", revisions.len())
                } else {
                    format!("deregistered {}", done.join(", "))
                })
            }
            Action::Parallel(children) => {
                let runs = children.iter().map(|child| self.step(child));
                let done = futures_util::future::try_join_all(runs).await?;
                Ok(format!("{} steps done", done.len()))
            }
        }
    }

    /// The revision before `current` in its family, for a `rollback` with
    /// nothing recorded by this run.
    async fn previous_revision(&self, label: &StepLabel, current: &str) -> Result<String, StepFailure> {
        let name = short(current);
        let family = family_of(&name);
        let number: i64 = name.rsplit_once(':').and_then(|(_, r)| r.parse().ok()).unwrap_or(i64::MAX);
        let revisions = self.aws.active_revisions(&family).await.map_err(|e| self.aws_failure(label, e))?;
        revisions
            .into_iter()
            .find(|(revision, _)| *revision < number)
            .map(|(_, arn)| arn)
            .ok_or_else(|| self.fail(label, format!("`{family}` has no ACTIVE revision before {name} to roll back to")))
    }

    /// Revisions `prune` must keep: what any service of the pipeline's
    /// clusters runs or deploys, what this run deployed or would roll back to,
    /// and the targets of `rollback … to` in `on-failure`.
    async fn protected_revisions(&self, label: &StepLabel) -> Result<Vec<String>, StepFailure> {
        let (clusters, mut protected) = {
            let state = self.state.lock().expect("state lock");
            let mut clusters = state.scope.clusters();
            if !clusters.contains(&self.default_cluster) {
                clusters.push(self.default_cluster.clone());
            }
            let recorded: Vec<String> = state
                .services
                .values()
                .flat_map(|r| [r.before_update.clone(), r.deployment_task_definition.clone()])
                .flatten()
                .map(|t| short(&t))
                .collect();
            (clusters, recorded)
        };
        for step in &self.pipeline.on_failure {
            if let Action::Rollback { to: Some(to), .. } = &step.action {
                if let Ok(Val::TaskDefinition(t) | Val::Str(t)) = self.value(label, to) {
                    protected.push(short(&t));
                }
            }
        }
        let live = register::live_revisions(self.aws, &clusters).await.map_err(|e| self.aws_failure(label, e))?;
        protected.extend(live);
        Ok(protected)
    }
}

impl Runner<'_> {
    fn image_failure(&self, label: &StepLabel, error: ImageError) -> StepFailure {
        let mut failure = self.fail(label, error.to_string());
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

    async fn build(&self, id: usize, label: &StepLabel, step: &Step, build: &Build) -> Result<String, StepFailure> {
        let context_text = self.value(label, &build.context)?.text();
        let context = self.base_dir.join(&context_text);
        if !context.is_dir() {
            return Err(self.fail(label, format!("build context `{context_text}` is not a directory")));
        }
        let dockerfile_text = match &build.dockerfile {
            Some(v) => self.value(label, v)?.text(),
            None => "Dockerfile".into(),
        };
        let dockerfile = context.join(&dockerfile_text);
        if !dockerfile.is_file() {
            return Err(self.fail(
                label,
                format!("Dockerfile `{}` does not exist", Path::new(&context_text).join(&dockerfile_text).display()),
            ));
        }
        let step_builder = build.builder.map(|b| match b {
            BuilderWord::Docker => BuilderKind::Docker,
            BuilderWord::Podman => BuilderKind::Podman,
            BuilderWord::Buildah => BuilderKind::Buildah,
        });
        let builder = Builder::choose(step_builder, self.builder).map_err(|e| self.image_failure(label, e))?;
        let build_args = match build.build_args.as_ref().map(|v| self.value(label, v)).transpose()? {
            Some(Val::Map(entries)) => entries.into_iter().map(|(k, v)| (k, v.text())).collect(),
            _ => Vec::new(),
        };
        let request = BuildRequest {
            context,
            dockerfile,
            target: build.target.as_ref().map(|v| self.value(label, v).map(|v| v.text())).transpose()?,
            build_args,
            platform: build.platform.as_ref().map(|v| self.value(label, v).map(|v| v.text())).transpose()?,
        };
        let lines = std::sync::atomic::AtomicUsize::new(0);
        let on_line = |line: &str| {
            lines.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.report.output(id, label, line);
        };
        let image = builder.build(&request, &on_line).await.map_err(|e| self.image_failure(label, e))?;
        self.state.lock().expect("state lock").images.insert(image.clone(), builder.kind);
        self.bind(step, Val::Image(image.clone()));
        Ok(format!(
            "built {} with {} ({} lines of output)",
            image.trim_start_matches("sha256:").chars().take(12).collect::<String>(),
            builder.kind.program(),
            lines.into_inner()
        ))
    }

    async fn push(&self, id: usize, label: &StepLabel, step: &Step, push: &Push) -> Result<String, StepFailure> {
        let image = match self.value(label, &push.image)? {
            Val::Image(image) => image,
            other => return Err(self.fail(label, format!("`{}` is not an image this run built", other.text()))),
        };
        let repository = match self.state.lock().expect("state lock").scope.get(push.repository) {
            Some(Val::Repository(repository)) => repository.clone(),
            _ => return Err(self.fail(label, "the repository has no value")),
        };
        let tags: Vec<String> = match self.value(label, &push.tags)? {
            Val::List(items) => items.iter().map(Val::text).collect(),
            other => vec![other.text()],
        };
        // A name is this account's ECR repository; a URI is used as given.
        let uri = if crate::image::is_repository_uri(&repository) {
            repository.clone()
        } else {
            self.aws.repository_uri(&repository).await.map_err(|e| self.aws_failure(label, e))?
        };
        let host = uri.split('/').next().unwrap_or_default().to_string();
        // ECR tokens expire after 12 hours: ask right before pushing. Other
        // registries use the builder's own login.
        let auth = match crate::aws::ecr_host(&host) {
            Some(_) => Some(self.aws.registry_auth(&host).await.map_err(|e| self.aws_failure(label, e))?),
            None => None,
        };
        let kind = self.state.lock().expect("state lock").images.get(&image).copied();
        let builder = Builder::choose(kind, self.builder).map_err(|e| self.image_failure(label, e))?;
        let on_line = |line: &str| self.report.output(id, label, line);
        let digest = builder
            .push(&image, &uri, &tags, auth.as_ref(), &on_line)
            .await
            .map_err(|e| self.image_failure(label, e))?;
        let reference = format!("{uri}@{digest}");
        self.bind(step, Val::ImageRef(reference.clone()));
        Ok(format!("pushed {reference} (tags {})", tags.join(", ")))
    }
}
