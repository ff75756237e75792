//! How a run shows itself: a live display on a terminal (indicatif), one plain
//! line per event without one (CI logs), or one JSON object per line.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::failure::{FailureDiagnostic, FailureKind};
use crate::syntax::ast::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Live,
    Plain,
    Json,
}

/// A step as the report names it.
#[derive(Debug, Clone)]
pub struct StepLabel {
    pub line: usize,
    pub title: String,
    /// The step's head in the pipeline's source, where a failure points.
    pub span: Span,
}

/// How a failed run closes: the headline, the failure's code, source
/// excerpt and help, then the details and what the clean-up did.
pub struct Failed<'a> {
    pub headline: &'a str,
    pub diagnostic: &'a FailureDiagnostic,
    /// The pipeline's file name and text, for the source excerpt.
    pub path: &'a str,
    pub source: &'a str,
    pub lines: &'a [String],
}

pub struct Reporter {
    style: Style,
    multi: Option<MultiProgress>,
    bars: Mutex<Vec<(usize, ProgressBar)>>,
    started: Instant,
}

impl Reporter {
    pub fn new(style: Style) -> Reporter {
        let multi = (style == Style::Live).then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Reporter { style, multi, bars: Mutex::new(Vec::new()), started: Instant::now() }
    }

    fn print(&self, line: &str) {
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(line);
            }
            None => println!("{line}"),
        }
    }

    fn json(&self, value: serde_json::Value) {
        println!("{value}");
    }

    pub fn step_started(&self, id: usize, step: &StepLabel) {
        match self.style {
            Style::Live => {
                let multi = self.multi.as_ref().expect("live style has a display");
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed:>4}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(step.title.clone());
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Ok(mut bars) = self.bars.lock() {
                    bars.push((id, bar));
                }
            }
            Style::Plain => self.print(&format!("▶ {} (line {})", step.title, step.line)),
            Style::Json => self.json(json!({"event": "step-started", "step": step.title, "line": step.line})),
        }
    }

    /// A step's state as it goes: a rollout's counts, a task's status.
    pub fn progress(&self, id: usize, step: &StepLabel, message: &str) {
        match self.style {
            Style::Live => {
                if let Some((_, bar)) = self.bars.lock().ok().and_then(|b| b.iter().find(|(i, _)| *i == id).cloned()) {
                    bar.set_message(message.to_string());
                }
            }
            Style::Plain => self.print(&format!("  {}: {message}", step.title)),
            Style::Json => {
                self.json(json!({"event": "progress", "step": step.title, "line": step.line, "message": message}))
            }
        }
    }

    /// Where a step's AWS calls say they retry ("retrying: throttled"): on
    /// the step's live line, or as its progress in plain and JSON output.
    pub fn retry_observer(&self, id: usize, step: &StepLabel) -> crate::aws::retry::Observer {
        let style = self.style;
        let bar = self.bars.lock().ok().and_then(|b| b.iter().find(|(i, _)| *i == id).map(|(_, bar)| bar.clone()));
        let (title, line) = (step.title.clone(), step.line);
        std::sync::Arc::new(move |note: &str| match style {
            Style::Live => {
                if let Some(bar) = &bar {
                    bar.set_message(note.to_string());
                }
            }
            Style::Plain => println!("  {title}: {note}"),
            Style::Json => {
                println!("{}", json!({"event": "progress", "step": title, "line": line, "message": note}))
            }
        })
    }

    /// A step's end: its summary, or its failure's reason with the code and help.
    pub fn step_finished(
        &self,
        id: usize,
        step: &StepLabel,
        elapsed: Duration,
        summary: &str,
        failure: Option<(FailureKind, &str)>,
    ) {
        let seconds = elapsed.as_secs_f64();
        let ok = failure.is_none();
        let mark = if ok { "✓" } else { "✗" };
        match self.style {
            Style::Live => {
                // A finished step becomes a line of the log above the spinners.
                let bar = self.bars.lock().ok().and_then(|mut bars| {
                    let index = bars.iter().position(|(i, _)| *i == id)?;
                    Some(bars.remove(index).1)
                });
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                }
                self.print(&format!("{mark} {} {summary} ({seconds:.1}s)", step.title));
            }
            Style::Plain => self.print(&format!("{mark} {} {summary} ({seconds:.1}s)", step.title)),
            Style::Json => self.json(json!({
                "event": "step-finished", "step": step.title, "line": step.line, "ok": ok,
                "seconds": (seconds * 1000.0).round() / 1000.0, "summary": summary,
                "code": failure.map(|(kind, _)| kind.code()), "help": failure.map(|(_, help)| help),
            })),
        }
    }

    /// A line of a builder's output: shown live, folded in plain logs (the
    /// whole output is in the failure report), an event in JSON.
    pub fn output(&self, id: usize, step: &StepLabel, line: &str) {
        match self.style {
            Style::Live => self.progress(id, step, line),
            Style::Plain => {}
            Style::Json => self.json(json!({"event": "output", "step": step.title, "line": step.line, "text": line})),
        }
    }

    /// Something worth knowing that is not a step: a skipped step, an undo.
    pub fn note(&self, kind: &str, message: &str) {
        match self.style {
            Style::Json => self.json(json!({"event": kind, "message": message})),
            _ => self.print(&format!("• {message}")),
        }
    }

    /// The closing report: what failed and why, and what was undone.
    pub fn finished(&self, exit_code: i32, failed: Option<Failed<'_>>) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let ok = failed.is_none();
        match self.style {
            Style::Json => {
                let report: Vec<&str> = failed
                    .as_ref()
                    .map(|f| std::iter::once(f.headline).chain(f.lines.iter().map(String::as_str)).collect())
                    .unwrap_or_default();
                self.json(json!({
                    "event": "finished", "ok": ok, "exit_code": exit_code,
                    "seconds": (elapsed * 1000.0).round() / 1000.0, "report": report,
                    "code": failed.as_ref().map(|f| f.diagnostic.kind.code()),
                    "help": failed.as_ref().map(|f| f.diagnostic.help.as_str()),
                }))
            }
            _ => {
                if let Some(failed) = &failed {
                    self.print(failed.headline);
                    // Colour only on a terminal, as `check` does.
                    let color = self.style == Style::Live && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
                    let rendered =
                        crate::diagnostic::render_report(failed.path, failed.source, failed.diagnostic.clone(), color);
                    for line in rendered.trim_end().lines() {
                        self.print(line);
                    }
                    if !failed.lines.is_empty() {
                        self.print("");
                    }
                    for line in failed.lines {
                        self.print(line);
                    }
                }
                self.print(&if ok {
                    format!("pipeline finished in {elapsed:.1}s")
                } else {
                    format!("pipeline failed after {elapsed:.1}s (exit {exit_code})")
                });
            }
        }
    }
}
