//! What resolution reads from AWS. `run` reads the account as it is at each
//! step ([`Aws`]); `plan` reads it once and lays over it what the steps
//! before would have changed ([`Forecast`]). Both answer the same questions,
//! so the decisions made from the answers are made once, in `resolve`.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Map, Value as Json};

use crate::aws::{Aws, AwsError, ScalingSuspension, ServiceState, TaskDefinition};
use crate::eval::ServiceRef;
use crate::taskdef::short;

/// Read-only questions about the account. Every method is a read
/// (`Describe*`, `List*`): resolving never changes anything.
#[allow(async_fn_in_trait)]
pub trait Facts {
    async fn service(&self, service: &ServiceRef) -> Result<ServiceState, AwsError>;
    /// Every service of a cluster.
    async fn cluster_services(&self, cluster: &str) -> Result<Vec<ServiceState>, AwsError>;
    /// `None` when the service has no scalable target.
    async fn scaling(&self, service: &ServiceRef) -> Result<Option<ScalingSuspension>, AwsError>;
    /// The family's ACTIVE revisions as `(revision, ARN or family:revision)`, newest first.
    async fn revisions(&self, family: &str) -> Result<Vec<(i64, String)>, AwsError>;
    async fn task_definition(&self, reference: &str) -> Result<TaskDefinition, AwsError>;
    /// The URI of this account's ECR repository of that name.
    async fn repository_uri(&self, name: &str) -> Result<String, AwsError>;
}

impl Facts for Aws {
    async fn service(&self, service: &ServiceRef) -> Result<ServiceState, AwsError> {
        self.describe_service(&service.cluster, &service.name).await
    }

    async fn cluster_services(&self, cluster: &str) -> Result<Vec<ServiceState>, AwsError> {
        Aws::cluster_services(self, cluster).await
    }

    async fn scaling(&self, service: &ServiceRef) -> Result<Option<ScalingSuspension>, AwsError> {
        self.scaling_suspension(&service.cluster, &service.name).await
    }

    async fn revisions(&self, family: &str) -> Result<Vec<(i64, String)>, AwsError> {
        self.active_revisions(family).await
    }

    async fn task_definition(&self, reference: &str) -> Result<TaskDefinition, AwsError> {
        self.describe_task_definition(reference).await
    }

    async fn repository_uri(&self, name: &str) -> Result<String, AwsError> {
        Aws::repository_uri(self, name).await
    }
}

/// The account as it would be after the steps planned so far: each answer is
/// read once, then changed by what those steps would do.
pub struct Forecast<'a> {
    aws: &'a Aws,
    seen: Mutex<Seen>,
}

#[derive(Default, Clone)]
struct Seen {
    services: HashMap<ServiceRef, ServiceState>,
    clusters: HashMap<String, Vec<ServiceState>>,
    scaling: HashMap<ServiceRef, Option<ScalingSuspension>>,
    revisions: HashMap<String, Vec<(i64, String)>>,
    /// The highest deregistered revision of each family.
    inactive: HashMap<String, Option<i64>>,
    /// Revisions this plan would register: `family:revision` → their input.
    registered: HashMap<String, TaskDefinition>,
}

impl<'a> Forecast<'a> {
    pub fn new(aws: &'a Aws) -> Self {
        Forecast { aws, seen: Mutex::new(Seen::default()) }
    }

