//! A service's deploymentConfiguration kept whole, and the merge `update`
//! sends: ECS's UpdateService takes the configuration as a whole, so what the
//! pipeline does not set is sent back as the service has it.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_ecs::types::{
    CanaryConfiguration, DeploymentAlarms, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentEarlySuccessCriteria, DeploymentLifecycleHook, DeploymentLifecycleHookAction,
    DeploymentLifecycleHookStage, DeploymentLifecycleHookTargetType, DeploymentLifecycleHookTimeoutConfiguration,
    DeploymentStrategy, LinearConfiguration, ServiceRevisionCleanup, ThresholdConfiguration, ThresholdType,
};
use aws_smithy_types::Document;
use serde_json::{json, Value as Json};

use super::CircuitBreakerState;
use crate::deployment::{Cleanup, EarlySuccess, Hook, HookAction, HookTarget, Stage, Strategy, StrategyUse, Threshold};

/// A service's deploymentConfiguration as DescribeServices gave it: the
/// percentages, the circuit breaker with its threshold, deployment alarms,
/// the strategy and anything else ECS adds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeploymentSettings(Option<DeploymentConfiguration>);

/// What an `update` says about the deploymentConfiguration; `None` keeps
/// the service's own setting.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WantedDeployment {
    pub min_healthy_percent: Option<i32>,
    pub max_percent: Option<i32>,
    pub breaker: Option<CircuitBreakerState>,
    pub breaker_threshold: Option<Threshold>,
    pub breaker_reset_on_healthy: Option<bool>,
    pub strategy: Option<Strategy>,
    pub bake_time_minutes: Option<i32>,
    pub linear_step_percent: Option<f64>,
    pub linear_step_bake_minutes: Option<i32>,
    pub canary_percent: Option<f64>,
    pub canary_bake_minutes: Option<i32>,
    /// Non-empty enables deployment alarms; empty disables them.
    pub alarms: Option<Vec<String>>,
    pub alarm_rollback: Option<bool>,
    pub early_success: Option<EarlySuccess>,
    pub early_success_cleanup: Option<Cleanup>,
    /// Replace the service's hooks wholesale.
    pub hooks: Option<Vec<Hook>>,
}

impl WantedDeployment {
    pub fn is_empty(&self) -> bool {
        *self == WantedDeployment::default()
    }

    /// Whether it sets anything beyond the percentages and the breaker's switches.
    pub fn sets_strategy_settings(&self) -> bool {
        WantedDeployment { min_healthy_percent: None, max_percent: None, breaker: None, ..self.clone() }
            != WantedDeployment::default()
    }
}

impl DeploymentSettings {
    pub(super) fn from_sdk(config: Option<DeploymentConfiguration>) -> DeploymentSettings {
        DeploymentSettings(config)
    }

    pub(super) fn to_sdk(&self) -> Option<DeploymentConfiguration> {
        self.0.clone()
    }

