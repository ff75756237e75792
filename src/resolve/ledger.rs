//! What a run has done so far (or, for `plan`, would have done): the values
//! its steps bound, what it changed on each service, the scaling it holds
//! suspended. Resolution reads it; `run` writes what happened, `plan` what
//! would happen, through the same methods.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::aws::ScalingSuspension;
use crate::check::pipeline::BindingId;
use crate::eval::{Scope, ServiceRef, Value};
use crate::image::BuilderKind;

#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub scope: Scope,
    pub services: HashMap<ServiceRef, ServiceRecord>,
    /// Scaling this run suspended, with the state found before, until resumed.
    pub suspended: Vec<(ServiceRef, ScalingSuspension)>,
    /// Images this run built, and the builder that holds each.
    pub images: HashMap<String, BuilderKind>,
    /// What each suspend found, kept after the scaling is restored: a later
    /// `resume-scaling` (in `on-failure`, say) restores the same, not "none".
    pub found: Vec<(ServiceRef, ScalingSuspension)>,
}

/// What this run did to a service, for `rollback`, `prune` and `await-stable`.
#[derive(Debug, Clone, Default)]
pub struct ServiceRecord {
    /// The task definition it ran before this run's first update.
    pub before_update: Option<String>,
    /// The deployment this run's last update created (or found PRIMARY).
    pub deployment: Option<String>,
    /// The task definition that deployment rolls out.
    pub deployment_task_definition: Option<String>,
    /// When this run updated it: events before this are not this run's.
    pub updated_at: Option<SystemTime>,
}

impl Ledger {
    pub fn new(scope: Scope) -> Ledger {
        Ledger { scope, ..Ledger::default() }
    }

    pub fn bind(&mut self, binding: Option<BindingId>, value: Value) {
        if let Some(id) = binding {
            self.scope.set(id, value);
        }
    }

    /// Recorded before the UpdateService call: if it is cut off (a signal, a
    /// failing `parallel` sibling) the request may still have gone through,
    /// and `rollback` must know where to return.
    pub fn updating(&mut self, service: &ServiceRef, running_before: &str) {
        self.services.entry(service.clone()).or_default().before_update.get_or_insert(running_before.to_string());
    }

    /// The deployment an update or a rollback started. `started` is false
    /// when the call started none: the record keeps following the one it had.
    pub fn deployed(
        &mut self,
        service: &ServiceRef,
        deployment: Option<(String, String)>,
        started: bool,
        at: Option<SystemTime>,
    ) {
        let record = self.services.entry(service.clone()).or_default();
        if started || record.deployment.is_none() {
            record.deployment_task_definition = deployment.as_ref().map(|(_, td)| td.clone());
            record.deployment = deployment.map(|(id, _)| id);
            record.updated_at = at;
        }
    }

    /// A second suspend keeps the state found by the first.
    pub fn suspending(&mut self, service: &ServiceRef, found: ScalingSuspension) {
        if !self.suspended.iter().any(|(s, _)| s == service) {
            self.suspended.push((service.clone(), found));
        }
        if !self.found.iter().any(|(s, _)| s == service) {
            self.found.push((service.clone(), found));
        }
    }

    /// The state a suspend of this run found, whether or not it is restored yet.
    pub fn suspended_from(&self, service: &ServiceRef) -> Option<ScalingSuspension> {
        self.suspended.iter().chain(&self.found).find(|(s, _)| s == service).map(|(_, p)| *p)
    }

    pub fn resumed(&mut self, service: &ServiceRef) {
        self.suspended.retain(|(s, _)| s != service);
    }

    pub fn before_update(&self, service: &ServiceRef) -> Option<String> {
        self.services.get(service).and_then(|r| r.before_update.clone())
    }
}
