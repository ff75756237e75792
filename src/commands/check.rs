//! `ecsflow check`: checks pipelines without credentials or network.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use super::{Error, Outcome};
use crate::diagnostic::{self, Format};
use crate::source;

pub fn check(paths: &[PathBuf], deny_warnings: bool, format: Format) -> Result<Outcome, Error> {
    let base_dir = std::env::current_dir().map_err(Error::CurrentDir)?;
    let files = source::collect(paths).and_then(|files| source::check_files(&files, &base_dir))?;

    let errors = files.iter().flat_map(|f| &f.problems).filter(|p| !p.is_warning()).count();
    let warnings = files.iter().flat_map(|f| &f.problems).filter(|p| p.is_warning()).count();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // A closed pipe (`| head`) is not an error worth a panic; ignore write errors.
    let _ = match format {
        Format::Human => {
            let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal();
            for file in &files {
                for problem in &file.problems {
                    let _ = writeln!(out, "{}", diagnostic::render_human(file, problem, color));
                }
            }
            writeln!(out, "{}", summary(files.len(), errors, warnings))
        }
        Format::Json => {
            let diagnostics: Vec<_> =
                files.iter().flat_map(|f| f.problems.iter().map(move |p| diagnostic::json_diagnostic(f, p))).collect();
            let report = diagnostic::JsonReport { files: files.len(), diagnostics };
            match serde_json::to_string(&report) {
                Ok(json) => writeln!(out, "{json}"),
                Err(error) => writeln!(out, "{{\"error\": \"{error}\"}}"),
            }
        }
        Format::Github => {
            for file in &files {
                for problem in &file.problems {
                    let _ = writeln!(out, "{}", diagnostic::render_github(file, problem));
                }
            }
            Ok(())
        }
    };
    let _ = out.flush();
    if errors > 0 || (deny_warnings && warnings > 0) {
        Err(Error::Problems)
    } else {
        Ok(Outcome::Done)
    }
}

fn summary(files: usize, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    format!("checked {}: {}, {}", plural(files, "file"), plural(errors, "error"), plural(warnings, "warning"))
}
