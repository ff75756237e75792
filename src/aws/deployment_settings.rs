//! A service's deploymentConfiguration kept whole, and the merge `update`
//! sends: ECS's UpdateService takes the configuration as a whole, so what the
//! pipeline does not set is sent back as the service has it.

use std::time::Duration;

use aws_sdk_ecs::types::{DeploymentCircuitBreaker, DeploymentConfiguration};

use super::CircuitBreakerState;

/// A service's deploymentConfiguration as DescribeServices gave it: the
/// percentages, the circuit breaker with its threshold, deployment alarms,
/// the strategy and anything else ECS adds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentSettings(Option<DeploymentConfiguration>);

impl DeploymentSettings {
    pub(super) fn from_sdk(config: Option<DeploymentConfiguration>) -> DeploymentSettings {
        DeploymentSettings(config)
    }

    pub(super) fn to_sdk(&self) -> Option<DeploymentConfiguration> {
        self.0.clone()
    }

    /// These settings with what the pipeline sets overriding them: read,
    /// merge, write, so nothing the pipeline does not say is reset.
    pub fn merged(
        &self,
        min_healthy_percent: Option<i32>,
        max_percent: Option<i32>,
        breaker: Option<CircuitBreakerState>,
    ) -> DeploymentSettings {
        let mut config = self.0.clone().unwrap_or_else(|| DeploymentConfiguration::builder().build());
        if min_healthy_percent.is_some() {
            config.minimum_healthy_percent = min_healthy_percent;
        }
        if max_percent.is_some() {
            config.maximum_percent = max_percent;
        }
        if let Some(wanted) = breaker {
            // The threshold and resetOnHealthyTask stay as the service has them.
            let mut kept = config
                .deployment_circuit_breaker
                .take()
                .unwrap_or_else(|| DeploymentCircuitBreaker::builder().enable(false).rollback(false).build());
            kept.enable = wanted.enable;
            kept.rollback = wanted.rollback;
            config.deployment_circuit_breaker = Some(kept);
        }
        DeploymentSettings(Some(config))
    }

    /// The strategy, with ECS's documented defaults for what is unset
    /// (LinearConfiguration: 10 % steps, 6 min; CanaryConfiguration: 5 %, 10 min).
    pub fn strategy_timings(&self) -> super::StrategyTimings {
        use super::StrategyTimings;
        let minutes = |m: Option<i32>, default: i32| Duration::from_secs(60 * m.unwrap_or(default).max(0) as u64);
        let Some(config) = &self.0 else { return StrategyTimings::Rolling };
        match config.strategy().map(|s| s.as_str()) {
            Some("BLUE_GREEN") => StrategyTimings::BlueGreen,
            Some("LINEAR") => {
                let linear = config.linear_configuration();
                StrategyTimings::Linear {
                    step_percent: linear.and_then(|l| l.step_percent()).unwrap_or(10.0),
                    step_bake: minutes(linear.and_then(|l| l.step_bake_time_in_minutes()), 6),
                }
            }
            Some("CANARY") => {
                let canary = config.canary_configuration();
                StrategyTimings::Canary {
                    percent: canary.and_then(|c| c.canary_percent()).unwrap_or(5.0),
                    bake: minutes(canary.and_then(|c| c.canary_bake_time_in_minutes()), 10),
                }
            }
            _ => StrategyTimings::Rolling,
        }
    }

    /// `bakeTimeInMinutes`: how long both revisions run after production
    /// traffic moved; zero when unset.
    pub fn bake_time(&self) -> Duration {
        let minutes = self.0.as_ref().and_then(|c| c.bake_time_in_minutes()).unwrap_or(0).max(0);
        Duration::from_secs(60 * minutes as u64)
    }

    /// The lifecycle stages at which a PAUSE hook holds a deployment, as ECS
    /// spells them (`POST_SCALE_UP`).
    pub fn pause_stages(&self) -> Vec<String> {
        let Some(config) = &self.0 else { return Vec::new() };
        config
            .lifecycle_hooks()
            .iter()
            .filter(|hook| hook.target_type().is_some_and(|t| t.as_str() == "PAUSE"))
            .flat_map(|hook| hook.lifecycle_stages().iter().map(|stage| stage.as_str().to_string()))
            .collect()
    }

