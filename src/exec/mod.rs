//! `ecsflow run`: the async interpreter. Runs a checked pipeline's steps in
//! order against AWS, reports each as it happens, and owns the undo: on a
//! failure or a signal it restores suspended scaling, runs `on-failure`, and
//! says what failed, why, and what was undone.

pub mod failure;
mod poller;
pub mod report;
pub mod resume;
mod rollout;
mod steps;
mod task_verdict;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crate::aws::Aws;
use crate::check::pipeline::{Action, Pipeline, Step};
use crate::eval::{Environment, Outcome, ServiceRef, Value};
use crate::resolve::{Ledger, Resolver};
use failure::FailureDiagnostic;
pub use failure::{FailureKind, StepFailure};
use report::{Failed, Reporter, StepLabel};

/// Exit codes of `run`, as documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FAILED: i32 = 1;
    /// A step failed and the clean-up left something undone (scaling still
    /// suspended, an `on-failure` step that failed): the report lists it
    /// with the commands that finish it by hand.
    pub const LEFT_UNDONE: i32 = 3;
    /// Interrupted by SIGINT (128 + 2), as shells report it.
    pub const SIGINT: i32 = 130;
    /// Interrupted by SIGTERM (128 + 15).
    pub const SIGTERM: i32 = 143;
}

/// How a run ended. Its exit code is [`Ended::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Succeeded,
    /// A step failed; the clean-up ran to its end.
    Failed,
    /// A step failed, and the clean-up left something undone.
    FailedLeftUndone,
    /// A signal stopped the run. Its code wins over [`exit::LEFT_UNDONE`]:
    /// CI reads 128 + N as "cancelled", and the report lists what is left.
    Interrupted(Signal),
}

impl Ended {
    pub fn code(self) -> i32 {
        match self {
            Ended::Succeeded => exit::OK,
            Ended::Failed => exit::FAILED,
            Ended::FailedLeftUndone => exit::LEFT_UNDONE,
            Ended::Interrupted(Signal::Int) => exit::SIGINT,
            Ended::Interrupted(Signal::Term) => exit::SIGTERM,
        }
    }
}

/// The signal that stopped a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        })
    }
}

struct RunState {
    /// The values bound so far and what this run changed.
    ledger: Ledger,
    /// What the clean-up has done so far, kept here so an abandoned clean-up
    /// still reports it.
    undone: Vec<String>,
    /// How many `on-failure` steps have finished.
    on_failure_done: usize,
    /// `on-failure` steps that failed, by title.
    on_failure_failed: Vec<String>,
    /// Tasks `run-task` started and still waits on: `(cluster, ARN, step)`.
    waiting_tasks: Vec<(String, String, String)>,
}

pub struct Runner<'a> {
    aws: &'a Aws,
    pipeline: &'a Pipeline,
    /// The pipeline's file name and text, for the failure report.
    path: &'a str,
    source: &'a str,
    resolver: Resolver<'a>,
    env: &'a dyn Environment,
    report: &'a Reporter,
    state: Mutex<RunState>,
    next_id: AtomicUsize,
    /// Set once the clean-up (restoring scaling, `on-failure`) has begun.
    cleaning_up: std::sync::atomic::AtomicBool,
    /// DescribeServices for every wait of the run, coalesced.
    poller: poller::ServicePoller,
}

/// SIGINT and SIGTERM as one stream.
pub struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

impl Signals {
    pub fn listen() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals { int: signal(SignalKind::interrupt())?, term: signal(SignalKind::terminate())? })
    }

    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.int.recv() => Signal::Int,
            _ = self.term.recv() => Signal::Term,
        }
    }
}

type StepFuture<'s> = Pin<Box<dyn Future<Output = Result<String, StepFailure>> + 's>>;

