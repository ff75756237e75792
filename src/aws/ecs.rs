//! ECS: services, deployments, task definitions and tasks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_ecs::types::{
    self as ecs, ContainerOverride as SdkContainerOverride, DesiredStatus, KeyValuePair, SortOrder,
    TaskDefinitionField, TaskDefinitionStatus, TaskOverride,
};

use super::deployment_settings::DeploymentSettings;
use super::raw_json::{CaptureBody, ReplaceBody};
use super::retry::{self, READ_BUDGET, WRITE_BUDGET};
use super::{Aws, AwsError, ErrorKind};
use crate::taskdef::reference;

api_enum! {
    /// A service's `deploymentController.type`; ECS when the answer has none.
    DeploymentController { Ecs = "ECS", CodeDeploy = "CODE_DEPLOY", External = "EXTERNAL", }
}

api_enum! {
    /// A service's `status`.
    ServiceStatus { Active = "ACTIVE", Draining = "DRAINING", Inactive = "INACTIVE", }
}

api_enum! {
    /// A deployment's `status`: the one ECS rolls out to is PRIMARY, older
    /// ones still holding tasks are ACTIVE.
    DeploymentStatus { Primary = "PRIMARY", Active = "ACTIVE", Inactive = "INACTIVE", }
}

api_enum! {
    /// A deployment's `rolloutState` (only for the rolling-update controller).
    RolloutState { InProgress = "IN_PROGRESS", Completed = "COMPLETED", Failed = "FAILED", }
}

api_enum! {
    /// A task's or container's `lastStatus`, or a task's `desiredStatus`: the
    /// task lifecycle of the ECS developer guide.
    TaskStatus {
        Provisioning = "PROVISIONING",
        Pending = "PENDING",
        Activating = "ACTIVATING",
        Running = "RUNNING",
        Deactivating = "DEACTIVATING",
        Stopping = "STOPPING",
        Deprovisioning = "DEPROVISIONING",
        Stopped = "STOPPED",
        Deleted = "DELETED",
    }
}

