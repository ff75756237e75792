//! `update`: its attributes in range, and the rollout arithmetic that proves
//! a deployment can make progress.

use super::error::CheckError;
use super::pipeline::{CircuitBreaker, Update};
use super::{schema, Checker};
use crate::syntax::ast::{self, Block, Span};

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
        })
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