impl<'a> Runner<'a> {
    pub fn new(
        aws: &'a Aws,
        (path, source): (&'a str, &'a str),
        resolver: Resolver<'a>,
        report: &'a Reporter,
        ledger: Ledger,
    ) -> Self {
        Runner {
            aws,
            pipeline: resolver.pipeline,
            path,
            source,
            env: resolver.env,
            resolver,
            report,
            state: Mutex::new(RunState {
                ledger,
                undone: Vec::new(),
                on_failure_done: 0,
                on_failure_failed: Vec::new(),
                waiting_tasks: Vec::new(),
            }),
            next_id: AtomicUsize::new(0),
            cleaning_up: std::sync::atomic::AtomicBool::new(false),
            poller: poller::ServicePoller::new(aws),
        }
    }

    /// Runs the pipeline to the end; returns the exit code.
    pub async fn run(&self, signals: &mut Signals) -> Ended {
        let mut signals_seen = 0;
        let ending = tokio::select! {
            result = self.steps(&self.pipeline.steps) => result.err().map(Ending::Failed),
            signal = signals.next() => {
                signals_seen += 1;
                Some(Ending::Interrupted(signal))
            }
        };
        let Some(ending) = ending else {
            self.report.finished(Ended::Succeeded.code(), None);
            return Ended::Succeeded;
        };
        let (headline, mut lines, ended) = match &ending {
            Ending::Failed(failure) => {
                let headline =
                    format!("✗ `{}` (line {}) failed: {}", failure.step.title, failure.step.line, failure.reason);
                let lines = failure.details.iter().map(|d| format!("  {d}")).collect();
                (headline, lines, Ended::Failed)
            }
            Ending::Interrupted(signal) => {
                self.report.note(
                    "interrupted",
                    &format!("interrupted by {signal}; cleaning up (send it again to abandon the clean-up)"),
                );
                (format!("✗ interrupted by {signal}"), Vec::new(), Ended::Interrupted(*signal))
            }
        };
        // The clean-up runs to its end unless a second signal comes: CI
        // cancels with one signal, and that one must not skip the rollback.
        let cleanup = self.clean_up();
        tokio::pin!(cleanup);
        let abandoned = loop {
            tokio::select! {
                () = &mut cleanup => break None,
                signal = signals.next() => {
                    signals_seen += 1;
                    if signals_seen >= 2 {
                        break Some(signal);
                    }
                    self.report.note("interrupted", &format!("{signal} during the clean-up; finishing it (send it again to abandon it)"));
                }
            }
        };
        lines.extend(self.state.lock().expect("state lock").undone.iter().cloned());
        let left = self.left_undone();
        if let Some(signal) = abandoned {
            lines.push(format!("✗ clean-up abandoned on {signal}; left undone:"));
            lines.extend(if left.is_empty() { vec!["  nothing".to_string()] } else { left.clone() });
        } else if !left.is_empty() {
            lines.push("✗ the clean-up left something undone; finish it by hand:".into());
            lines.extend(left.iter().cloned());
        }
        let ended = match ended {
            Ended::Failed if !left.is_empty() => Ended::FailedLeftUndone,
            ended => ended,
        };
        lines.extend(self.tasks_left_running());
        let diagnostic = match ending {
            Ending::Failed(failure) => failure.diagnostic(),
            Ending::Interrupted(_) => FailureDiagnostic {
                kind: FailureKind::Interrupted,
                help: match abandoned {
                    Some(_) => "the clean-up did not finish: undo by hand what is listed as left undone, then run the pipeline again".into(),
                    None if !left.is_empty() => "the clean-up below left something undone: finish it by hand as listed, then run the pipeline again".into(),
                    None => "the clean-up below ran to its end; run the pipeline again to deploy".into(),
                },
                at: None,
            },
        };
        let failed = Failed {
            headline: &headline,
            diagnostic: &diagnostic,
            path: self.path,
            source: self.source,
            lines: &lines,
        };
        self.report.finished(ended.code(), Some(failed));
        ended
    }

    fn done(&self, line: String) {
        self.state.lock().expect("state lock").undone.push(line);
    }

