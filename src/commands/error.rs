//! Why a command did not succeed, and the exit code each reason maps to.

use super::color;
use crate::aws::AwsError;
use crate::diagnostic::render_report;
use crate::eval::EvalError;
use crate::plan::PlanError;
use crate::source::InputError;

/// Exit codes, as documented in the README. Each has one meaning; two share
/// the number 2, but never in the same command.
pub mod exit {
    /// Success: no errors (warnings allowed unless `--deny-warnings`); for
    /// `plan`, nothing would change.
    pub const OK: i32 = 0;
    /// The pipelines have errors, a step failed, or AWS said no.
    pub const FAILED: i32 = 1;
    /// `check`, `run`, `rollback`: the command line was wrong or a path could
    /// not be read.
    pub const USAGE: i32 = 2;
    /// `plan`: something would change (terraform's `-detailed-exitcode`).
    pub const PLAN_CHANGES: i32 = 2;
    /// `run`: a step failed and the clean-up left something undone; the
    /// report lists it with the commands that finish it.
    pub const LEFT_UNDONE: i32 = crate::exec::exit::LEFT_UNDONE;
    /// `run`, `rollback`: interrupted by SIGINT (128 + 2), after the clean-up.
    pub const SIGINT: i32 = crate::exec::exit::SIGINT;
    /// `run`, `rollback`: interrupted by SIGTERM (128 + 15), after the clean-up.
    pub const SIGTERM: i32 = crate::exec::exit::SIGTERM;
}

/// How a command that did its job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// `plan`: something would change.
    Changes,
}

impl Outcome {
    pub fn code(self) -> i32 {
        match self {
            Outcome::Done => exit::OK,
            Outcome::Changes => exit::PLAN_CHANGES,
        }
    }
}

pub use crate::exec::Signal;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// clap's: an unknown flag or a bad value, or `--help` and `--version`
    /// (which exit 0). clap prints it.
    #[error(transparent)]
    Cli(clap::Error),
    /// An error of `plan`, where 2 means "changes": its usage errors exit 1.
    #[error(transparent)]
    Plan(Box<Error>),
    #[error("cannot read the current directory: {0}")]
    CurrentDir(std::io::Error),
    /// A path that cannot be read, or a directory without pipelines.
    #[error(transparent)]
    Input(#[from] InputError),
    /// `check` found errors, or warnings with `--deny-warnings`; its report
    /// listed them.
    #[error("the pipelines have errors")]
    Problems,
    /// The pipeline to plan or run has errors; they were shown before this line.
    #[error("`{path}` has errors; fix them first (`ecsflow check` lists them)")]
    PipelineErrors { path: String },
    /// Params that cannot be bound, shown with the pipeline's source.
    #[error("the params cannot be bound")]
    Params { path: String, text: String, errors: Vec<EvalError> },
    #[error("the pipeline deploys to `{pipeline}` but --region says `{flag}`; drop one of them")]
    RegionConflict { pipeline: String, flag: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// A step `plan` cannot show, with the pipeline's source.
    #[error("{error}")]
    PlanFailed { path: String, text: String, error: Box<PlanError> },
    /// A step failed; the run's report said which, and what was undone.
    #[error("a step failed")]
    StepFailed,
    /// A step failed and the clean-up left something undone; the run's
    /// report listed it.
    #[error("a step failed and the clean-up left something undone")]
    LeftUndone,
    /// A signal stopped the run; the run's report said what was cleaned up.
    #[error("interrupted")]
    Interrupted(Signal),
    /// `rollback`: the answer to "roll back to revision" was not listed.
    #[error("`{answer}` is not one of the revisions listed")]
    UnknownRevision { answer: String },
    /// `continue`: nothing was resumed; shown with its code and help.
    #[error(transparent)]
    Continue(#[from] super::r#continue::ContinueError),
}

impl Error {
    pub fn code(&self) -> i32 {
        match self {
            Error::Cli(error) if !error.use_stderr() => exit::OK,
            Error::Plan(error) => match error.code() {
                exit::USAGE => exit::FAILED,
                code => code,
            },
            Error::Cli(_)
            | Error::CurrentDir(_)
            | Error::Input(_)
            | Error::RegionConflict { .. }
            | Error::UnknownRevision { .. } => exit::USAGE,
            Error::Problems
            | Error::PipelineErrors { .. }
            | Error::Params { .. }
            | Error::Runtime(_)
            | Error::Signals(_)
            | Error::Aws(_)
            | Error::PlanFailed { .. }
            | Error::Continue(_)
            | Error::StepFailed => exit::FAILED,
            Error::LeftUndone => exit::LEFT_UNDONE,
            Error::Interrupted(Signal::Int) => exit::SIGINT,
            Error::Interrupted(Signal::Term) => exit::SIGTERM,
        }
    }

    /// The end of a run: `Ok` or why not.
    pub(crate) fn from_run(ended: crate::exec::Ended) -> Result<Outcome, Error> {
        match ended {
            crate::exec::Ended::Succeeded => Ok(Outcome::Done),
            crate::exec::Ended::Interrupted(signal) => Err(Error::Interrupted(signal)),
            crate::exec::Ended::Failed => Err(Error::StepFailed),
            crate::exec::Ended::FailedLeftUndone => Err(Error::LeftUndone),
        }
    }

    /// Prints the error, unless the command's own report has said it.
    fn print(self) {
        match self {
            Error::Cli(error) => {
                let _ = error.print();
            }
            Error::Plan(error) => error.print(),
            Error::Problems | Error::StepFailed | Error::LeftUndone | Error::Interrupted(_) => {}
            Error::Params { path, text, errors } => {
                for error in errors {
                    eprintln!("{}", render_report(&path, &text, error, color()));
                }
            }
            Error::PlanFailed { path, text, error } => eprintln!("{}", render_report(&path, &text, *error, color())),
            Error::Continue(error) => eprintln!("{}", render_report("continue", "", error, color())),
            error => eprintln!("error: {error}"),
        }
    }
}

/// Prints how a command ended, in the one place that does; returns its exit code.
pub fn report(result: Result<Outcome, Error>) -> i32 {
    match result {
        Ok(outcome) => outcome.code(),
        Err(error) => {
            let code = error.code();
            error.print();
            code
        }
    }
}
