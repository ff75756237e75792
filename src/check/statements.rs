//! Statements: the file's declarations (`pipeline`, `region`, `cluster`,
//! `param`, `service`, `repository`, `let`), each defined in the scope; steps
//! are handed to `steps.rs`.

use super::error::CheckError;
use super::pipeline::{BindingKind, ExprKind, ParamType, Step};
use super::scope::DefKind;
use super::types::{Type, Want};
use super::{validate, Checker};
use crate::suggest;
use crate::syntax::ast::{self, Ident, Item, LetValue, Span};

impl Checker<'_> {
    /// Records a declaration that may appear once per file; false if repeated.
    pub(super) fn singleton(&mut self, what: &'static str, span: Span) -> bool {
        if let Some(first) = self.singletons.get(what) {
            self.errors.push(CheckError::DuplicateName {
                name: what.into(),
                span,
                first: *first,
                help: format!("a file has one `{what}`; remove one of them"),
            });
            false
        } else {
            self.singletons.insert(what, span);
            true
        }
    }

    pub(super) fn items(&mut self, items: &[Item]) -> Vec<Step> {
        items.iter().filter_map(|item| self.item(item)).collect()
    }

    pub(super) fn item(&mut self, item: &Item) -> Option<Step> {
        match item {
            Item::Pipeline { keyword, name } => {
                if self.singleton("pipeline", *keyword) {
                    self.expect(name, Want::String);
                    match name.kind.as_literal_str() {
                        Some(text) if !text.trim().is_empty() => self.pipeline_name = Some(text),
                        _ => self.invalid(
                            name.span,
                            "the pipeline's name must be written out",
                            "not a plain string",
                            Some(r#"write it as `pipeline "web"`"#.into()),
                        ),
                    }
                }
                None
            }
            Item::Region { keyword, value } => {
                if self.singleton("region", *keyword) {
                    let checked = self.expect(value, Want::String);
                    self.validate_literal(value, validate::region);
                    self.region = Some(checked);
                }
                None
            }
            Item::Cluster { keyword, value } => {
                if self.singleton("cluster", *keyword) {
                    let checked = self.expect(value, Want::String);
                    self.validate_literal(value, validate::cluster);
                    self.cluster = Some(checked);
                }
                None
            }
            Item::Param { name, ty, default } => {
                self.param(name, ty.as_ref(), default.as_ref());
                None
            }
            Item::Service { name, value } => {
                let checked = self.expect(value, Want::String);
                self.validate_literal(value, validate::service);
                self.scope.define(
                    name,
                    DefKind::Service,
                    Type::Service,
                    BindingKind::Service { name: checked },
                    &mut self.errors,
                );
                None
            }
            Item::Repository { name, value } => {
                let checked = self.expect(value, Want::String);
                self.validate_literal(value, validate::repository);
                self.scope.define(
                    name,
                    DefKind::Repository,
                    Type::Repository,
                    BindingKind::Repository { name: checked },
                    &mut self.errors,
                );
                None
            }
            Item::Let { name, value: LetValue::Expr(expr) } => {
                let (ty, value) = self.expr(expr);
                let target = match value.kind {
                    ExprKind::Binding(target) => Some(target),
                    _ => None,
                };
                let id = self.scope.define(name, DefKind::Let, ty, BindingKind::Expr(value), &mut self.errors);
                if let Some(target) = target {
                    self.scope.alias(id, target);
                }
                None
            }
            Item::Let { name, value: LetValue::Step(step) } => {
                let checked = self.step(step);
                let id =
                    self.scope.define(name, DefKind::LetStep, checked.ty, BindingKind::StepResult, &mut self.errors);
                self.scope.def_mut(id).containers = checked.containers;
                checked.step.map(|step| Step { binds: Some(id), ..step })
            }
            Item::Step(step) => self.step(step).step,
            // The lowering reports a nested `on-failure`; the top level is handled in `run`.
            Item::OnFailure { .. } => None,
        }
    }

    fn param(&mut self, name: &Ident, ty: Option<&Ident>, default: Option<&ast::Expr>) {
        let mut unknown_type = false;
        let param_type = match ty.map(|t| t.name.as_str()) {
            None | Some("string") => ParamType::String,
            Some("int") => ParamType::Int,
            Some("number") => ParamType::Number,
            Some("bool") => ParamType::Bool,
            Some("duration") => ParamType::Duration,
            Some(other) => {
                let ty = ty.expect("matched Some");
                unknown_type = true;
                let help = match suggest::nearest(other, ["string", "int", "number", "bool", "duration"]) {
                    Some(near) => {
                        format!("did you mean `{near}`? params are `string`, `int`, `number`, `bool` or `duration`")
                    }
                    None => "params are `string`, `int`, `number`, `bool` or `duration`".into(),
                };
                self.invalid(ty.span, format!("unknown param type `{other}`"), "unknown type", Some(help));
                ParamType::String
            }
        };
        let (want, mut ty) = match param_type {
            _ if unknown_type => (Want::String, Type::Invalid),
            ParamType::String => (Want::String, Type::String),
            ParamType::Int => (Want::Int, Type::Int),
            ParamType::Number => (Want::Number, Type::Number),
            ParamType::Bool => (Want::Bool, Type::Bool),
            ParamType::Duration => (Want::Duration, Type::Duration),
        };
        let mut int_default = None;
        let default = default.map(|expr| match &expr.kind {
            // `env()` gives text; it is converted to the param's type at run time.
            ast::ExprKind::Call { args, .. } => {
                let (_, value) = self.expr(expr);
                // The environment decides at run time, so the fallback is no
                // basis for the rollout arithmetic; it must still fit the type.
                if let Some(fallback) =
                    args.get(1).and_then(|arg| arg.kind.as_literal_str().map(|text| (arg.span, text)))
                {
                    if !unknown_type {
                        self.check_param_text(param_type, &fallback.1, fallback.0);
                    }
                }
                value
            }
            _ => {
                if param_type == ParamType::String && !unknown_type {
                    if let ast::ExprKind::Int(_)
                    | ast::ExprKind::Decimal(_)
                    | ast::ExprKind::Bool(_)
                    | ast::ExprKind::Duration(_) = expr.kind
                    {
                        let found = self.expr(expr).0;
                        self.errors.push(CheckError::TypeMismatch {
                            expected: "`string`".into(),
                            found: found.to_string(),
                            span: expr.span,
                            bound: None,
                            bound_label: String::new(),
                            help: Some(format!(
                                "a param is a `string` unless annotated: `param {}: {found} = …`",
                                name.name
                            )),
                        });
                        // Typed as written, so its uses don't repeat the mistake.
                        ty = found;
                        return self.expr(expr).1;
                    }
                }
                if let ast::ExprKind::Int(n) = expr.kind {
                    int_default = Some(n);
                }
                if unknown_type {
                    return self.expr(expr).1;
                }
                self.expect(expr, want)
            }
        });
        let binding = BindingKind::Param { ty: param_type, default };
        let id = self.scope.define(name, DefKind::Param, ty, binding, &mut self.errors);
        self.scope.def_mut(id).int_default = int_default;
    }

    /// A param's value given as text (an `env()` default, later `--param`).
    fn check_param_text(&mut self, ty: ParamType, text: &str, span: Span) {
        let ok = match ty {
            ParamType::String => true,
            ParamType::Int => text.trim().parse::<i64>().is_ok(),
            ParamType::Number => crate::eval::parse_number(text.trim()).is_some(),
            ParamType::Bool => matches!(text.trim(), "true" | "false"),
            ParamType::Duration => humantime::parse_duration(text.trim()).is_ok(),
        };
        if !ok {
            self.invalid(
                span,
                format!("`{text}` is not a valid `{}`", ty.name()),
                format!("the param is `{}`", ty.name()),
                Some(match ty {
                    ParamType::Int => "write a whole number, such as \"2\"".into(),
                    ParamType::Number => "write a number, such as \"2.5\"".into(),
                    ParamType::Bool => "write \"true\" or \"false\"".into(),
                    _ => "write a duration, such as \"10m\"".into(),
                }),
            );
        }
    }
}
