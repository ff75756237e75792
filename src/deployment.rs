//! ECS's deployment strategies as plain domain types, and the rules ECS
//! applies to a deploymentConfiguration's strategy-specific parts. The checker
//! runs the rules on what a block writes; the resolver on the merged
//! configuration when the strategy is the service's own.

/// `deploymentConfiguration.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Rolling,
    BlueGreen,
    Linear,
    Canary,
}

pub const STRATEGY_WORDS: &[&str] = &["rolling", "blue-green", "linear", "canary"];

impl Strategy {
    pub fn from_word(word: &str) -> Option<Strategy> {
        Some(match word {
            "rolling" => Strategy::Rolling,
            "blue-green" => Strategy::BlueGreen,
            "linear" => Strategy::Linear,
            "canary" => Strategy::Canary,
            _ => return None,
        })
    }

    pub fn word(self) -> &'static str {
        STRATEGY_WORDS[self as usize]
    }

    /// ECS's name: `ROLLING`, `BLUE_GREEN`, …
    pub fn ecs_name(self) -> &'static str {
        ["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"][self as usize]
    }

    pub fn from_ecs(name: &str) -> Option<Strategy> {
        Strategy::from_word(&name.to_ascii_lowercase().replace('_', "-"))
    }

    /// A rolling deployment shifts no traffic between revisions, so only the
    /// stages before and around scaling up occur (deployment-lifecycle-hooks).
    pub fn has_stage(self, stage: Stage) -> bool {
        self != Strategy::Rolling || matches!(stage, Stage::ReconcileService | Stage::PreScaleUp | Stage::PostScaleUp)
    }
}

/// A deployment lifecycle stage a hook can run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    ReconcileService,
    PreScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    PreProductionTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
}

pub const STAGE_WORDS: &[&str] = &[
    "reconcile-service",
    "pre-scale-up",
    "post-scale-up",
    "test-traffic-shift",
    "post-test-traffic-shift",
    "pre-production-traffic-shift",
    "production-traffic-shift",
    "post-production-traffic-shift",
];

const STAGES: [Stage; 8] = [
    Stage::ReconcileService,
    Stage::PreScaleUp,
    Stage::PostScaleUp,
    Stage::TestTrafficShift,
    Stage::PostTestTrafficShift,
    Stage::PreProductionTrafficShift,
    Stage::ProductionTrafficShift,
    Stage::PostProductionTrafficShift,
];

impl Stage {
    pub fn from_word(word: &str) -> Option<Stage> {
        STAGE_WORDS.iter().position(|w| *w == word).map(|i| STAGES[i])
    }

    pub fn word(self) -> &'static str {
        STAGE_WORDS[self as usize]
    }

    /// ECS's name: `POST_SCALE_UP`, …
    pub fn ecs_name(self) -> String {
        self.word().to_ascii_uppercase().replace('-', "_")
    }

    pub fn from_ecs(name: &str) -> Option<Stage> {
        Stage::from_word(&name.to_ascii_lowercase().replace('_', "-"))
    }

    /// PAUSE hooks cannot be configured at these (DeploymentLifecycleHook).
    pub fn takes_pause(self) -> bool {
        !matches!(self, Stage::TestTrafficShift | Stage::ProductionTrafficShift)
    }
}

/// A lifecycle hook's target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookTarget {
    /// Waits for ContinueServiceDeployment.
    Pause,
    /// A Lambda function's ARN.
    Lambda(String),
}

/// What ECS does at a lifecycle hook: a hook's `timeoutConfiguration.action`,
/// and what `continue` asks of a deployment a PAUSE hook holds
/// (ContinueServiceDeployment's `action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HookAction {
    #[default]
    Continue,
    Rollback,
}

pub const HOOK_ACTION_WORDS: &[&str] = &["continue", "rollback"];

/// `earlySuccessCriteria.sourceServiceRevisionCleanup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleanup {
    Blocking,
    Deferred,
}

pub const CLEANUP_WORDS: &[&str] = &["blocking", "deferred"];

/// A lifecycle hook as `update` writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub target: HookTarget,
    pub role: Option<String>,
    pub stages: Vec<Stage>,
    /// `hookDetails`: a JSON object of strings.
    pub details: Option<Vec<(String, String)>>,
    pub timeout_minutes: Option<i32>,
    pub on_timeout: Option<HookAction>,
}

/// The circuit breaker's `thresholdConfiguration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threshold {
    Count(i32),
    /// BOUNDED_PERCENT, ECS's default type.
    Percent(i32),
    UnboundedPercent(i32),
}