    /// The account as forecast now, frozen: what steps started together see.
    pub fn fork(&self) -> Forecast<'a> {
        Forecast { aws: self.aws, seen: Mutex::new(self.seen().clone()) }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().expect("forecast lock")
    }

    /// A register would add the family's next revision; returns its name
    /// (`family:N`), the number ECS would give it if nothing else registers first.
    pub async fn register(&self, family: &str, input: &Map<String, Json>) -> Result<String, AwsError> {
        let newest_active = self.revisions(family).await?.first().map(|(n, _)| *n);
        let known = self.seen().inactive.get(family).copied();
        let newest_inactive = match known {
            Some(known) => known,
            None => self.aws.newest_inactive_revision(family).await?,
        };
        self.seen().inactive.insert(family.to_string(), newest_inactive);
        let next = newest_active.max(newest_inactive).map_or(1, |n| n + 1);
        let name = format!("{family}:{next}");
        let mut json = input.clone();
        json.insert("family".into(), Json::String(family.into()));
        json.insert("revision".into(), Json::from(next));
        let tags = json.remove("tags").unwrap_or(Json::Array(Vec::new()));
        let predicted = TaskDefinition {
            arn: name.clone(),
            family: family.to_string(),
            revision: next,
            json: Json::Object(json),
            tags,
            registered_at: None,
        };
        let mut seen = self.seen();
        seen.revisions.entry(family.to_string()).or_default().insert(0, (next, name.clone()));
        seen.registered.insert(name.clone(), predicted);
        Ok(name)
    }

    /// An update or a rollback would make the service run `task_definition`
    /// (and apply the other settings the caller changed on `state`).
    pub fn set_service(&self, service: &ServiceRef, state: ServiceState) {
        let mut seen = self.seen();
        for services in seen.clusters.values_mut() {
            for known in services.iter_mut().filter(|s| s.arn == state.arn) {
                *known = state.clone();
            }
        }
        seen.services.insert(service.clone(), state);
    }

    /// A prune would deregister these `(family:revision, ARN)`.
    pub fn deregister(&self, family: &str, removed: &[(String, String)]) {
        if let Some(revisions) = self.seen().revisions.get_mut(family) {
            revisions.retain(|(_, arn)| !removed.iter().any(|(name, _)| *name == short(arn)));
        }
    }

    pub fn set_scaling(&self, service: &ServiceRef, state: ScalingSuspension) {
        let mut seen = self.seen();
        if let Some(Some(current)) = seen.scaling.get_mut(service) {
            *current = state;
        }
    }
}

impl Facts for Forecast<'_> {
    async fn service(&self, service: &ServiceRef) -> Result<ServiceState, AwsError> {
        if let Some(state) = self.seen().services.get(service) {
            return Ok(state.clone());
        }
        let state = self.aws.describe_service(&service.cluster, &service.name).await?;
        Ok(self.seen().services.entry(service.clone()).or_insert(state).clone())
    }

    async fn cluster_services(&self, cluster: &str) -> Result<Vec<ServiceState>, AwsError> {
        if let Some(services) = self.seen().clusters.get(cluster) {
            return Ok(services.clone());
        }
        let mut services = self.aws.cluster_services(cluster).await?;
        let mut seen = self.seen();
        // What the plan already changed on a service shows here too.
        for service in &mut services {
            if let Some(changed) = seen.services.values().find(|s| s.arn == service.arn) {
                *service = changed.clone();
            }
        }
        Ok(seen.clusters.entry(cluster.to_string()).or_insert(services).clone())
    }

    async fn scaling(&self, service: &ServiceRef) -> Result<Option<ScalingSuspension>, AwsError> {
        if let Some(state) = self.seen().scaling.get(service) {
            return Ok(*state);
        }
        let state = self.aws.scaling_suspension(&service.cluster, &service.name).await?;
        Ok(*self.seen().scaling.entry(service.clone()).or_insert(state))
    }

    async fn revisions(&self, family: &str) -> Result<Vec<(i64, String)>, AwsError> {
        if let Some(revisions) = self.seen().revisions.get(family) {
            return Ok(revisions.clone());
        }
        let revisions = self.aws.active_revisions(family).await?;
        Ok(self.seen().revisions.entry(family.to_string()).or_insert(revisions).clone())
    }

    async fn task_definition(&self, reference: &str) -> Result<TaskDefinition, AwsError> {
        if let Some(predicted) = self.seen().registered.get(&short(reference)) {
            return Ok(predicted.clone());
        }
        self.aws.describe_task_definition(reference).await
    }

    async fn repository_uri(&self, name: &str) -> Result<String, AwsError> {
        self.aws.repository_uri(name).await
    }
}
