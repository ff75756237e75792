//! Values: each expression typed, each name resolved, and what a position
//! accepts checked, with the help that fits the mistake.

use std::collections::HashMap;

use super::error::CheckError;
use super::pipeline::{BindingId, Expr, ExprKind, Part};
use super::scope::DefKind;
use super::types::{Type, Want};
use super::{validate, Checker};
use crate::suggest;
use crate::syntax::ast::{self, Ident, Span, StrPart};

impl Checker<'_> {
    pub(super) fn expr(&mut self, expr: &ast::Expr) -> (Type, Expr) {
        let span = expr.span;
        let (ty, kind) = match &expr.kind {
            ast::ExprKind::Str(parts) => {
                let mut checked = Vec::new();
                for part in parts {
                    match part {
                        StrPart::Text(text) => checked.push(Part::Text(text.clone())),
                        StrPart::Interpolation(ident) => {
                            let Some(id) = self.scope.resolve(&ident.name, ident.span, &mut self.errors) else {
                                continue;
                            };
                            let ty = self.scope.def(id).ty.clone();
                            if !ty.interpolates() {
                                self.errors.push(CheckError::TypeMismatch {
                                    expected: "a value with a text form".into(),
                                    found: ty.to_string(),
                                    span: ident.span,
                                    bound: Some(self.scope.def(id).span),
                                    bound_label: format!("`{}` is bound here", ident.name),
                                    help: Some(format!(
                                        "`${{…}}` takes a string, int, bool, duration, image-ref, task-definition or task; a `{ty}` has no text form"
                                    )),
                                });
                            }
                            checked.push(Part::Binding(id, ident.span));
                        }
                    }
                }
                (Type::String, ExprKind::Str(checked))
            }
            ast::ExprKind::Int(n) => (Type::Int, ExprKind::Int(*n)),
            ast::ExprKind::Decimal(x) => (Type::Number, ExprKind::Number(*x)),
            ast::ExprKind::Bool(b) => (Type::Bool, ExprKind::Bool(*b)),
            ast::ExprKind::Duration(d) => (Type::Duration, ExprKind::Duration(*d)),
            ast::ExprKind::List(items) => {
                let mut element = Type::Invalid;
                let mut first_span = span;
                let mut values = Vec::new();
                for item in items {
                    let (ty, value) = self.expr(item);
                    values.push(value);
                    if element == Type::Invalid {
                        element = ty;
                        first_span = item.span;
                    } else if element != Type::String && ty == Type::String && element.converts_to_string() {
                        // `[td, "x"]` is a list of strings, as `["x", td]` is.
                        element = Type::String;
                    } else if ty != Type::Invalid
                        && ty != element
                        && !(element == Type::String && ty.converts_to_string())
                    {
                        self.errors.push(CheckError::TypeMismatch {
                            expected: format!("`{element}` like the list's first element"),
                            found: ty.to_string(),
                            span: item.span,
                            bound: Some(first_span),
                            bound_label: format!("the first element is `{element}`"),
                            help: Some("every element of a list has the same type".into()),
                        });
                    }
                }
                (Type::List(Box::new(element)), ExprKind::List(values))
            }
            ast::ExprKind::Map(entries) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                let mut values = Vec::new();
                for entry in entries {
                    if let Some(first) = seen.insert(&entry.key.name, entry.key.span) {
                        self.errors.push(CheckError::DuplicateAttribute {
                            what: "key",
                            name: entry.key.name.clone(),
                            span: entry.key.span,
                            first,
                        });
                    }
                    let value = self.expect(&entry.value, Want::String);
                    values.push((entry.key.name.clone(), value));
                }
                (Type::Map, ExprKind::Map(values))
            }
            ast::ExprKind::Call { callee, args } => return self.call(expr, callee, args),
            ast::ExprKind::Name(name) => match self.scope.resolve(name, span, &mut self.errors) {
                Some(id) => (self.scope.def(id).ty.clone(), ExprKind::Binding(id)),
                // Reported; the pipeline is not produced, so this stands in unevaluated.
                None => (Type::Invalid, ExprKind::Str(Vec::new())),
            },
        };
        (ty, Expr { span, kind })
    }

    fn call(&mut self, expr: &ast::Expr, callee: &Ident, args: &[ast::Expr]) -> (Type, Expr) {
        let placeholder = Expr { span: expr.span, kind: ExprKind::Str(Vec::new()) };
        if callee.name != "env" {
            self.errors.push(CheckError::UnknownFunction { name: callee.name.clone(), span: callee.span });
            for arg in args {
                self.expr(arg);
            }
            return (Type::Invalid, placeholder);
        }
        if args.is_empty() || args.len() > 2 {
            self.invalid(
                expr.span,
                format!("`env` takes a variable's name and an optional default, found {} arguments", args.len()),
                "wrong number of arguments",
                Some(r#"write `env("NAME")` or `env("NAME", "default")`"#.into()),
            );
            for arg in args {
                self.expr(arg);
            }
            return (Type::String, placeholder);
        }
        let name = self.expect(&args[0], Want::String);
        self.validate_literal(&args[0], validate::env_name);
        let default = args.get(1).map(|arg| Box::new(self.expect(arg, Want::String)));
        (Type::String, Expr { span: expr.span, kind: ExprKind::Env { name: Box::new(name), default } })
    }

    /// Checks `expr` against `want`, reporting a mismatch once.
    pub(super) fn expect(&mut self, expr: &ast::Expr, want: Want) -> Expr {
        let (ty, value) = self.expr(expr);
        if !want.accepts(&ty) {
            self.mismatch(expr, want, &ty);
        }
        value
    }

    fn mismatch(&mut self, expr: &ast::Expr, want: Want, found: &Type) {
        let binding = match &expr.kind {
            ast::ExprKind::Name(name) => self.scope.lookup(name).map(|id| (name.clone(), self.scope.def(id).span)),
            _ => None,
        };
        let help = match (want, found, &expr.kind) {
            (_, Type::Image, _) => Some("an `image` is built locally; push it first (`let pushed = push IMAGE to REPOSITORY { tags = [tag] }`) and use the pushed image".into()),
            (Want::Service, Type::String, _) => Some(r#"declare the service with `service NAME = "…"` and use NAME here"#.into()),
            (Want::Repository, Type::String, _) => Some(r#"declare the repository with `repository NAME = "…"` and use NAME here"#.into()),
            (Want::String | Want::ImageRefOrString | Want::TaskDefinitionOrString, Type::Int, ast::ExprKind::Int(n)) => Some(format!("quote it: \"{n}\"")),
            (Want::String | Want::ImageRefOrString | Want::TaskDefinitionOrString, Type::Bool, ast::ExprKind::Bool(b)) => Some(format!("quote it: \"{b}\"")),
            (Want::Int, Type::String, kind) if kind.as_literal_str().is_some_and(|s| s.parse::<i64>().is_ok()) => Some("remove the quotes".into()),
            (Want::Duration, Type::Int, ast::ExprKind::Int(n)) => Some(format!("add a unit: `{n}s` or `{n}m`")),
            (Want::StringList, Type::String, _) => Some("put it in a list: `[…]`".into()),
            (Want::TaskDefinitionOrString, Type::ImageRef, _) => Some("register a task definition that uses the image: `let td = register from SERVICE { container \"NAME\" { image = … } }`".into()),
            _ => None,
        };
        let (bound, bound_label) = match binding {
            Some((name, span)) => (Some(span), format!("`{name}` is bound here")),
            None => (None, String::new()),
        };
        self.errors.push(CheckError::TypeMismatch {
            expected: want.to_string(),
            found: found.to_string(),
            span: expr.span,
            bound,
            bound_label,
            help,
        });
    }

    /// An enumerated attribute: a bare word from `words`.
    pub(super) fn word(
        &mut self,
        expr: &ast::Expr,
        attribute: &str,
        words: &'static [&'static str],
    ) -> Option<&'static str> {
        let listed = Want::Word(words).to_string();
        match &expr.kind {
            ast::ExprKind::Name(word) => {
                if let Some(found) = words.iter().find(|w| **w == word) {
                    return Some(found);
                }
                let help = match suggest::nearest(word, words.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`? `{attribute}` takes {listed}"),
                    None => format!("`{attribute}` takes {listed}"),
                };
                self.invalid(
                    expr.span,
                    format!("`{word}` is not a value of `{attribute}`"),
                    format!("expected {listed}"),
                    Some(help),
                );
            }
            kind => {
                let help = match kind.as_literal_str() {
                    Some(text) if words.contains(&text.as_str()) => format!("remove the quotes: `{text}`"),
                    _ => format!("`{attribute}` takes {listed}, written without quotes"),
                };
                self.expr(expr);
                self.invalid(
                    expr.span,
                    format!("`{attribute}` takes a bare word"),
                    format!("expected {listed}"),
                    Some(help),
                );
            }
        }
        None
    }

    pub(super) fn invalid(
        &mut self,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.errors.push(CheckError::InvalidValue { message: message.into(), span, label: label.into(), help });
    }

    pub(super) fn validate_literal(&mut self, expr: &ast::Expr, check: fn(&str) -> Result<(), validate::Invalid>) {
        if let Some(text) = expr.kind.as_literal_str() {
            if let Err(problem) = check(&text) {
                self.invalid(expr.span, problem.message, "invalid value", problem.help);
            }
        }
    }

    /// An int known before run time: a literal, or an int param's default.
    pub(super) fn const_int(&self, expr: &ast::Expr) -> Option<(i64, Option<String>)> {
        match &expr.kind {
            ast::ExprKind::Int(n) => Some((*n, None)),
            ast::ExprKind::Name(name) => {
                let def = self.scope.def(self.scope.lookup(name)?);
                def.int_default.map(|n| (n, Some(name.clone())))
            }
            _ => None,
        }
    }

    /// A service operand: checked against `service`, resolved to its binding;
    /// `None` when it is not a service, which is reported.
    pub(super) fn service(&mut self, expr: &ast::Expr) -> Option<BindingId> {
        let value = self.expect(expr, Want::Service);
        match value.kind {
            ExprKind::Binding(id) if self.scope.def(id).kind == DefKind::Service => Some(id),
            _ => None,
        }
    }
}
