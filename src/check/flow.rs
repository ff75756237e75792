//! The rules about the order of steps, a pass over the checked steps once the
//! walk has produced them: scaling suspended and never resumed, `await-stable`
//! on a service nothing deploys, `rollback` with nothing to roll back,
//! `continue` with no deployment of this run to resume, and two steps of one
//! `parallel` block on the same service.

use std::collections::{HashMap, HashSet};

use super::error::CheckError;
use super::pipeline::{Action, BindingId, BindingKind, Expr, ExprKind, Part, Pipeline, Step};
use crate::syntax::ast::Span;

/// Where each `await-stable` names its services, in the order of its
/// `services`, by the start of its keyword: the checked pipeline keeps one
/// span per step, and the warning points at the service.
pub(super) type AwaitedSpans = HashMap<usize, Vec<Span>>;

/// One service as far as the source tells: its written `cluster/name`, or
/// the binding when the name is only known at run time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ServiceKey {
    Named(String),
    Binding(BindingId),
}

/// The flow rules' diagnostics. `pipeline.on_failure` holds the steps of
/// every `on-failure` block, so a second (reported) block is checked too.
pub(super) fn check(pipeline: &Pipeline, awaited: &AwaitedSpans) -> Vec<CheckError> {
    let mut flow = Flow { pipeline, errors: Vec::new() };
    flow.parallel_conflicts(&pipeline.steps);
    flow.parallel_conflicts(&pipeline.on_failure);
    flow.scaling_resumed();
    flow.rollbacks();
    flow.awaits(awaited);
    flow.errors
}

struct Flow<'p> {
    pipeline: &'p Pipeline,
    errors: Vec<CheckError>,
}