    /// These settings with what the pipeline sets overriding them: read,
    /// merge, write, so nothing the pipeline does not say is reset.
    pub fn merged(&self, wanted: &WantedDeployment) -> DeploymentSettings {
        let mut config = self.0.clone().unwrap_or_else(|| DeploymentConfiguration::builder().build());
        if wanted.min_healthy_percent.is_some() {
            config.minimum_healthy_percent = wanted.min_healthy_percent;
        }
        if wanted.max_percent.is_some() {
            config.maximum_percent = wanted.max_percent;
        }
        if wanted.breaker.is_some() || wanted.breaker_threshold.is_some() || wanted.breaker_reset_on_healthy.is_some() {
            // What the pipeline does not say of the breaker stays as the service has it.
            let mut kept = config
                .deployment_circuit_breaker
                .take()
                .unwrap_or_else(|| DeploymentCircuitBreaker::builder().enable(false).rollback(false).build());
            if let Some(state) = wanted.breaker {
                kept.enable = state.enable;
                kept.rollback = state.rollback;
            }
            if let Some(threshold) = wanted.breaker_threshold {
                let (kind, value) = match threshold {
                    Threshold::Count(v) => (ThresholdType::Count, v),
                    Threshold::Percent(v) => (ThresholdType::BoundedPercent, v),
                    Threshold::UnboundedPercent(v) => (ThresholdType::UnboundedPercent, v),
                };
                kept.threshold_configuration = ThresholdConfiguration::builder().r#type(kind).value(value).build().ok();
            }
            if wanted.breaker_reset_on_healthy.is_some() {
                kept.reset_on_healthy_task = wanted.breaker_reset_on_healthy;
            }
            config.deployment_circuit_breaker = Some(kept);
        }
        if let Some(strategy) = wanted.strategy {
            config.strategy = Some(DeploymentStrategy::from(strategy.ecs_name()));
        }
        if wanted.bake_time_minutes.is_some() {
            config.bake_time_in_minutes = wanted.bake_time_minutes;
        }
        if wanted.linear_step_percent.is_some() || wanted.linear_step_bake_minutes.is_some() {
            let mut linear =
                config.linear_configuration.take().unwrap_or_else(|| LinearConfiguration::builder().build());
            linear.step_percent = wanted.linear_step_percent.or(linear.step_percent);
            linear.step_bake_time_in_minutes = wanted.linear_step_bake_minutes.or(linear.step_bake_time_in_minutes);
            config.linear_configuration = Some(linear);
        }
        if wanted.canary_percent.is_some() || wanted.canary_bake_minutes.is_some() {
            let mut canary =
                config.canary_configuration.take().unwrap_or_else(|| CanaryConfiguration::builder().build());
            canary.canary_percent = wanted.canary_percent.or(canary.canary_percent);
            canary.canary_bake_time_in_minutes = wanted.canary_bake_minutes.or(canary.canary_bake_time_in_minutes);
            config.canary_configuration = Some(canary);
        }
        if wanted.alarms.is_some() || wanted.alarm_rollback.is_some() {
            let kept = config.alarms.take();
            let names = wanted
                .alarms
                .clone()
                .unwrap_or_else(|| kept.as_ref().map(|a| a.alarm_names.clone()).unwrap_or_default());
            let enable = match &wanted.alarms {
                Some(names) => !names.is_empty(),
                None => kept.as_ref().is_some_and(|a| a.enable),
            };
            // Unsaid: the service's own flag when it has alarms, else roll back.
            let rollback = wanted.alarm_rollback.unwrap_or_else(|| kept.as_ref().is_none_or(|a| a.rollback));
            config.alarms =
                DeploymentAlarms::builder().set_alarm_names(Some(names)).enable(enable).rollback(rollback).build().ok();
        }
        if wanted.early_success.is_some() || wanted.early_success_cleanup.is_some() {
            let mut criteria = config
                .early_success_criteria
                .take()
                .unwrap_or_else(|| DeploymentEarlySuccessCriteria::builder().enable(false).build());
            match wanted.early_success {
                Some(EarlySuccess::Off) => criteria.enable = false,
                Some(EarlySuccess::Percent(percent)) => {
                    criteria.enable = true;
                    criteria.healthy_percent = Some(percent);
                    if criteria.source_service_revision_cleanup.is_none() {
                        criteria.source_service_revision_cleanup = Some(ServiceRevisionCleanup::Blocking);
                    }
                }
                None => {}
            }
            if let Some(cleanup) = wanted.early_success_cleanup {
                criteria.source_service_revision_cleanup = Some(match cleanup {
                    Cleanup::Blocking => ServiceRevisionCleanup::Blocking,
                    Cleanup::Deferred => ServiceRevisionCleanup::Deferred,
                });
            }
            config.early_success_criteria = Some(criteria);
        }
        if let Some(hooks) = &wanted.hooks {
            config.lifecycle_hooks = Some(hooks.iter().map(hook_to_sdk).collect());
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

    /// The strategy: ROLLING when ECS says none.
    pub fn strategy(&self) -> Strategy {
        self.0
            .as_ref()
            .and_then(|c| c.strategy())
            .and_then(|s| Strategy::from_ecs(s.as_str()))
            .unwrap_or(Strategy::Rolling)
    }

    /// What depends on the strategy: early success and the hooks as the
    /// configuration has them; linear and canary settings as `wanted` writes them.
    pub fn strategy_use(&self, wanted: &WantedDeployment) -> StrategyUse {
        let config = self.0.as_ref();
        StrategyUse {
            linear: wanted.linear_step_percent.is_some() || wanted.linear_step_bake_minutes.is_some(),
            canary: wanted.canary_percent.is_some() || wanted.canary_bake_minutes.is_some(),
            early_success: config.and_then(|c| c.early_success_criteria()).is_some_and(|e| e.enable()),
            hooks: config
                .map(|c| c.lifecycle_hooks())
                .unwrap_or_default()
                .iter()
                .map(|h| {
                    let pause = h.target_type().is_some_and(|t| *t == DeploymentLifecycleHookTargetType::Pause);
                    (pause, h.lifecycle_stages().iter().filter_map(|s| Stage::from_ecs(s.as_str())).collect())
                })
                .collect(),
        }
    }

    /// Early success's percentage and the minimum healthy percent, when
    /// early success is on and the percentage is below it (ECS refuses that).
    pub fn early_success_below_min(&self) -> Option<(i32, i32)> {
        let config = self.0.as_ref()?;
        let early = config.early_success_criteria().filter(|e| e.enable())?;
        let (percent, min) = (early.healthy_percent()?, config.minimum_healthy_percent()?);
        (percent < min).then_some((percent, min))
    }

    /// The settings beyond the percentages and the breaker's switches, as
    /// `(name, value)` in the language's words.
    fn summary(&self) -> Vec<(&'static str, String)> {
        let Some(config) = &self.0 else { return Vec::new() };
        let mut out = Vec::new();
        if let Some(strategy) = config.strategy() {
            out.push((
                "strategy",
                Strategy::from_ecs(strategy.as_str()).map_or(strategy.as_str(), |s| s.word()).to_string(),
            ));
        }
        if let Some(minutes) = config.bake_time_in_minutes() {
            out.push(("bake-time", format!("{minutes}m")));
        }
        if let Some(linear) = config.linear_configuration() {
            if let Some(percent) = linear.step_percent() {
                out.push(("linear-step-percent", format!("{percent}%")));
            }
            if let Some(minutes) = linear.step_bake_time_in_minutes() {
                out.push(("linear-step-bake-time", format!("{minutes}m")));
            }
        }
        if let Some(canary) = config.canary_configuration() {
            if let Some(percent) = canary.canary_percent() {
                out.push(("canary-percent", format!("{percent}%")));
            }
            if let Some(minutes) = canary.canary_bake_time_in_minutes() {
                out.push(("canary-bake-time", format!("{minutes}m")));
            }
        }
        if let Some(alarms) = config.alarms() {
            if !alarms.alarm_names().is_empty() || alarms.enable() {
                out.push((
                    "alarms",
                    format!(
                        "{} ({}, {})",
                        alarms.alarm_names().join(", "),
                        if alarms.enable() { "enabled" } else { "disabled" },
                        if alarms.rollback() { "rollback on alarm" } else { "no rollback" }
                    ),
                ));
            }
        }
        if let Some(breaker) = config.deployment_circuit_breaker() {
            if let Some(threshold) = breaker.threshold_configuration() {
                out.push((
                    "circuit-breaker-threshold",
                    format!("{} ({})", threshold.value(), threshold.r#type().as_str()),
                ));
            }
            if let Some(reset) = breaker.reset_on_healthy_task() {
                out.push(("circuit-breaker-reset-on-healthy", reset.to_string()));
            }
        }
        if let Some(early) = config.early_success_criteria() {
            let cleanup = early.source_service_revision_cleanup().map(|c| c.as_str().to_ascii_lowercase());
            out.push((
                "early-success",
                match (early.enable(), early.healthy_percent()) {
                    (true, Some(percent)) => {
                        format!("{percent}% healthy, {} clean-up", cleanup.as_deref().unwrap_or("blocking"))
                    }
                    _ => "off".to_string(),
                },
            ));
        }
        for hook in config.lifecycle_hooks() {
            out.push(("hook", describe_hook(hook)));
        }
        out
    }

    /// `name: from → to` for each setting beyond the percentages and the
    /// breaker's switches that differs from `before`.
    pub fn changes_from(&self, before: &DeploymentSettings) -> Vec<String> {
        let (old, new) = (before.summary(), self.summary());
        let value = |list: &[(&str, String)], name: &str| {
            list.iter().find(|(n, _)| *n == name).map_or_else(|| "(unset)".to_string(), |(_, v)| v.clone())
        };
        let mut changes = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in old.iter().chain(&new) {
            if *name != "hook" && !names.contains(name) {
                names.push(name);
            }
        }
        for name in names {
            let (from, to) = (value(&old, name), value(&new, name));
            if from != to {
                changes.push(format!("{name}: {from} → {to}"));
            }
        }
        let hooks = |list: &[(&str, String)]| -> Vec<String> {
            list.iter().filter(|(n, _)| *n == "hook").map(|(_, v)| v.clone()).collect()
        };
        let (old_hooks, new_hooks) = (hooks(&old), hooks(&new));
        if old_hooks != new_hooks {
            changes.push(format!(
                "lifecycle hooks: replaces the service's {} hook(s) with {}",
                old_hooks.len(),
                new_hooks.len()
            ));
            changes.extend(new_hooks.iter().map(|h| format!("  hook {h}")));
        }
        changes
    }

    /// The settings beyond the percentages and the breaker's switches that
    /// are as in `before`, one line each, for `plan`: what a merged update keeps.
    pub fn kept(&self, before: &DeploymentSettings) -> Vec<String> {
        let old = before.summary();
        let new = self.summary();
        let mut kept = Vec::new();
        let hooks_same = old.iter().filter(|(n, _)| *n == "hook").eq(new.iter().filter(|(n, _)| *n == "hook"));
        for (name, value) in &new {
            match *name {
                "hook" if hooks_same => kept.push(format!("keeps hook {value}")),
                "hook" => {}
                // ROLLING and no bake time are what every service has.
                "strategy" if value == "rolling" => {}
                "bake-time" if value == "0m" => {}
                _ if old.iter().any(|(n, v)| n == name && v == value) => kept.push(format!("keeps {name} {value}")),
                _ => {}
            }
        }
        kept
    }

    /// The whole configuration as ECS's JSON, for `plan --format json`.
    pub fn to_json(&self) -> Json {
        let Some(c) = &self.0 else { return Json::Null };
        let mut out = serde_json::Map::new();
        let mut put = |key: &str, value: Json| {
            if !value.is_null() {
                out.insert(key.into(), value);
            }
        };
        put("minimumHealthyPercent", json!(c.minimum_healthy_percent()));
        put("maximumPercent", json!(c.maximum_percent()));
        put(
            "deploymentCircuitBreaker",
            c.deployment_circuit_breaker().map_or(Json::Null, |b| {
                json!({
                    "enable": b.enable(),
                    "rollback": b.rollback(),
                    "resetOnHealthyTask": b.reset_on_healthy_task(),
                    "thresholdConfiguration": b.threshold_configuration().map(|t| json!({"type": t.r#type().as_str(), "value": t.value()})),
                })
            }),
        );
        put(
            "alarms",
            c.alarms().map_or(
                Json::Null,
                |a| json!({"alarmNames": a.alarm_names(), "enable": a.enable(), "rollback": a.rollback()}),
            ),
        );
        put("strategy", json!(c.strategy().map(|s| s.as_str())));
        put("bakeTimeInMinutes", json!(c.bake_time_in_minutes()));
        put(
            "linearConfiguration",
            c.linear_configuration().map_or(
                Json::Null,
                |l| json!({"stepPercent": l.step_percent(), "stepBakeTimeInMinutes": l.step_bake_time_in_minutes()}),
            ),
        );
        put(
            "canaryConfiguration",
            c.canary_configuration().map_or(Json::Null, |l| {
                json!({"canaryPercent": l.canary_percent(), "canaryBakeTimeInMinutes": l.canary_bake_time_in_minutes()})
            }),
        );
        put(
            "earlySuccessCriteria",
            c.early_success_criteria().map_or(Json::Null, |e| {
                json!({
                    "enable": e.enable(),
                    "healthyPercent": e.healthy_percent(),
                    "sourceServiceRevisionCleanup": e.source_service_revision_cleanup().map(|s| s.as_str()),
                })
            }),
        );
        if c.lifecycle_hooks.is_some() {
            let hooks: Vec<Json> = c
                .lifecycle_hooks()
                .iter()
                .map(|h| {
                    json!({
                        "targetType": h.target_type().map(|t| t.as_str()),
                        "hookTargetArn": h.hook_target_arn(),
                        "roleArn": h.role_arn(),
                        "lifecycleStages": h.lifecycle_stages().iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                        "hookDetails": h.hook_details().map(document_to_json),
                        "timeoutConfiguration": h.timeout_configuration().map(|t| json!({"timeoutInMinutes": t.timeout_in_minutes(), "action": t.action().map(|a| a.as_str())})),
                    })
                })
                .collect();
            put("lifecycleHooks", Json::Array(hooks));
        }
        Json::Object(out)
    }
}

fn hook_to_sdk(hook: &Hook) -> DeploymentLifecycleHook {
    let (target_type, arn) = match &hook.target {
        HookTarget::Pause => (DeploymentLifecycleHookTargetType::Pause, None),
        HookTarget::Lambda(arn) => (DeploymentLifecycleHookTargetType::AwsLambda, Some(arn.clone())),
    };
    let timeout = (hook.timeout_minutes.is_some() || hook.on_timeout.is_some()).then(|| {
        DeploymentLifecycleHookTimeoutConfiguration::builder()
            .set_timeout_in_minutes(hook.timeout_minutes)
            .set_action(hook.on_timeout.map(|a| match a {
                HookAction::Continue => DeploymentLifecycleHookAction::Continue,
                HookAction::Rollback => DeploymentLifecycleHookAction::Rollback,
            }))
            .build()
    });
    DeploymentLifecycleHook::builder()
        .target_type(target_type)
        .set_hook_target_arn(arn)
        .set_role_arn(hook.role.clone())
        .set_lifecycle_stages(Some(
            hook.stages.iter().map(|s| DeploymentLifecycleHookStage::from(s.ecs_name().as_str())).collect(),
        ))
        .set_hook_details(hook.details.as_ref().map(|entries| {
            Document::Object(
                entries.iter().map(|(k, v)| (k.clone(), Document::String(v.clone()))).collect::<HashMap<_, _>>(),
            )
        }))
        .set_timeout_configuration(timeout)
        .build()
}

/// `pause at post-scale-up (timeout 120m, then ROLLBACK)`.
fn describe_hook(hook: &DeploymentLifecycleHook) -> String {
    let target = match hook.target_type() {
        Some(DeploymentLifecycleHookTargetType::Pause) => "pause".to_string(),
        _ => hook.hook_target_arn().unwrap_or("(no target)").to_string(),
    };
    let stages: Vec<String> = hook
        .lifecycle_stages()
        .iter()
        .map(|s| Stage::from_ecs(s.as_str()).map_or_else(|| s.as_str().to_string(), |s| s.word().to_string()))
        .collect();
    let mut text = format!("{target} at {}", stages.join(", "));
    if let Some(timeout) = hook.timeout_configuration() {
        let minutes = timeout.timeout_in_minutes().map_or_else(|| "1440m".to_string(), |m| format!("{m}m"));
        let action = timeout.action().map_or("rollback".to_string(), |a| a.as_str().to_ascii_lowercase());
        text.push_str(&format!(" (timeout {minutes}, then {action})"));
    }
    text
}

fn document_to_json(document: &Document) -> Json {
    match document {
        Document::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), document_to_json(v))).collect()),
        Document::Array(items) => Json::Array(items.iter().map(document_to_json).collect()),
        Document::Number(n) => json!(n.to_f64_lossy()),
        Document::String(s) => json!(s),
        Document::Bool(b) => json!(b),
        Document::Null => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::{DeploymentAlarms, ThresholdConfiguration, ThresholdType};

    use super::*;

    fn breaker_only(state: CircuitBreakerState) -> WantedDeployment {
        WantedDeployment { breaker: Some(state), ..WantedDeployment::default() }
    }

    fn pause_hook() -> DeploymentLifecycleHook {
        DeploymentLifecycleHook::builder()
            .target_type(DeploymentLifecycleHookTargetType::Pause)
            .lifecycle_stages(DeploymentLifecycleHookStage::PostScaleUp)
            .build()
    }

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
                .strategy(DeploymentStrategy::Linear)
                .linear_configuration(
                    LinearConfiguration::builder().step_percent(10.0).step_bake_time_in_minutes(6).build(),
                )
                .canary_configuration(
                    CanaryConfiguration::builder().canary_percent(5.0).canary_bake_time_in_minutes(10).build(),
                )
                .early_success_criteria(
                    DeploymentEarlySuccessCriteria::builder()
                        .enable(false)
                        .healthy_percent(80)
                        .source_service_revision_cleanup(ServiceRevisionCleanup::Deferred)
                        .build(),
                )
                .lifecycle_hooks(pause_hook())
                .build(),
        ))
    }

