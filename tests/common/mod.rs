//! Runs the real `ecsflow` binary on files in a temporary directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn ecsflow(dir: &Path, args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_ecsflow"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the ecsflow binary runs");
    Run {
        code: output.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The real binary run in `dir` against the AWS endpoint at `endpoint` (moto,
/// the emulator or the fault proxy) with test credentials: the secret key's
/// value is what tests look for to prove credentials never show.
pub fn against(endpoint: &str, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecsflow"));
    command
        .args(args)
        .current_dir(dir)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-value")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("ECSFLOW_LOG");
    command
}

/// The deploy most run tests exercise: register from `web` with the image a
/// param gives, scaling held still, an awaited rollout, a rollback on failure.
pub const DEPLOY: &str = r#"
cluster = "prod"
param image = "web:v2"
param timeout: duration = 2m
service web = "web"

let td = register from web {
  container "web" { image = image }
}
suspend-scaling web
update web { task-definition = td }
await-stable web { timeout = timeout }
resume-scaling web

on-failure {
  rollback web
}
"#;

/// A temporary directory holding the given files.
pub fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, contents) in files {
        let full: PathBuf = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }
    dir
}

/// One diagnostic as `--format json` reports it, minus the file and the end.
#[derive(Debug, PartialEq, Eq)]
pub struct Diag {
    pub code: String,
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
}

pub fn d(code: &str, line: u64, column: u64, message: &str, label: &str, help: Option<&str>) -> Diag {
    Diag {
        code: format!("ecsflow::{code}"),
        line,
        column,
        message: message.into(),
        label: label.into(),
        help: help.map(Into::into),
    }
}

/// Checks `source` as `p.ecsflow` next to `extra` files; returns the exit
/// code and every diagnostic.
pub fn check_with(source: &str, extra: &[(&str, &[u8])]) -> (i32, Vec<Diag>) {
    let mut files: Vec<(&str, &[u8])> = vec![("p.ecsflow", source.as_bytes())];
    files.extend_from_slice(extra);
    let dir = project(&files);
    let run = ecsflow(dir.path(), &["check", "--format", "json", "p.ecsflow"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}\nstderr: {}", run.stdout, run.stderr));
    let diags = json["diagnostics"]
        .as_array()
        .expect("diagnostics is a list")
        .iter()
        .map(|d| Diag {
            code: d["code"].as_str().unwrap().into(),
            line: d["line"].as_u64().unwrap(),
            column: d["column"].as_u64().unwrap(),
            message: d["message"].as_str().unwrap().into(),
            label: d["label"].as_str().unwrap_or_default().into(),
            help: d["help"].as_str().map(Into::into),
        })
        .collect();
    (run.code, diags)
}

pub fn check(source: &str) -> (i32, Vec<Diag>) {
    check_with(source, &[])
}