    /// The settings beyond the percentages and the breaker's switches, one
    /// line each, for `plan`: what a merged update keeps.
    pub fn kept(&self) -> Vec<String> {
        let Some(config) = &self.0 else { return Vec::new() };
        let mut kept = Vec::new();
        if let Some(breaker) = config.deployment_circuit_breaker() {
            let mut parts = Vec::new();
            if let Some(threshold) = breaker.threshold_configuration() {
                parts.push(format!("threshold {} ({})", threshold.value(), threshold.r#type().as_str()));
            }
            if let Some(reset) = breaker.reset_on_healthy_task() {
                parts.push(format!("resetOnHealthyTask {reset}"));
            }
            if !parts.is_empty() {
                kept.push(format!("keeps the circuit breaker's {}", parts.join(", ")));
            }
        }
        if let Some(alarms) = config.alarms() {
            if !alarms.alarm_names().is_empty() || alarms.enable() {
                kept.push(format!(
                    "keeps deployment alarms {} ({}, {})",
                    alarms.alarm_names().join(", "),
                    if alarms.enable() { "enabled" } else { "disabled" },
                    if alarms.rollback() { "rollback on alarm" } else { "no rollback" }
                ));
            }
        }
        if let Some(strategy) = config.strategy() {
            if strategy.as_str() != "ROLLING" {
                kept.push(format!("keeps strategy {}", strategy.as_str()));
            }
        }
        if let Some(minutes) = config.bake_time_in_minutes().filter(|m| *m > 0) {
            kept.push(format!("keeps bake time {minutes}m"));
        }
        if !config.lifecycle_hooks().is_empty() {
            kept.push(format!("keeps {} lifecycle hook(s)", config.lifecycle_hooks().len()));
        }
        kept
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::{DeploymentAlarms, ThresholdConfiguration, ThresholdType};

    use super::*;

    fn custom() -> DeploymentSettings {
        let breaker = DeploymentCircuitBreaker::builder()
            .enable(true)
            .rollback(false)
            .reset_on_healthy_task(false)
            .threshold_configuration(
                ThresholdConfiguration::builder().r#type(ThresholdType::Count).value(7).build().unwrap(),
            )
            .build();
        let alarms = DeploymentAlarms::builder().alarm_names("web-5xx").enable(true).rollback(true).build().unwrap();
        DeploymentSettings(Some(
            DeploymentConfiguration::builder()
                .minimum_healthy_percent(50)
                .maximum_percent(200)
                .deployment_circuit_breaker(breaker)
                .alarms(alarms)
                .bake_time_in_minutes(5)
                .build(),
        ))
    }

    #[test]
    fn a_max_percent_alone_keeps_the_breaker_alarms_and_the_rest() {
        let before = custom();
        let merged = before.merged(None, Some(150), None).to_sdk().unwrap();
        let mut expected = before.to_sdk().unwrap();
        expected.maximum_percent = Some(150);
        assert_eq!(merged, expected);
    }

    #[test]
    fn circuit_breaker_rollback_keeps_the_threshold_and_reset_on_healthy_task() {
        let merged = custom().merged(None, None, Some(CircuitBreakerState { enable: true, rollback: true }));
        let breaker = merged.to_sdk().unwrap().deployment_circuit_breaker.unwrap();
        assert!(breaker.enable && breaker.rollback);
        assert_eq!(breaker.reset_on_healthy_task, Some(false));
        assert_eq!(breaker.threshold_configuration.map(|t| t.value), Some(7));
        assert_eq!(merged.to_sdk().unwrap().alarms, custom().to_sdk().unwrap().alarms);
    }

    #[test]
    fn a_service_without_a_configuration_gets_only_what_the_pipeline_says() {
        let merged = DeploymentSettings::default().merged(Some(100), None, None).to_sdk().unwrap();
        assert_eq!(merged, DeploymentConfiguration::builder().minimum_healthy_percent(100).build());
    }

    #[test]
    fn plan_lists_what_the_merge_keeps() {
        assert_eq!(
            custom().kept(),
            [
                "keeps the circuit breaker's threshold 7 (COUNT), resetOnHealthyTask false",
                "keeps deployment alarms web-5xx (enabled, rollback on alarm)",
                "keeps bake time 5m",
            ]
        );
    }
}
