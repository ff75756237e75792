//! What each step does at run time: resolve it, then perform the resolved
//! action and record what it did in the ledger.

use std::time::SystemTime;

use serde_json::Value as Json;

use super::failure::{FailureKind, StepFailure};
use super::report::StepLabel;
use super::resume::NotResumed;
use super::Runner;
use crate::aws::ServiceUpdate;
use crate::check::pipeline::{Step, DEFAULT_AWAIT_TIMEOUT};
use crate::eval::Value;
use crate::image::Builder;
use crate::resolve::{
    BuildAction, ContinueAction, Moment, PruneAction, PushAction, RegisterAction, Resolved, RollbackAction,
    RollbackOutcome, ScalingAction, ScalingChange, UpdateAction,
};
use crate::taskdef::short;

impl Runner<'_> {
    pub(super) async fn act(&self, id: usize, label: &StepLabel, step: &Step) -> Result<String, StepFailure> {
        let moment =
            if self.cleaning_up.load(std::sync::atomic::Ordering::Relaxed) { Moment::OnFailure } else { Moment::Steps };
        let ledger = self.state.lock().expect("state lock").ledger.clone();
        let resolved =
            self.resolver.resolve(self.aws, &ledger, step, moment).await.map_err(|e| StepFailure::resolve(label, e))?;
        match resolved {
            Resolved::Build(build) => self.build(id, label, step, build).await,
            Resolved::Push(push) => self.push(id, label, step, push).await,
            Resolved::Register(register) => self.register(label, step, register).await,
            Resolved::Scaling(scaling) => self.scale(label, scaling).await,
            Resolved::Update(update) => self.update(label, update).await,
            Resolved::Await(wait) => {
                let waits = wait.services.iter().map(|service| self.await_stable(id, label, service, wait.timeout));
                let done = futures_util::future::try_join_all(waits).await?;
                Ok(done.join("; "))
            }
            Resolved::RunTask(run) => self.run_task(id, label, step, run).await,
            Resolved::Rollback(rollback) => self.rollback(id, label, rollback).await,
            Resolved::Continue(resume) => self.resume(label, resume).await,
            Resolved::Prune(prune) => self.prune(label, prune).await,
            Resolved::Parallel(children) => {
                let runs = children.iter().map(|child| self.step(child));
                let done = futures_util::future::try_join_all(runs).await?;
                Ok(format!("{} steps done", done.len()))
            }
        }
    }

    async fn register(&self, label: &StepLabel, step: &Step, register: RegisterAction) -> Result<String, StepFailure> {
        if let Some((name, arn)) = register.reuses() {
            self.bind(step, Value::TaskDefinition(arn.to_string()));
            return Ok(format!("no change: uses {name}"));
        }
        let registered = self
            .aws
            .register_task_definition(&Json::Object(register.input))
            .await
            .map_err(|e| StepFailure::aws(label, e))?;
        self.bind(step, Value::TaskDefinition(registered.arn.clone()));
        Ok(format!("registered {}", short(&registered.arn)))
    }

    async fn scale(&self, label: &StepLabel, scaling: ScalingAction) -> Result<String, StepFailure> {
        let service = &scaling.service;
        let Some(current) = scaling.current else {
            let verb = match scaling.change {
                ScalingChange::Suspend => "suspend",
                ScalingChange::Resume => "resume",
            };
            return Ok(format!("{} has no scalable target: nothing to {verb}", service.name));
        };
        scaling.record_before(&mut self.state.lock().expect("state lock").ledger);
        if scaling.changes() {
            self.aws
                .set_scaling_suspension(&service.cluster, &service.name, scaling.target)
                .await
                .map_err(|e| StepFailure::aws(label, e))?;
        }
        Ok(match scaling.change {
            ScalingChange::Suspend => format!("suspended (was {current})"),
            ScalingChange::Resume => {
                // The entry stays until the state is restored, so a failure or a
                // signal in between still leaves the clean-up something to restore.
                scaling.record_after(&mut self.state.lock().expect("state lock").ledger);
                format!("restored ({})", scaling.target)
            }
        })
    }

    async fn update(&self, label: &StepLabel, update: UpdateAction) -> Result<String, StepFailure> {
        update.record_before(&mut self.state.lock().expect("state lock").ledger);
        if !update.sends() {
            let primary = update.current_primary();
            update.record_after(&mut self.state.lock().expect("state lock").ledger, primary, Some(SystemTime::now()));
            return Ok("no change".to_string());
        }
        let asked_at = SystemTime::now();
        let updated = self.aws.update_service(&update.request).await.map_err(|e| StepFailure::aws(label, e))?;
        let primary = updated.primary().map(|d| (d.id.clone(), d.task_definition.clone()));
        let started =
            update.record_after(&mut self.state.lock().expect("state lock").ledger, primary.clone(), Some(asked_at));
        Ok(match primary {
            Some((id, td)) if started => format!("started deployment {id} of {}", short(&td)),
            _ => "updated; no new deployment".to_string(),
        })
    }

    async fn rollback(&self, id: usize, label: &StepLabel, rollback: RollbackAction) -> Result<String, StepFailure> {
        let service = &rollback.service;
        let target = match &rollback.outcome {
            RollbackOutcome::NothingToRollBack => {
                return Ok(format!("nothing to roll back: this run did not update {}", service.name))
            }
            RollbackOutcome::AlreadyThere(target) => {
                return Ok(format!("{} already runs {}", service.name, short(target)))
            }
            RollbackOutcome::To(target) => target.clone(),
        };
        let request = ServiceUpdate {
            cluster: service.cluster.clone(),
            service: service.name.clone(),
            task_definition: Some(target.clone()),
            deployments_before: rollback.deployments_before.clone(),
            ..ServiceUpdate::default()
        };
        let asked_at = SystemTime::now();
        let updated = self.aws.update_service(&request).await.map_err(|e| StepFailure::aws(label, e))?;
        let primary = updated.primary().map(|d| (d.id.clone(), d.task_definition.clone()));
        rollback.record_after(&mut self.state.lock().expect("state lock").ledger, primary, Some(asked_at));
        self.await_stable(id, label, service, DEFAULT_AWAIT_TIMEOUT).await.map_err(|mut failure| {
            // The rollback's own rollout has no `timeout` to raise.
            if failure.kind == FailureKind::RolloutTimeout {
                failure.help = format!(
                    "{} is still rolling back to {}: watch it with `aws ecs describe-services --cluster {} --services {}`, and look into the events below",
                    service.name,
                    short(&target),
                    service.cluster,
                    service.name
                );
            }
            failure
        })?;
        Ok(format!("rolled {} back from {} to {}", service.name, short(&rollback.from), short(&target)))
    }

    async fn resume(&self, label: &StepLabel, resume: ContinueAction) -> Result<String, StepFailure> {
        let service = &resume.service;
        let after_update = {
            let state = self.state.lock().expect("state lock");
            state.ledger.services.get(service).is_some_and(|record| record.updated_at.is_some())
        };
        let wait = resume.wait.unwrap_or_default();
        match super::resume::resume(self.aws, service, resume.action, wait, after_update).await {
            Ok(resumed) => Ok(resumed.describe(service)),
            // In the clean-up, a deployment no hook holds is nothing to undo.
            Err(NotResumed::NotPaused { reason, .. }) if resume.wait.is_none() => {
                Ok(format!("nothing to do: {reason}"))
            }
            Err(NotResumed::NotPaused { reason, help }) => {
                Err(StepFailure::new(label, FailureKind::NotPaused, reason, help))
            }
            Err(NotResumed::Timeout { reason, help }) => {
                Err(StepFailure::new(label, FailureKind::PauseTimeout, reason, help))
            }
            Err(NotResumed::Aws(error)) => Err(StepFailure::aws(label, error)),
        }
    }

    async fn prune(&self, label: &StepLabel, prune: PruneAction) -> Result<String, StepFailure> {
        let mut done = Vec::new();
        for (name, arn) in &prune.remove {
            if let Err(error) = self.aws.deregister_task_definition(arn).await {
                let left: Vec<&str> = prune.remove.iter().skip(done.len()).map(|(name, _)| name.as_str()).collect();
                let help = format!(
                    "{}; run the pipeline again, or deregister the rest with `aws ecs deregister-task-definition --task-definition {}`",
                    error.help(),
                    left.first().copied().unwrap_or_default()
                );
                let mut failure = StepFailure::new(label, FailureKind::PruneFailed, error.to_string(), help);
                failure.details.push(format!(
                    "deregistered before the error: {}",
                    if done.is_empty() { "none".to_string() } else { done.join(", ") }
                ));
                failure.details.push(format!("still ACTIVE: {}", left.join(", ")));
                return Err(failure);
            }
            done.push(name.clone());
        }
        Ok(if done.is_empty() {
            format!("nothing to deregister in `{}` ({} ACTIVE, keeping {})", prune.family, prune.active, prune.keep)
        } else {
            format!("deregistered {}", done.join(", "))
        })
    }
}

