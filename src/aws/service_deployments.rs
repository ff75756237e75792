//! ECS's service deployments API: what a deployment that UpdateService
//! started is doing (status, lifecycle stage, traffic, bake, hooks, the
//! monitors that may roll it back), and the two ways to act on one:
//! StopServiceDeployment and ContinueServiceDeployment.
//!
//! ECS states a service deployment's outcome in its `status`; that, not the
//! task counts, is the verdict for every strategy (rolling, blue/green,
//! linear, canary).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_ecs::types::{
    self as ecs, DeploymentLifecycleHookAction, ServiceDeploymentStatus as SdkStatus, StopServiceDeploymentStopType,
};

use super::deployment_settings::DeploymentSettings;
use super::retry::{self, READ_BUDGET, WRITE_BUDGET};
use super::{Aws, AwsError, ErrorKind};

api_enum! {
    /// A service deployment's `status`.
    ServiceDeploymentStatus {
        Pending = "PENDING",
        InProgress = "IN_PROGRESS",
        Successful = "SUCCESSFUL",
        StopRequested = "STOP_REQUESTED",
        Stopped = "STOPPED",
        RollbackRequested = "ROLLBACK_REQUESTED",
        RollbackInProgress = "ROLLBACK_IN_PROGRESS",
        RollbackSuccessful = "ROLLBACK_SUCCESSFUL",
        RollbackFailed = "ROLLBACK_FAILED",
    }
}

impl ServiceDeploymentStatus {
    /// ECS has finished with it: SUCCESSFUL, STOPPED or a finished rollback.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            ServiceDeploymentStatus::Successful
                | ServiceDeploymentStatus::Stopped
                | ServiceDeploymentStatus::RollbackSuccessful
                | ServiceDeploymentStatus::RollbackFailed
        )
    }

    /// ECS is rolling it back, or has been asked to.
    pub fn is_rolling_back(&self) -> bool {
        matches!(self, ServiceDeploymentStatus::RollbackRequested | ServiceDeploymentStatus::RollbackInProgress)
    }

    /// Neither finished nor rolling back: ECS still deploys it.
    pub fn is_ongoing(&self) -> bool {
        matches!(
            self,
            ServiceDeploymentStatus::Pending
                | ServiceDeploymentStatus::InProgress
                | ServiceDeploymentStatus::StopRequested
        )
    }
}

api_enum! {
    /// A service deployment's `lifecycleStage` (blue/green, linear, canary;
    /// and the hook stages of any strategy).
    LifecycleStage {
        ReconcileService = "RECONCILE_SERVICE",
        PreScaleUp = "PRE_SCALE_UP",
        ScaleUp = "SCALE_UP",
        PostScaleUp = "POST_SCALE_UP",
        TestTrafficShift = "TEST_TRAFFIC_SHIFT",
        PostTestTrafficShift = "POST_TEST_TRAFFIC_SHIFT",
        PreProductionTrafficShift = "PRE_PRODUCTION_TRAFFIC_SHIFT",
        ProductionTrafficShift = "PRODUCTION_TRAFFIC_SHIFT",
        PostProductionTrafficShift = "POST_PRODUCTION_TRAFFIC_SHIFT",
        BakeTime = "BAKE_TIME",
        CleanUp = "CLEAN_UP",
    }
}

/// The stages in the order a deployment passes them. Linear and canary
/// deployments return to PRE_PRODUCTION_TRAFFIC_SHIFT before each traffic
/// step; PRODUCTION_TRAFFIC_SHIFT is counted as before it so its hooks stay ahead.
const STAGE_ORDER: [LifecycleStage; 11] = [
    LifecycleStage::ReconcileService,
    LifecycleStage::PreScaleUp,
    LifecycleStage::ScaleUp,
    LifecycleStage::PostScaleUp,
    LifecycleStage::TestTrafficShift,
    LifecycleStage::PostTestTrafficShift,
    LifecycleStage::ProductionTrafficShift,
    LifecycleStage::PreProductionTrafficShift,
    LifecycleStage::PostProductionTrafficShift,
    LifecycleStage::BakeTime,
    LifecycleStage::CleanUp,
];

impl LifecycleStage {
    /// As a pipeline writes it: `post-scale-up`.
    pub fn word(&self) -> String {
        self.as_str().to_ascii_lowercase().replace('_', "-")
    }
}

api_enum! {
    /// A lifecycle hook's `status`.
    HookStatus {
        InProgress = "IN_PROGRESS",
        AwaitingAction = "AWAITING_ACTION",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        TimedOut = "TIMED_OUT",
    }
}

