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

pub fn plan(path: &Path, params: &[(String, String)], options: &ConnectOptions, json: bool) -> i32 {
    let base_dir = match std::env::current_dir() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("error: cannot read the current directory: {error}");
            return exit::USAGE;
        }
    };
    let file = match load(path, &base_dir) {
        Ok(file) => file,
        Err(code) => return code,
    };
    let pipeline = file.pipeline.as_ref().expect("load returns checked files");
    let env = ProcessEnvironment;
    let (scope, defaults) = match Scope::start(pipeline, params, &env) {
        Ok(started) => started,
        Err(errors) => {
            for error in errors {
                eprintln!("{}", render_report(&file.path, &file.text, error, color()));
            }
            return exit::ERRORS;
        }
    };
    let options = match connect_options(&defaults, options) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return exit::ERRORS;
        }
    };
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
