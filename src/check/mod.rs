//! The checker: resolves every name, types every value, applies the rules of
//! docs/language.md, and turns the syntax tree into a checked [`Pipeline`].
//!
//! It records each mistake and substitutes [`Type::Invalid`] for the value in
//! question, so one mistake gives one diagnostic and every independent mistake
//! of a file is reported in one run.

pub mod error;
pub mod pipeline;
mod schema;
mod taskdef;
pub mod types;
mod validate;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use crate::suggest;
use crate::syntax::ast::{self, Block, BlockItem, Expr, ExprKind, Ident, Item, LetValue, Span, StepKind, StrPart};
pub use error::CheckError;
use pipeline::*;
use schema::Attr;
use types::{Type, Want};

/// What the checker needs to know about where the file lives.
pub struct Context<'a> {
    /// Relative paths in the pipeline (build contexts, task definition files)
    /// are resolved against this directory: where ecsflow runs.
    pub base_dir: &'a Path,
    /// The pipeline's name when it has no `pipeline "…"` line: the file's stem.
    pub default_name: String,
}

pub struct Outcome {
    /// The checked pipeline, when the file has no error (warnings allowed).
    pub pipeline: Option<Pipeline>,
    /// Errors and warnings, in the order they appear in the file.
    pub diagnostics: Vec<CheckError>,
}

pub fn check(file: &ast::File, context: &Context<'_>) -> Outcome {
    Checker::new(context).run(file)
}

/// Stands in for a binding that failed to resolve; the pipeline is never
/// produced when one is used, since resolving failed with an error.
const UNRESOLVED: BindingId = BindingId(usize::MAX);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefKind {
    Param,
    Service,
    Repository,
    Let,
    LetStep,
}

struct Def {
    name: String,
    span: Span,
    ty: Type,
    kind: DefKind,
    used: bool,
    /// Container names of a task definition registered from a file.
    containers: Option<(Vec<String>, Span)>,
    /// An int param's literal default, for the rollout arithmetic.
    int_default: Option<i64>,
    /// `let w = web`: uses of `w` are uses of `web`.
    alias_of: Option<BindingId>,
}

/// The checked attributes of one block.
struct Attrs<'e> {
    values: Vec<(&'static str, Value, &'e Expr)>,
    words: Vec<(&'static str, &'static str)>,
    containers: Vec<ContainerOverride>,
}

impl<'e> Attrs<'e> {
    fn value(&self, name: &str) -> Option<Value> {
        self.values.iter().find(|(n, ..)| *n == name).map(|(_, v, _)| v.clone())
    }

    fn expr(&self, name: &str) -> Option<&'e Expr> {
        self.values.iter().find(|(n, ..)| *n == name).map(|(.., e)| *e)
    }

    fn word(&self, name: &str) -> Option<&'static str> {
        self.words.iter().find(|(n, _)| *n == name).map(|(_, w)| *w)
    }
}

struct Checker<'c> {
    context: &'c Context<'c>,
    errors: Vec<CheckError>,
    defs: Vec<Def>,
    bindings: Vec<Binding>,
    /// Names visible at this point of the walk.
    scope: HashMap<String, BindingId>,
    /// Every name the main flow defines, with its first definition.
    everywhere: HashMap<String, Span>,
    /// Names bound inside `on-failure`, which the main flow cannot see.
    on_failure_names: HashMap<String, Span>,
    /// Names used above their definition (already reported).
    used_early: HashSet<String>,
    /// Bindings made inside each enclosing `parallel` block.
    parallel_bindings: Vec<HashMap<String, BindingId>>,
    /// Services each enclosing `parallel` block touches, with the step.
    parallel_services: Vec<HashMap<BindingId, (Span, &'static str)>>,
    singletons: HashMap<&'static str, Span>,
    pipeline_name: Option<String>,
    region: Option<Value>,
    cluster: Option<Value>,
    in_on_failure: bool,
    /// Main flow: suspended services not yet resumed.
    suspended: Vec<(BindingId, Span)>,
    /// Main flow: services updated so far.
    updated: HashSet<BindingId>,
    /// Services updated or rolled back in the main flow, and anywhere.
    deployed_main: HashSet<BindingId>,
    deployed_any: HashSet<BindingId>,
    /// Each `await-stable` service, and whether it is in `on-failure`.
    awaits: Vec<(BindingId, Span, bool)>,
}

impl<'c> Checker<'c> {
    fn new(context: &'c Context<'c>) -> Self {
        Checker {
            context,
            errors: Vec::new(),
            defs: Vec::new(),
            bindings: Vec::new(),
            scope: HashMap::new(),
            everywhere: HashMap::new(),
            on_failure_names: HashMap::new(),
            used_early: HashSet::new(),
            parallel_bindings: Vec::new(),
            parallel_services: Vec::new(),
            singletons: HashMap::new(),
            pipeline_name: None,
            region: None,
            cluster: None,
            in_on_failure: false,
            suspended: Vec::new(),
            updated: HashSet::new(),
            deployed_main: HashSet::new(),
            deployed_any: HashSet::new(),
            awaits: Vec::new(),
        }
    }

