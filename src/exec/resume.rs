//! `continue`: resumes, or rolls back, the service deployment a PAUSE
//! lifecycle hook holds, first waiting for the pause when the deployment has
//! not reached its hook yet. The step and `ecsflow continue` share it.

use std::time::Duration;

// tokio's clock, so that tests can run the waits in paused time.
use tokio::time::Instant;

use crate::aws::retry::{note_retry, Backoff};
use crate::aws::{Aws, AwsError, ServiceDeployment};
use crate::check::pipeline::HookAction;
use crate::eval::ServiceRef;

/// Polling starts fast and slows while the deployment has not paused.
const FIRST_POLL: Duration = Duration::from_millis(250);
const MAX_POLL: Duration = Duration::from_secs(2);
/// Under throttling or other transient faults, reads back off up to this.
const MAX_FAULT_BACKOFF: Duration = Duration::from_secs(10);
/// Right after an update of this run, DescribeServices may still name the
/// service deployment before it (ECS is eventually consistent): a finished
/// one is read again for this long before it counts.
const STALE_GRACE: Duration = Duration::from_secs(15);

/// What `continue` did: the deployment, where it was held, and by which hook.
#[derive(Debug, Clone)]
pub struct Resumed {
    pub deployment: ServiceDeployment,
    pub hook: String,
    pub action: HookAction,
}

impl Resumed {
    /// `resumed deployment ID of web at POST_SCALE_UP (hook ecs-pause-…)`.
    pub fn describe(&self, service: &ServiceRef) -> String {
        let verb = match self.action {
            HookAction::Continue => "resumed",
            HookAction::Rollback => "asked ECS to roll back",
        };
        let at = self.deployment.stage.as_ref().map(|stage| format!(" at {stage}")).unwrap_or_default();
        format!("{verb} deployment {} of {}{at} (hook {})", self.deployment.id(), service.name, self.hook)
    }
}

/// Why nothing was resumed.
#[derive(Debug, Clone)]
pub enum NotResumed {
    /// No PAUSE hook holds the deployment, and none will (or, with no time
    /// to wait, none does now): the reason says its status and stage.
    NotPaused {
        reason: String,
        help: String,
    },
    /// The deployment was still on its way to a PAUSE hook at the deadline.
    Timeout {
        reason: String,
        help: String,
    },
    Aws(AwsError),
}

/// Where the service's deployment stands.
enum Look {
    /// A PAUSE hook holds it: the hook's id.
    Paused(Box<ServiceDeployment>, String),
    /// ECS still deploys it towards a PAUSE hook.
    Pausing { reason: String, arn: String },
    /// Nothing holds it, and nothing will. `stale`: what was read may be
    /// the deployment before one just started (none, or a finished one).
    Never { reason: String, help: String, stale: bool },
}

/// Resumes the service's current deployment at its PAUSE hook (or rolls it
/// back), waiting up to `wait` for the pause; with no `wait`, acts only on a
/// deployment paused now. `after_update`: this run updated the service, so a
/// finished deployment may be a stale read of the one before.
pub async fn resume(
    aws: &Aws,
    service: &ServiceRef,
    action: HookAction,
    wait: Duration,
    after_update: bool,
) -> Result<Resumed, NotResumed> {
    let started = Instant::now();
    let deadline = started.checked_add(wait).unwrap_or_else(|| started + Duration::from_secs(10 * 365 * 24 * 3600));
    let mut faults = Backoff::new(FIRST_POLL, MAX_FAULT_BACKOFF);
    let mut poll = FIRST_POLL;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (reason, help) = match look(aws, service).await {
            Ok(Look::Paused(deployment, hook)) => {
                aws.continue_service_deployment(&deployment.arn, &hook, action == HookAction::Rollback)
                    .await
                    .map_err(NotResumed::Aws)?;
                return Ok(Resumed { deployment: *deployment, hook, action });
            }
            Ok(Look::Pausing { reason, arn }) if wait.is_zero() => (
                format!("{reason}, not paused yet"),
                format!("run `ecsflow continue` again once a PAUSE hook holds it (`aws ecs describe-service-deployments --service-deployment-arns {arn}` shows where it stands); in a pipeline, `continue` waits for the pause"),
            ),
            Ok(Look::Pausing { reason, arn }) if left.is_zero() => {
                let waited = humantime::format_duration(Duration::from_secs(wait.as_secs()));
                return Err(NotResumed::Timeout {
                    reason: format!("{reason}: it did not pause within {waited}"),
                    help: format!("raise the `timeout` of `continue` if the deployment is only slow; `aws ecs describe-service-deployments --service-deployment-arns {arn}` shows where it stands"),
                });
            }
            Ok(Look::Pausing { .. }) => {
                faults = Backoff::new(FIRST_POLL, MAX_FAULT_BACKOFF);
                tokio::time::sleep(poll.min(left)).await;
                poll = (poll * 3 / 2).min(MAX_POLL);
                continue;
            }
            Ok(Look::Never { stale: true, .. }) if after_update && started.elapsed() < STALE_GRACE.min(wait) => {
                tokio::time::sleep(poll.min(left)).await;
                poll = (poll * 3 / 2).min(MAX_POLL);
                continue;
            }
            Ok(Look::Never { reason, help, .. }) => (reason, help),
            Err(error) if error.is_transient() && !left.is_zero() => {
                let pause = faults.next_wait().min(left);
                note_retry(&error, pause);
                tokio::time::sleep(pause).await;
                continue;
            }
            Err(error) => return Err(NotResumed::Aws(error)),
        };
        return Err(NotResumed::NotPaused { reason, help });
    }
}

async fn look(aws: &Aws, service: &ServiceRef) -> Result<Look, AwsError> {
    let name = &service.name;
    let state = aws.describe_service(&service.cluster, name).await?;
    let Some(arn) = state.current_service_deployment else {
        return Ok(Look::Never {
            reason: format!("ECS names no service deployment of {name}"),
            help: format!("`continue` acts on a deployment that ECS runs for the service (deployment controller ECS) and a PAUSE lifecycle hook holds; {name} has none"),
            stale: true,
        });
    };
    let Some(deployment) = aws.describe_service_deployment(&arn).await? else {
        // Just created: ECS may not describe it yet.
        let id = arn.rsplit('/').next().unwrap_or(&arn);
        return Ok(Look::Pausing { reason: format!("deployment {id} of {name} is not described yet"), arn });
    };
    if let Some(hook) = deployment.awaiting().filter(|hook| hook.pause) {
        let hook = hook.id.clone();
        return Ok(Look::Paused(Box::new(deployment), hook));
    }
    let stage = deployment.stage.as_ref().map(|stage| format!(" at {stage}")).unwrap_or_default();
    let standing = format!("deployment {} of {name} is {}{stage}", deployment.id(), deployment.status);
    if deployment.pause_ahead() {
        return Ok(Look::Pausing { reason: standing, arn });
    }
    let over = deployment.status.is_finished() || deployment.status.is_rolling_back();
    let help = if over {
        format!("`continue` acts on a deployment a PAUSE lifecycle hook holds, and this one is over; an `update` of {name} starts one that pauses when the service's deploymentConfiguration has a PAUSE hook (lifecycleHooks, targetType PAUSE)")
    } else {
        format!("give {name} a PAUSE lifecycle hook (deploymentConfiguration.lifecycleHooks, targetType PAUSE) at the stage to stop at, or drop `continue`")
    };
    Ok(Look::Never { reason: format!("{standing}, and no PAUSE hook holds it or is ahead of it"), help, stale: over })
}