/// A service as ECS describes it now.
#[derive(Debug, Clone)]
pub struct ServiceState {
    pub arn: String,
    pub name: String,
    pub cluster: String,
    pub status: ServiceStatus,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub task_definition: String,
    pub deployments: Vec<Deployment>,
    /// Newest first, as ECS lists them.
    pub events: Vec<ServiceEvent>,
    pub min_healthy_percent: Option<i32>,
    pub max_percent: Option<i32>,
    pub circuit_breaker: Option<CircuitBreakerState>,
    pub health_check_grace_seconds: Option<i32>,
    pub launch: LaunchSettings,
    /// The whole deploymentConfiguration, so an `update` sends back every
    /// field the pipeline does not set.
    pub deployment_configuration: DeploymentSettings,
    /// Who deploys the service: ECS itself, CodeDeploy or an external tool.
    pub controller: DeploymentController,
    /// The service deployment ECS runs or ran last (`currentServiceDeployment`),
    /// when the endpoint knows the service deployments API.
    pub current_service_deployment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitBreakerState {
    pub enable: bool,
    pub rollback: bool,
}

/// Where and how a service's tasks run; `run-task … { like = SERVICE }` copies it.
#[derive(Debug, Clone, Default)]
pub struct LaunchSettings {
    pub launch_type: Option<String>,
    pub platform_version: Option<String>,
    network: Option<ecs::NetworkConfiguration>,
    capacity_providers: Vec<ecs::CapacityProviderStrategyItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub id: String,
    pub status: DeploymentStatus,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub failed: i32,
    pub rollout_state: Option<RolloutState>,
    pub rollout_reason: Option<String>,
    pub created_at: Option<SystemTime>,
}

#[derive(Debug, Clone)]
pub struct ServiceEvent {
    pub id: String,
    pub at: Option<SystemTime>,
    pub message: String,
}

/// A task definition as ECS holds it: the raw JSON of `taskDefinition`, and
/// the tags registered with it.
#[derive(Debug, Clone)]
pub struct TaskDefinition {
    pub arn: String,
    pub family: String,
    pub revision: i64,
    pub json: serde_json::Value,
    pub tags: serde_json::Value,
    pub registered_at: Option<SystemTime>,
}

/// What `update` changes; `None` leaves the service's setting as it is.
#[derive(Debug, Clone, Default)]
pub struct ServiceUpdate {
    pub cluster: String,
    pub service: String,
    pub task_definition: Option<String>,
    pub desired_count: Option<i32>,
    pub min_healthy_percent: Option<i32>,
    pub max_percent: Option<i32>,
    pub force_new_deployment: bool,
    pub circuit_breaker: Option<CircuitBreakerState>,
    pub health_check_grace_seconds: Option<i32>,
    /// The deploymentConfiguration sent: the service's own with the fields
    /// above merged in; `None` when the pipeline sets none of them.
    pub deployment_configuration: Option<DeploymentSettings>,
    /// The ids of the deployments the service had before this update: after
    /// a lost answer, a deployment not among them is the one it started.
    pub deployments_before: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ContainerRun {
    pub name: String,
    pub command: Option<Vec<String>>,
    pub environment: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct RunTaskRequest {
    pub cluster: String,
    pub task_definition: String,
    pub launch: LaunchSettings,
    pub containers: Vec<ContainerRun>,
    pub started_by: String,
}

#[derive(Debug, Clone)]
pub struct TaskState {
    pub arn: String,
    pub task_definition: String,
    pub last_status: TaskStatus,
    pub desired_status: TaskStatus,
    pub stopped_reason: Option<String>,
    pub stop_code: Option<String>,
    pub started_by: Option<String>,
    pub stopped_at: Option<SystemTime>,
    pub containers: Vec<ContainerState>,
}

#[derive(Debug, Clone)]
pub struct ContainerState {
    pub name: String,
    pub last_status: Option<TaskStatus>,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<SystemTime> {
    let t = t?;
    let secs = t.as_secs_f64();
    (secs >= 0.0).then(|| UNIX_EPOCH + Duration::from_secs_f64(secs))
}

impl ServiceState {
    fn from_sdk(service: &ecs::Service) -> ServiceState {
        let config = service.deployment_configuration();
        ServiceState {
            arn: service.service_arn().unwrap_or_default().to_string(),
            name: service.service_name().unwrap_or_default().to_string(),
            cluster: service.cluster_arn().unwrap_or_default().to_string(),
            status: service.status().unwrap_or_default().into(),
            desired: service.desired_count(),
            running: service.running_count(),
            pending: service.pending_count(),
            task_definition: service.task_definition().unwrap_or_default().to_string(),
            deployments: service
                .deployments()
                .iter()
                .map(|d| Deployment {
                    id: d.id().unwrap_or_default().to_string(),
                    status: d.status().unwrap_or_default().into(),
                    task_definition: d.task_definition().unwrap_or_default().to_string(),
                    desired: d.desired_count(),
                    running: d.running_count(),
                    pending: d.pending_count(),
                    failed: d.failed_tasks(),
                    rollout_state: d.rollout_state().map(|s| s.as_str().into()),
                    rollout_reason: d.rollout_state_reason().map(str::to_string),
                    created_at: time(d.created_at()),
                })
                .collect(),
            events: service
                .events()
                .iter()
                .map(|e| ServiceEvent {
                    id: e.id().unwrap_or_default().to_string(),
                    at: time(e.created_at()),
                    message: e.message().unwrap_or_default().to_string(),
                })
                .collect(),
            min_healthy_percent: config.and_then(|c| c.minimum_healthy_percent()),
            max_percent: config.and_then(|c| c.maximum_percent()),
            circuit_breaker: config
                .and_then(|c| c.deployment_circuit_breaker())
                .map(|b| CircuitBreakerState { enable: b.enable(), rollback: b.rollback() }),
            health_check_grace_seconds: service.health_check_grace_period_seconds(),
            launch: LaunchSettings {
                launch_type: service.launch_type().map(|l| l.as_str().to_string()),
                platform_version: service.platform_version().map(str::to_string),
                network: service.network_configuration().cloned(),
                capacity_providers: service.capacity_provider_strategy().to_vec(),
            },
            deployment_configuration: DeploymentSettings::from_sdk(config.cloned()),
            controller: service
                .deployment_controller()
                .map(|c| DeploymentController::from(c.r#type().as_str()))
                .unwrap_or(DeploymentController::Ecs),
            current_service_deployment: service.current_service_deployment().map(str::to_string),
        }
    }

    /// The deployment ECS is rolling out to.
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == DeploymentStatus::Primary)
    }
}

impl TaskDefinition {
    /// From an answer's typed task definition and its raw JSON body.
    fn from_answer(typed: &ecs::TaskDefinition, raw: &serde_json::Value) -> TaskDefinition {
        TaskDefinition {
            arn: typed.task_definition_arn().unwrap_or_default().to_string(),
            family: typed.family().unwrap_or_default().to_string(),
            revision: typed.revision() as i64,
            json: raw.get("taskDefinition").cloned().unwrap_or_default(),
            tags: raw.get("tags").cloned().unwrap_or(serde_json::Value::Array(Vec::new())),
            registered_at: time(typed.registered_at()),
        }
    }
}

impl TaskState {
    fn from_sdk(task: &ecs::Task) -> TaskState {
        TaskState {
            arn: task.task_arn().unwrap_or_default().to_string(),
            task_definition: task.task_definition_arn().unwrap_or_default().to_string(),
            last_status: task.last_status().unwrap_or_default().into(),
            desired_status: task.desired_status().unwrap_or_default().into(),
            stopped_reason: task.stopped_reason().map(str::to_string),
            stop_code: task.stop_code().map(|c| c.as_str().to_string()),
            started_by: task.started_by().map(str::to_string),
            stopped_at: time(task.stopped_at()),
            containers: task
                .containers()
                .iter()
                .map(|c| ContainerState {
                    name: c.name().unwrap_or_default().to_string(),
                    last_status: c.last_status().map(TaskStatus::from),
                    exit_code: c.exit_code(),
                    reason: c.reason().map(str::to_string),
                })
                .collect(),
        }
    }
}

/// `ecs:DescribeServices` on up to ten services, one attempt: the answer for
/// each name asked, or why it has none.
pub type ServiceAnswers = Vec<(String, Result<ServiceState, AwsError>)>;

fn not_found(cluster: &str, service: &str) -> AwsError {
    AwsError::coded(
        "ecs:DescribeServices",
        "ServiceNotFoundException",
        format!("service `{service}` does not exist in cluster `{cluster}`"),
    )
}

/// The UpdateService call for `update`. It never names `loadBalancers`, so
/// ECS keeps the service's load balancers with their `advancedConfiguration`
/// (the blue/green target groups and listener rules) as they are.
fn update_request(
    ecs: &aws_sdk_ecs::Client,
    update: &ServiceUpdate,
) -> aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder {
    ecs.update_service()
        .cluster(&update.cluster)
        .service(&update.service)
        .force_new_deployment(update.force_new_deployment)
        .set_task_definition(update.task_definition.clone())
        .set_desired_count(update.desired_count)
        .set_health_check_grace_period_seconds(update.health_check_grace_seconds)
        .set_deployment_configuration(update.deployment_configuration.as_ref().and_then(DeploymentSettings::to_sdk))
}

/// A client token for RunTask: the same on every retry of one call.
fn client_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("ecsflow-{}-{now:x}-{}", std::process::id(), COUNT.fetch_add(1, Ordering::Relaxed))
}

/// What a deployment's task definition is called, whether ARN or `family:revision`.
fn same_revision(a: &str, b: &str) -> bool {
    crate::taskdef::short(a) == crate::taskdef::short(b)
}

/// Clock slack when comparing ECS's timestamps with the time a call was sent.
const CLOCK_SLACK: Duration = Duration::from_secs(2);

impl Aws {
    pub async fn describe_service(&self, cluster: &str, service: &str) -> Result<ServiceState, AwsError> {
        let names = [service.to_string()];
        let mut answers = retry::idempotent(READ_BUDGET, || self.describe_services_once(cluster, &names)).await?;
        answers.pop().map(|(_, answer)| answer).unwrap_or_else(|| Err(not_found(cluster, service)))
    }

    /// One DescribeServices call for up to ten services of a cluster, not
    /// retried: pollers retry in their own time.
    pub async fn describe_services_once(&self, cluster: &str, names: &[String]) -> Result<ServiceAnswers, AwsError> {
        const OP: &str = "ecs:DescribeServices";
        let out = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        let services: Vec<ServiceState> = out
            .services()
            .iter()
            .filter(|s| s.status().map(ServiceStatus::from) != Some(ServiceStatus::Inactive))
            .map(ServiceState::from_sdk)
            .collect();
        Ok(names
            .iter()
            .map(|name| {
                // One name asked, one answer: whatever the name's spelling (a
                // short name, an ARN), that is the service.
                let found = services
                    .iter()
                    .find(|s| s.name == *name || s.arn == *name)
                    .or_else(|| services.first().filter(|_| names.len() == 1));
                (name.clone(), found.cloned().ok_or_else(|| not_found(cluster, name)))
            })
            .collect())
    }

    /// Every service of a cluster, described (DescribeServices takes ten a call).
    pub async fn cluster_services(&self, cluster: &str) -> Result<Vec<ServiceState>, AwsError> {
        let arns = retry::idempotent(READ_BUDGET, || async {
            let mut arns = Vec::new();
            let mut pages = self.ecs.list_services().cluster(cluster).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("ecs:ListServices", e))?;
                arns.extend(page.service_arns().iter().cloned());
            }
            Ok(arns)
        })
        .await?;
        let mut services = Vec::new();
        for chunk in arns.chunks(10) {
            let out = retry::idempotent(READ_BUDGET, || async {
                self.ecs
                    .describe_services()
                    .cluster(cluster)
                    .set_services(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ecs:DescribeServices", e))
            })
            .await?;
            services.extend(out.services().iter().map(ServiceState::from_sdk));
        }
        Ok(services)
    }

    /// `family`, `family:revision` or an ARN.
    pub async fn describe_task_definition(&self, reference: &str) -> Result<TaskDefinition, AwsError> {
        const OP: &str = "ecs:DescribeTaskDefinition";
        retry::idempotent(READ_BUDGET, || async {
            let capture = CaptureBody::default();
            let out = self
                .ecs
                .describe_task_definition()
                .task_definition(reference)
                .include(TaskDefinitionField::Tags)
                .customize()
                .interceptor(capture.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            let raw = capture.json().ok_or_else(|| AwsError::new(OP, "the answer was not JSON"))?;
            let typed = out.task_definition().ok_or_else(|| AwsError::new(OP, "the answer has no task definition"))?;
            Ok(TaskDefinition::from_answer(typed, &raw))
        })
        .await
    }

    /// Registers exactly this RegisterTaskDefinition input, once: when an
    /// attempt's answer is lost, the family's newest revision is read, and an
    /// identical one registered since is the answer.
    pub async fn register_task_definition(&self, input: &serde_json::Value) -> Result<TaskDefinition, AwsError> {
        const OP: &str = "ecs:RegisterTaskDefinition";
        let family = input.get("family").and_then(|f| f.as_str()).unwrap_or_default();
        let body = serde_json::to_vec(input).map_err(|e| AwsError::new(OP, e.to_string()))?;
        // After a lost answer, a revision numbered past this one and equal to
        // the input is the one the lost attempt registered (no clocks compared).
        let newest_before = self.active_revisions(family).await?.first().map(|(n, _)| *n).unwrap_or(0);
        let attempt = || async {
            let capture = CaptureBody::default();
            let out = self
                .ecs
                .register_task_definition()
                .family(family)
                .customize()
                .interceptor(ReplaceBody(body.clone()))
                .interceptor(capture.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            let typed = out.task_definition().ok_or_else(|| AwsError::new(OP, "the answer has no task definition"))?;
            let raw = capture.json().unwrap_or_default();
            Ok(TaskDefinition::from_answer(typed, &raw))
        };
        let registered = || async {
            let Some((number, newest)) =
                self.revisions_once(family, TaskDefinitionStatus::Active).await?.into_iter().next()
            else {
                return Ok(None);
            };
            if number <= newest_before {
                return Ok(None);
            }
            let described = self.describe_task_definition(&newest).await?;
            Ok(match input.as_object() {
                Some(input) => {
                    let same = crate::taskdef::register_input(&described.json, Some(&described.tags))
                        .map(|registered| crate::taskdef::shaped_like(registered, input) == *input)
                        .unwrap_or(false);
                    same.then_some(described)
                }
                None => None,
            })
        };
        retry::checked(WRITE_BUDGET, attempt, registered).await
    }

    /// The family's highest revision number among its INACTIVE (deregistered)
    /// revisions: ECS numbers a new revision after every one it ever gave.
    pub async fn newest_inactive_revision(&self, family: &str) -> Result<Option<i64>, AwsError> {
        Ok(self.revisions(family, TaskDefinitionStatus::Inactive).await?.first().map(|(n, _)| *n))
    }

    /// The family's ACTIVE revisions as `(revision, arn)`, newest first.
    pub async fn active_revisions(&self, family: &str) -> Result<Vec<(i64, String)>, AwsError> {
        self.revisions(family, TaskDefinitionStatus::Active).await
    }

    async fn revisions(&self, family: &str, status: TaskDefinitionStatus) -> Result<Vec<(i64, String)>, AwsError> {
        retry::idempotent(READ_BUDGET, || self.revisions_once(family, status.clone())).await
    }

    async fn revisions_once(&self, family: &str, status: TaskDefinitionStatus) -> Result<Vec<(i64, String)>, AwsError> {
        const OP: &str = "ecs:ListTaskDefinitions";
        let mut arns = Vec::new();
        let mut pages = self
            .ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(status)
            .sort(SortOrder::Desc)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
            arns.extend(page.task_definition_arns().iter().cloned());
        }
        // `familyPrefix` matches prefixes, and not every endpoint sorts: do both here.
        let mut revisions: Vec<(i64, String)> = arns
            .into_iter()
            .filter_map(|arn| match reference::split(&arn) {
                (name, Some(revision)) if name == family => Some((revision, arn.clone())),
                _ => None,
            })
            .collect();
        revisions.sort_by_key(|r| std::cmp::Reverse(r.0));
        Ok(revisions)
    }

    /// Idempotent: deregistering twice leaves it INACTIVE.
    pub async fn deregister_task_definition(&self, arn: &str) -> Result<(), AwsError> {
        retry::idempotent(WRITE_BUDGET, || async {
            self.ecs
                .deregister_task_definition()
                .task_definition(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("ecs:DeregisterTaskDefinition", e))
        })
        .await
    }

    /// Sends `update` once: when an attempt's answer is lost and the update
    /// starts a deployment, the service is read first, and a deployment of
    /// the update's revision created since it was sent is the answer.
    pub async fn update_service(&self, update: &ServiceUpdate) -> Result<ServiceState, AwsError> {
        const OP: &str = "ecs:UpdateService";
        let sent_at = SystemTime::now();
        let attempt = || async {
            let out = update_request(&self.ecs, update).send().await.map_err(|e| AwsError::from_sdk(OP, e))?;
            out.service().map(ServiceState::from_sdk).ok_or_else(|| AwsError::new(OP, "the answer has no service"))
        };
        let deploys = update.task_definition.is_some() || update.force_new_deployment;
        let took_effect = || async {
            if !deploys {
                // Counts and settings: sending them again changes nothing more.
                return Ok(None);
            }
            let state = self.describe_service(&update.cluster, &update.service).await?;
            // A deployment that was not there before, of our revision. Without
            // the ids from before, ECS's creation time against ours (with slack).
            let ours = state.deployments.iter().any(|d| {
                let new = match update.deployments_before.is_empty() {
                    false => !update.deployments_before.contains(&d.id),
                    true => d.created_at.is_some_and(|at| at + CLOCK_SLACK >= sent_at),
                };
                new && update.task_definition.as_deref().is_none_or(|td| same_revision(td, &d.task_definition))
            });
            Ok(ours.then_some(state))
        };
        retry::checked(WRITE_BUDGET, attempt, took_effect).await
    }

    /// Starts one task; every retry carries the same client token, so ECS
    /// starts it once however many attempts it takes.
    pub async fn run_task(&self, request: &RunTaskRequest) -> Result<Vec<TaskState>, AwsError> {
        const OP: &str = "ecs:RunTask";
        let overrides: Vec<SdkContainerOverride> = request
            .containers
            .iter()
            .map(|c| {
                SdkContainerOverride::builder()
                    .name(&c.name)
                    .set_command(c.command.clone())
                    .set_environment((!c.environment.is_empty()).then(|| {
                        c.environment.iter().map(|(k, v)| KeyValuePair::builder().name(k).value(v).build()).collect()
                    }))
                    .build()
            })
            .collect();
        let token = client_token();
        let out = retry::idempotent(WRITE_BUDGET, || async {
            let mut call = self
                .ecs
                .run_task()
                .client_token(&token)
                .cluster(&request.cluster)
                .task_definition(&request.task_definition)
                .count(1)
                .started_by(&request.started_by)
                .set_network_configuration(request.launch.network.clone())
                .set_platform_version(request.launch.platform_version.clone())
                .overrides(TaskOverride::builder().set_container_overrides(Some(overrides.clone())).build());
            if request.launch.capacity_providers.is_empty() {
                call = call.set_launch_type(request.launch.launch_type.as_deref().map(ecs::LaunchType::from));
            } else {
                call = call.set_capacity_provider_strategy(Some(request.launch.capacity_providers.clone()));
            }
            call.send().await.map_err(|e| AwsError::from_sdk(OP, e))
        })
        .await?;
        if let Some(failure) = out.failures().first() {
            return Err(AwsError {
                operation: OP,
                code: failure.reason().map(str::to_string),
                message: format!(
                    "the task could not be placed: {}{}",
                    failure.reason().unwrap_or("unknown reason"),
                    failure.detail().map(|d| format!(" ({d})")).unwrap_or_default()
                ),
                kind: ErrorKind::Final,
            });
        }
        Ok(out.tasks().iter().map(TaskState::from_sdk).collect())
    }

    /// Idempotent: stopping a stopped task changes nothing.
    pub async fn stop_task(&self, cluster: &str, arn: &str, reason: &str) -> Result<(), AwsError> {
        retry::idempotent(WRITE_BUDGET, || async {
            self.ecs
                .stop_task()
                .cluster(cluster)
                .task(arn)
                .reason(reason)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("ecs:StopTask", e))
        })
        .await
    }

    pub async fn describe_tasks(&self, cluster: &str, arns: &[String]) -> Result<Vec<TaskState>, AwsError> {
        if arns.is_empty() {
            return Ok(Vec::new());
        }
        let mut tasks = Vec::new();
        // DescribeTasks takes at most 100 tasks a call.
        for chunk in arns.chunks(100) {
            let out = retry::idempotent(READ_BUDGET, || async {
                self.ecs
                    .describe_tasks()
                    .cluster(cluster)
                    .set_tasks(Some(chunk.to_vec()))
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk("ecs:DescribeTasks", e))
            })
            .await?;
            tasks.extend(out.tasks().iter().map(TaskState::from_sdk));
        }
        Ok(tasks)
    }

