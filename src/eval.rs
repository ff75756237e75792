//! Run-time values: params from `--param` and defaults, `env()`, services'
//! clusters and names, and step results as they become known.

use std::collections::HashMap;
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;

use crate::check::pipeline::{BindingId, BindingKind, Expr, ExprKind, ParamType, Part, Pipeline};
use crate::syntax::ast::Span;

/// An ECS service: the cluster it runs in and its name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceRef {
    pub cluster: String,
    pub name: String,
}

impl std::fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.cluster, self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Number(f64),
    Bool(bool),
    Duration(Duration),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
    Service(ServiceRef),
    /// A repository as declared: a name or a URI.
    Repository(String),
    /// A locally built image's ID.
    Image(String),
    /// `<repositoryUri>@sha256:…`
    ImageRef(String),
    /// A registered task definition's ARN.
    TaskDefinition(String),
    /// A task's ARN.
    Task(String),
}

impl Value {
    /// The text form, for interpolation and for places that take a string.
    pub fn text(&self) -> String {
        match self {
            Value::Str(s)
            | Value::Repository(s)
            | Value::Image(s)
            | Value::ImageRef(s)
            | Value::TaskDefinition(s)
            | Value::Task(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Number(x) => x.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Duration(d) => humantime::format_duration(*d).to_string(),
            Value::Service(s) => s.to_string(),
            Value::List(items) => items.iter().map(Value::text).collect::<Vec<_>>().join(","),
            Value::Map(entries) => {
                entries.iter().map(|(k, v)| format!("{k}={}", v.text())).collect::<Vec<_>>().join(",")
            }
        }
    }
}

/// A value that cannot be computed. Shown with the pipeline's source.
#[derive(Debug, Clone, Error, Diagnostic)]
pub enum EvalError {
    #[error("environment variable `{name}` is not set")]
    #[diagnostic(code("ecsflow::env-unset"))]
    EnvUnset {
        name: String,
        #[label("read here")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("param `{name}` has no value")]
    #[diagnostic(code("ecsflow::param-unset"))]
    ParamUnset {
        name: String,
        #[label("declared without a default")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("`{text}` is not a valid `{ty}` for param `{name}`")]
    #[diagnostic(code("ecsflow::param-type"))]
    ParamType {
        name: String,
        text: String,
        ty: &'static str,
        #[label("declared `{ty}` here")]
        span: Span,
        #[help]
        help: String,
    },

    #[error("this pipeline has no param `{name}`")]
    #[diagnostic(code("ecsflow::param-unknown"))]
    UnknownParam {
        name: String,
        #[help]
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code("ecsflow::invalid-value"))]
    Invalid {
        message: String,
        #[label("{label}")]
        span: Span,
        label: String,
    },
}

/// What is known about each binding so far.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    values: HashMap<BindingId, Value>,
}

/// Reads environment variables; a seam so tests and `plan` see the same world.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A value that depends on a step that has not run: evaluation stops there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown(pub BindingId);

pub enum Outcome {
    Known(Value),
    Unknown(Unknown),
}

impl Scope {
    pub fn get(&self, id: BindingId) -> Option<&Value> {
        self.values.get(&id)
    }

    pub fn set(&mut self, id: BindingId, value: Value) {
        self.values.insert(id, value);
    }

    /// The clusters of the pipeline's services, sorted, each once.
    pub fn clusters(&self) -> Vec<String> {
        let mut clusters: Vec<String> = self
            .values
            .values()
            .filter_map(|v| match v {
                Value::Service(s) => Some(s.cluster.clone()),
                _ => None,
            })
            .collect();
        clusters.sort();
        clusters.dedup();
        clusters
    }

