//! The one place that knows how problems are shown: miette's graphical
//! report for people, JSON for tools, workflow commands for GitHub Actions.

use std::fmt::Write as _;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NamedSource};
use serde::Serialize;

use crate::source::{CheckedFile, Problem};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// miette's report of one problem, with the source snippet.
pub fn render_human(file: &CheckedFile, problem: &Problem, color: bool) -> String {
    render_report(&file.path, &file.text, problem.clone(), color)
}

/// miette's report of any diagnostic about a file, with the source snippet.
pub fn render_report<D>(path: &str, text: &str, diagnostic: D, color: bool) -> String
where
    D: Diagnostic + Send + Sync + 'static,
{
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    // Attribute names have hyphens: never split `circuit-breaker` across lines.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
        .with_primary_span_start()
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let fallback = format!("{}: {diagnostic}", diagnostic.code().map(|c| c.to_string()).unwrap_or_default());
    let report = miette::Report::new(diagnostic).with_source_code(NamedSource::new(path, text.to_string()));
    let mut out = String::new();
    if handler.render_report(&mut out, report.as_ref()).is_err() {
        let _ = write!(out, "{fallback}");
    }
    out
}

/// `ecsflow check --format json`: one object for the whole run.
#[derive(Serialize)]
pub struct JsonReport {
    pub files: usize,
    pub diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: &'static str,
    pub code: String,
    pub message: String,
    /// The text under the offending span.
    pub label: Option<String>,
    pub help: Option<String>,
}

pub fn json_diagnostic(file: &CheckedFile, problem: &Problem) -> JsonDiagnostic {
    let (start, end, label) = primary(problem);
    let (line, column) = line_column(&file.text, start);
    let (end_line, end_column) = line_column(&file.text, end);
    JsonDiagnostic {
        file: file.path.clone(),
        line,
        column,
        end_line,
        end_column,
        severity: if problem.is_warning() { "warning" } else { "error" },
        code: problem.diagnostic().code().map(|c| c.to_string()).unwrap_or_else(|| "ecsflow::error".into()),
        message: problem.to_string(),
        label,
        help: problem.diagnostic().help().map(|h| h.to_string()),
    }
}

/// The primary label: its byte range and text. Each diagnostic's first
/// label is the offending span; later ones point at the other half.
fn primary(problem: &Problem) -> (usize, usize, Option<String>) {
    let labels: Vec<_> = problem.diagnostic().labels().map(|l| l.collect()).unwrap_or_default();
    let label = labels.iter().find(|l: &&miette::LabeledSpan| l.primary()).or(labels.first());
    label.map(|l| (l.offset(), l.offset() + l.len(), l.label().map(str::to_string))).unwrap_or((0, 0, None))
}

/// A GitHub Actions workflow command that annotates the line in a pull request.
pub fn render_github(file: &CheckedFile, problem: &Problem) -> String {
    let d = json_diagnostic(file, problem);
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        d.severity,
        escape_property(&d.file),
        d.line,
        d.column,
        d.end_line,
        d.end_column,
        escape_property(&d.code),
        escape_data(&message)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "ab\n«é» x";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        // `x` is byte 10 (« and » and é take two bytes each) but column 5.
        assert_eq!(line_column(text, text.find('x').unwrap()), (2, 5));
    }

    #[test]
    fn github_properties_are_escaped() {
        assert_eq!(escape_property("ecsflow::syntax"), "ecsflow%3A%3Asyntax");
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
    }
}