api_enum! {
    /// The status of a rollback monitor (the circuit breaker, the alarms).
    MonitorStatus {
        Disabled = "DISABLED",
        Monitoring = "MONITORING",
        MonitoringComplete = "MONITORING_COMPLETE",
        Triggered = "TRIGGERED",
    }
}

/// One service revision's part in a service deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionCounts {
    pub arn: String,
    pub requested: i32,
    pub running: i32,
    pub pending: i32,
    /// Percent of test traffic ECS asked the load balancer to send it.
    pub test_weight: Option<f64>,
    /// Percent of production traffic ECS asked the load balancer to send it.
    pub production_weight: Option<f64>,
}

/// The circuit breaker's count of failed tasks against its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakerCount {
    pub status: MonitorStatus,
    pub failures: i32,
    pub threshold: i32,
}

/// The deployment alarms ECS watches, and those that went into ALARM.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmWatch {
    pub status: MonitorStatus,
    pub names: Vec<String>,
    pub triggered: Vec<String>,
}

/// Why and to what ECS rolled a service deployment back.
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackInfo {
    pub reason: Option<String>,
    pub started_at: Option<SystemTime>,
    pub revision: Option<String>,
}

/// A lifecycle hook of a service deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct HookDetail {
    pub id: String,
    /// A PAUSE hook, resumed with ContinueServiceDeployment; else a Lambda hook.
    pub pause: bool,
    /// The Lambda function, for a Lambda hook.
    pub target: Option<String>,
    pub status: HookStatus,
    pub expires_at: Option<SystemTime>,
    /// What ECS does when it expires: CONTINUE or ROLLBACK.
    pub timeout_action: Option<String>,
}

/// One service deployment as DescribeServiceDeployments states it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDeployment {
    pub arn: String,
    pub status: ServiceDeploymentStatus,
    pub status_reason: Option<String>,
    pub stage: Option<LifecycleStage>,
    pub target: Option<RevisionCounts>,
    pub sources: Vec<RevisionCounts>,
    pub breaker: Option<BreakerCount>,
    pub alarms: Option<AlarmWatch>,
    pub rollback: Option<RollbackInfo>,
    pub hooks: Vec<HookDetail>,
    /// The configuration it deploys with: strategy, bake times, hooks.
    pub settings: DeploymentSettings,
    pub created_at: Option<SystemTime>,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
    pub updated_at: Option<SystemTime>,
}

/// The strategy a service deployment follows, with its timings, as the
/// progress display and the poll schedule need them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StrategyTimings {
    Rolling,
    BlueGreen,
    /// Production traffic moves in steps of `step_percent`, with a bake between.
    Linear {
        step_percent: f64,
        step_bake: Duration,
    },
    /// `percent` first, a bake, then the rest.
    Canary {
        percent: f64,
        bake: Duration,
    },
}

impl ServiceDeployment {
    /// The PAUSE hook holding the deployment, if one is.
    pub fn awaiting(&self) -> Option<&HookDetail> {
        self.hooks.iter().find(|h| h.status == HookStatus::AwaitingAction)
    }

    /// Whether a PAUSE hook may still hold it: ECS still deploys it, and a
    /// PAUSE hook is configured at its stage or a later one (a rolling
    /// deployment, which shows no stage, has them all ahead).
    pub fn pause_ahead(&self) -> bool {
        if !matches!(self.status, ServiceDeploymentStatus::Pending | ServiceDeploymentStatus::InProgress) {
            return false;
        }
        let order = |stage: &LifecycleStage| STAGE_ORDER.iter().position(|s| s == stage);
        let now = self.stage.as_ref().and_then(order);
        self.settings.pause_stages().iter().any(|stage| match (now, order(&LifecycleStage::from(stage.as_str()))) {
            (Some(now), Some(hook)) => hook >= now,
            _ => true,
        })
    }

    /// The strategy it deploys with, ECS's defaults filled in.
    pub fn strategy(&self) -> StrategyTimings {
        self.settings.strategy_timings()
    }

    /// The bake after production traffic moved (blue/green, linear, canary).
    pub fn bake_time(&self) -> Duration {
        self.settings.bake_time()
    }

