//! Reading a `register file "…"` base at check time: the same reading and
//! validation `run` does ([`crate::taskdef::json::read_file_with`]), through
//! the checker's [`FileSystem`] so that tests can give it files in memory.

use std::path::Path;

use super::files::{Entry, FileSystem};
use crate::taskdef::json::{self, FileProblem};

/// What the checker needs from a task definition file.
pub struct TaskDefinitionFile {
    pub containers: Vec<String>,
}

pub fn read(files: &dyn FileSystem, path: &Path) -> Result<TaskDefinitionFile, FileProblem> {
    let entry = files.entry(path).map(|entry| match entry {
        Entry::File { len } => Some(len),
        Entry::Dir | Entry::Other => None,
    });
    let input = json::read_file_with(entry, |limit| files.read(path, limit))?;
    Ok(TaskDefinitionFile { containers: json::container_names(&input) })
}