    /// Binds every param, service and repository, and every `let` of a plain
    /// expression that does not wait on a step.
    pub fn start(
        pipeline: &Pipeline,
        params: &[(String, String)],
        env: &dyn Environment,
    ) -> Result<(Scope, ServiceDefaults), Vec<EvalError>> {
        let mut scope = Scope::default();
        let mut errors = Vec::new();
        for (name, _) in params {
            let declared =
                pipeline.bindings.iter().any(|b| b.name == *name && matches!(b.kind, BindingKind::Param { .. }));
            if !declared {
                let params: Vec<&str> = pipeline
                    .bindings
                    .iter()
                    .filter(|b| matches!(b.kind, BindingKind::Param { .. }))
                    .map(|b| b.name.as_str())
                    .collect();
                let help = match crate::suggest::nearest(name, params.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None if params.is_empty() => "the pipeline declares no params".into(),
                    None => format!(
                        "its params are {}",
                        params.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
                    ),
                };
                errors.push(EvalError::UnknownParam { name: name.clone(), help });
            }
        }
        // `cluster = "${stage}"` may use params: it is evaluated when the
        // first service needs it, after the params above that service.
        let text_of = |scope: &Scope, value: &Option<Expr>| -> Result<Option<String>, EvalError> {
            match value {
                Some(value) => match scope.eval(value, env)? {
                    Outcome::Known(v) => Ok(Some(v.text())),
                    Outcome::Unknown(_) => Ok(None),
                },
                None => Ok(None),
            }
        };
        let mut cluster: Option<Option<String>> = None;
        for (index, binding) in pipeline.bindings.iter().enumerate() {
            let id = BindingId(index);
            let result = match &binding.kind {
                BindingKind::Param { ty, default } => {
                    let given = params.iter().rev().find(|(name, _)| *name == binding.name);
                    match (given, default) {
                        (Some((_, text)), _) => {
                            parse_param(&binding.name, *ty, text, binding.span, "--param").map(Some)
                        }
                        (None, Some(default)) => match scope.eval(default, env) {
                            Ok(Outcome::Known(Value::Str(text))) if *ty != ParamType::String => {
                                parse_param(&binding.name, *ty, &text, default.span, "its default").map(Some)
                            }
                            Ok(Outcome::Known(value)) => Ok(Some(value)),
                            Ok(Outcome::Unknown(_)) => Ok(None),
                            Err(e) => Err(e),
                        },
                        (None, None) => Err(EvalError::ParamUnset {
                            name: binding.name.clone(),
                            span: binding.span,
                            help: format!("pass `--param {}=…`", binding.name),
                        }),
                    }
                }
                BindingKind::Service { name } => {
                    if cluster.is_none() {
                        match text_of(&scope, &pipeline.cluster) {
                            Ok(text) => cluster = Some(text),
                            Err(e) => errors.push(e),
                        }
                    }
                    // ECS's own default when the pipeline names no cluster.
                    let default_cluster = cluster.clone().flatten().unwrap_or_else(|| "default".into());
                    match scope.eval(name, env) {
                        Ok(Outcome::Known(value)) => {
                            Ok(Some(Value::Service(service_ref(&value.text(), &default_cluster))))
                        }
                        Ok(Outcome::Unknown(_)) => Ok(None),
                        Err(e) => Err(e),
                    }
                }
                BindingKind::Repository { name } => match scope.eval(name, env) {
                    Ok(Outcome::Known(value)) => Ok(Some(Value::Repository(value.text()))),
                    Ok(Outcome::Unknown(_)) => Ok(None),
                    Err(e) => Err(e),
                },
                BindingKind::Expr(value) => match scope.eval(value, env) {
                    Ok(Outcome::Known(value)) => Ok(Some(value)),
                    Ok(Outcome::Unknown(_)) => Ok(None),
                    Err(e) => Err(e),
                },
                BindingKind::StepResult => Ok(None),
            };
            match result {
                Ok(Some(value)) => scope.set(id, value),
                Ok(None) => {}
                Err(e) => errors.push(e),
            }
        }
        let cluster = match cluster {
            Some(known) => known,
            None => text_of(&scope, &pipeline.cluster).unwrap_or_else(|e| {
                errors.push(e);
                None
            }),
        };
        let region = text_of(&scope, &pipeline.region).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        if errors.is_empty() {
            Ok((scope, ServiceDefaults { cluster, region }))
        } else {
            Err(errors)
        }
    }