impl Threshold {
    /// `"50%"` or `"250% unbounded"`.
    pub fn parse(text: &str) -> Option<Threshold> {
        let text = text.trim();
        let (number, unbounded) = match text.strip_suffix("unbounded") {
            Some(rest) => (rest.trim_end(), true),
            None => (text, false),
        };
        let value: i32 = number.strip_suffix('%')?.parse().ok().filter(|v| *v >= 0)?;
        Some(if unbounded { Threshold::UnboundedPercent(value) } else { Threshold::Percent(value) })
    }
}

/// `early-success`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlySuccess {
    Off,
    Percent(i32),
}

/// What a configuration uses that depends on the strategy.
#[derive(Debug, Clone, Default)]
pub struct StrategyUse {
    pub linear: bool,
    pub canary: bool,
    pub early_success: bool,
    /// Per hook: whether it is a PAUSE hook, and its stages.
    pub hooks: Vec<(bool, Vec<Stage>)>,
}

/// A rule of ECS's that a configuration breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// linear-*, canary-* or early-success with another strategy.
    NotForStrategy { attribute: &'static str, wants: Strategy },
    /// A PAUSE hook at test-traffic-shift or production-traffic-shift.
    PauseAt { hook: usize, stage: usize },
    /// A hook at a stage the strategy does not have.
    StageNotInStrategy { hook: usize, stage: usize },
}

impl StrategyUse {
    pub fn conflicts(&self, strategy: Strategy) -> Vec<Conflict> {
        let mut conflicts = Vec::new();
        for (used, attribute, wants) in [
            (self.linear, "linear-step-percent", Strategy::Linear),
            (self.canary, "canary-percent", Strategy::Canary),
            (self.early_success, "early-success", Strategy::Rolling),
        ] {
            if used && strategy != wants {
                conflicts.push(Conflict::NotForStrategy { attribute, wants });
            }
        }
        for (hook, (pause, stages)) in self.hooks.iter().enumerate() {
            for (index, stage) in stages.iter().enumerate() {
                if *pause && !stage.takes_pause() {
                    conflicts.push(Conflict::PauseAt { hook, stage: index });
                } else if !strategy.has_stage(*stage) {
                    conflicts.push(Conflict::StageNotInStrategy { hook, stage: index });
                }
            }
        }
        conflicts
    }
}

impl Conflict {
    /// The conflict in words, given the hooks' stages.
    pub fn describe(self, strategy: Strategy, hooks: &[(bool, Vec<Stage>)]) -> String {
        match self {
            Conflict::NotForStrategy { attribute, wants } => format!(
                "`{attribute}` applies to {} deployments only; the strategy is {}",
                wants.word(),
                strategy.word()
            ),
            Conflict::PauseAt { hook, stage } => {
                format!("a pause hook cannot run at `{}`", hooks[hook].1[stage].word())
            }
            Conflict::StageNotInStrategy { hook, stage } => {
                format!("a {} deployment has no stage `{}`", strategy.word(), hooks[hook].1[stage].word())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_ecs_names_round_trip() {
        for word in STAGE_WORDS {
            let stage = Stage::from_word(word).unwrap();
            assert_eq!(Stage::from_ecs(&stage.ecs_name()), Some(stage));
        }
        for word in STRATEGY_WORDS {
            let strategy = Strategy::from_word(word).unwrap();
            assert_eq!(strategy.word(), *word);
            assert_eq!(Strategy::from_ecs(strategy.ecs_name()), Some(strategy));
        }
    }

    #[test]
    fn thresholds_read_as_written() {
        assert_eq!(Threshold::parse("50%"), Some(Threshold::Percent(50)));
        assert_eq!(Threshold::parse("250% unbounded"), Some(Threshold::UnboundedPercent(250)));
        assert_eq!(Threshold::parse("fifty"), None);
        assert_eq!(Threshold::parse("50"), None);
    }

    #[test]
    fn rolling_has_no_traffic_shift_stages_and_pause_hooks_skip_the_shifts() {
        let usage = StrategyUse {
            hooks: vec![
                (true, vec![Stage::PostScaleUp, Stage::TestTrafficShift]),
                (false, vec![Stage::PostTestTrafficShift]),
            ],
            ..StrategyUse::default()
        };
        assert_eq!(usage.conflicts(Strategy::BlueGreen), [Conflict::PauseAt { hook: 0, stage: 1 }]);
        assert_eq!(
            usage.conflicts(Strategy::Rolling),
            [Conflict::PauseAt { hook: 0, stage: 1 }, Conflict::StageNotInStrategy { hook: 1, stage: 0 }]
        );
    }
}
