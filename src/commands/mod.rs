//! The commands, one module each, and what `plan`, `run` and `rollback`
//! share: load and check the pipeline, bind params, connect.
//! Errors print with the pipeline's source.

mod check;
mod plan;
mod rollback;
mod run;

use std::io::IsTerminal;
use std::path::Path;

use clap::Parser;

use crate::aws::ConnectOptions;
use crate::cli::{Cli, Command, PlanFormat};
use crate::diagnostic::{self, render_report};
use crate::eval::{ProcessEnvironment, Scope, ServiceDefaults};
use crate::source::{self, CheckedFile};

/// Exit codes, as documented in the README.
pub mod exit {
    /// Success: no errors (warnings allowed unless `--deny-warnings`); for
    /// `plan`, nothing would change.
    pub const OK: i32 = 0;
    /// The pipelines have errors.
    pub const ERRORS: i32 = 1;
    /// The command line was wrong or a path could not be read.
    pub const USAGE: i32 = 2;
    /// `plan`: something would change (terraform's `-detailed-exitcode`).
    pub const PLAN_CHANGES: i32 = 2;
}

/// Parses the command line and runs the command; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // `plan` exits 2 when something would change, so its usage errors are 1.
            let plan = std::env::args().nth(1).as_deref() == Some("plan");
            return match (error.use_stderr(), plan) {
                (false, _) => exit::OK,
                (true, true) => exit::ERRORS,
                (true, false) => exit::USAGE,
            };
        }
    };
    match cli.command {
        Command::Check(args) => check::check(&args.paths, args.deny_warnings, args.format.into()),
        Command::Plan(args) => {
            plan::plan(&args.file, &args.params, &args.aws.into(), matches!(args.format, PlanFormat::Json))
        }
        Command::Run(args) => {
            run::run(&args.file, &args.params, &args.aws.into(), args.format.style(), args.builder.map(Into::into))
        }
        Command::Rollback(args) => {
            rollback::rollback(&args.cluster, &args.service, args.to.as_deref(), &args.aws.into(), args.format.style())
        }
    }
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Where a pipeline comes from: a file, or text ecsflow wrote itself.
enum Input<'a> {
    File(&'a Path),
    Generated { name: &'a str, text: String },
}

/// Reads and checks the pipeline; prints its problems and fails on errors.
fn load(input: &Input<'_>, base_dir: &Path) -> Result<CheckedFile, i32> {
    let (path, bytes) = match input {
        Input::File(path) => match std::fs::read(path) {
            Ok(bytes) => (path.to_path_buf(), bytes),
            Err(error) => {
                eprintln!("error: cannot read `{}`: {error}", path.display());
                return Err(exit::USAGE);
            }
        },
        Input::Generated { name, text } => (Path::new(name).to_path_buf(), text.clone().into_bytes()),
    };
    let file = source::check_bytes(&path, &bytes, base_dir);
    // A generated pipeline's warnings speak of text the user never wrote.
    let generated = matches!(input, Input::Generated { .. });
    for problem in file.problems.iter().filter(|p| !(generated && p.is_warning())) {
        eprintln!("{}", diagnostic::render_human(&file, problem, color()));
    }
    if file.pipeline.is_none() {
        eprintln!("error: `{}` has errors; fix them first (`ecsflow check` lists them)", file.path);
        return Err(exit::ERRORS);
    }
    Ok(file)
}

/// The region: the pipeline's, else `--region`, else the environment's.
/// A pipeline and a flag that disagree are refused rather than guessed at.
fn connect_options(defaults: &ServiceDefaults, options: &ConnectOptions) -> Result<ConnectOptions, String> {
    match (&defaults.region, &options.region) {
        (Some(pipeline), Some(flag)) if pipeline != flag => {
            Err(format!("the pipeline deploys to `{pipeline}` but --region says `{flag}`; drop one of them"))
        }
        (Some(pipeline), _) => Ok(ConnectOptions { region: Some(pipeline.clone()), profile: options.profile.clone() }),
        (None, _) => Ok(options.clone()),
    }
}

/// A checked pipeline with its params bound, ready to plan or run.
struct Prepared {
    base_dir: std::path::PathBuf,
    file: CheckedFile,
    scope: Scope,
    defaults: ServiceDefaults,
    options: ConnectOptions,
    runtime: tokio::runtime::Runtime,
}

fn prepare(input: &Input<'_>, params: &[(String, String)], options: &ConnectOptions) -> Result<Prepared, i32> {
    let base_dir = std::env::current_dir().map_err(|error| {
        eprintln!("error: cannot read the current directory: {error}");
        exit::USAGE
    })?;
    let file = load(input, &base_dir)?;
    let pipeline = file.pipeline.as_ref().expect("load returns checked files");
    let (scope, defaults) = Scope::start(pipeline, params, &ProcessEnvironment).map_err(|errors| {
        for error in errors {
            eprintln!("{}", render_report(&file.path, &file.text, error, color()));
        }
        exit::ERRORS
    })?;
    let options = connect_options(&defaults, options).map_err(|message| {
        eprintln!("error: {message}");
        exit::USAGE
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|error| {
        eprintln!("error: cannot start the async runtime: {error}");
        exit::ERRORS
    })?;
    Ok(Prepared { base_dir, file, scope, defaults, options, runtime })
}
