//! The commands that talk to AWS: load and check the pipeline, bind params,
//! connect, then plan or run. Errors print with the pipeline's source.

use std::io::IsTerminal;
use std::path::Path;

use crate::aws::{Aws, ConnectOptions};
use crate::cli::exit;
use crate::diagnostic::{self, render_report};
use crate::eval::{ProcessEnvironment, Scope, ServiceDefaults};
use crate::source::{self, CheckedFile};

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Reads and checks the file; prints its problems and returns `None` on errors.
fn load(path: &Path, base_dir: &Path) -> Result<CheckedFile, i32> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: cannot read `{}`: {error}", path.display());
            return Err(exit::USAGE);
        }
    };
    let file = source::check_bytes(path, &bytes, base_dir);
    for problem in &file.problems {
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

fn prepare(path: &Path, params: &[(String, String)], options: &ConnectOptions) -> Result<Prepared, i32> {
    let base_dir = std::env::current_dir().map_err(|error| {
        eprintln!("error: cannot read the current directory: {error}");
        exit::USAGE
    })?;
    let file = load(path, &base_dir)?;
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

pub fn plan(path: &Path, params: &[(String, String)], options: &ConnectOptions, json: bool) -> i32 {
    let Prepared { base_dir, file, scope, options, runtime, .. } = match prepare(path, params, options) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let pipeline = file.pipeline.as_ref().expect("prepared pipelines are checked");
    let env = ProcessEnvironment;
    runtime.block_on(async {
        let aws = match Aws::connect(&options).await {
            Ok(aws) => aws,
            Err(error) => {
                eprintln!("error: {error}");
                return exit::ERRORS;
            }
        };
        let planner = crate::plan::Planner::new(&aws, pipeline, &file.text, &base_dir, &env, scope);
        match planner.plan().await {
            Ok(plan) => {
                if json {
                    println!("{}", serde_json::to_string(&plan).unwrap_or_default());
                } else {
                    print!("{}", crate::plan::render(&plan));
                }
                if plan.changes {
                    exit::PLAN_CHANGES
                } else {
                    exit::OK
                }
            }
            Err(error) => {
                eprintln!("{}", render_report(&file.path, &file.text, error, color()));
                exit::ERRORS
            }
        }
    })
}

pub fn run(
    path: &Path,
    params: &[(String, String)],
    options: &ConnectOptions,
    style: crate::exec::report::Style,
) -> i32 {
    let Prepared { base_dir, file, scope, defaults, options, runtime } = match prepare(path, params, options) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    let env = ProcessEnvironment;
    runtime.block_on(async {
        // Listen before the first call, so no signal is lost to the default handler.
        let mut signals = match crate::exec::Signals::listen() {
            Ok(signals) => signals,
            Err(error) => {
                eprintln!("error: cannot listen for signals: {error}");
                return exit::ERRORS;
            }
        };
        let aws = match Aws::connect(&options).await {
            Ok(aws) => aws,
            Err(error) => {
                eprintln!("error: {error}");
                return exit::ERRORS;
            }
        };
        let reporter = crate::exec::report::Reporter::new(style);
        let cluster = defaults.cluster.clone().unwrap_or_else(|| "default".into());
        let runner = crate::exec::Runner::new(&aws, &file, &base_dir, &env, &reporter, scope, cluster);
        runner.run(&mut signals).await
    })
}