    fn run(mut self, file: &ast::File) -> Outcome {
        self.collect_names(&file.items, false);
        let mut on_failure_blocks: Vec<&[Item]> = Vec::new();
        let mut steps = Vec::new();
        for item in &file.items {
            if let Item::OnFailure { keyword, steps: block } = item {
                // A second block is reported, and its steps checked all the same.
                self.singleton("on-failure", *keyword);
                on_failure_blocks.push(block);
            } else if let Some(step) = self.item(item) {
                steps.push(step);
            }
        }
        for (service, span) in std::mem::take(&mut self.suspended) {
            let name = self.defs[service.0].name.clone();
            self.errors.push(CheckError::ScalingNotResumed {
                help: format!("add `resume-scaling {name}` after the service's `await-stable`; on a failure ecsflow resumes it by itself"),
                service: name,
                span,
            });
        }
        // on-failure runs after any step, so it sees every name of the file.
        self.in_on_failure = true;
        let mut on_failure = Vec::new();
        for (index, items) in on_failure_blocks.into_iter().enumerate() {
            let checked = self.items(items);
            if index == 0 {
                on_failure = checked;
            }
        }
        self.warn_awaits();
        self.warn_unused();

        self.errors.sort_by_key(CheckError::position);
        let has_error = self.errors.iter().any(|e| !e.is_warning());
        let pipeline = (!has_error).then(|| Pipeline {
            name: self.pipeline_name.unwrap_or_else(|| self.context.default_name.clone()),
            region: self.region,
            cluster: self.cluster,
            bindings: self.bindings,
            steps,
            on_failure,
        });
        Outcome { pipeline, diagnostics: self.errors }
    }

    fn collect_names(&mut self, items: &[Item], in_on_failure: bool) {
        for item in items {
            let name = match item {
                Item::Param { name, .. }
                | Item::Service { name, .. }
                | Item::Repository { name, .. }
                | Item::Let { name, .. } => Some(name),
                Item::Step(ast::Step { kind: StepKind::Parallel { steps }, .. }) => {
                    self.collect_names(steps, in_on_failure);
                    None
                }
                Item::OnFailure { steps, .. } => {
                    self.collect_names(steps, true);
                    None
                }
                _ => None,
            };
            if let Some(name) = name {
                let names = if in_on_failure { &mut self.on_failure_names } else { &mut self.everywhere };
                names.entry(name.name.clone()).or_insert(name.span);
            }
        }
    }