    /// The short id ECS gives it: the ARN's last segment.
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }

    fn from_sdk(d: &ecs::ServiceDeployment) -> ServiceDeployment {
        let counts = |r: &ecs::ServiceRevisionSummary| RevisionCounts {
            arn: r.arn().unwrap_or_default().to_string(),
            requested: r.requested_task_count(),
            running: r.running_task_count(),
            pending: r.pending_task_count(),
            test_weight: r.requested_test_traffic_weight(),
            production_weight: r.requested_production_traffic_weight(),
        };
        ServiceDeployment {
            arn: d.service_deployment_arn().unwrap_or_default().to_string(),
            status: d
                .status()
                .map(|s| ServiceDeploymentStatus::from(s.as_str()))
                .unwrap_or(ServiceDeploymentStatus::Pending),
            status_reason: d.status_reason().map(str::to_string),
            stage: d.lifecycle_stage().map(|s| LifecycleStage::from(s.as_str())),
            target: d.target_service_revision().map(counts),
            sources: d.source_service_revisions().iter().map(counts).collect(),
            breaker: d.deployment_circuit_breaker().map(|b| BreakerCount {
                status: b.status().map(|s| MonitorStatus::from(s.as_str())).unwrap_or(MonitorStatus::Disabled),
                failures: b.failure_count(),
                threshold: b.threshold(),
            }),
            alarms: d.alarms().map(|a| AlarmWatch {
                status: a.status().map(|s| MonitorStatus::from(s.as_str())).unwrap_or(MonitorStatus::Disabled),
                names: a.alarm_names().to_vec(),
                triggered: a.triggered_alarm_names().to_vec(),
            }),
            rollback: d.rollback().map(|r| RollbackInfo {
                reason: r.reason().map(str::to_string),
                started_at: time(r.started_at()),
                revision: r.service_revision_arn().map(str::to_string),
            }),
            hooks: d
                .lifecycle_hook_details()
                .iter()
                .map(|h| HookDetail {
                    id: h.hook_id().unwrap_or_default().to_string(),
                    pause: h.target_type().is_some_and(|t| t.as_str() == "PAUSE"),
                    target: h.target_arn().map(str::to_string),
                    status: h.status().map(|s| HookStatus::from(s.as_str())).unwrap_or(HookStatus::InProgress),
                    expires_at: time(h.expires_at()),
                    timeout_action: h.timeout_action().map(|a| a.as_str().to_string()),
                })
                .collect(),
            settings: DeploymentSettings::from_sdk(d.deployment_configuration().cloned()),
            created_at: time(d.created_at()),
            started_at: time(d.started_at()),
            finished_at: time(d.finished_at()),
            updated_at: time(d.updated_at()),
        }
    }
}

/// A service deployment ListServiceDeployments names.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDeploymentBrief {
    pub arn: String,
    pub status: ServiceDeploymentStatus,
    pub target_revision: Option<String>,
    pub created_at: Option<SystemTime>,
}

/// DescribeServiceDeployments' answer: the deployments it found, and the
/// ARNs it did not (with ECS's reason, such as MISSING).
#[derive(Debug, Clone, Default)]
pub struct ServiceDeploymentAnswers {
    pub found: Vec<ServiceDeployment>,
    pub missing: Vec<(String, String)>,
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> Option<SystemTime> {
    let t = t?;
    let secs = t.as_secs_f64();
    (secs >= 0.0).then(|| UNIX_EPOCH + Duration::from_secs_f64(secs))
}

/// "Does not support this action", as an endpoint without the service
/// deployments API (an older emulator, a proxy) answers.
pub fn unsupported(error: &AwsError) -> bool {
    matches!(
        error.code.as_deref(),
        Some("UnknownOperationException" | "UnsupportedOperation" | "InvalidAction" | "NotImplemented")
    ) || (error.kind == ErrorKind::Final && error.message.contains("not yet implemented"))
}

impl Aws {
    /// One DescribeServiceDeployments call for up to 20 ARNs, not retried:
    /// pollers retry in their own time.
    pub async fn describe_service_deployments_once(
        &self,
        arns: &[String],
    ) -> Result<ServiceDeploymentAnswers, AwsError> {
        const OP: &str = "ecs:DescribeServiceDeployments";
        let out = self
            .ecs
            .describe_service_deployments()
            .set_service_deployment_arns(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(OP, e))?;
        Ok(ServiceDeploymentAnswers {
            found: out.service_deployments().iter().map(ServiceDeployment::from_sdk).collect(),
            missing: out
                .failures()
                .iter()
                .map(|f| (f.arn().unwrap_or_default().to_string(), f.reason().unwrap_or("MISSING").to_string()))
                .collect(),
        })
    }

    /// One service deployment, read through transient faults; `None` when
    /// ECS does not (yet) know it.
    pub async fn describe_service_deployment(&self, arn: &str) -> Result<Option<ServiceDeployment>, AwsError> {
        let arns = [arn.to_string()];
        let answers = retry::idempotent(READ_BUDGET, || self.describe_service_deployments_once(&arns)).await?;
        Ok(answers.found.into_iter().find(|d| d.arn == arn))
    }