    #[test]
    fn a_max_percent_alone_keeps_everything_else() {
        let before = custom();
        let wanted = WantedDeployment { max_percent: Some(150), ..WantedDeployment::default() };
        let merged = before.merged(&wanted).to_sdk().unwrap();
        let mut expected = before.to_sdk().unwrap();
        expected.maximum_percent = Some(150);
        assert_eq!(merged, expected);
    }

    #[test]
    fn circuit_breaker_rollback_keeps_the_threshold_and_reset_on_healthy_task() {
        let merged = custom().merged(&breaker_only(CircuitBreakerState { enable: true, rollback: true }));
        let breaker = merged.to_sdk().unwrap().deployment_circuit_breaker.unwrap();
        assert!(breaker.enable && breaker.rollback);
        assert_eq!(breaker.reset_on_healthy_task, Some(false));
        assert_eq!(breaker.threshold_configuration.map(|t| t.value), Some(7));
        assert_eq!(merged.to_sdk().unwrap().alarms, custom().to_sdk().unwrap().alarms);
    }

    #[test]
    fn a_threshold_alone_keeps_the_breakers_switches() {
        let wanted = WantedDeployment {
            breaker_threshold: Some(Threshold::UnboundedPercent(250)),
            breaker_reset_on_healthy: Some(true),
            ..WantedDeployment::default()
        };
        let breaker = custom().merged(&wanted).to_sdk().unwrap().deployment_circuit_breaker.unwrap();
        assert!(breaker.enable && !breaker.rollback);
        assert_eq!(breaker.reset_on_healthy_task, Some(true));
        let threshold = breaker.threshold_configuration.unwrap();
        assert_eq!((threshold.r#type, threshold.value), (ThresholdType::UnboundedPercent, 250));
    }

    #[test]
    fn every_strategy_setting_overrides_only_itself() {
        let wanted = WantedDeployment {
            strategy: Some(Strategy::Canary),
            bake_time_minutes: Some(15),
            linear_step_percent: Some(20.0),
            canary_bake_minutes: Some(3),
            alarms: Some(vec!["web-latency".into()]),
            early_success: Some(EarlySuccess::Percent(75)),
            hooks: Some(vec![Hook {
                target: HookTarget::Lambda("arn:aws:lambda:us-east-1:1:function:smoke".into()),
                role: Some("arn:aws:iam::1:role/hooks".into()),
                stages: vec![Stage::PostTestTrafficShift],
                details: Some(vec![("URL".into(), "https://x".into())]),
                timeout_minutes: Some(30),
                on_timeout: Some(HookAction::Continue),
            }]),
            ..WantedDeployment::default()
        };
        let merged = custom().merged(&wanted).to_sdk().unwrap();
        assert_eq!(merged.strategy, Some(DeploymentStrategy::Canary));
        assert_eq!(merged.bake_time_in_minutes, Some(15));
        // The step's bake time and the canary's percentage stay as they were.
        assert_eq!(
            merged.linear_configuration.unwrap(),
            LinearConfiguration::builder().step_percent(20.0).step_bake_time_in_minutes(6).build()
        );
        let canary = merged.canary_configuration.unwrap();
        assert_eq!((canary.canary_percent, canary.canary_bake_time_in_minutes), (Some(5.0), Some(3)));
        // The alarms' rollback flag stays the service's.
        let alarms = merged.alarms.unwrap();
        assert_eq!((alarms.alarm_names, alarms.enable, alarms.rollback), (vec!["web-latency".to_string()], true, true));
        let early = merged.early_success_criteria.unwrap();
        assert_eq!((early.enable, early.healthy_percent), (true, Some(75)));
        assert_eq!(early.source_service_revision_cleanup, Some(ServiceRevisionCleanup::Deferred));
        let hooks = merged.lifecycle_hooks.unwrap();
        assert_eq!(hooks.len(), 1, "the pipeline's hooks replace the service's");
        assert_eq!(hooks[0].target_type, Some(DeploymentLifecycleHookTargetType::AwsLambda));
        assert_eq!(hooks[0].timeout_configuration.as_ref().unwrap().timeout_in_minutes, Some(30));
        assert_eq!(merged.deployment_circuit_breaker, custom().to_sdk().unwrap().deployment_circuit_breaker);
    }

    #[test]
    fn empty_alarms_disable_them_and_a_new_alarm_config_rolls_back() {
        let off = WantedDeployment { alarms: Some(Vec::new()), ..WantedDeployment::default() };
        let alarms = custom().merged(&off).to_sdk().unwrap().alarms.unwrap();
        assert!(!alarms.enable && alarms.alarm_names.is_empty() && alarms.rollback);
        let on = WantedDeployment { alarms: Some(vec!["a".into()]), ..WantedDeployment::default() };
        let alarms = DeploymentSettings::default().merged(&on).to_sdk().unwrap().alarms.unwrap();
        assert!(alarms.enable && alarms.rollback);
        let no_rollback = WantedDeployment { alarm_rollback: Some(false), ..on };
        assert!(!DeploymentSettings::default().merged(&no_rollback).to_sdk().unwrap().alarms.unwrap().rollback);
    }

    #[test]
    fn without_hooks_the_service_keeps_its_own() {
        let wanted = WantedDeployment { strategy: Some(Strategy::BlueGreen), ..WantedDeployment::default() };
        assert_eq!(custom().merged(&wanted).to_sdk().unwrap().lifecycle_hooks, Some(vec![pause_hook()]));
    }

    #[test]
    fn a_service_without_a_configuration_gets_only_what_the_pipeline_says() {
        let wanted = WantedDeployment { min_healthy_percent: Some(100), ..WantedDeployment::default() };
        let merged = DeploymentSettings::default().merged(&wanted).to_sdk().unwrap();
        assert_eq!(merged, DeploymentConfiguration::builder().minimum_healthy_percent(100).build());
    }

    #[test]
    fn plan_lists_what_the_merge_keeps_and_what_it_changes() {
        let wanted = WantedDeployment { bake_time_minutes: Some(10), ..WantedDeployment::default() };
        let merged = custom().merged(&wanted);
        assert_eq!(merged.changes_from(&custom()), ["bake-time: 5m → 10m"]);
        assert_eq!(
            merged.kept(&custom()),
            [
                "keeps strategy linear",
                "keeps linear-step-percent 10%",
                "keeps linear-step-bake-time 6m",
                "keeps canary-percent 5%",
                "keeps canary-bake-time 10m",
                "keeps alarms web-5xx (enabled, rollback on alarm)",
                "keeps circuit-breaker-threshold 7 (COUNT)",
                "keeps circuit-breaker-reset-on-healthy false",
                "keeps early-success off",
                "keeps hook pause at post-scale-up",
            ]
        );
        let hooks = WantedDeployment { hooks: Some(Vec::new()), ..WantedDeployment::default() };
        assert_eq!(
            custom().merged(&hooks).changes_from(&custom()),
            ["lifecycle hooks: replaces the service's 1 hook(s) with 0"]
        );
    }

    #[test]
    fn the_json_carries_the_whole_configuration() {
        let json = custom().to_json();
        assert_eq!(json["strategy"], "LINEAR");
        assert_eq!(json["linearConfiguration"]["stepPercent"], 10.0);
        assert_eq!(json["deploymentCircuitBreaker"]["thresholdConfiguration"]["value"], 7);
        assert_eq!(json["lifecycleHooks"][0]["lifecycleStages"][0], "POST_SCALE_UP");
        assert_eq!(json["earlySuccessCriteria"]["sourceServiceRevisionCleanup"], "DEFERRED");
    }

    #[test]
    fn early_success_below_the_minimum_healthy_percent_is_found_in_the_merge() {
        let wanted = WantedDeployment { early_success: Some(EarlySuccess::Percent(40)), ..WantedDeployment::default() };
        assert_eq!(custom().merged(&wanted).early_success_below_min(), Some((40, 50)));
        let wanted = WantedDeployment { early_success: Some(EarlySuccess::Percent(60)), ..WantedDeployment::default() };
        assert_eq!(custom().merged(&wanted).early_success_below_min(), None);
    }
}