    /// Records a declaration that may appear once per file; false if repeated.
    fn singleton(&mut self, what: &'static str, span: Span) -> bool {
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

    fn items(&mut self, items: &[Item]) -> Vec<Step> {
        items.iter().filter_map(|item| self.item(item)).collect()
    }

    fn item(&mut self, item: &Item) -> Option<Step> {
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
                self.define(name, DefKind::Service, Type::Service, BindingKind::Service { name: checked });
                None
            }
            Item::Repository { name, value } => {
                let checked = self.expect(value, Want::String);
                self.validate_literal(value, validate::repository);
                self.define(name, DefKind::Repository, Type::Repository, BindingKind::Repository { name: checked });
                None
            }
            Item::Let { name, value: LetValue::Expr(expr) } => {
                let (ty, value) = self.expr(expr);
                let target = match value.kind {
                    ValueKind::Binding(target) if target != UNRESOLVED => Some(target),
                    _ => None,
                };
                let id = self.define(name, DefKind::Let, ty, BindingKind::Value(value));
                if let Some(target) = target {
                    // An alias: its uses are uses of the original, so every
                    // rule (scaling, rollback, parallel) sees one service.
                    self.defs[id.0].alias_of = Some(target);
                    self.defs[id.0].kind = self.defs[target.0].kind;
                    self.defs[id.0].containers = self.defs[target.0].containers.clone();
                    self.defs[id.0].int_default = self.defs[target.0].int_default;
                }
                None
            }
            Item::Let { name, value: LetValue::Step(step) } => {
                let (mut checked, ty, containers) = self.step(step);
                let id = self.define(name, DefKind::LetStep, ty, BindingKind::StepResult);
                self.defs[id.0].containers = containers;
                checked.binds = Some(id);
                Some(checked)
            }
            Item::Step(step) => Some(self.step(step).0),
            // The lowering reports a nested `on-failure`; the top level is handled in `run`.
            Item::OnFailure { .. } => None,
        }
    }

    fn param(&mut self, name: &Ident, ty: Option<&Ident>, default: Option<&Expr>) {
        let mut unknown_type = false;
        let param_type = match ty.map(|t| t.name.as_str()) {
            None | Some("string") => ParamType::String,
            Some("int") => ParamType::Int,
            Some("bool") => ParamType::Bool,
            Some("duration") => ParamType::Duration,
            Some(other) => {
                let ty = ty.expect("matched Some");
                unknown_type = true;
                let help = match suggest::nearest(other, ["string", "int", "bool", "duration"]) {
                    Some(near) => format!("did you mean `{near}`? params are `string`, `int`, `bool` or `duration`"),
                    None => "params are `string`, `int`, `bool` or `duration`".into(),
                };
                self.invalid(ty.span, format!("unknown param type `{other}`"), "unknown type", Some(help));
                ParamType::String
            }
        };
        let (want, mut ty) = match param_type {
            _ if unknown_type => (Want::String, Type::Invalid),
            ParamType::String => (Want::String, Type::String),
            ParamType::Int => (Want::Int, Type::Int),
            ParamType::Bool => (Want::Bool, Type::Bool),
            ParamType::Duration => (Want::Duration, Type::Duration),
        };
        let mut int_default = None;
        let default = default.map(|expr| match &expr.kind {
            // `env()` gives text; it is converted to the param's type at run time.
            ExprKind::Call { args, .. } => {
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
                    if let ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::Duration(_) = expr.kind {
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
                if let ExprKind::Int(n) = expr.kind {
                    int_default = Some(n);
                }
                if unknown_type {
                    return self.expr(expr).1;
                }
                self.expect(expr, want)
            }
        });
        let id = self.define(name, DefKind::Param, ty, BindingKind::Param { ty: param_type, default });
        self.defs[id.0].int_default = int_default;
    }

    /// A param's value given as text (an `env()` default, later `--param`).
    fn check_param_text(&mut self, ty: ParamType, text: &str, span: Span) {
        let ok = match ty {
            ParamType::String => true,
            ParamType::Int => text.trim().parse::<i64>().is_ok(),
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
                    ParamType::Bool => "write \"true\" or \"false\"".into(),
                    _ => "write a duration, such as \"10m\"".into(),
                }),
            );
        }
    }

    fn define(&mut self, name: &Ident, kind: DefKind, ty: Type, binding: BindingKind) -> BindingId {
        let id = BindingId(self.defs.len());
        let earlier = self
            .parallel_bindings
            .iter()
            .rev()
            .find_map(|block| block.get(&name.name))
            .or_else(|| self.scope.get(&name.name))
            .copied();
        let used = self.used_early.contains(&name.name);
        self.defs.push(Def {
            name: name.name.clone(),
            span: name.span,
            ty,
            kind,
            used,
            containers: None,
            int_default: None,
            alias_of: None,
        });
        self.bindings.push(Binding { name: name.name.clone(), span: name.span, kind: binding });
        if let Some(earlier) = earlier {
            let first = self.defs[earlier.0].span;
            self.errors.push(CheckError::DuplicateName {
                name: name.name.clone(),
                span: name.span,
                first,
                help: "rename one of them; every name in a pipeline is defined once".into(),
            });
            // The duplicate is reported; don't also call it unused.
            self.defs[id.0].used = true;
        } else if let Some(block) = self.parallel_bindings.last_mut() {
            block.insert(name.name.clone(), id);
        } else {
            self.scope.insert(name.name.clone(), id);
        }
        id
    }

    /// Marks a binding used and returns the binding it stands for.
    fn use_binding(&mut self, mut id: BindingId) -> BindingId {
        self.defs[id.0].used = true;
        while let Some(target) = self.defs[id.0].alias_of {
            id = target;
            self.defs[id.0].used = true;
        }
        id
    }

    fn resolve(&mut self, name: &str, span: Span) -> Option<BindingId> {
        if let Some(bound) = self.parallel_bindings.iter().find_map(|block| block.get(name)).copied() {
            let id = self.use_binding(bound);
            self.errors.push(CheckError::ParallelConflict {
                message: format!("`{name}` is bound in the same `parallel` block that uses it"),
                span,
                label: "used here".into(),
                other: self.defs[bound.0].span,
                other_label: "bound here, at the same time".into(),
                help: format!(
                    "the steps of `parallel` run at the same time; move the step that uses `{name}` after the block"
                ),
            });
            return Some(id);
        }
        if let Some(id) = self.scope.get(name).copied() {
            return Some(self.use_binding(id));
        }
        if self.on_failure_names.contains_key(name) && !self.in_on_failure && !self.everywhere.contains_key(name) {
            self.errors.push(CheckError::UnknownName {
                name: name.into(),
                span,
                help: Some(format!(
                    "`{name}` is bound inside `on-failure`, which runs only after a failure; bind it in the main flow to use it here"
                )),
            });
            return None;
        }
        let later = self.everywhere.get(name).or_else(|| self.on_failure_names.get(name)).copied();
        if let Some(defined) = later {
            self.used_early.insert(name.to_string());
            self.errors.push(CheckError::UseBeforeDefinition {
                name: name.into(),
                span,
                defined,
                help: format!("move the definition of `{name}` above its first use; steps run from top to bottom"),
            });
            return None;
        }
        let candidates: Vec<&str> = self.everywhere.keys().map(String::as_str).collect();
        let candidates = if self.in_on_failure {
            candidates.into_iter().chain(self.on_failure_names.keys().map(String::as_str)).collect()
        } else {
            candidates
        };
        let help = if let Some(near) = suggest::nearest(name, candidates) {
            // The user meant `near`: don't also report it unused.
            if let Some(id) = self.scope.get(near).copied() {
                self.defs[id.0].used = true;
            } else {
                self.used_early.insert(near.to_string());
            }
            Some(format!("did you mean `{near}`?"))
        } else if crate::syntax::KEYWORDS.contains(&name) {
            Some(format!("`{name}` is a keyword, not a value"))
        } else {
            Some(format!("define it first, for example `param {name} = \"…\"` or `let {name} = …`"))
        };
        self.errors.push(CheckError::UnknownName { name: name.into(), span, help });
        None
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, expr: &Expr) -> (Type, Value) {
        let span = expr.span;
        let (ty, kind) = match &expr.kind {
            ExprKind::Str(parts) => {
                let mut checked = Vec::new();
                for part in parts {
                    match part {
                        StrPart::Text(text) => checked.push(Part::Text(text.clone())),
                        StrPart::Interpolation(ident) => {
                            let Some(id) = self.resolve(&ident.name, ident.span) else { continue };
                            let ty = self.defs[id.0].ty.clone();
                            if !ty.interpolates() {
                                self.errors.push(CheckError::TypeMismatch {
                                    expected: "a value with a text form".into(),
                                    found: ty.to_string(),
                                    span: ident.span,
                                    bound: Some(self.defs[id.0].span),
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
                (Type::String, ValueKind::Str(checked))
            }
            ExprKind::Int(n) => (Type::Int, ValueKind::Int(*n)),
            ExprKind::Bool(b) => (Type::Bool, ValueKind::Bool(*b)),
            ExprKind::Duration(d) => (Type::Duration, ValueKind::Duration(*d)),
            ExprKind::List(items) => {
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
                (Type::List(Box::new(element)), ValueKind::List(values))
            }
            ExprKind::Map(entries) => {
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
                (Type::Map, ValueKind::Map(values))
            }
            ExprKind::Call { callee, args } => return self.call(expr, callee, args),
            ExprKind::Name(name) => match self.resolve(name, span) {
                Some(id) => (self.defs[id.0].ty.clone(), ValueKind::Binding(id)),
                None => (Type::Invalid, ValueKind::Binding(UNRESOLVED)),
            },
        };
        (ty, Value { span, kind })
    }

    fn call(&mut self, expr: &Expr, callee: &Ident, args: &[Expr]) -> (Type, Value) {
        let placeholder = Value { span: expr.span, kind: ValueKind::Str(Vec::new()) };
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
        (Type::String, Value { span: expr.span, kind: ValueKind::Env { name: Box::new(name), default } })
    }

    /// Checks `expr` against `want`, reporting a mismatch once.
    fn expect(&mut self, expr: &Expr, want: Want) -> Value {
        let (ty, value) = self.expr(expr);
        if !want.accepts(&ty) {
            self.mismatch(expr, want, &ty);
        }
        value
    }

    fn mismatch(&mut self, expr: &Expr, want: Want, found: &Type) {
        let binding = match &expr.kind {
            ExprKind::Name(name) => self.scope.get(name).map(|id| (name.clone(), self.defs[id.0].span)),
            _ => None,
        };
        let help = match (want, found, &expr.kind) {
            (_, Type::Image, _) => Some("an `image` is built locally; push it first (`let pushed = push IMAGE to REPOSITORY { tags = [tag] }`) and use the pushed image".into()),
            (Want::Service, Type::String, _) => Some(r#"declare the service with `service NAME = "…"` and use NAME here"#.into()),
            (Want::Repository, Type::String, _) => Some(r#"declare the repository with `repository NAME = "…"` and use NAME here"#.into()),
            (Want::String | Want::ImageRefOrString | Want::TaskDefinitionOrString, Type::Int, ExprKind::Int(n)) => Some(format!("quote it: \"{n}\"")),
            (Want::String | Want::ImageRefOrString | Want::TaskDefinitionOrString, Type::Bool, ExprKind::Bool(b)) => Some(format!("quote it: \"{b}\"")),
            (Want::Int, Type::String, kind) if kind.as_literal_str().is_some_and(|s| s.parse::<i64>().is_ok()) => Some("remove the quotes".into()),
            (Want::Duration, Type::Int, ExprKind::Int(n)) => Some(format!("add a unit: `{n}s` or `{n}m`")),
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
    fn word(&mut self, expr: &Expr, attribute: &str, words: &'static [&'static str]) -> Option<&'static str> {
        let listed = Want::Word(words).to_string();
        match &expr.kind {
            ExprKind::Name(word) => {
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

    fn invalid(&mut self, span: Span, message: impl Into<String>, label: impl Into<String>, help: Option<String>) {
        self.errors.push(CheckError::InvalidValue { message: message.into(), span, label: label.into(), help });
    }

    fn validate_literal(&mut self, expr: &Expr, check: fn(&str) -> Result<(), validate::Invalid>) {
        if let Some(text) = expr.kind.as_literal_str() {
            if let Err(problem) = check(&text) {
                self.invalid(expr.span, problem.message, "invalid value", problem.help);
            }
        }
    }

    /// An int known before run time: a literal, or an int param's default.
    fn const_int(&self, expr: &Expr) -> Option<(i64, Option<String>)> {
        match &expr.kind {
            ExprKind::Int(n) => Some((*n, None)),
            ExprKind::Name(name) => {
                let def = &self.defs[self.scope.get(name)?.0];
                def.int_default.map(|n| (n, Some(name.clone())))
            }
            _ => None,
        }
    }

    /// A service operand: checked against `service`, resolved to its binding.
    fn service(&mut self, expr: &Expr) -> BindingId {
        let value = self.expect(expr, Want::Service);
        match value.kind {
            ValueKind::Binding(id) if id != UNRESOLVED && self.defs[id.0].kind == DefKind::Service => id,
            _ => UNRESOLVED,
        }
    }

    // ----------------------------------------------------------------- blocks

    fn block<'e>(
        &mut self,
        step: &str,
        keyword: Span,
        block: Option<&'e Block>,
        attrs: &'static [Attr],
        container_attrs: Option<&'static [Attr]>,
    ) -> Attrs<'e> {
        let mut out = Attrs { values: Vec::new(), words: Vec::new(), containers: Vec::new() };
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut seen_containers: HashMap<String, Span> = HashMap::new();
        for item in block.map(|b| b.items.as_slice()).unwrap_or_default() {
            match item {
                BlockItem::Attribute(attribute) => {
                    let name = &attribute.name;
                    let Some(spec) = attrs.iter().find(|a| a.name == name.name) else {
                        self.unknown_attribute(step, name, attrs, container_attrs.is_some());
                        self.expr(&attribute.value);
                        continue;
                    };
                    if let Some(first) = seen.insert(spec.name, name.span) {
                        self.errors.push(CheckError::DuplicateAttribute {
                            what: "attribute",
                            name: name.name.clone(),
                            span: name.span,
                            first,
                        });
                        continue;
                    }
                    match spec.want {
                        Want::Word(words) => {
                            if let Some(word) = self.word(&attribute.value, spec.name, words) {
                                out.words.push((spec.name, word));
                            }
                        }
                        want => {
                            let value = self.expect(&attribute.value, want);
                            out.values.push((spec.name, value, &attribute.value));
                        }
                    }
                }
                BlockItem::Container(container) => {
                    let Some(inner_attrs) = container_attrs else {
                        let help = format!(
                            "container blocks belong to `register` and `run-task`; `{step}` takes {}",
                            list_attrs(attrs)
                        );
                        self.errors.push(CheckError::UnknownAttribute {
                            step: step.into(),
                            name: "container".into(),
                            span: container.keyword,
                            help,
                        });
                        continue;
                    };
                    let name = match container.name.kind.as_literal_str() {
                        Some(name) if !name.is_empty() => name,
                        _ => {
                            self.expr(&container.name);
                            self.invalid(
                                container.name.span,
                                "a container's name must be written out",
                                "not a plain string",
                                Some(r#"write `container "web" { … }`"#.into()),
                            );
                            String::new()
                        }
                    };
                    if !name.is_empty() {
                        if let Some(first) = seen_containers.insert(name.clone(), container.name.span) {
                            self.errors.push(CheckError::DuplicateAttribute {
                                what: "container",
                                name: name.clone(),
                                span: container.name.span,
                                first,
                            });
                        }
                    }
                    let label = format!("container \"{name}\"");
                    let inner = self.block(&label, container.keyword, Some(&container.block), inner_attrs, None);
                    out.containers.push(ContainerOverride {
                        name,
                        span: container.name.span,
                        image: inner.value("image"),
                        env: inner.value("env"),
                        secrets: inner.value("secrets"),
                        command: inner.value("command"),
                    });
                }
            }
        }
        for spec in attrs.iter().filter(|a| a.required && !seen.contains_key(a.name)) {
            let example = match spec.want {
                Want::StringList => format!("{} = [tag]", spec.name),
                _ => format!("{} = …", spec.name),
            };
            let help = match block {
                Some(_) => format!("add `{example}` to the block"),
                None => format!("add a block: `{step} … {{ {example} }}`"),
            };
            self.errors.push(CheckError::MissingAttribute {
                step: step.into(),
                name: spec.name.into(),
                span: keyword,
                help,
            });
        }
        out
    }

    fn unknown_attribute(&mut self, step: &str, name: &Ident, attrs: &[Attr], takes_containers: bool) {
        let mut candidates: Vec<&str> = attrs.iter().map(|a| a.name).collect();
        if takes_containers {
            candidates.push("container");
        }
        let help = if let Some(near) = suggest::nearest(&name.name, candidates.iter().copied()) {
            format!("did you mean `{near}`?")
        } else if let Some(owner) = schema::owner_of(&name.name) {
            format!("`{}` belongs to `{owner}`; `{step}` takes {}", name.name, list_attrs(attrs))
        } else if let Some((near, owner)) =
            suggest::nearest(&name.name, schema::all_names()).and_then(|near| Some((near, schema::owner_of(near)?)))
        {
            format!("did you mean `{near}`? it belongs to `{owner}`; `{step}` takes {}", list_attrs(attrs))
        } else if attrs.is_empty() {
            format!("`{step}` takes no attributes")
        } else {
            format!("`{step}` takes {}", list_attrs(attrs))
        };
        self.errors.push(CheckError::UnknownAttribute {
            step: step.into(),
            name: name.name.clone(),
            span: name.span,
            help,
        });
    }

    // ------------------------------------------------------------------ steps

    /// Checks a step; returns it with the type of its value and, for a
    /// `register file`, the containers the file defines.
    #[allow(clippy::type_complexity)]
    fn step(&mut self, step: &ast::Step) -> (Step, Type, Option<(Vec<String>, Span)>) {
        let keyword = step.keyword;
        let name = step.kind.keyword();
        let mut ty = Type::Invalid;
        let mut containers = None;
        let action = match &step.kind {
            StepKind::Build { context, block } => {
                ty = Type::Image;
                Action::Build(self.build(keyword, context, block.as_ref()))
            }
            StepKind::Push { image, repository, block } => {
                ty = Type::ImageRef;
                let image = self.expect(image, Want::Image);
                let repository_value = self.expect(repository, Want::Repository);
                let repository = match repository_value.kind {
                    ValueKind::Binding(id) => id,
                    _ => UNRESOLVED,
                };
                let attrs = self.block(name, keyword, block.as_ref(), schema::PUSH, None);
                if let Some(tags) = attrs.expr("tags") {
                    self.check_tags(tags);
                }
                let tags = attrs.value("tags").unwrap_or(Value { span: keyword, kind: ValueKind::List(Vec::new()) });
                Action::Push(Push { image, repository, tags })
            }
            StepKind::Register { base, block } => {
                ty = Type::TaskDefinition;
                let (register, file_containers) = self.register(keyword, base, block.as_ref());
                containers = file_containers;
                Action::Register(register)
            }
            StepKind::SuspendScaling { service } => {
                let service = self.service(service);
                self.touch(service, keyword, "suspend-scaling");
                if !self.in_on_failure && service != UNRESOLVED {
                    self.suspended.push((service, step.span));
                }
                Action::SuspendScaling { service }
            }
            StepKind::ResumeScaling { service } => {
                let service = self.service(service);
                self.touch(service, keyword, "resume-scaling");
                if !self.in_on_failure {
                    self.suspended.retain(|(s, _)| *s != service);
                }
                Action::ResumeScaling { service }
            }
            StepKind::Update { service, block } => Action::Update(self.update(keyword, service, block.as_ref())),
            StepKind::AwaitStable { services, block } => {
                let mut ids = Vec::new();
                let mut listed: HashMap<BindingId, Span> = HashMap::new();
                for expr in services {
                    let id = self.service(expr);
                    if id == UNRESOLVED {
                        continue;
                    }
                    if let Some(first) = listed.insert(id, expr.span) {
                        let name = self.defs[id.0].name.clone();
                        self.errors.push(CheckError::DuplicateAttribute {
                            what: "service",
                            name,
                            span: expr.span,
                            first,
                        });
                        continue;
                    }
                    self.touch(id, keyword, "await-stable");
                    self.awaits.push((id, expr.span, self.in_on_failure));
                    ids.push(id);
                }
                let attrs = self.block(name, keyword, block.as_ref(), schema::AWAIT_STABLE, None);
                self.positive_duration(attrs.expr("timeout"), "timeout");
                Action::AwaitStable { services: ids, timeout: attrs.value("timeout") }
            }
            StepKind::RunTask { task_definition, block } => {
                ty = Type::Task;
                Action::RunTask(self.run_task(keyword, task_definition, block.as_ref()))
            }
            StepKind::Rollback { service, to } => {
                let id = self.service(service);
                self.touch(id, keyword, "rollback");
                let to = to.as_ref().map(|expr| self.expect(expr, Want::TaskDefinitionOrString));
                if id != UNRESOLVED {
                    if !self.in_on_failure && to.is_none() && !self.updated.contains(&id) {
                        let service_name = self.defs[id.0].name.clone();
                        self.errors.push(CheckError::NothingToRollBack {
                            help: format!("update `{service_name}` before rolling it back, or name the revision: `rollback {service_name} to TASKDEF`; on failures, put `rollback` in `on-failure`"),
                            service: service_name,
                            span: step.span,
                        });
                    }
                    self.deployed(id);
                }
                Action::Rollback { service: id, to }
            }
            StepKind::Prune { task_definition, keep } => {
                let task_definition = self.expect(task_definition, Want::TaskDefinitionOrString);
                let keep_value = self.expect(keep, Want::Int);
                if let Some((n, _)) = self.const_int(keep) {
                    if n < 1 {
                        self.invalid(
                            keep.span,
                            format!("`prune` must keep at least 1 revision, found {n}"),
                            "keeps nothing",
                            Some(
                                "write `keep 1` or more; the live revision and the rollback target are always kept"
                                    .into(),
                            ),
                        );
                    }
                }
                Action::Prune { task_definition, keep: keep_value }
            }
            StepKind::Parallel { steps } => {
                self.parallel_bindings.push(HashMap::new());
                self.parallel_services.push(HashMap::new());
                let checked = self.items(steps);
                let bound = self.parallel_bindings.pop().unwrap_or_default();
                let touched = self.parallel_services.pop().unwrap_or_default();
                match self.parallel_bindings.last_mut() {
                    Some(outer) => outer.extend(bound),
                    None => self.scope.extend(bound),
                }
                if let Some(outer) = self.parallel_services.last_mut() {
                    outer.extend(touched);
                }
                Action::Parallel(checked)
            }
        };
        (Step { keyword, span: step.span, binds: None, action }, ty, containers)
    }

    fn deployed(&mut self, service: BindingId) {
        if !self.in_on_failure {
            self.deployed_main.insert(service);
        }
        self.deployed_any.insert(service);
    }

    /// Two steps of one `parallel` block must not work on the same service.
    fn touch(&mut self, service: BindingId, span: Span, step: &'static str) {
        if service == UNRESOLVED || self.parallel_services.is_empty() {
            return;
        }
        let earlier = self.parallel_services.iter().find_map(|block| block.get(&service)).copied();
        if let Some((other, other_step)) = earlier {
            let name = self.defs[service.0].name.clone();
            self.errors.push(CheckError::ParallelConflict {
                message: format!("two steps of one `parallel` block work on `{name}`"),
                span,
                label: format!("`{step}` here"),
                other,
                other_label: format!("`{other_step}` here"),
                help: format!(
                    "the steps of `parallel` run at the same time; move one of the steps on `{name}` out of the block"
                ),
            });
        } else if let Some(block) = self.parallel_services.last_mut() {
            block.insert(service, (span, step));
        }
    }

    fn build(&mut self, keyword: Span, context: &Expr, block: Option<&Block>) -> Build {
        let context_value = self.expect(context, Want::String);
        let attrs = self.block("build", keyword, block, schema::BUILD, None);
        if let Some(platform) = attrs.expr("platform") {
            self.validate_literal(platform, validate::platform);
        }
        if let Some(path) = context.kind.as_literal_str() {
            let dir = self.context.base_dir.join(&path);
            if !dir.is_dir() {
                let problem = if dir.exists() { "is not a directory" } else { "does not exist" };
                self.errors.push(CheckError::MissingPath {
                    what: "build context",
                    path,
                    problem,
                    span: context.span,
                    help: "paths are relative to the directory ecsflow runs in: the repository root in CI and in pre-commit".into(),
                });
            } else {
                let (dockerfile, span) = match attrs.expr("dockerfile") {
                    Some(expr) => (expr.kind.as_literal_str(), expr.span),
                    None => (Some("Dockerfile".to_string()), context.span),
                };
                if let Some(dockerfile) = dockerfile {
                    if !dir.join(&dockerfile).is_file() {
                        self.errors.push(CheckError::MissingPath {
                            what: "Dockerfile",
                            problem: "does not exist",
                            path: Path::new(&path).join(&dockerfile).display().to_string(),
                            span,
                            help: "`dockerfile` is relative to the build context; set `dockerfile = \"…\"` to the file's name".into(),
                        });
                    }
                }
            }
        }
        let builder = attrs.word("builder").map(|word| match word {
            "docker" => Builder::Docker,
            "podman" => Builder::Podman,
            _ => Builder::Buildah,
        });
        Build {
            context: context_value,
            dockerfile: attrs.value("dockerfile"),
            target: attrs.value("target"),
            build_args: attrs.value("build-args"),
            platform: attrs.value("platform"),
            builder,
        }
    }

    fn check_tags(&mut self, tags: &Expr) {
        let ExprKind::List(items) = &tags.kind else { return };
        if items.is_empty() {
            self.invalid(
                tags.span,
                "`tags` is empty",
                "no tags",
                Some("push needs at least one tag, such as the commit: `tags = [tag]`".into()),
            );
            return;
        }
        let mut seen: HashMap<String, Span> = HashMap::new();
        for item in items {
            let Some(text) = item.kind.as_literal_str() else { continue };
            if let Err(problem) = validate::tag(&text) {
                self.invalid(item.span, problem.message, "invalid tag", problem.help);
            } else if let Some(first) = seen.insert(text.clone(), item.span) {
                self.errors.push(CheckError::DuplicateAttribute { what: "tag", name: text, span: item.span, first });
            }
        }
        if items.len() == 1 && items[0].kind.as_literal_str().as_deref() == Some("latest") {
            self.errors.push(CheckError::LatestTagOnly { span: tags.span });
        }
    }

    #[allow(clippy::type_complexity)]
    fn register(
        &mut self,
        keyword: Span,
        base: &ast::RegisterBase,
        block: Option<&Block>,
    ) -> (Register, Option<(Vec<String>, Span)>) {
        let mut known = None;
        let base = match base {
            ast::RegisterBase::Service(expr) => Base::Service(self.service(expr)),
            ast::RegisterBase::Family(expr) => {
                let value = self.expect(expr, Want::String);
                self.validate_literal(expr, validate::family);
                Base::Family(value)
            }
            ast::RegisterBase::File(expr) => {
                let value = self.expect(expr, Want::String);
                if let Some(path) = expr.kind.as_literal_str() {
                    known = self.taskdef_file(&path, expr.span).map(|names| (names, expr.span));
                }
                Base::File(value)
            }
        };
        let attrs = self.block("register", keyword, block, schema::REGISTER, Some(schema::REGISTER_CONTAINER));
        for (attribute, check) in [("cpu", validate::cpu as fn(&str) -> _), ("memory", validate::memory)] {
            let Some(expr) = attrs.expr(attribute) else { continue };
            match &expr.kind {
                ExprKind::Int(n) if *n <= 0 => {
                    self.invalid(expr.span, format!("`{attribute}` must be positive, found {n}"), "not positive", None);
                }
                _ => self.validate_literal(expr, check),
            }
        }
        if let Some((names, base_span)) = &known {
            self.check_containers(&attrs.containers, names, *base_span);
        }
        let register =
            Register { base, cpu: attrs.value("cpu"), memory: attrs.value("memory"), containers: attrs.containers };
        (register, known)
    }

    fn taskdef_file(&mut self, path: &str, span: Span) -> Option<Vec<String>> {
        let full = self.context.base_dir.join(path);
        let (message, label, help) = match taskdef::read(&full) {
            Ok(file) => return Some(file.containers),
            Err(taskdef::TaskdefProblem::Missing) => (
                format!("task definition file `{path}` does not exist"),
                "not found".to_string(),
                format!("paths are relative to the directory ecsflow runs in; `aws ecs describe-task-definition --task-definition FAMILY > {path}` writes one"),
            ),
            Err(taskdef::TaskdefProblem::Unreadable(error)) => (format!("cannot read `{path}`: {error}"), "unreadable".into(), "check the file's permissions".into()),
            Err(taskdef::TaskdefProblem::NotJson(error)) => (format!("`{path}` is not JSON: {error}"), "not JSON".into(), "a task definition file is the JSON that RegisterTaskDefinition takes".into()),
            Err(taskdef::TaskdefProblem::NotTaskDefinition(why)) => (
                format!("`{path}` is not a task definition: {why}"),
                "not a task definition".into(),
                "a task definition has `containerDefinitions`, a list of containers each with a `name`".into(),
            ),
        };
        self.errors.push(CheckError::TaskdefFile { message, span, label, help: Some(help) });
        None
    }

    fn check_containers(&mut self, overrides: &[ContainerOverride], names: &[String], base: Span) {
        for container in overrides.iter().filter(|c| !c.name.is_empty()) {
            if names.contains(&container.name) {
                continue;
            }
            let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let help = match suggest::nearest(&container.name, names.iter().map(String::as_str)) {
                Some(near) => format!("did you mean `{near}`? the containers are {}", listed.join(", ")),
                None => format!("the containers are {}", listed.join(", ")),
            };
            self.errors.push(CheckError::UnknownContainer {
                name: container.name.clone(),
                span: container.span,
                base,
                help,
            });
        }
    }

    fn update(&mut self, keyword: Span, service: &Expr, block: Option<&Block>) -> Update {
        let service = self.service(service);
        self.touch(service, keyword, "update");
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
            if let ExprKind::Duration(d) = grace.kind {
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
        if service != UNRESOLVED {
            if !self.in_on_failure {
                self.updated.insert(service);
            }
            self.deployed(service);
        }
        let circuit_breaker = attrs.word("circuit-breaker").map(|word| match word {
            "off" => CircuitBreaker::Off,
            "on" => CircuitBreaker::On,
            _ => CircuitBreaker::Rollback,
        });
        Update {
            service,
            task_definition: attrs.value("task-definition"),
            desired_count: attrs.value("desired-count"),
            min_healthy_percent: attrs.value("min-healthy-percent"),
            max_percent: attrs.value("max-percent"),
            force_new_deployment: attrs.value("force-new-deployment"),
            circuit_breaker,
            health_check_grace: attrs.value("health-check-grace"),
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

    fn run_task(&mut self, keyword: Span, task_definition: &Expr, block: Option<&Block>) -> RunTask {
        let td = self.expect(task_definition, Want::TaskDefinitionOrString);
        let attrs = self.block("run-task", keyword, block, schema::RUN_TASK, Some(schema::RUN_TASK_CONTAINER));
        if let ValueKind::Binding(id) = td.kind {
            if id != UNRESOLVED {
                if let Some((names, base)) = self.defs[id.0].containers.clone() {
                    self.check_containers(&attrs.containers, &names, base);
                }
            }
        }
        let like = match attrs.value("like").map(|v| v.kind) {
            Some(ValueKind::Binding(id)) if id != UNRESOLVED => Some(id),
            _ => None,
        };
        self.positive_duration(attrs.expr("timeout"), "timeout");
        let wait = match attrs.word("wait") {
            Some("running") => Wait::Running,
            Some("none") => Wait::None,
            _ => Wait::Success,
        };
        RunTask { task_definition: td, like, wait, timeout: attrs.value("timeout"), containers: attrs.containers }
    }

    fn positive_duration(&mut self, expr: Option<&Expr>, attribute: &str) {
        if let Some(expr @ Expr { kind: ExprKind::Duration(d), .. }) = expr {
            if *d == Duration::ZERO {
                self.invalid(
                    expr.span,
                    format!("`{attribute}` must be longer than zero"),
                    "zero",
                    Some("write a duration such as `10m`".into()),
                );
            }
        }
    }

    // --------------------------------------------------------------- warnings

    fn warn_awaits(&mut self) {
        for (service, span, in_on_failure) in std::mem::take(&mut self.awaits) {
            // In the main flow only its own updates count: a rollback in
            // `on-failure` starts no deployment on the way to success.
            let deployed = if in_on_failure { &self.deployed_any } else { &self.deployed_main };
            if deployed.contains(&service) {
                continue;
            }
            let name = self.defs[service.0].name.clone();
            self.errors.push(CheckError::AwaitWithoutUpdate {
                help: format!("`await-stable` follows the deployment this run starts; add `update {name} {{ … }}` before it, or remove it"),
                service: name,
                span,
            });
        }
    }

    fn warn_unused(&mut self) {
        for def in &self.defs {
            if def.used || def.name.starts_with('_') {
                continue;
            }
            let help = match def.kind {
                DefKind::LetStep => format!(
                    "drop `let {} =` to run the step without keeping its result, or name it `_{}`",
                    def.name, def.name
                ),
                _ => format!("remove it, or name it `_{}` to keep it unused", def.name),
            };
            self.errors.push(CheckError::UnusedBinding { name: def.name.clone(), span: def.span, help });
        }
    }
}

fn list_attrs(attrs: &[Attr]) -> String {
    let names: Vec<String> = attrs.iter().map(|a| format!("`{}`", a.name)).collect();
    match names.as_slice() {
        [] => "no attributes".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
