//! A flaky AWS never changes the verdict, beside tests/faults.rs: a RunTask
//! whose answer was lost starts one task (its client token), awaited services
//! share their DescribeServices calls, and AWS errors read in plain words.

#[path = "common/aws_setup.rs"]
mod aws_setup;
mod common;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;

use std::process::{Command, Output};

use aws_setup::Account;
use emulator::Emulator;

const TIME_SCALE: f64 = 0.2;

fn command(emulator: &Emulator, dir: &std::path::Path, args: &[&str]) -> Command {
    common::against(&emulator.endpoint(), dir, args)
}

struct Run {
    code: i32,
    out: String,
}

fn run(emulator: &Emulator, source: &str) -> Run {
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let output: Output =
        command(emulator, dir.path(), &["run", "deploy.ecsflow", "--format", "plain"]).output().unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    Run { code: output.status.code().unwrap_or(-1), out }
}

/// Cluster `prod`, service `web` on `web:1` (desired 2), breaker with rollback.
fn account(emulator: &Emulator) -> Account {
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let td = account.task_definition("web", "web", "web:v1");
    account.rolling_service("prod", "web", &td, 2, true);
    account
}

/// The next request for `action` takes effect, and its answer is lost: the
/// client gets `status` instead (the emulator's own hook; tests/faults.rs
/// does the same through the proxy with resets and blackholes).
fn lose_next_answer(emulator: &Emulator, action: &str, status: u16) {
    emulator.post(
        "/_emulator/faults",
        &format!(r#"{{"action": "{action}", "responses": [{{"status": {status}, "forward": true}}]}}"#),
    );
}

#[test]
fn run_task_retried_with_its_client_token_starts_one_task() {
    let emulator = Emulator::start(TIME_SCALE);
    account(&emulator);
    lose_next_answer(&emulator, "RunTask", 500);
    emulator.start_recording();
    let source = r#"
cluster = "prod"
service web = "web"
let migrate = run-task "web:1" {
  like = web
  container "web" { command = ["sleep 0.5"] }
}
"#;
    let run = run(&emulator, source);
    assert_eq!(run.code, 0, "{}", run.out);
    let actions = emulator.recorded_actions();
    // Both attempts reached ECS (moto records them); ECS started one task.
    assert_eq!(actions.iter().filter(|a| a.as_str() == "RunTask").count(), 2, "{actions:?}");
    let state: serde_json::Value = serde_json::from_str(&emulator.get("/_emulator/state")).unwrap();
    let started: Vec<&serde_json::Value> = state["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["startedBy"].as_str().unwrap_or_default().starts_with("ecs-svc/"))
        .collect();
    assert_eq!(started.len(), 1, "{started:#?}");
}

#[test]
fn two_services_in_one_await_stable_share_one_describe_services_per_poll() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let front = account.task_definition("front", "front", "front:v1");
    let back = account.task_definition("back", "back", "back:v1");
    account.rolling_service("prod", "front", &front, 2, true);
    account.rolling_service("prod", "back", &back, 2, true);
    let source = r#"
cluster = "prod"
service front = "front"
service back = "back"
update front { force-new-deployment = true }
update back { force-new-deployment = true }
await-stable front, back
"#;
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    emulator.start_recording();
    let output = command(&emulator, dir.path(), &["run", "deploy.ecsflow", "--format", "plain"]).output().unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{out}");
    // The services each DescribeServices call asked for, in order.
    let asked: Vec<Vec<String>> = emulator
        .recorded_requests()
        .into_iter()
        .filter(|(target, _)| target.ends_with(".DescribeServices"))
        .map(|(_, body)| {
            body["services"].as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
        })
        .collect();
    // Resolving each `update` reads its service alone; the wait's polls ask
    // for both at once. On a loaded machine one wait can fall a poll behind
    // the other and ask alone for a while, so the test asks for most polls
    // shared (two separate waits would share none), not for all.
    let polls: Vec<&Vec<String>> = asked.iter().filter(|names| names.len() == 2).collect();
    let alone_in_wait = (asked.len() - polls.len()).saturating_sub(2);
    assert!(polls.len() >= 3, "{asked:?}");
    assert!(alone_in_wait <= polls.len(), "most polls must be shared: {asked:?}");
}

/// `plan` where no credentials exist anywhere: every AWS_* variable unset,
/// an empty home, no instance metadata.
fn plan_without_credentials(extra: &[&str]) -> Output {
    let source = "cluster = \"prod\"\nservice web = \"web\"\nupdate web { force-new-deployment = true }\n";
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecsflow"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") || name == "ECSFLOW_LOG" {
            command.env_remove(name);
        }
    }
    command
        .args([&["plan", "deploy.ecsflow"], extra].concat())
        .current_dir(dir.path())
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn no_credentials_say_what_was_tried_and_how_to_log_in() {
    let output = plan_without_credentials(&[]);
    let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{all}");
    let flat = all.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("ecs:DescribeServices: no AWS credentials found: tried the environment (AWS_ACCESS_KEY_ID), the profile (AWS_PROFILE, ~/.aws/config and ~/.aws/credentials), SSO, web identity (AWS_WEB_IDENTITY_TOKEN_FILE), and the container and instance metadata"), "{all}");
    assert!(flat.contains("help: log in with `aws sso login --profile PROFILE`, or set AWS_PROFILE"), "{all}");
    assert!(!all.contains("DispatchFailure") && !all.contains("ConnectorError"), "{all}");

    let verbose = plan_without_credentials(&["--verbose"]);
    assert_eq!(verbose.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(stderr.contains("ecsflow debug: ecs:DescribeServices failed: DispatchFailure"), "{stderr}");
    assert!(!String::from_utf8_lossy(&verbose.stdout).contains("DispatchFailure"));
}
