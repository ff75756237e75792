//! The command line: parses arguments, runs a command, returns the exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostic::{self, Format};
use crate::source;

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

#[derive(Debug, Parser)]
#[command(name = "ecsflow", version, about = "Deployment pipelines for Amazon ECS", propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check pipelines without credentials or network: syntax, names, types, rules.
    Check(CheckArgs),
    /// Show what a run would change, with read-only AWS calls only.
    /// Exits 0 when nothing would change, 2 when something would, 1 on error.
    Plan(PlanArgs),
    /// Run a pipeline against AWS. Exits 0 on success, 1 on a failed step,
    /// 130/143 when interrupted by SIGINT/SIGTERM.
    Run(RunArgs),
    /// Roll a service back to an earlier revision and wait for the rollout.
    /// Without --to: asks on a terminal, else takes the revision before the live one.
    Rollback(RollbackArgs),
}

#[derive(Debug, clap::Args)]
struct RollbackArgs {
    #[arg(long)]
    cluster: String,
    #[arg(long)]
    service: String,
    /// The revision: `41` (of the service's family), `web:41` or an ARN.
    #[arg(long, value_name = "REVISION")]
    to: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
    #[arg(long, value_enum, default_value_t = RunFormat::Auto)]
    format: RunFormat,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The pipeline file.
    file: PathBuf,
    /// Set a param: `--param tag=abc123` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    #[command(flatten)]
    aws: AwsArgs,
    /// How to show progress: a live display on a terminal, else plain lines;
    /// `json` prints one JSON event per line.
    #[arg(long, value_enum, default_value_t = RunFormat::Auto)]
    format: RunFormat,
    /// The container builder for `build` and `push` steps that name none
    /// (else ECSFLOW_BUILDER, else the first of docker, podman, buildah on PATH).
    #[arg(long, value_enum)]
    builder: Option<BuilderArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BuilderArg {
    Docker,
    Podman,
    Buildah,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RunFormat {
    Auto,
    Plain,
    Json,
}

impl RunFormat {
    fn style(self) -> crate::exec::report::Style {
        use crate::exec::report::Style;
        match self {
            RunFormat::Json => Style::Json,
            RunFormat::Plain => Style::Plain,
            RunFormat::Auto if std::io::stderr().is_terminal() => Style::Live,
            RunFormat::Auto => Style::Plain,
        }
    }
}

#[derive(Debug, clap::Args)]
struct AwsArgs {
    /// AWS region, when the pipeline names none (else AWS_REGION or the profile's).
    #[arg(long)]
    region: Option<String>,
    /// Named AWS profile (SSO profiles included).
    #[arg(long)]
    profile: Option<String>,
}

#[derive(Debug, clap::Args)]
struct PlanArgs {
    /// The pipeline file.
    file: PathBuf,
    /// Set a param: `--param tag=abc123` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    #[command(flatten)]
    aws: AwsArgs,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    format: PlanFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PlanFormat {
    Human,
    Json,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim().to_string(), value.to_string())),
        _ => Err(format!("expected NAME=VALUE, found `{text}`")),
    }
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files, or directories searched recursively for `*.ecsflow`.
    #[arg(value_name = "PATH", default_value = "pipelines")]
    paths: Vec<PathBuf>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// Reports with the source snippet, for people.
    Human,
    /// One JSON object, for tools.
    Json,
    /// GitHub Actions workflow commands, to annotate pull requests.
    Github,
}

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
        Command::Check(args) => check(args),
        Command::Plan(args) => crate::commands::plan(
            &args.file,
            &args.params,
            &crate::aws::ConnectOptions { region: args.aws.region, profile: args.aws.profile },
            matches!(args.format, PlanFormat::Json),
        ),
        Command::Run(args) => crate::commands::run(
            &args.file,
            &args.params,
            &crate::aws::ConnectOptions { region: args.aws.region, profile: args.aws.profile },
            args.format.style(),
            args.builder.map(|b| match b {
                BuilderArg::Docker => crate::image::BuilderKind::Docker,
                BuilderArg::Podman => crate::image::BuilderKind::Podman,
                BuilderArg::Buildah => crate::image::BuilderKind::Buildah,
            }),
        ),
        Command::Rollback(args) => crate::commands::rollback(
            &args.cluster,
            &args.service,
            args.to.as_deref(),
            &crate::aws::ConnectOptions { region: args.aws.region, profile: args.aws.profile },
            args.format.style(),
        ),
    }
}

fn check(args: CheckArgs) -> i32 {
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Github => Format::Github,
    };
    let base_dir = match std::env::current_dir() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("error: cannot read the current directory: {error}");
            return exit::USAGE;
        }
    };
    let checked = source::collect(&args.paths).and_then(|files| source::check_files(&files, &base_dir));
    let files = match checked {
        Ok(files) => files,
        Err(error) => {
            eprintln!("error: {error}");
            return exit::USAGE;
        }
    };

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
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        exit::ERRORS
    } else {
        exit::OK
    }
}

fn summary(files: usize, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") };
    format!("checked {}: {}, {}", plural(files, "file"), plural(errors, "error"), plural(warnings, "warning"))
}
