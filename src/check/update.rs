//! `update`: its attributes in range, and the rollout arithmetic that proves
//! a deployment can make progress.

use super::attrs::Attrs;
use super::error::CheckError;
use super::pipeline::{CircuitBreaker, EarlySuccess, Hook, Update};
use super::{schema, Checker};
use crate::deployment::{Cleanup, Conflict, HookAction, Stage, Strategy, StrategyUse, Threshold};
use crate::syntax::ast::{self, Block, Span};

/// ECS takes bake times in whole minutes, 0 to 1440 (DeploymentConfiguration,
/// LinearConfiguration, CanaryConfiguration).
const MAX_BAKE_MINUTES: u64 = 1440;
/// DeploymentLifecycleHookTimeoutConfiguration: 1 to 20160 minutes.
const MAX_HOOK_TIMEOUT_MINUTES: u64 = 20160;

impl Checker<'_> {
    /// Checks an `update`; `None` when its service did not resolve.
    pub(super) fn update(&mut self, keyword: Span, service: &ast::Expr, block: Option<&Block>) -> Option<Update> {
        let service = self.service(service);
        let attrs = self.block("update", keyword, block, schema::UPDATE, None);
        let desired = attrs.expr("desired-count").and_then(|e| self.const_int(e).map(|c| (c, e.span)));
        let min = attrs.expr("min-healthy-percent").and_then(|e| self.const_int(e).map(|c| (c, e.span)));
        let max = attrs.expr("max-percent").and_then(|e| self.const_int(e).map(|c| (c, e.span)));
        let mut in_range = true;
        if let Some(((d, _), span)) = &desired {
            if *d < 0 {
                in_range = false;
                self.invalid(*span, format!("`desired-count` cannot be negative, found {d}"), "negative", None);
            }
        }
        if let Some(((m, _), span)) = &min {
            if !(0..=100).contains(m) {
                in_range = false;
                self.invalid(
                    *span,
                    format!("`min-healthy-percent` must be from 0 to 100, found {m}"),
                    "out of range",
                    Some("ECS keeps this percentage of the desired count healthy during a rollout".into()),
                );
            }
        }
        if let Some(((m, _), span)) = &max {
            if *m < 100 {
                in_range = false;
                self.invalid(*span, format!("`max-percent` must be at least 100, found {m}"), "below 100", Some("ECS runs at most this percentage of the desired count during a rollout; 200 lets it start a full new set first".into()));
            } else if let Some(((lower, _), _)) = &min {
                if m < lower {
                    in_range = false;
                    self.invalid(
                        *span,
                        format!("`max-percent` ({m}) is below `min-healthy-percent` ({lower})"),
                        "below min-healthy-percent",
                        None,
                    );
                }
            }
        }
        if let (true, Some(((d, dp), _)), Some(((m, mp), min_span)), Some(((x, xp), max_span))) =
            (in_range, &desired, &min, &max)
        {
            self.rollout_progress(*d, *m, *x, *min_span, *max_span, [dp, mp, xp]);
        }
        if let Some(grace) = attrs.expr("health-check-grace") {
            if let ast::ExprKind::Duration(d) = grace.kind {
                if d.subsec_nanos() != 0 {
                    self.invalid(
                        grace.span,
                        "`health-check-grace` is counted in whole seconds",
                        "not whole seconds",
                        Some(format!("write `{}s`", d.as_secs().max(1))),
                    );
                }
            }
        }
        let deployment = self.deployment_strategy(&attrs, min.as_ref().map(|((m, _), _)| *m));
        let circuit_breaker = attrs.word("circuit-breaker").map(|word| match word {
            "off" => CircuitBreaker::Off,
            "on" => CircuitBreaker::On,
            _ => CircuitBreaker::Rollback,
        });
        Some(Update {
            service: service?,
            task_definition: attrs.value("task-definition"),
            desired_count: attrs.value("desired-count"),
            min_healthy_percent: attrs.value("min-healthy-percent"),
            max_percent: attrs.value("max-percent"),
            force_new_deployment: attrs.value("force-new-deployment"),
            circuit_breaker,
            health_check_grace: attrs.value("health-check-grace"),
            strategy: deployment.strategy,
            bake_time: attrs.value("bake-time"),
            linear_step_percent: attrs.value("linear-step-percent"),
            linear_step_bake_time: attrs.value("linear-step-bake-time"),
            canary_percent: attrs.value("canary-percent"),
            canary_bake_time: attrs.value("canary-bake-time"),
            alarms: attrs.value("alarms"),
            alarm_rollback: attrs.value("alarm-rollback"),
            circuit_breaker_threshold: attrs.value("circuit-breaker-threshold"),
            circuit_breaker_reset_on_healthy: attrs.value("circuit-breaker-reset-on-healthy"),
            early_success: deployment.early_success,
            early_success_cleanup: attrs.word("early-success-cleanup").map(|word| match word {
                "deferred" => Cleanup::Deferred,
                _ => Cleanup::Blocking,
            }),
            hooks: deployment.hooks,
        })
    }

    /// The strategy-specific settings: ranges, then the combinations ECS
    /// rejects when the block writes the strategy.
    fn deployment_strategy(&mut self, attrs: &Attrs<'_>, min_healthy: Option<i64>) -> DeploymentPart {
        let strategy = attrs.word("strategy").and_then(Strategy::from_word);
        for name in ["bake-time", "linear-step-bake-time", "canary-bake-time"] {
            if let Some(expr) = attrs.expr(name) {
                self.whole_minutes(expr, name, 0, MAX_BAKE_MINUTES);
            }
        }
        if let Some(expr) = attrs.expr("linear-step-percent") {
            self.tenths(
                expr,
                "linear-step-percent",
                30,
                "ECS shifts 3 to 100 percent of the traffic per step, in steps of 0.1 (LinearConfiguration)",
            );
        }
        if let Some(expr) = attrs.expr("canary-percent") {
            self.tenths(
                expr,
                "canary-percent",
                1,
                "ECS shifts 0.1 to 100 percent of the traffic to the canary, in steps of 0.1 (CanaryConfiguration)",
            );
        }
        if let Some(expr) = attrs.expr("circuit-breaker-threshold") {
            self.threshold(expr);
        }
        let early_success = match (attrs.word("early-success"), attrs.expr("early-success")) {
            (Some(_), _) => Some(EarlySuccess::Off),
            (None, Some(expr)) => {
                if let Some((percent, _)) = self.const_int(expr) {
                    if !(0..=100).contains(&percent) {
                        self.invalid(
                            expr.span,
                            format!("`early-success` must be from 0 to 100, found {percent}"),
                            "out of range",
                            Some("the percentage of the desired count that must be healthy before ECS calls the deployment a success (DeploymentEarlySuccessCriteria)".into()),
                        );
                    } else if let Some(min) = min_healthy.filter(|min| percent < *min) {
                        self.invalid(
                            expr.span,
                            format!("`early-success` ({percent}) is below `min-healthy-percent` ({min})"),
                            "below min-healthy-percent",
                            Some(format!("ECS requires the early-success percentage to be at least `min-healthy-percent`: raise it to {min}")),
                        );
                    }
                }
                attrs.value("early-success").map(EarlySuccess::Percent)
            }
            (None, None) => None,
        };
        let hooks =
            (!attrs.hooks.is_empty()).then(|| attrs.hooks.iter().map(|hook| self.hook(hook)).collect::<Vec<_>>());
        // The written attributes that belong to one strategy, for the labels.
        let first_of = |names: [&'static str; 2]| names.into_iter().find_map(|n| attrs.span(n).map(|s| (n, s)));
        let linear = first_of(["linear-step-percent", "linear-step-bake-time"]);
        let canary = first_of(["canary-percent", "canary-bake-time"]);
        let early = first_of(["early-success", "early-success-cleanup"])
            .filter(|_| matches!(early_success, Some(EarlySuccess::Percent(_))));
        let hook_stages: Vec<(bool, Vec<Stage>, Vec<Span>)> = attrs
            .hooks
            .iter()
            .zip(hooks.iter().flatten())
            .map(|(block, hook)| {
                let spans = self_stage_spans(block);
                (hook.lambda.is_none(), hook.stages.clone(), spans)
            })
            .collect();
        let usage = StrategyUse {
            linear: linear.is_some(),
            canary: canary.is_some(),
            early_success: early.is_some(),
            hooks: hook_stages.iter().map(|(pause, stages, _)| (*pause, stages.clone())).collect(),
        };
        let strategy_span = attrs.span("strategy");
        // Without a written strategy only the pause rule is known now; the
        // rest is checked against the service's strategy at plan and run time.
        let conflicts = match strategy {
            Some(strategy) => usage.conflicts(strategy),
            None => StrategyUse { hooks: usage.hooks.clone(), ..StrategyUse::default() }.conflicts(Strategy::BlueGreen),
        };
        let shown = strategy.unwrap_or(Strategy::BlueGreen);
        for conflict in conflicts {
            let message = conflict.describe(shown, &usage.hooks);
            match conflict {
                Conflict::NotForStrategy { attribute, wants } => {
                    let (name, span) = match attribute {
                        "linear-step-percent" => linear,
                        "canary-percent" => canary,
                        _ => early,
                    }
                    .expect("a conflict names a written attribute");
                    let message = message.replace(attribute, name);
                    self.errors.push(CheckError::StrategyConflict {
                        message,
                        span,
                        label: format!("a {} setting", wants.word()),
                        strategy: strategy_span.expect("conflicts need a written strategy"),
                        help: format!("write `strategy = {}`, or remove `{name}`", wants.word()),
                    });
                }
                Conflict::PauseAt { hook, stage } => self.errors.push(CheckError::HookStage {
                    message,
                    span: hook_stages[hook].2[stage],
                    label: "only Lambda hooks run here".into(),
                    strategy: None,
                    help: "ECS runs only Lambda hooks during a traffic shift; pause at `post-test-traffic-shift` or `post-production-traffic-shift` instead".into(),
                }),
                Conflict::StageNotInStrategy { hook, stage } => self.errors.push(CheckError::HookStage {
                    message,
                    span: hook_stages[hook].2[stage],
                    label: format!("not a stage of a {} deployment", shown.word()),
                    strategy: strategy_span,
                    help: "a rolling deployment shifts no traffic: its hooks run at `reconcile-service`, `pre-scale-up` or `post-scale-up`".into(),
                }),
            }
        }
        DeploymentPart { strategy, early_success, hooks }
    }

    fn hook(&mut self, block: &ast::HookBlock) -> Hook {
        let lambda = match &block.target.kind {
            ast::ExprKind::Name(word) if word == "pause" => None,
            ast::ExprKind::Name(_) => {
                self.invalid(
                    block.target.span,
                    "a hook runs `pause` or a Lambda function",
                    "expected `pause` or a Lambda function ARN",
                    Some(
                        r#"write `hook pause { … }` or `hook "arn:aws:lambda:REGION:ACCOUNT:function:NAME" { … }`"#
                            .into(),
                    ),
                );
                None
            }
            _ => {
                let value = self.expect(&block.target, super::types::Want::String);
                if let Some(text) = block.target.kind.as_literal_str() {
                    if !(text.starts_with("arn:") && text.contains(":lambda:")) {
                        self.invalid(
                            block.target.span,
                            format!("`{text}` is not a Lambda function ARN"),
                            "not a Lambda ARN",
                            Some(r#"write the function's ARN: "arn:aws:lambda:REGION:ACCOUNT:function:NAME", or `pause`"#.into()),
                        );
                    }
                }
                Some(value)
            }
        };
        let inner = self.block("hook", block.keyword, Some(&block.block), schema::UPDATE_HOOK, None);
        if let Some(timeout) = inner.expr("timeout") {
            self.whole_minutes(timeout, "timeout", 1, MAX_HOOK_TIMEOUT_MINUTES);
        }
        if lambda.is_some() && inner.expr("role").is_none() {
            self.errors.push(CheckError::MissingAttribute {
                step: "hook".into(),
                name: "role".into(),
                span: block.keyword,
                help: r#"a Lambda hook needs the IAM role ECS invokes it with: add `role = "arn:aws:iam::ACCOUNT:role/NAME"`"#.into(),
            });
        }
        Hook {
            keyword: block.keyword,
            lambda,
            role: inner.value("role"),
            stages: inner.word_list("at").unwrap_or_default().iter().filter_map(|(w, _)| Stage::from_word(w)).collect(),
            details: inner.value("details"),
            timeout: inner.value("timeout"),
            on_timeout: inner.word("on-timeout").map(|word| match word {
                "continue" => HookAction::Continue,
                _ => HookAction::Rollback,
            }),
        }
    }

    /// A written duration in whole minutes within `min..=max`.
    fn whole_minutes(&mut self, expr: &ast::Expr, name: &str, min: u64, max: u64) {
        let ast::ExprKind::Duration(d) = expr.kind else { return };
        if d.subsec_nanos() != 0 || d.as_secs() % 60 != 0 {
            self.invalid(
                expr.span,
                format!("`{name}` is counted in whole minutes"),
                "not whole minutes",
                Some(format!("write `{}m`", (d.as_secs() / 60).max(min))),
            );
        } else if !(min..=max).contains(&(d.as_secs() / 60)) {
            self.invalid(
                expr.span,
                format!("`{name}` must be from {min}m to {max}m, found {}m", d.as_secs() / 60),
                "out of range",
                Some(format!("ECS takes {min} to {max} minutes here")),
            );
        }
    }

    /// A written percentage from `min_tenths`/10 to 100 in steps of 0.1.
    fn tenths(&mut self, expr: &ast::Expr, name: &str, min_tenths: i64, rule: &str) {
        let value = match expr.kind {
            ast::ExprKind::Int(n) => n as f64,
            ast::ExprKind::Decimal(x) => x,
            _ => return,
        };
        let tenths = value * 10.0;
        let whole_tenths = (tenths - tenths.round()).abs() < 1e-6;
        if !whole_tenths || tenths.round() < min_tenths as f64 || tenths.round() > 1000.0 {
            let text = match expr.kind {
                ast::ExprKind::Int(n) => n.to_string(),
                _ => value.to_string(),
            };
            self.invalid(
                expr.span,
                format!("`{name}` must be from {} to 100 in steps of 0.1, found {text}", min_tenths as f64 / 10.0),
                "out of range",
                Some(rule.into()),
            );
        }
    }

    fn threshold(&mut self, expr: &ast::Expr) {
        match &expr.kind {
            ast::ExprKind::Int(n) if *n < 0 => self.invalid(
                expr.span,
                format!("`circuit-breaker-threshold` cannot be negative, found {n}"),
                "negative",
                None,
            ),
            kind => {
                if let Some(text) = kind.as_literal_str() {
                    if Threshold::parse(&text).is_none() {
                        self.invalid(
                            expr.span,
                            format!("`{text}` is not a circuit breaker threshold"),
                            "expected a count or a percentage",
                            Some(r#"write a count of failed tasks (`5`), a percentage of the desired count (`"50%"`), or an unbounded one (`"250% unbounded"`)"#.into()),
                        );
                    }
                }
            }
        }
    }

    /// ECS keeps ceil(d·min/100) tasks healthy and runs at most floor(d·max/100);
    /// unless the second exceeds the first, no old task can ever be replaced.
    fn rollout_progress(
        &mut self,
        desired: i64,
        min: i64,
        max: i64,
        min_span: Span,
        max_span: Span,
        params: [&Option<String>; 3],
    ) {
        if desired <= 0 {
            return;
        }
        let min_healthy = (desired * min + 99) / 100;
        let max_running = desired * max / 100;
        if max_running > min_healthy {
            return;
        }
        // The smallest max-percent and the largest min-healthy-percent that move.
        let needed_max = ((min_healthy + 1) * 100 + desired - 1) / desired;
        let allowed_min = (max_running - 1) * 100 / desired;
        let mut help = format!(
            "raise `max-percent` to at least {needed_max}, or lower `min-healthy-percent` to at most {allowed_min}"
        );
        let defaults: Vec<String> = params.iter().filter_map(|p| p.as_ref().map(|name| format!("`{name}`"))).collect();
        if !defaults.is_empty() {
            help.push_str(&format!(" (computed with the default of {})", defaults.join(" and ")));
        }
        self.errors.push(CheckError::RolloutCannotProgress {
            desired,
            min_healthy,
            max_running,
            span: max_span,
            min_span,
            help,
        });
    }
}

/// What `deployment_strategy` decoded.
struct DeploymentPart {
    strategy: Option<Strategy>,
    early_success: Option<EarlySuccess>,
    hooks: Option<Vec<Hook>>,
}

/// Where each stage of a hook's `at` is written.
fn self_stage_spans(block: &ast::HookBlock) -> Vec<Span> {
    block
        .block
        .items
        .iter()
        .find_map(|item| match item {
            ast::BlockItem::Attribute(a) if a.name.name == "at" => match &a.value.kind {
                ast::ExprKind::List(items) => Some(items.iter().map(|i| i.span).collect()),
                _ => None,
            },
            _ => None,
        })
        .unwrap_or_default()
}
