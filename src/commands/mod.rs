//! The commands, one module each, and what `plan`, `run` and `rollback`
//! share: load and check the pipeline, bind params, connect.
//! Every command returns an [`Outcome`] or an [`Error`], which [`report`] prints.

mod check;
mod r#continue;
mod error;
mod plan;
mod rollback;
mod run;

use std::io::IsTerminal;
use std::path::Path;

use clap::Parser;

use crate::aws::ConnectOptions;
use crate::cli::{Cli, Command, PlanFormat};
use crate::diagnostic;
use crate::eval::{ProcessEnvironment, Scope, ServiceDefaults};
use crate::source::{self, CheckedFile, InputError};

pub use error::{exit, report, Error, Outcome, Signal};

/// Parses the command line `args` (the program's name first) and runs the command.
pub fn run<I, T>(args: I) -> Result<Outcome, Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let result = Cli::try_parse_from(&args).map_err(Error::Cli).and_then(execute);
    // `plan` exits 2 when something would change, so its usage errors exit 1.
    if args.get(1).is_some_and(|command| command == "plan") {
        result.map_err(|error| Error::Plan(Box::new(error)))
    } else {
        result
    }
}

fn execute(cli: Cli) -> Result<Outcome, Error> {
    if cli.verbose {
        crate::trace::enable();
    }
    match cli.command {
        Command::Check(args) => check::check(&args.paths, args.deny_warnings, args.format.into()),
        Command::Plan(args) => plan::plan(
            &args.file,
            &args.params,
            &args.aws.into(),
            matches!(args.format, PlanFormat::Json),
            args.builder,
        ),
        Command::Run(args) => run::run(&args.file, &args.params, &args.aws.into(), args.format.style(), args.builder),
        Command::Rollback(args) => {
            rollback::rollback(&args.cluster, &args.service, args.to.as_deref(), &args.aws.into(), args.format.style())
        }
        Command::Continue(args) => r#continue::resume(&args.cluster, &args.service, args.rollback, &args.aws.into()),
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
fn load(input: &Input<'_>, base_dir: &Path) -> Result<CheckedFile, Error> {
    let (path, bytes) = match input {
        Input::File(path) => match std::fs::read(path) {
            Ok(bytes) => (path.to_path_buf(), bytes),
            Err(error) => {
                return Err(
                    InputError::Unreadable { path: path.display().to_string(), reason: error.to_string() }.into()
                )
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
        return Err(Error::PipelineErrors { path: file.path });
    }
    Ok(file)
}

/// The region: the pipeline's, else `--region`, else the environment's.
/// A pipeline and a flag that disagree are refused rather than guessed at.
fn connect_options(defaults: &ServiceDefaults, options: &ConnectOptions) -> Result<ConnectOptions, Error> {
    match (&defaults.region, &options.region) {
        (Some(pipeline), Some(flag)) if pipeline != flag => {
            Err(Error::RegionConflict { pipeline: pipeline.clone(), flag: flag.clone() })
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

fn prepare(input: &Input<'_>, params: &[(String, String)], options: &ConnectOptions) -> Result<Prepared, Error> {
    let base_dir = std::env::current_dir().map_err(Error::CurrentDir)?;
    let file = load(input, &base_dir)?;
    let pipeline = file.pipeline.as_ref().expect("load returns checked files");
    let (scope, defaults) = Scope::start(pipeline, params, &ProcessEnvironment).map_err(|errors| Error::Params {
        path: file.path.clone(),
        text: file.text.clone(),
        errors,
    })?;
    let options = connect_options(&defaults, options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Error::Runtime)?;
    Ok(Prepared { base_dir, file, scope, defaults, options, runtime })
}
