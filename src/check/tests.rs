//! The checker against files held in memory, through [`FileSystem`].

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use super::files::{Entry, FileSystem};
use super::{check_with, CheckError, Context};

/// Files by path; a directory is any prefix of a file's path.
struct InMemory(HashMap<PathBuf, &'static str>);

impl FileSystem for InMemory {
    fn entry(&self, path: &Path) -> io::Result<Entry> {
        if let Some(text) = self.0.get(path) {
            return Ok(Entry::File { len: text.len() as u64 });
        }
        if self.0.keys().any(|file| file.starts_with(path)) {
            return Ok(Entry::Dir);
        }
        Err(io::ErrorKind::NotFound.into())
    }

    fn read(&self, path: &Path, limit: u64) -> io::Result<Vec<u8>> {
        let text = self.0.get(path).ok_or(io::ErrorKind::NotFound)?;
        Ok(text.bytes().take(limit as usize).collect())
    }
}

fn diagnostics(source: &str, files: &[(&str, &'static str)]) -> Vec<CheckError> {
    let files = InMemory(files.iter().map(|(path, text)| (Path::new("/repo").join(path), *text)).collect());
    let file = crate::syntax::parse(source).expect("parses");
    let context = Context { base_dir: Path::new("/repo"), default_name: "web".into() };
    check_with(&file, &context, &files).diagnostics
}

const PIPELINE: &str = r#"
repository app = "web-app"
let image = build "app"
let pushed = push image to app { tags = ["v1"] }
let td = register file "td.json" {
  container "web" { image = pushed }
}
run-task td
"#;

#[test]
fn reads_the_task_definition_and_the_build_context_through_the_file_system() {
    let taskdef = r#"{"containerDefinitions": [{"name": "web"}]}"#;
    let found = diagnostics(PIPELINE, &[("app/Dockerfile", "FROM scratch"), ("td.json", taskdef)]);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn reports_what_the_file_system_lacks() {
    let taskdef = r#"{"containerDefinitions": [{"name": "api"}]}"#;
    let found = diagnostics(PIPELINE, &[("app/main.go", ""), ("td.json", taskdef)]);
    let messages: Vec<String> = found.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        messages,
        ["Dockerfile `app/Dockerfile` does not exist", "the task definition has no container `web`"],
        "{found:?}"
    );
}