    /// Tasks of a service (or started by a tag), running or recently stopped.
    pub async fn list_tasks(
        &self,
        cluster: &str,
        service: Option<&str>,
        started_by: Option<&str>,
        stopped: bool,
    ) -> Result<Vec<String>, AwsError> {
        const OP: &str = "ecs:ListTasks";
        let status = if stopped { DesiredStatus::Stopped } else { DesiredStatus::Running };
        retry::idempotent(READ_BUDGET, || async {
            let mut pages = self
                .ecs
                .list_tasks()
                .cluster(cluster)
                .set_service_name(service.map(str::to_string))
                .set_started_by(started_by.map(str::to_string))
                .desired_status(status.clone())
                .into_paginator()
                .send();
            let mut arns = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk(OP, e))?;
                arns.extend(page.task_arns().iter().cloned());
            }
            Ok(arns)
        })
        .await
    }
}

#[cfg(test)]
mod update_request_tests {
    use super::*;
    use crate::aws::WantedDeployment;
    use crate::deployment::Strategy;

    #[test]
    fn an_update_never_sends_load_balancers_so_their_advanced_configuration_stays() {
        let config =
            aws_sdk_ecs::Config::builder().behavior_version(aws_sdk_ecs::config::BehaviorVersion::latest()).build();
        let client = aws_sdk_ecs::Client::from_conf(config);
        let wanted = WantedDeployment {
            strategy: Some(Strategy::BlueGreen),
            bake_time_minutes: Some(5),
            ..WantedDeployment::default()
        };
        let update = ServiceUpdate {
            cluster: "prod".into(),
            service: "web".into(),
            task_definition: Some("web:2".into()),
            deployment_configuration: Some(DeploymentSettings::default().merged(&wanted)),
            ..ServiceUpdate::default()
        };
        let request = update_request(&client, &update);
        let input = request.as_input();
        assert!(input.get_load_balancers().is_none());
        let sent = input.get_deployment_configuration().as_ref().unwrap();
        assert_eq!(sent.strategy().map(|s| s.as_str()), Some("BLUE_GREEN"));
        assert_eq!(sent.bake_time_in_minutes(), Some(5));
    }
}
