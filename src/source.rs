//! Finding pipeline files and checking each one from bytes to diagnostics.

use std::path::{Path, PathBuf};

use miette::{Diagnostic, Severity};
use rayon::prelude::*;

use crate::check::{self, pipeline::Pipeline, CheckError};
use crate::syntax::{self, ast::Span, SyntaxError};

pub const EXTENSION: &str = "ecsflow";

/// One file's text and everything wrong with it.
pub struct CheckedFile {
    /// The path as the user will recognise it.
    pub path: String,
    /// The text; invalid UTF-8 is shown with replacement characters.
    pub text: String,
    pub problems: Vec<Problem>,
    pub pipeline: Option<Pipeline>,
}

/// One thing wrong with a file: a syntax error, or the checker's error or warning.
#[derive(Debug, Clone)]
pub enum Problem {
    Syntax(SyntaxError),
    Check(CheckError),
}

impl Problem {
    pub fn diagnostic(&self) -> &(dyn Diagnostic + Send + Sync + 'static) {
        match self {
            Problem::Syntax(error) => error,
            Problem::Check(error) => error,
        }
    }

    pub fn is_warning(&self) -> bool {
        matches!(self.diagnostic().severity(), Some(Severity::Warning))
    }
}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diagnostic().code()
    }
    fn severity(&self) -> Option<Severity> {
        self.diagnostic().severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diagnostic().help()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.diagnostic().labels()
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.diagnostic(), f)
    }
}

impl std::error::Error for Problem {}

/// A path argument that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read `{path}`: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("no `.{EXTENSION}` files under `{path}`")]
    Empty { path: String },
}

/// Expands files and directories (recursively, `*.ecsflow`) into a sorted,
/// de-duplicated list of files.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|e| InputError::Unreadable { path: path.display().to_string(), reason: e.to_string() })?;
        if metadata.is_dir() {
            let before = files.len();
            walk(path, &mut files)?;
            if files.len() == before {
                return Err(InputError::Empty { path: path.display().to_string() });
            }
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let unreadable =
        |e: std::io::Error| InputError::Unreadable { path: dir.display().to_string(), reason: e.to_string() };
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map_err(unreadable)?.collect::<Result<_, _>>().map_err(unreadable)?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        let file_type = entry.file_type().map_err(unreadable)?;
        if file_type.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == EXTENSION) {
            out.push(path);
        }
    }
    Ok(())
}

/// Checks many files in parallel; results come back in the order given.
pub fn check_files(files: &[PathBuf], base_dir: &Path) -> Result<Vec<CheckedFile>, InputError> {
    files
        .par_iter()
        .map(|path| {
            let bytes = std::fs::read(path)
                .map_err(|e| InputError::Unreadable { path: path.display().to_string(), reason: e.to_string() })?;
            Ok(check_bytes(path, &bytes, base_dir))
        })
        .collect()
}

/// Parses and checks one file's contents.
pub fn check_bytes(path: &Path, bytes: &[u8], base_dir: &Path) -> CheckedFile {
    let display = path.display().to_string();
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let at = error.valid_up_to();
            let text = String::from_utf8_lossy(bytes).into_owned();
            // Offsets up to the first bad byte are the same in the lossy text.
            let span = Span::new(at, at + text[at..].chars().next().map_or(0, char::len_utf8));
            return CheckedFile {
                path: display,
                text,
                problems: vec![Problem::Syntax(SyntaxError::InvalidUtf8 { span })],
                pipeline: None,
            };
        }
    };
    let default_name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let (problems, pipeline) = match syntax::parse(text) {
        Err(errors) => (errors.into_iter().map(Problem::Syntax).collect(), None),
        Ok(file) => {
            let context = check::Context { base_dir, default_name };
            let outcome = check::check(&file, &context);
            (outcome.diagnostics.into_iter().map(Problem::Check).collect(), outcome.pipeline)
        }
    };
    CheckedFile { path: display, text: text.to_string(), problems, pipeline }
}
