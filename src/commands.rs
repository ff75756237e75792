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

pub fn plan(path: &Path, params: &[(String, String)], options: &ConnectOptions, json: bool) -> i32 {
    let Prepared { base_dir, file, scope, defaults, options, runtime } =
        match prepare(&Input::File(path), params, options) {
            Ok(prepared) => prepared,
            // For `plan`, 2 means "changes": every error is 1.
            Err(_) => return exit::ERRORS,
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
        let settings = crate::resolve::Settings {
            default_cluster: defaults.cluster.clone().unwrap_or_else(|| "default".into()),
            builder: None,
        };
        let resolver = crate::resolve::Resolver { pipeline, env: &env, base_dir: &base_dir, settings: &settings };
        let planner = crate::plan::Planner::new(&aws, &file.text, resolver, crate::resolve::Ledger::new(scope));
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
    builder: Option<crate::image::BuilderKind>,
) -> i32 {
    run_input(&Input::File(path), params, options, style, builder)
}

fn run_input(
    input: &Input<'_>,
    params: &[(String, String)],
    options: &ConnectOptions,
    style: crate::exec::report::Style,
    builder: Option<crate::image::BuilderKind>,
) -> i32 {
    let Prepared { base_dir, file, scope, defaults, options, runtime } = match prepare(input, params, options) {
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
        let settings = crate::resolve::Settings { default_cluster: cluster, builder };
        let pipeline = file.pipeline.as_ref().expect("prepared pipelines are checked");
        let resolver = crate::resolve::Resolver { pipeline, env: &env, base_dir: &base_dir, settings: &settings };
        let runner =
            crate::exec::Runner::new(&aws, &file.text, resolver, &reporter, crate::resolve::Ledger::new(scope));
        runner.run(&mut signals).await
    })
}

/// `ecsflow rollback`: rolls a service back and waits for the rollout, as the
/// one-step pipeline `rollback SERVICE [to REVISION]` would.
pub fn rollback(
    cluster: &str,
    service: &str,
    to: Option<&str>,
    options: &ConnectOptions,
    style: crate::exec::report::Style,
) -> i32 {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let to = match to {
        Some(to) => Some(to.to_string()),
        None if interactive => match pick_revision(cluster, service, options) {
            Ok(Some(picked)) => Some(picked),
            Ok(None) => {
                eprintln!("nothing rolled back");
                return exit::OK;
            }
            Err(code) => return code,
        },
        // Without a terminal: the revision before the live one.
        None => None,
    };
    // The binding reads as the service's name where that is a valid name.
    let name = if crate::syntax::names::is_binding_name(service) { service } else { "target" };
    let mut text = format!("cluster = {}\nservice {name} = {}\nrollback {name}", quote(cluster), quote(service));
    if let Some(to) = &to {
        text.push_str(&format!(" to {}", quote(to)));
    }
    text.push('\n');
    run_input(&Input::Generated { name: "rollback", text }, &[], options, style, None)
}

/// A string literal of the pipeline language.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lists the family's recent revisions and asks which one to return to.
fn pick_revision(cluster: &str, service: &str, options: &ConnectOptions) -> Result<Option<String>, i32> {
    use std::io::{BufRead, Write};
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|error| {
        eprintln!("error: cannot start the async runtime: {error}");
        exit::ERRORS
    })?;
    let revisions = runtime.block_on(async {
        let aws = Aws::connect(options).await?;
        let live = aws.describe_service(cluster, service).await?;
        let family = crate::register::family_of(&live.task_definition);
        let mut listed = Vec::new();
        for (revision, arn) in aws.active_revisions(&family).await?.into_iter().take(10) {
            let definition = aws.describe_task_definition(&arn).await?;
            let images: Vec<String> = definition
                .json
                .get("containerDefinitions")
                .and_then(|d| d.as_array())
                .map(|defs| defs.iter().filter_map(|d| d.get("image")?.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let at =
                definition.registered_at.map(|t| humantime::format_rfc3339_seconds(t).to_string()).unwrap_or_default();
            let is_live = crate::register::short(&arn) == crate::register::short(&live.task_definition);
            listed.push((revision, crate::register::short(&arn), images.join(", "), at, is_live));
        }
        Ok::<_, crate::aws::AwsError>(listed)
    });
    let revisions = revisions.map_err(|error| {
        eprintln!("error: {error}");
        exit::ERRORS
    })?;
    let default = revisions.iter().skip_while(|r| !r.4).nth(1).map(|r| r.1.clone());
    eprintln!("recent revisions of {service} (newest first):");
    for (revision, _, images, at, is_live) in &revisions {
        eprintln!("  {revision:>5}  {at:20}  {images}{}", if *is_live { "   <- live" } else { "" });
    }
    let hint = default.as_deref().map(|d| format!(" [{}]", d.rsplit(':').next().unwrap_or(d))).unwrap_or_default();
    eprint!("roll back to revision{hint}: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return Ok(None);
    }
    let answer = answer.trim();
    if answer.is_empty() {
        return Ok(default);
    }
    match revisions.iter().find(|r| r.0.to_string() == answer || r.1 == answer) {
        Some(found) => Ok(Some(found.1.clone())),
        None => {
            eprintln!("error: `{answer}` is not one of the revisions listed");
            Err(exit::USAGE)
        }
    }
}