impl Flow<'_> {
    fn name(&self, service: BindingId) -> &str {
        &self.pipeline.binding(service).name
    }

    /// Two steps of one `parallel` block, however nested, must not work on the same service.
    fn parallel_conflicts(&mut self, steps: &[Step]) {
        for step in steps {
            if let Action::Parallel(inner) = &step.action {
                self.touches(inner, &mut HashMap::new());
            }
        }
    }

    /// What a service binding names, as far as the source says: two
    /// bindings of one written name (`service a = "web"`, `service b =
    /// "prod/web"` in cluster `prod`) are one service.
    fn service_key(&self, service: BindingId) -> ServiceKey {
        let literal = |expr: &Expr| match &expr.kind {
            ExprKind::Str(parts) => parts.iter().try_fold(String::new(), |mut text, part| match part {
                Part::Text(t) => {
                    text.push_str(t);
                    Some(text)
                }
                Part::Binding(..) => None,
            }),
            _ => None,
        };
        let cluster = match &self.pipeline.cluster {
            Some(cluster) => literal(cluster),
            None => Some("default".to_string()),
        };
        match (&self.pipeline.binding(service).kind, cluster) {
            (BindingKind::Service { name }, Some(cluster)) => match literal(name) {
                Some(name) => ServiceKey::Named(crate::eval::service_ref(&name, &cluster).to_string()),
                None => ServiceKey::Binding(service),
            },
            _ => ServiceKey::Binding(service),
        }
    }

    fn touches(&mut self, steps: &[Step], touched: &mut HashMap<ServiceKey, (Span, &'static str, BindingId)>) {
        for step in steps {
            let (name, services) = match &step.action {
                Action::Parallel(inner) => {
                    self.touches(inner, touched);
                    continue;
                }
                Action::Update(update) => ("update", std::slice::from_ref(&update.service)),
                Action::SuspendScaling { service } => ("suspend-scaling", std::slice::from_ref(service)),
                Action::ResumeScaling { service } => ("resume-scaling", std::slice::from_ref(service)),
                Action::AwaitStable { services, .. } => ("await-stable", services.as_slice()),
                Action::Rollback { service, .. } => ("rollback", std::slice::from_ref(service)),
                Action::Continue { service, .. } => ("continue", std::slice::from_ref(service)),
                _ => continue,
            };
            for &service in services {
                let key = self.service_key(service);
                let Some(&(other, other_step, other_binding)) = touched.get(&key) else {
                    touched.insert(key, (step.keyword, name, service));
                    continue;
                };
                let (message, service) = match key {
                    ServiceKey::Named(named) if other_binding != service => (
                        format!(
                            "two steps of one `parallel` block work on `{named}`, as `{}` and as `{}`",
                            self.name(other_binding),
                            self.name(service)
                        ),
                        named,
                    ),
                    _ => {
                        let service = self.name(service).to_string();
                        (format!("two steps of one `parallel` block work on `{service}`"), service)
                    }
                };
                self.errors.push(CheckError::ParallelConflict {
                    message,
                    span: step.keyword,
                    label: format!("`{name}` here"),
                    other,
                    other_label: format!("`{other_step}` here"),
                    help: format!(
                        "the steps of `parallel` run at the same time; move one of the steps on `{service}` out of the block"
                    ),
                });
            }
        }
    }

    /// In the main flow, every `suspend-scaling` has a `resume-scaling` after it.
    fn scaling_resumed(&mut self) {
        let mut suspended: Vec<(BindingId, Span)> = Vec::new();
        for step in in_order(&self.pipeline.steps) {
            match step.action {
                Action::SuspendScaling { service } => suspended.push((service, step.span)),
                Action::ResumeScaling { service } => suspended.retain(|(s, _)| *s != service),
                _ => {}
            }
        }
        for (service, span) in suspended {
            let name = self.name(service).to_string();
            self.errors.push(CheckError::ScalingNotResumed {
                help: format!("add `resume-scaling {name}` after the service's `await-stable`; on a failure ecsflow resumes it by itself"),
                service: name,
                span,
            });
        }
    }

    /// In the main flow, `rollback SERVICE` without `to` and `continue
    /// SERVICE` follow an update of the service.
    fn rollbacks(&mut self) {
        let mut updated = HashSet::new();
        for step in in_order(&self.pipeline.steps) {
            match &step.action {
                Action::Update(update) => {
                    updated.insert(update.service);
                }
                Action::Rollback { service, to: None } if !updated.contains(service) => {
                    let name = self.name(*service).to_string();
                    self.errors.push(CheckError::NothingToRollBack {
                        help: format!("update `{name}` before rolling it back, or name the revision: `rollback {name} to TASKDEF`; on failures, put `rollback` in `on-failure`"),
                        service: name,
                        span: step.span,
                    });
                }
                Action::Continue { service, .. } if !updated.contains(service) => {
                    let name = self.name(*service).to_string();
                    self.errors.push(CheckError::ContinueWithoutUpdate {
                        help: format!("`continue` resumes the deployment an update of this run starts; add `update {name} {{ … }}` before it, or resume a deployment started elsewhere with `ecsflow continue --cluster CLUSTER --service SERVICE`"),
                        service: name,
                        span: step.span,
                    });
                }
                _ => {}
            }
        }
    }

    /// `await-stable` follows a deployment this pipeline starts.
    fn awaits(&mut self, awaited: &AwaitedSpans) {
        // In the main flow only its own deployments count: a rollback in
        // `on-failure` starts none on the way to success.
        let deployed_main = deployed(&self.pipeline.steps);
        let mut deployed_any = deployed(&self.pipeline.on_failure);
        deployed_any.extend(&deployed_main);
        for (steps, deployed) in [(&self.pipeline.steps, &deployed_main), (&self.pipeline.on_failure, &deployed_any)] {
            for step in in_order(steps) {
                let Action::AwaitStable { services, .. } = &step.action else { continue };
                let spans = awaited.get(&step.keyword.start).map(Vec::as_slice).unwrap_or_default();
                for (service, &span) in services.iter().zip(spans) {
                    if deployed.contains(service) {
                        continue;
                    }
                    let name = self.name(*service).to_string();
                    self.errors.push(CheckError::AwaitWithoutUpdate {
                        help: format!("`await-stable` follows the deployment this run starts; add `update {name} {{ … }}` before it, or remove it"),
                        service: name,
                        span,
                    });
                }
            }
        }
    }
}

/// The services that `update` or `rollback` deploys.
fn deployed(steps: &[Step]) -> HashSet<BindingId> {
    in_order(steps)
        .into_iter()
        .filter_map(|step| match &step.action {
            Action::Update(update) => Some(update.service),
            Action::Rollback { service, .. } => Some(*service),
            _ => None,
        })
        .collect()
}

/// Every step in the order it appears, the steps of `parallel` blocks included.
fn in_order(steps: &[Step]) -> Vec<&Step> {
    let mut out = Vec::new();
    for step in steps {
        out.push(step);
        if let Action::Parallel(inner) = &step.action {
            out.extend(in_order(inner));
        }
    }
    out
}