    /// Evaluates a value; `Unknown` when it needs a step result not yet bound.
    pub fn eval(&self, value: &Expr, env: &dyn Environment) -> Result<Outcome, EvalError> {
        Ok(match &value.kind {
            ExprKind::Str(parts) => {
                let mut text = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => text.push_str(t),
                        Part::Binding(id, _) => match self.values.get(id) {
                            Some(v) => text.push_str(&v.text()),
                            None => return Ok(Outcome::Unknown(Unknown(*id))),
                        },
                    }
                }
                Outcome::Known(Value::Str(text))
            }
            ExprKind::Int(n) => Outcome::Known(Value::Int(*n)),
            ExprKind::Number(x) => Outcome::Known(Value::Number(*x)),
            ExprKind::Bool(b) => Outcome::Known(Value::Bool(*b)),
            ExprKind::Duration(d) => Outcome::Known(Value::Duration(*d)),
            ExprKind::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    match self.eval(item, env)? {
                        Outcome::Known(v) => out.push(v),
                        unknown => return Ok(unknown),
                    }
                }
                Outcome::Known(Value::List(out))
            }
            ExprKind::Map(entries) => {
                let mut out = Vec::new();
                for (key, item) in entries {
                    match self.eval(item, env)? {
                        Outcome::Known(v) => out.push((key.clone(), v)),
                        unknown => return Ok(unknown),
                    }
                }
                Outcome::Known(Value::Map(out))
            }
            ExprKind::Env { name, default } => {
                let name_text = match self.eval(name, env)? {
                    Outcome::Known(v) => v.text(),
                    unknown => return Ok(unknown),
                };
                match env.var(&name_text) {
                    Some(text) => Outcome::Known(Value::Str(text)),
                    None => match default {
                        Some(default) => self.eval(default, env)?,
                        None => {
                            return Err(EvalError::EnvUnset {
                                help: format!("set `{name_text}`, or give a default: `env(\"{name_text}\", \"…\")`"),
                                name: name_text,
                                span: value.span,
                            })
                        }
                    },
                }
            }
            ExprKind::Binding(id) => match self.values.get(id) {
                Some(v) => Outcome::Known(v.clone()),
                None => Outcome::Unknown(Unknown(*id)),
            },
        })
    }
}

/// The pipeline's `cluster` and `region`, evaluated.
#[derive(Debug, Clone, Default)]
pub struct ServiceDefaults {
    pub cluster: Option<String>,
    pub region: Option<String>,
}

/// `"web"` runs in the default cluster; `"jobs/worker"` names its cluster;
/// a service ARN names both.
pub fn service_ref(text: &str, default_cluster: &str) -> ServiceRef {
    if let Some(rest) = text.strip_prefix("arn:") {
        // arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME
        let path = rest.rsplit(':').next().unwrap_or_default();
        let mut parts = path.split('/').skip(1);
        if let (Some(cluster), Some(name)) = (parts.next(), parts.next()) {
            return ServiceRef { cluster: cluster.into(), name: name.into() };
        }
    }
    match text.split_once('/') {
        Some((cluster, name)) => ServiceRef { cluster: cluster.into(), name: name.into() },
        None => ServiceRef { cluster: default_cluster.into(), name: text.into() },
    }
}

fn parse_param(name: &str, ty: ParamType, text: &str, span: Span, from: &str) -> Result<Value, EvalError> {
    let trimmed = text.trim();
    let parsed = match ty {
        ParamType::String => Some(Value::Str(text.to_string())),
        ParamType::Int => trimmed.parse().ok().map(Value::Int),
        ParamType::Number => parse_number(trimmed).map(Value::Number),
        ParamType::Bool => match trimmed {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        ParamType::Duration => humantime::parse_duration(trimmed).ok().map(Value::Duration),
    };
    parsed.ok_or_else(|| EvalError::ParamType {
        name: name.to_string(),
        text: text.to_string(),
        ty: ty.name(),
        span,
        help: format!(
            "{from} gives `{text}`; {}",
            match ty {
                ParamType::Int => "write a whole number, such as 2",
                ParamType::Number => "write a number, such as 2.5 or 10",
                ParamType::Bool => "write true or false",
                ParamType::Duration => "write a duration, such as 10m or 1h30m",
                ParamType::String => "",
            }
        ),
    })
}

/// A `number` param's text: digits, optionally a point and digits (`2.5`, `10`).
pub fn parse_number(text: &str) -> Option<f64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(whole) && digits(fraction)).then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_names_carry_their_cluster() {
        assert_eq!(service_ref("web", "prod"), ServiceRef { cluster: "prod".into(), name: "web".into() });
        assert_eq!(service_ref("jobs/worker", "prod"), ServiceRef { cluster: "jobs".into(), name: "worker".into() });
        assert_eq!(
            service_ref("arn:aws:ecs:eu-west-1:123456789012:service/shop/api", "prod"),
            ServiceRef { cluster: "shop".into(), name: "api".into() }
        );
    }

    #[test]
    fn a_number_param_reads_digits_with_an_optional_fraction() {
        assert_eq!(super::parse_number("2.5"), Some(2.5));
        assert_eq!(super::parse_number("10"), Some(10.0));
        for wrong in ["", ".5", "1.", "-1", "1e3", "inf", "NaN", "1.2.3"] {
            assert_eq!(super::parse_number(wrong), None, "{wrong}");
        }
    }
}
