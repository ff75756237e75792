//! Application Auto Scaling: the scalable target of an ECS service and its
//! SuspendedState, which `suspend-scaling` sets and `resume-scaling` restores.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace, SuspendedState};

use super::retry::{self, READ_BUDGET, WRITE_BUDGET};
use super::{Aws, AwsError};

/// The three switches of a scalable target's SuspendedState.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScalingSuspension {
    pub dynamic_scaling_in: bool,
    pub dynamic_scaling_out: bool,
    pub scheduled_scaling: bool,
}

impl ScalingSuspension {
    pub const ALL: ScalingSuspension =
        ScalingSuspension { dynamic_scaling_in: true, dynamic_scaling_out: true, scheduled_scaling: true };
    pub const NONE: ScalingSuspension =
        ScalingSuspension { dynamic_scaling_in: false, dynamic_scaling_out: false, scheduled_scaling: false };
}

impl std::fmt::Display for ScalingSuspension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == ScalingSuspension::ALL {
            return f.write_str("all suspended");
        }
        if *self == ScalingSuspension::NONE {
            return f.write_str("all active");
        }
        let on = |b: bool| if b { "suspended" } else { "active" };
        write!(
            f,
            "scale-in {}, scale-out {}, scheduled {}",
            on(self.dynamic_scaling_in),
            on(self.dynamic_scaling_out),
            on(self.scheduled_scaling)
        )
    }
}

/// `service/CLUSTER/SERVICE`, the resource id Application Auto Scaling uses.
pub fn scaling_resource_id(cluster: &str, service: &str) -> String {
    let cluster = cluster.rsplit('/').next().unwrap_or(cluster);
    format!("service/{cluster}/{service}")
}

impl Aws {
    /// The service's scalable target's state, or `None` when it has none.
    pub async fn scaling_suspension(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<ScalingSuspension>, AwsError> {
        let out = retry::idempotent(READ_BUDGET, || async {
            self.scaling
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .resource_ids(scaling_resource_id(cluster, service))
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("application-autoscaling:DescribeScalableTargets", e))
        })
        .await?;
        Ok(out.scalable_targets().first().map(|target| {
            let state = target.suspended_state();
            ScalingSuspension {
                dynamic_scaling_in: state.and_then(|s| s.dynamic_scaling_in_suspended()).unwrap_or(false),
                dynamic_scaling_out: state.and_then(|s| s.dynamic_scaling_out_suspended()).unwrap_or(false),
                scheduled_scaling: state.and_then(|s| s.scheduled_scaling_suspended()).unwrap_or(false),
            }
        }))
    }

    /// Sets all three switches (a partial SuspendedState would replace the
    /// whole). Idempotent: setting them again changes nothing.
    pub async fn set_scaling_suspension(
        &self,
        cluster: &str,
        service: &str,
        state: ScalingSuspension,
    ) -> Result<(), AwsError> {
        retry::idempotent(WRITE_BUDGET, || async {
            self.scaling
                .register_scalable_target()
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .resource_id(scaling_resource_id(cluster, service))
                .suspended_state(
                    SuspendedState::builder()
                        .dynamic_scaling_in_suspended(state.dynamic_scaling_in)
                        .dynamic_scaling_out_suspended(state.dynamic_scaling_out)
                        .scheduled_scaling_suspended(state.scheduled_scaling)
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| AwsError::from_sdk("application-autoscaling:RegisterScalableTarget", e))
        })
        .await
    }
}