    /// The service's deployments newest first, those in `statuses` only
    /// (all when empty); the first page is enough for what ecsflow asks.
    pub async fn list_service_deployments(
        &self,
        cluster: &str,
        service: &str,
        statuses: &[ServiceDeploymentStatus],
    ) -> Result<Vec<ServiceDeploymentBrief>, AwsError> {
        const OP: &str = "ecs:ListServiceDeployments";
        let statuses: Vec<SdkStatus> = statuses.iter().map(|s| SdkStatus::from(s.as_str())).collect();
        let out = retry::idempotent(READ_BUDGET, || async {
            self.ecs
                .list_service_deployments()
                .cluster(cluster)
                .service(service)
                .set_status((!statuses.is_empty()).then(|| statuses.clone()))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))
        })
        .await?;
        let mut briefs: Vec<ServiceDeploymentBrief> = out
            .service_deployments()
            .iter()
            .map(|b| ServiceDeploymentBrief {
                arn: b.service_deployment_arn().unwrap_or_default().to_string(),
                status: b
                    .status()
                    .map(|s| ServiceDeploymentStatus::from(s.as_str()))
                    .unwrap_or(ServiceDeploymentStatus::Pending),
                target_revision: b.target_service_revision_arn().map(str::to_string),
                created_at: time(b.created_at()),
            })
            .collect();
        briefs.sort_by_key(|b| std::cmp::Reverse(b.created_at));
        Ok(briefs)
    }

    /// Asks ECS to roll the service deployment back (`rollback`) or to stop
    /// it where it is. Sent once: after a lost answer, the deployment is read,
    /// and one that is rolling back (or stopping) already is the answer.
    pub async fn stop_service_deployment(&self, arn: &str, rollback: bool) -> Result<ServiceDeployment, AwsError> {
        const OP: &str = "ecs:StopServiceDeployment";
        let stop_type =
            if rollback { StopServiceDeploymentStopType::Rollback } else { StopServiceDeploymentStopType::Abort };
        let attempt = || async {
            self.ecs
                .stop_service_deployment()
                .service_deployment_arn(arn)
                .stop_type(stop_type.clone())
                .send()
                .await
                .map_err(|e| AwsError::from_sdk(OP, e))?;
            self.describe_service_deployment(arn)
                .await?
                .ok_or_else(|| AwsError::new(OP, format!("ECS no longer lists {arn}")))
        };
        let took_effect = || async {
            // Asked already: ECS has moved it on from PENDING or IN_PROGRESS.
            Ok(self.describe_service_deployment(arn).await?.filter(|d| {
                !matches!(d.status, ServiceDeploymentStatus::Pending | ServiceDeploymentStatus::InProgress)
            }))
        };
        retry::checked(WRITE_BUDGET, attempt, took_effect).await
    }

    /// Resumes the deployment paused at the PAUSE hook `hook_id`, or rolls it
    /// back (`rollback`). Sent once: after a lost answer, a hook no longer
    /// awaiting action is the answer.
    pub async fn continue_service_deployment(&self, arn: &str, hook_id: &str, rollback: bool) -> Result<(), AwsError> {
        const OP: &str = "ecs:ContinueServiceDeployment";
        let action =
            if rollback { DeploymentLifecycleHookAction::Rollback } else { DeploymentLifecycleHookAction::Continue };
        let attempt = || async {
            self.ecs
                .continue_service_deployment()
                .service_deployment_arn(arn)
                .hook_id(hook_id)
                .action(action.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk(OP, e))
        };
        let took_effect = || async {
            let deployment = self.describe_service_deployment(arn).await?;
            let still_waiting = deployment
                .as_ref()
                .is_some_and(|d| d.hooks.iter().any(|h| h.id == hook_id && h.status == HookStatus::AwaitingAction));
            Ok((!still_waiting).then_some(()))
        };
        retry::checked(WRITE_BUDGET, attempt, took_effect).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DescribeServiceDeployments answer as the API reference shows one,
    /// through the SDK's own parsing.
    const PAUSED: &str = r#"{"serviceDeployments":[{
        "serviceDeploymentArn":"arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/AbCdEfGh-1234567890ab",
        "serviceArn":"arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        "clusterArn":"arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        "createdAt":1764800000.0,"startedAt":1764800001.0,"updatedAt":1764800030.0,
        "sourceServiceRevisions":[{"arn":"arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/1","requestedTaskCount":2,"runningTaskCount":2,"pendingTaskCount":0,"requestedTestTrafficWeight":0.0,"requestedProductionTrafficWeight":100.0}],
        "targetServiceRevision":{"arn":"arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web/2","requestedTaskCount":2,"runningTaskCount":2,"pendingTaskCount":0,"requestedTestTrafficWeight":100.0,"requestedProductionTrafficWeight":0.0},
        "status":"IN_PROGRESS","lifecycleStage":"POST_TEST_TRAFFIC_SHIFT",
        "lifecycleHookDetails":[{"hookId":"ecs-pause-e7tK9G","targetType":"PAUSE","status":"AWAITING_ACTION","expiresAt":1764886400.0,"timeoutAction":"ROLLBACK"}],
        "deploymentConfiguration":{"strategy":"BLUE_GREEN","bakeTimeInMinutes":5},
        "deploymentCircuitBreaker":{"status":"MONITORING","failureCount":0,"threshold":3},
        "alarms":{"status":"MONITORING","alarmNames":["web-5xx"],"triggeredAlarmNames":[]}
    }],"failures":[]}"#;

    #[tokio::test]
    async fn a_paused_blue_green_deployment_reads_with_its_stage_hook_weights_and_monitors() {
        let aws = Aws::answering(PAUSED);
        let d = aws
            .describe_service_deployment(
                "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/AbCdEfGh-1234567890ab",
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.status, ServiceDeploymentStatus::InProgress);
        assert_eq!(d.stage, Some(LifecycleStage::PostTestTrafficShift));
        assert_eq!(d.stage.as_ref().unwrap().word(), "post-test-traffic-shift");
        let hook = d.awaiting().unwrap();
        assert!(hook.pause);
        assert_eq!(hook.id, "ecs-pause-e7tK9G");
        assert_eq!(d.target.as_ref().unwrap().test_weight, Some(100.0));
        assert_eq!(d.sources[0].production_weight, Some(100.0));
        assert_eq!(d.breaker.as_ref().unwrap().threshold, 3);
        assert_eq!(d.alarms.as_ref().unwrap().names, ["web-5xx"]);
        assert_eq!(d.strategy(), StrategyTimings::BlueGreen);
        assert_eq!(d.bake_time(), Duration::from_secs(300));
        assert_eq!(d.id(), "AbCdEfGh-1234567890ab");
    }

    #[tokio::test]
    async fn a_pause_hook_is_ahead_until_the_deployment_passes_its_stage_or_ends() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/AbCdEfGh-1234567890ab";
        let answer = PAUSED
            .replace(r#""lifecycleStage":"POST_TEST_TRAFFIC_SHIFT""#, r#""lifecycleStage":"SCALE_UP""#)
            .replace(r#""status":"AWAITING_ACTION""#, r#""status":"SUCCEEDED""#)
            .replace(
                r#""bakeTimeInMinutes":5}"#,
                r#""bakeTimeInMinutes":5,"lifecycleHooks":[{"targetType":"PAUSE","lifecycleStages":["POST_SCALE_UP"]}]}"#,
            );
        let mut d = Aws::answering(&answer).describe_service_deployment(arn).await.unwrap().unwrap();
        assert!(d.awaiting().is_none());
        assert!(d.pause_ahead(), "at SCALE_UP, the POST_SCALE_UP hook is ahead");
        d.stage = Some(LifecycleStage::PostScaleUp);
        assert!(d.pause_ahead(), "at its stage, the hook may be about to hold it");
        d.stage = Some(LifecycleStage::TestTrafficShift);
        assert!(!d.pause_ahead(), "past its stage");
        d.stage = None;
        assert!(d.pause_ahead(), "with no stage (rolling), every hook is ahead");
        d.status = ServiceDeploymentStatus::Successful;
        assert!(!d.pause_ahead(), "a finished deployment pauses no more");
    }

    #[test]
    fn only_finished_statuses_are_finished() {
        use ServiceDeploymentStatus::*;
        for (status, finished, rolling_back) in [
            (Pending, false, false),
            (InProgress, false, false),
            (StopRequested, false, false),
            (RollbackRequested, false, true),
            (RollbackInProgress, false, true),
            (Successful, true, false),
            (Stopped, true, false),
            (RollbackSuccessful, true, false),
            (RollbackFailed, true, false),
        ] {
            assert_eq!(status.is_finished(), finished, "{status}");
            assert_eq!(status.is_rolling_back(), rolling_back, "{status}");
        }
    }
}