    /// Restores scaling, then runs `on-failure`, recording what it does.
    async fn clean_up(&self) {
        self.cleaning_up.store(true, Ordering::Relaxed);
        let failed = self.restore_scaling(&[]).await;
        if self.pipeline.on_failure.is_empty() {
            return;
        }
        for step in &self.pipeline.on_failure {
            if let Some(missing) = self.unbound_input(step) {
                let message = format!("skipped on-failure step `{}`: `{missing}` was never bound", self.title(step));
                self.report.note("skipped", &message);
                self.done(format!("• {message}"));
            } else {
                match self.step(step).await {
                    Ok(summary) => self.done(format!("↺ on-failure: {} — {summary}", self.title(step))),
                    Err(failure) => {
                        self.state.lock().expect("state lock").on_failure_failed.push(failure.step.title.clone());
                        self.done(format!("✗ on-failure: {} failed: {}", failure.step.title, failure.reason));
                        self.done(format!("  {}", failure.kind.code()));
                        self.done(format!("  help: {}", failure.help));
                        for detail in &failure.details {
                            self.done(format!("  {detail}"));
                        }
                    }
                }
            }
            self.state.lock().expect("state lock").on_failure_done += 1;
        }
        // An on-failure step may suspend scaling too; never leave it so. What
        // could not be restored before is not tried (and reported) twice.
        self.restore_scaling(&failed).await;
    }

    /// Restores each suspension but those in `skip`; an entry leaves the list
    /// only once restored, so whatever stops this half-way still knows what
    /// is left. Returns the services it could not restore (and `skip`).
    async fn restore_scaling(&self, skip: &[ServiceRef]) -> Vec<ServiceRef> {
        let suspended = self.state.lock().expect("state lock").ledger.suspended.clone();
        let mut failed = skip.to_vec();
        for (service, prior) in suspended.into_iter().filter(|(service, _)| !skip.contains(service)) {
            match self.aws.set_scaling_suspension(&service.cluster, &service.name, prior).await {
                Ok(()) => {
                    self.state.lock().expect("state lock").ledger.resumed(&service);
                    self.done(format!("↺ restored the scaling of {} ({prior})", service.name));
                }
                Err(error) => {
                    self.done(format!("✗ could not restore the scaling of {}: {error}", service.name));
                    failed.push(service);
                }
            }
        }
        failed
    }

    /// What the clean-up has not done, each with how to do it by hand:
    /// scaling still suspended, `on-failure` steps that failed or never ran.
    fn left_undone(&self) -> Vec<String> {
        let state = self.state.lock().expect("state lock");
        let mut left: Vec<String> = state
            .ledger
            .suspended
            .iter()
            .map(|(service, prior)| {
                format!(
                    "  scaling of {} is still suspended; it was: {prior}; restore it with `{}`",
                    service.name,
                    restore_command(service, *prior)
                )
            })
            .collect();
        left.extend(
            state
                .on_failure_failed
                .iter()
                .map(|title| format!("  on-failure step `{title}` failed: do what it does by hand")),
        );
        let remaining: Vec<String> = self
            .pipeline
            .on_failure
            .iter()
            .skip(state.on_failure_done)
            .map(|s| format!("`{}`", self.title(s)))
            .collect();
        if !remaining.is_empty() {
            left.push(format!("  on-failure did not finish: {}", remaining.join(", ")));
        }
        left
    }

    /// Tasks a `run-task` started and no longer waits on: they keep running
    /// (stopping a migration half-way could be worse), so the report names them.
    fn tasks_left_running(&self) -> Vec<String> {
        self.state
            .lock()
            .expect("state lock")
            .waiting_tasks
            .iter()
            .map(|(cluster, arn, step)| {
                format!("• task {arn} started by `{step}` may still be running (stop it with `aws ecs stop-task --cluster {cluster} --task {arn}`)")
            })
            .collect()
    }

