//! Reading a `register file "…"` base: a task definition as JSON, either the
//! RegisterTaskDefinition input itself or the `describe-task-definition`
//! output that wraps it in `{"taskDefinition": …}`.

use std::path::Path;

use super::files::{Entry, FileSystem};

/// What the checker needs from a task definition file.
pub struct TaskDefinitionFile {
    pub containers: Vec<String>,
}

pub enum TaskdefProblem {
    Missing,
    Unreadable(String),
    NotJson(String),
    NotTaskDefinition(String),
}

/// Far beyond any real task definition (ECS allows 64 KiB); a bound so that
/// `file "/dev/zero"` cannot make the checker read forever.
const MAX_SIZE: u64 = 1024 * 1024;

pub fn read(files: &dyn FileSystem, path: &Path) -> Result<TaskDefinitionFile, TaskdefProblem> {
    let len = match files.entry(path) {
        Ok(Entry::File { len }) => len,
        Ok(_) => return Err(TaskdefProblem::Unreadable("it is not a regular file".into())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(TaskdefProblem::Missing),
        Err(error) => return Err(TaskdefProblem::Unreadable(error.to_string())),
    };
    if len > MAX_SIZE {
        return Err(TaskdefProblem::Unreadable(format!("it is {len} bytes, too large for a task definition")));
    }
    let bytes = files.read(path, MAX_SIZE + 1).map_err(|error| TaskdefProblem::Unreadable(error.to_string()))?;
    let json: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|error| TaskdefProblem::NotJson(error.to_string()))?;
    let json = json.get("taskDefinition").unwrap_or(&json);
    let Some(definitions) = json.get("containerDefinitions") else {
        return Err(TaskdefProblem::NotTaskDefinition("it has no `containerDefinitions`".into()));
    };
    let Some(definitions) = definitions.as_array() else {
        return Err(TaskdefProblem::NotTaskDefinition("`containerDefinitions` is not a list".into()));
    };
    if definitions.is_empty() {
        return Err(TaskdefProblem::NotTaskDefinition("`containerDefinitions` is empty".into()));
    }
    let mut containers = Vec::new();
    for (index, definition) in definitions.iter().enumerate() {
        match definition.get("name").and_then(|name| name.as_str()) {
            Some(name) => containers.push(name.to_string()),
            None => {
                return Err(TaskdefProblem::NotTaskDefinition(format!(
                    "container definition {} has no `name`",
                    index + 1
                )))
            }
        }
    }
    Ok(TaskDefinitionFile { containers })
}
