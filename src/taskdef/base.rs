//! What `register` starts from and what it changes, shared by `plan` (which
//! diffs it) and `run` (which registers it), so the two never disagree.

use std::path::Path;

use serde_json::{Map, Value as Json};

use super::json::{self, Changes, ContainerChanges, FileProblem, TaskdefError};
use super::reference::short;
use crate::aws::AwsError;
use crate::check::pipeline::{self, Register};
use crate::eval::{ServiceRef, Value};
use crate::resolve::Facts;

/// A `register` base with its values resolved.
pub enum BaseRef {
    /// The task definition the service runs now.
    Service(ServiceRef),
    /// The family's newest ACTIVE revision.
    Family(String),
    /// A JSON file, relative to where ecsflow runs.
    File(String),
}

/// The base as RegisterTaskDefinition input, and the registered revision a
/// new one would be compared with (to reuse it when nothing changed).
pub struct Base {
    pub input: Map<String, Json>,
    /// `(family:revision, ARN, its input)` of the revision to compare with.
    pub current: Option<(String, String, Map<String, Json>)>,
    pub family: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Taskdef(#[from] TaskdefError),
    #[error("task definition family `{0}` has no ACTIVE revision; register a first one with `register file \"…\"`")]
    EmptyFamily(String),
    #[error("{}", problem.message(path))]
    File { path: String, problem: FileProblem },
}

pub async fn base(facts: &impl Facts, base: &BaseRef, base_dir: &Path) -> Result<Base, BaseError> {
    match base {
        BaseRef::Service(service) => {
            let state = facts.service(service).await?;
            let live = facts.task_definition(&state.task_definition).await?;
            let input = json::register_input(&live.json, Some(&live.tags))?;
            Ok(Base { current: Some((short(&live.arn), live.arn.clone(), input.clone())), input, family: live.family })
        }
        BaseRef::Family(family) => {
            let revisions = facts.revisions(family).await?;
            let (_, arn) = revisions.first().ok_or_else(|| BaseError::EmptyFamily(family.clone()))?;
            let latest = facts.task_definition(arn).await?;
            let input = json::register_input(&latest.json, Some(&latest.tags))?;
            Ok(Base {
                current: Some((short(&latest.arn), latest.arn.clone(), input.clone())),
                input,
                family: family.clone(),
            })
        }
        BaseRef::File(path) => {
            let input = json::read_file(&base_dir.join(path))
                .map_err(|problem| BaseError::File { path: path.clone(), problem })?;
            let family = input.get("family").and_then(Json::as_str).unwrap_or_default().to_string();
            let current = match facts.revisions(&family).await?.first() {
                Some((_, arn)) => {
                    let latest = facts.task_definition(arn).await?;
                    // Compared in the file's own way of saying "none" (`[]` or
                    // nothing), so that only a real difference registers anew.
                    let latest_input = json::register_input(&latest.json, Some(&latest.tags))?;
                    let latest_input = json::shaped_like(latest_input, &input);
                    Some((short(&latest.arn), latest.arn.clone(), latest_input))
                }
                None => None,
            };
            Ok(Base { input, current, family })
        }
    }
}

/// The block's changes, with values from `eval`.
pub fn changes<E>(register: &Register, eval: &dyn Fn(&pipeline::Expr) -> Result<Value, E>) -> Result<Changes, E> {
    let text = |v: &Option<pipeline::Expr>| -> Result<Option<String>, E> {
        v.as_ref().map(|v| eval(v).map(|v| v.text())).transpose()
    };
    let pairs = |v: &Option<pipeline::Expr>| -> Result<Vec<(String, String)>, E> {
        match v.as_ref().map(eval).transpose()? {
            Some(Value::Map(entries)) => Ok(entries.into_iter().map(|(k, v)| (k, v.text())).collect()),
            _ => Ok(Vec::new()),
        }
    };
    let mut changes = Changes { cpu: text(&register.cpu)?, memory: text(&register.memory)?, containers: Vec::new() };
    for container in &register.containers {
        let command = match container.command.as_ref().map(eval).transpose()? {
            Some(Value::List(items)) => Some(items.iter().map(Value::text).collect()),
            _ => None,
        };
        changes.containers.push(ContainerChanges {
            name: container.name.clone(),
            image: text(&container.image)?,
            env: pairs(&container.env)?,
            secrets: pairs(&container.secrets)?,
            command,
        });
    }
    Ok(changes)
}