    /// The first binding a step needs that no step has bound.
    fn unbound_input(&self, step: &Step) -> Option<String> {
        let state = self.state.lock().expect("state lock");
        crate::resolve::values_read(step).into_iter().find_map(|value| match state.ledger.scope.eval(value, self.env) {
            Ok(Outcome::Unknown(unknown)) => Some(self.pipeline.binding(unknown.0).name.clone()),
            _ => None,
        })
    }

    fn steps<'s>(&'s self, steps: &'s [Step]) -> Pin<Box<dyn Future<Output = Result<(), StepFailure>> + 's>> {
        Box::pin(async move {
            for step in steps {
                self.step(step).await?;
            }
            Ok(())
        })
    }

    fn label(&self, step: &Step) -> StepLabel {
        // The step's first line up to its block: what the report underlines.
        let text = self.source.get(step.span.start..step.span.end).unwrap_or_default();
        let head = text.lines().next().unwrap_or_default().split('{').next().unwrap_or_default().trim_end();
        StepLabel {
            line: crate::diagnostic::line_column(self.source, step.keyword.start).0,
            title: self.title(step),
            span: crate::syntax::ast::Span::new(step.span.start, step.span.start + head.len()),
        }
    }

    fn title(&self, step: &Step) -> String {
        self.pipeline.step_title(self.source, step)
    }

    /// Runs one step, reporting its start, progress and outcome.
    fn step<'s>(&'s self, step: &'s Step) -> StepFuture<'s> {
        Box::pin(async move {
            let label = self.label(step);
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            if !matches!(step.action, Action::Parallel(_)) {
                self.report.step_started(id, &label);
            }
            let started = Instant::now();
            // Dropped unfinished (a failing `parallel` sibling, a signal): say so.
            let mut guard = Unfinished {
                report: self.report,
                id,
                label: label.clone(),
                started,
                armed: !matches!(step.action, Action::Parallel(_)),
            };
            let observer = self.report.retry_observer(id, &label);
            let result = crate::aws::retry::observed(observer, self.act(id, &label, step)).await;
            guard.armed = false;
            if !matches!(step.action, Action::Parallel(_)) {
                match &result {
                    Ok(summary) => self.report.step_finished(id, &label, started.elapsed(), summary, None),
                    Err(failure) => self.report.step_finished(
                        id,
                        &label,
                        started.elapsed(),
                        &failure.reason,
                        Some((failure.kind, &failure.help)),
                    ),
                }
            }
            result
        })
    }

    fn bind(&self, step: &Step, value: Value) {
        if let Some(id) = step.binds {
            self.state.lock().expect("state lock").ledger.scope.set(id, value);
        }
    }
}

/// The AWS CLI command that sets a service's scalable target back to `prior`.
fn restore_command(service: &crate::eval::ServiceRef, prior: crate::aws::ScalingSuspension) -> String {
    format!(
        "aws application-autoscaling register-scalable-target --service-namespace ecs --scalable-dimension ecs:service:DesiredCount --resource-id {} --suspended-state '{{\"DynamicScalingInSuspended\":{},\"DynamicScalingOutSuspended\":{},\"ScheduledScalingSuspended\":{}}}'",
        crate::aws::scaling_resource_id(&service.cluster, &service.name),
        prior.dynamic_scaling_in,
        prior.dynamic_scaling_out,
        prior.scheduled_scaling,
    )
}

enum Ending {
    Failed(StepFailure),
    Interrupted(Signal),
}

/// Reports a step as cancelled if it is dropped before it finished.
struct Unfinished<'r> {
    report: &'r Reporter,
    id: usize,
    label: StepLabel,
    started: Instant,
    armed: bool,
}

impl Drop for Unfinished<'_> {
    fn drop(&mut self) {
        if self.armed {
            let help = "another step failed or a signal came while this one ran; the run's report says which";
            self.report.step_finished(
                self.id,
                &self.label,
                self.started.elapsed(),
                "cancelled",
                Some((FailureKind::Cancelled, help)),
            );
        }
    }
}