impl Runner<'_> {
    async fn build(
        &self,
        id: usize,
        label: &StepLabel,
        step: &Step,
        build: BuildAction,
    ) -> Result<String, StepFailure> {
        let builder = build.builder.map_err(|e| StepFailure::image(label, e, false))?;
        let lines = std::sync::atomic::AtomicUsize::new(0);
        let on_line = |line: &str| {
            lines.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.report.output(id, label, line);
        };
        let image = builder.build(&build.request, &on_line).await.map_err(|e| StepFailure::image(label, e, false))?;
        self.state.lock().expect("state lock").ledger.images.insert(image.clone(), builder.kind);
        self.bind(step, Value::Image(image.clone()));
        Ok(format!(
            "built {} with {} ({} lines of output)",
            image.trim_start_matches("sha256:").chars().take(12).collect::<String>(),
            builder.kind.program(),
            lines.into_inner()
        ))
    }

    async fn push(&self, id: usize, label: &StepLabel, step: &Step, push: PushAction) -> Result<String, StepFailure> {
        let builder: Builder = push.builder.map_err(|e| StepFailure::image(label, e, true))?;
        let host = push.uri.split('/').next().unwrap_or_default().to_string();
        // ECR tokens expire after 12 hours: ask right before pushing. Other
        // registries use the builder's own login.
        let auth = match push.ecr {
            true => Some(self.aws.registry_auth(&host).await.map_err(|e| StepFailure::aws(label, e))?),
            false => None,
        };
        let on_line = |line: &str| self.report.output(id, label, line);
        let digest = builder
            .push(&push.image, &push.uri, &push.tags, auth.as_ref(), &on_line)
            .await
            .map_err(|e| StepFailure::image(label, e, true))?;
        let reference = format!("{}@{digest}", push.uri);
        self.bind(step, Value::ImageRef(reference.clone()));
        Ok(format!("pushed {reference} (tags {})", push.tags.join(", ")))
    }
}
