//! The command line: clap's types for each command and its flags.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::image::BuilderKind;

#[derive(Debug, Parser)]
#[command(name = "ecsflow", version, about = "Deployment pipelines for Amazon ECS", propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Trace on stderr what the output leaves out: AWS's raw errors and each
    /// retry (also `ECSFLOW_LOG=debug`).
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// Resume a service deployment that a PAUSE lifecycle hook holds, or roll
    /// it back with --rollback. Acts on the service's current deployment
    /// without waiting: exits 0 once ECS accepted, 1 when nothing is paused.
    Continue(ContinueArgs),
}

#[derive(Debug, clap::Args)]
pub struct ContinueArgs {
    #[arg(long)]
    pub cluster: String,
    #[arg(long)]
    pub service: String,
    /// Roll the deployment back instead of resuming it (ContinueServiceDeployment's ROLLBACK).
    #[arg(long)]
    pub rollback: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    #[arg(long)]
    pub cluster: String,
    #[arg(long)]
    pub service: String,
    /// The revision: `41` (of the service's family), `web:41` or an ARN.
    #[arg(long, value_name = "REVISION")]
    pub to: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[arg(long, value_enum, default_value_t = RunFormat::Auto)]
    pub format: RunFormat,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The pipeline file.
    pub file: PathBuf,
    /// Set a param: `--param tag=abc123` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// How to show progress: a live display on a terminal, else plain lines;
    /// `json` prints one JSON event per line.
    #[arg(long, value_enum, default_value_t = RunFormat::Auto)]
    pub format: RunFormat,
    /// The container builder for `build` and `push` steps that name none
    /// (else ECSFLOW_BUILDER, else the first of docker, podman, buildah on PATH).
    #[arg(long, value_enum)]
    pub builder: Option<BuilderKind>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RunFormat {
    Auto,
    Plain,
    Json,
}

impl RunFormat {
    pub fn style(self) -> crate::exec::report::Style {
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
pub struct AwsArgs {
    /// AWS region, when the pipeline names none (else AWS_REGION or the profile's).
    #[arg(long)]
    pub region: Option<String>,
    /// Named AWS profile (SSO profiles included).
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The pipeline file.
    pub file: PathBuf,
    /// Set a param: `--param tag=abc123` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// The container builder `build` and `push` steps that name none would
    /// use, as for `run`.
    #[arg(long, value_enum)]
    pub builder: Option<BuilderKind>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlanFormat {
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
pub struct CheckArgs {
    /// Files, or directories searched recursively for `*.ecsflow`.
    #[arg(value_name = "PATH", default_value = "pipelines")]
    pub paths: Vec<PathBuf>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Reports with the source snippet, for people.
    Human,
    /// One JSON object, for tools.
    Json,
    /// GitHub Actions workflow commands, to annotate pull requests.
    Github,
}

impl From<AwsArgs> for crate::aws::ConnectOptions {
    fn from(args: AwsArgs) -> Self {
        crate::aws::ConnectOptions { region: args.region, profile: args.profile }
    }
}

impl From<FormatArg> for crate::diagnostic::Format {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Human => crate::diagnostic::Format::Human,
            FormatArg::Json => crate::diagnostic::Format::Json,
            FormatArg::Github => crate::diagnostic::Format::Github,
        }
    }
}
