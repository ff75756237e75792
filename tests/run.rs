//! `ecsflow run` against ECS that really rolls out: the emulator on top of
//! moto. Scenarios come from ordinary inputs (the image reference, the
//! command), so ecsflow is tested as a black box.

#[path = "common/aws_setup.rs"]
mod aws_setup;
#[path = "common/calls.rs"]
mod calls;
mod common;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use aws_setup::Account;
use emulator::Emulator;

const TIME_SCALE: f64 = 0.2;

fn command(emulator: &Emulator, dir: &std::path::Path, args: &[&str]) -> Command {
    common::against(&emulator.endpoint(), dir, args)
}

struct Run {
    code: i32,
    out: String,
    elapsed: Duration,
}

fn run(emulator: &Emulator, source: &str, args: &[&str]) -> Run {
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let started = Instant::now();
    let output: Output = command(emulator, dir.path(), &[&["run", "deploy.ecsflow"], args].concat()).output().unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!out.contains("test-secret-value"), "credentials leaked:\n{out}");
    Run { code: output.status.code().unwrap_or(-1), out, elapsed: started.elapsed() }
}

/// As [`run`], after `plan --format json`: the run must make exactly the
/// mutating calls the plan lists (tests/common/calls.rs). For the scenarios
/// that end in success.
fn planned_run(emulator: &Emulator, source: &str, params: &[&str], run_only: &[&str]) -> Run {
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let started = Instant::now();
    let ecsflow = |args: &[&str]| {
        let output = command(emulator, dir.path(), args).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stdout.contains("test-secret-value") && !stderr.contains("test-secret-value"), "credentials leaked");
        (output.status.code().unwrap_or(-1), stdout, stderr)
    };
    let (_, out) = calls::plan_then_run(emulator, &ecsflow, "deploy.ecsflow", params, run_only);
    Run { code: 0, out, elapsed: started.elapsed() }
}

/// Cluster `prod`, service `web` on `web:1` (desired 2, 50–200%, breaker as
/// given), scale-in alone suspended on its scalable target.
fn account(emulator: &Emulator, breaker: bool) -> Account {
    Account::with_web(&emulator.endpoint(), breaker)
}

use common::DEPLOY;

#[test]
fn a_happy_rollout_ends_on_the_new_revision_with_scaling_as_it_was() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let run = planned_run(&emulator, DEPLOY, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run.out.contains("✓ let td = register from web registered web:2"), "{}", run.out);
    assert!(run.out.contains("✓ await-stable web web stable on web:2 (2/2 running)"), "{}", run.out);
    assert_eq!(account.live_revision("prod", "web"), "web:2");
    // The partial suspension found before comes back exactly.
    assert_eq!(account.suspended("prod", "web"), (true, false, false));
}

#[test]
fn a_circuit_breaker_failure_is_a_failure_within_seconds_and_is_rolled_back() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let run = run(&emulator, DEPLOY, &["--param", "image=web:v2-crash-1"]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(!run.out.contains("stable on web:2"), "reported success:\n{}", run.out);
    assert!(run.out.contains("✗ `await-stable web` (line 12) failed: web: deployment ecs-svc/"), "{}", run.out);
    assert!(run.out.contains("tasks failed to start"), "{}", run.out);
    // Why: the stopped tasks of the new revision, with their exit codes.
    assert!(run.out.contains("Essential container in task exited (web exit 1)"), "{}", run.out);
    assert!(
        run.out.contains("↺ restored the scaling of web (scale-in suspended, scale-out active, scheduled active)"),
        "{}",
        run.out
    );
    assert_eq!(account.live_revision("prod", "web"), "web:1");
    assert_eq!(account.suspended("prod", "web"), (true, false, false));
    assert!(run.elapsed < Duration::from_secs(30), "took {:?}", run.elapsed);
    // The code, the step in the source and what to do, between the reason and the details.
    assert_eq!(
        after(&run.out, "✗ `await-stable web` (line 12) failed: ", 13),
        [
            "ecsflow::rollout-failed",
            "",
            "  × the deployment failed",
            "    ╭─[deploy.ecsflow:12:1]",
            " 11 │ update web { task-definition = td }",
            " 12 │ await-stable web { timeout = timeout }",
            "    · ────────┬───────",
            "    ·         ╰── this rollout failed",
            " 13 │ resume-scaling web",
            "    ╰────",
            "  help: the events and stopped tasks below say why the tasks of web:2 did not stay up; fix the",
            "        image, its health check or the task definition, then run again",
            "",
        ],
        "{}",
        run.out
    );
}

/// The `count` lines after the first that starts with `prefix`.
fn after<'o>(out: &'o str, prefix: &str, count: usize) -> Vec<&'o str> {
    out.lines().skip_while(|l| !l.starts_with(prefix)).skip(1).take(count).collect()
}

/// The failure's code (the line after the reason) and its help, unwrapped.
fn code_and_help<'o>(out: &'o str, reason: &str) -> (&'o str, String) {
    let code = after(out, reason, 1).first().copied().unwrap_or_default();
    let mut lines = out.lines().skip_while(|l| !l.starts_with(reason)).skip_while(|l| !l.starts_with("  help: "));
    let mut help = lines.next().unwrap_or_default().trim_start_matches("  help: ").to_string();
    for more in lines.take_while(|l| l.starts_with("        ")) {
        help.push(' ');
        help.push_str(more.trim());
    }
    (code, help)
}

#[test]
fn without_the_breaker_the_timeout_fails_and_on_failure_rolls_back() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, false);
    let run = run(&emulator, DEPLOY, &["--param", "image=web:v2-crash-2", "--param", "timeout=4s"]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.contains("failed: timed out after 4s waiting for deployment ecs-svc/"), "{}", run.out);
    // The timeout says what was happening.
    assert!(run.out.contains("failed, "), "{}", run.out);
    assert!(run.out.contains("(web exit 2)"), "{}", run.out);
    assert!(run.out.contains("↺ on-failure: rollback web — rolled web back from web:2 to web:1"), "{}", run.out);
    assert_eq!(account.live_revision("prod", "web"), "web:1");
    assert_eq!(
        code_and_help(&run.out, "✗ `await-stable web` (line 12) failed: timed out"),
        (
            "ecsflow::rollout-timeout",
            "tasks of web:2 keep failing: the stopped tasks below say why; fix it, then run again".to_string()
        ),
        "{}",
        run.out
    );
}

#[test]
fn sigterm_during_await_stable_restores_scaling() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let dir = common::project(&[("deploy.ecsflow", DEPLOY.as_bytes())]);
    let mut child = command(&emulator, dir.path(), &["run", "deploy.ecsflow", "--param", "image=web:v2-slow-300s"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        seen.push(line.clone());
        if line.starts_with("▶ await-stable web") {
            break;
        }
    }
    assert_eq!(account.suspended("prod", "web"), (true, true, true), "suspended during the rollout: {seen:?}");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    let out = rest.join("\n");
    assert_eq!(status.code(), Some(143), "{out}");
    assert!(out.contains("interrupted by SIGTERM"), "{out}");
    assert!(out.contains("✗ interrupted by SIGTERM\necsflow::interrupted\n\n  × the run was interrupted\n  help: the clean-up below ran to its end; run the pipeline again to deploy"), "{out}");
    assert!(out.contains("↺ restored the scaling of web"), "{out}");
    assert_eq!(account.suspended("prod", "web"), (true, false, false));
}

#[test]
fn a_migration_exiting_non_zero_stops_the_pipeline_before_update() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let source = r#"
cluster = "prod"
service web = "web"
let td = register from web {
  container "web" { image = "web:v2" }
}
let _migration = run-task td {
  like = web
  container "web" { command = ["sh", "-c", "exit 3"] }
}
update web { task-definition = td }
await-stable web
"#;
    let run = run(&emulator, source, &[]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.contains("failed: task "), "{}", run.out);
    assert!(run.out.contains("web exited 3 (Essential container in task exited)"), "{}", run.out);
    assert!(run.out.contains("  web: exit 3"), "{}", run.out);
    assert!(!run.out.contains("▶ update web"), "{}", run.out);
    assert_eq!(account.live_revision("prod", "web"), "web:1");
    assert_eq!(
        code_and_help(&run.out, "✗ `let _migration = run-task td` (line 7) failed: task "),
        (
            "ecsflow::task-failed",
            "the task's logs say why it exited non-zero; fix the command or the image of web:2, then run again"
                .to_string()
        ),
        "{}",
        run.out
    );

    let ok = run_ok_migration(&emulator);
    assert_eq!(ok.code, 0, "{}", ok.out);
    assert!(ok.out.contains("exited 0"), "{}", ok.out);
}

#[test]
fn an_update_of_max_percent_and_the_breaker_keeps_the_threshold_and_the_alarms() {
    use aws_sdk_ecs::types::{
        DeploymentAlarms, DeploymentCircuitBreaker, DeploymentConfiguration, ThresholdConfiguration, ThresholdType,
    };
    let emulator = Emulator::start(TIME_SCALE);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let td = account.task_definition("web", "web", "web:v1");
    let threshold = ThresholdConfiguration::builder().r#type(ThresholdType::Count).value(7).build().unwrap();
    let breaker = DeploymentCircuitBreaker::builder()
        .enable(true)
        .rollback(false)
        .reset_on_healthy_task(false)
        .threshold_configuration(threshold)
        .build();
    let alarms = DeploymentAlarms::builder().alarm_names("web-5xx").enable(true).rollback(true).build().unwrap();
    let config = DeploymentConfiguration::builder()
        .minimum_healthy_percent(100)
        .maximum_percent(200)
        .deployment_circuit_breaker(breaker)
        .alarms(alarms)
        .build();
    account.configured_service("prod", "web", &td, config.clone());
    let source = "cluster = \"prod\"\nservice web = \"web\"\nupdate web {\n  max-percent     = 150\n  circuit-breaker = rollback\n}\n";
    let run = planned_run(&emulator, source, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.out);

    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let plan = command(&emulator, dir.path(), &["plan", "deploy.ecsflow", "--format", "json"]).output().unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    // After the run the same pipeline changes nothing.
    assert_eq!(plan["steps"][0]["details"], serde_json::json!(["no change"]), "{plan}");
    let mut expected = config;
    expected.maximum_percent = Some(150);
    expected.deployment_circuit_breaker.as_mut().unwrap().rollback = true;
    assert_eq!(account.deployment_configuration("prod", "web"), expected);

    let source = source.replace("150", "180");
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let plan = command(&emulator, dir.path(), &["plan", "deploy.ecsflow", "--format", "json"]).output().unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(
        plan["steps"][0]["details"],
        serde_json::json!([
            "max-percent: 150 → 180",
            "rolls out web (desired 1)",
            "keeps alarms web-5xx (enabled, rollback on alarm)",
            "keeps circuit-breaker-threshold 7 (COUNT)",
            "keeps circuit-breaker-reset-on-healthy false"
        ]),
        "{plan}"
    );
}

#[test]
fn run_task_follows_the_essential_container_or_the_one_the_step_names() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    // `migrate` is not essential: it exits 2 while `app` runs on and exits 0.
    let taskdef = br#"{"family": "jobs", "containerDefinitions": [
        {"name": "app", "image": "jobs:v1", "memory": 128, "essential": true, "command": ["sleep 2"]},
        {"name": "migrate", "image": "jobs:v1", "memory": 128, "essential": false, "command": ["sh", "-c", "exit 2"]}
    ]}"#;
    let source = r#"
cluster = "prod"
service web = "web"
let td = register file "taskdef.json"
let _whole = run-task td { like = web }
let _migration = run-task td {
  like      = web
  container = "migrate"
}
"#;
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes()), ("taskdef.json", taskdef)]);
    let output = command(&emulator, dir.path(), &["run", "deploy.ecsflow"]).output().unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(out.contains("✓ let _whole = run-task td task ") && out.contains(" exited 0"), "{out}");
    assert!(out.contains(" failed: migrate exited 2 (Essential container in task exited)"), "{out}");
    assert!(out.contains("  migrate (not essential): exit 2"), "{out}");
    drop(account);
}

/// ECS stops a task's other containers when its essential one exits; those
/// exit 143 and never decide the migration's verdict.
#[test]
fn a_migration_is_judged_on_its_app_not_on_the_sidecars_ecs_stopped() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let taskdef = |exit: u8| {
        format!(
            r#"{{"family": "migrate", "containerDefinitions": [
            {{"name": "app", "image": "jobs:v1", "memory": 128, "essential": true, "command": ["sh", "-c", "exit {exit}"]}},
            {{"name": "log_router", "image": "fluent-bit:v1", "memory": 64, "essential": true}},
            {{"name": "envoy", "image": "envoy:v1", "memory": 64, "essential": false}}
        ]}}"#
        )
    };
    let source = "cluster = \"prod\"\nservice web = \"web\"\nlet td = register file \"taskdef.json\"\nlet _m = run-task td { like = web }\n";
    for (exit, code) in [(0, 0), (3, 1)] {
        let taskdef = taskdef(exit);
        let dir = common::project(&[("deploy.ecsflow", source.as_bytes()), ("taskdef.json", taskdef.as_bytes())]);
        let output = command(&emulator, dir.path(), &["run", "deploy.ecsflow"]).output().unwrap();
        let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_eq!(output.status.code(), Some(code), "{out}");
        // The sidecar's 143 is reported, never the reason.
        let verdict = match exit {
            0 => ": app exited 0 (stopped by ECS after it: log_router exit 143)".to_string(),
            _ => " failed: app exited 3 (Essential container in task exited) (stopped by ECS after it: log_router exit 143)"
                .to_string(),
        };
        assert!(out.contains(&verdict), "{out}");
    }
    drop(account);
}

fn run_ok_migration(emulator: &Emulator) -> Run {
    let source = "cluster = \"prod\"\nservice web = \"web\"\nlet _m = run-task \"web:1\" {\n  like = web\n  container \"web\" { command = [\"./migrate\"] }\n}\n";
    planned_run(emulator, source, &[], &[])
}

#[test]
fn prune_keeps_the_newest_and_never_the_live_or_rollback_revision() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    // web:1 is live (the oldest); web:2..web:5 are newer, unused.
    let live = account.task_definition("web", "web", "web:v1");
    for image in ["web:v2", "web:v3", "web:v4", "web:v5"] {
        account.task_definition("web", "web", image);
    }
    account.rolling_service("prod", "web", &live, 1, true);
    let source = r#"
cluster = "prod"
service web = "web"
let td = register from web {
  container "web" { image = "web:v6" }
}
update web { task-definition = td }
await-stable web
prune td keep 2
"#;
    let run = planned_run(&emulator, source, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    // web:6 (live now) and web:5 are the newest two; web:1 was live before
    // this run, so it is the rollback target and stays.
    assert!(run.out.contains("deregistered web:4, web:3, web:2"), "{}", run.out);
    assert_eq!(account.active_revisions("web"), [1, 5, 6]);
}

#[test]
fn two_services_in_parallel() {
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
parallel {
  let front_td = register from front {
    container "front" { image = "front:v2" }
  }
  let back_td = register from back {
    container "back" { image = "back:v2-slow-2s" }
  }
}
parallel {
  update front { task-definition = front_td }
  update back { task-definition = back_td }
}
await-stable front, back
"#;
    let run = planned_run(&emulator, source, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(
        run.out.contains("front stable on front:2 (2/2 running); back stable on back:2 (2/2 running)"),
        "{}",
        run.out
    );
    assert_eq!(account.live_revision("prod", "front"), "front:2");
    assert_eq!(account.live_revision("prod", "back"), "back:2");
}

// Not held to a plan: `plan` would take the injected faults meant for the run.
#[test]
fn throttling_and_server_errors_are_retried_to_success() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    emulator.post(
        "/_emulator/faults",
        r#"{"action": "DescribeServices", "responses": [
            {"status": 400, "type": "ThrottlingException", "message": "Rate exceeded"},
            {"status": 500, "type": "ServerException", "message": "Internal error"},
            {"status": 503}
        ]}"#,
    );
    emulator.post(
        "/_emulator/faults",
        r#"{"action": "UpdateService", "responses": [{"status": 400, "type": "ThrottlingException", "message": "Rate exceeded"}]}"#,
    );
    let run = run(&emulator, DEPLOY, &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert_eq!(account.live_revision("prod", "web"), "web:2");
}

#[test]
fn the_rollback_command_returns_to_the_previous_or_the_named_revision() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    account.task_definition("web", "web", "web:v1");
    account.task_definition("web", "web", "web:v2");
    let live = account.task_definition("web", "web", "web:v3");
    account.rolling_service("prod", "web", &live, 2, true);
    let dir = tempfile::tempdir().unwrap();
    let rollback = |args: &[&str]| {
        let output =
            command(&emulator, dir.path(), &[&["rollback", "--cluster", "prod", "--service", "web"], args].concat())
                .stdin(Stdio::null())
                .output()
                .unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    // No terminal and no --to: the revision before the live one.
    let (code, out) = rollback(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rolled web back from web:3 to web:2"), "{out}");
    assert_eq!(account.live_revision("prod", "web"), "web:2");
    // A bare number is a revision of the service's family.
    let (code, out) = rollback(&["--to", "1"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("rolled web back from web:2 to web:1"), "{out}");
    assert_eq!(account.live_revision("prod", "web"), "web:1");
    // Nothing older than web:1 to return to.
    let (code, out) = rollback(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("`web` has no ACTIVE revision before web:1 to roll back to"), "{out}");
    assert_eq!(
        code_and_help(&out, "✗ `rollback web` (line 3) failed: "),
        (
            "ecsflow::rollback-impossible",
            "name the revision to return to: `rollback SERVICE to REVISION`; `aws ecs list-task-definitions --family-prefix web` lists them".to_string()
        ),
        "{out}"
    );
}

#[test]
fn a_second_signal_abandons_the_clean_up_and_says_what_is_left() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let source = r#"
cluster = "prod"
service web = "web"
update web { force-new-deployment = true }
await-stable web
on-failure {
  let _slow = run-task "web:1" {
    like = web
    container "web" { command = ["sleep 600"] }
  }
}
"#;
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let mut child = command(&emulator, dir.path(), &["run", "deploy.ecsflow"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let kill = |signal: &str| Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("▶ await-stable web") {
            break;
        }
    }
    kill("-INT");
    for line in lines.by_ref() {
        if line.unwrap().starts_with("▶ let _slow = run-task") {
            break;
        }
    }
    kill("-INT");
    let out: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let out = out.join("\n");
    assert_eq!(child.wait().unwrap().code(), Some(130), "{out}");
    assert!(out.contains("✗ clean-up abandoned on SIGINT; left undone:"), "{out}");
    assert!(out.contains("on-failure did not finish: `let _slow = run-task \"web:1\"`"), "{out}");
    drop(account);
}

#[test]
fn a_clean_up_that_cannot_restore_scaling_exits_3_with_the_command_that_does() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let source = r#"
cluster = "prod"
service web = "web"
suspend-scaling web
let _job = run-task "web:1" {
  like = web
  container "web" { command = ["sleep 10", "exit 3"] }
}
resume-scaling web
on-failure {
  rollback web to "web:99"
}
"#;
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let mut child = command(&emulator, dir.path(), &["run", "deploy.ecsflow"]).stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("▶ let _job = run-task") {
            break;
        }
    }
    // Scaling is suspended now: every restore is refused, and not as a
    // transient error that retries would outlast.
    let deny = r#"{"action": "RegisterScalableTarget", "responses": [
        {"status": 400, "type": "AccessDeniedException", "message": "not authorized to perform application-autoscaling:RegisterScalableTarget"},
        {"status": 400, "type": "AccessDeniedException", "message": "not authorized to perform application-autoscaling:RegisterScalableTarget"},
        {"status": 400, "type": "AccessDeniedException", "message": "not authorized to perform application-autoscaling:RegisterScalableTarget"},
        {"status": 400, "type": "AccessDeniedException", "message": "not authorized to perform application-autoscaling:RegisterScalableTarget"}
    ]}"#;
    emulator.post("/_emulator/faults", deny);
    let out: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let out = out.join("\n");
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(3), "{out}");
    // Tried once more after on-failure would say it twice: it is said once.
    assert_eq!(out.matches("✗ could not restore the scaling of web: ").count(), 1, "{out}");
    assert!(out.contains("✗ the clean-up left something undone; finish it by hand:"), "{out}");
    let restore = r#"  scaling of web is still suspended; it was: scale-in suspended, scale-out active, scheduled active; restore it with `aws application-autoscaling register-scalable-target --service-namespace ecs --scalable-dimension ecs:service:DesiredCount --resource-id service/prod/web --suspended-state '{"DynamicScalingInSuspended":true,"DynamicScalingOutSuspended":false,"ScheduledScalingSuspended":false}'`"#;
    assert!(out.contains(restore), "{out}");
    assert!(out.contains("  on-failure step `rollback web to \"web:99\"` failed: do what it does by hand"), "{out}");
    assert!(out.ends_with("(exit 3)"), "{out}");
    assert_eq!(account.suspended("prod", "web"), (true, true, true));
}

#[test]
fn register_keeps_the_revisions_tags_and_a_service_without_scaling_gets_a_note() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let live = account.task_definition("web", "web", "web:v1");
    account.tag_task_definition(&live, "team", "storefront");
    account.rolling_service("prod", "web", &live, 1, true);
    let source = r#"
cluster = "prod"
service web = "web"
let td = register from web {
  container "web" { image = "web:v2" }
}
suspend-scaling web
update web { task-definition = td }
await-stable web
resume-scaling web
"#;
    let run = planned_run(&emulator, source, &[], &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert_eq!(account.task_definition_tags("web:2"), ["team=storefront"]);
    let events: Vec<serde_json::Value> =
        run.out.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    let finished: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "step-finished").collect();
    assert_eq!(finished.len(), 5);
    assert_eq!(finished[1]["step"], "suspend-scaling web");
    assert_eq!(finished[1]["summary"], "web has no scalable target: nothing to suspend");
    assert!(finished.iter().all(|e| e["ok"] == true));
    let last = events.last().unwrap();
    assert_eq!(
        (last["event"].as_str(), last["ok"].as_bool(), last["exit_code"].as_i64()),
        (Some("finished"), Some(true), Some(0))
    );
}

#[test]
fn an_aws_error_has_its_code_and_help_in_the_report_and_in_json() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let deny = r#"{"action": "UpdateService", "responses": [
        {"status": 400, "type": "AccessDeniedException", "message": "not authorized to perform ecs:UpdateService"}
    ]}"#;
    emulator.post("/_emulator/faults", deny);
    let plain = run(&emulator, DEPLOY, &[]);
    assert_eq!(plain.code, 1, "{}", plain.out);
    let reason = "✗ `update web` (line 11) failed: ecs:UpdateService: AccessDeniedException: not authorized to perform ecs:UpdateService";
    assert_eq!(
        after(&plain.out, reason, 13),
        [
            "ecsflow::aws",
            "",
            "  × an AWS call failed",
            "    ╭─[deploy.ecsflow:11:1]",
            " 10 │ suspend-scaling web",
            " 11 │ update web { task-definition = td }",
            "    · ─────┬────",
            "    ·      ╰── this step failed",
            " 12 │ await-stable web { timeout = timeout }",
            "    ╰────",
            "  help: check the AWS credentials and the role's permissions: grant `ecs:UpdateService` on the",
            "        resource to the role or user",
            "",
        ],
        "{}",
        plain.out
    );

    emulator.post("/_emulator/faults", deny);
    let run = run(&emulator, DEPLOY, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.out);
    let events: Vec<serde_json::Value> =
        run.out.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    let failed = events.iter().find(|e| e["event"] == "step-finished" && e["ok"] == false).unwrap();
    assert_eq!(failed["step"], "update web");
    assert_eq!(failed["code"], "ecsflow::aws");
    assert_eq!(failed["help"], "check the AWS credentials and the role's permissions: grant `ecs:UpdateService` on the resource to the role or user");
    let last = events.last().unwrap();
    assert_eq!(last["event"], "finished");
    assert_eq!(last["code"], "ecsflow::aws");
    assert_eq!(last["help"], "check the AWS credentials and the role's permissions: grant `ecs:UpdateService` on the resource to the role or user");
    assert_eq!(last["report"][0], reason);
    let ok = events.iter().find(|e| e["event"] == "step-finished" && e["ok"] == true).unwrap();
    assert_eq!((&ok["code"], &ok["help"]), (&serde_json::Value::Null, &serde_json::Value::Null));
    assert_eq!(account.live_revision("prod", "web"), "web:1");
}

// ------------------------------------------- regressions from the code review

#[test]
fn an_update_after_a_breaker_rollback_does_not_turn_it_into_success() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let source = r#"
cluster = "prod"
service web = "web"
let td = register from web {
  container "web" { image = "web:v2-crash-1" }
}
update web { task-definition = td, circuit-breaker = rollback }
let _pause = run-task "web:1" {
  like = web
  container "web" { command = ["sleep 3"] }
}
update web { desired-count = 2 }
await-stable web
"#;
    let run = run(&emulator, source, &[]);
    assert_eq!(run.code, 1, "a rolled-back deployment was reported as success:\n{}", run.out);
    assert!(run.out.contains("tasks failed to start"), "{}", run.out);
    assert_eq!(account.live_revision("prod", "web"), "web:1", "{}", run.out);
}

#[test]
fn a_desired_count_change_is_stable_only_when_every_task_runs() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let source = "cluster = \"prod\"\nservice web = \"web\"\nupdate web { desired-count = 4 }\nawait-stable web\n";
    let run = planned_run(&emulator, source, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run.out.contains("web stable on web:1 (4/4 running)"), "{}", run.out);
    drop(account);
}

#[test]
fn a_cancelled_resume_still_leaves_scaling_to_the_clean_up() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let source = r#"
cluster = "prod"
service web = "web"
suspend-scaling web
parallel {
  resume-scaling web
  let _t = run-task "nosuch:1" { like = web }
}
"#;
    let run = run(&emulator, source, &[]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert_eq!(account.suspended("prod", "web"), (true, false, false), "{}", run.out);
}

#[test]
fn prune_keeps_the_live_revision_of_a_service_the_pipeline_does_not_declare() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let old = account.task_definition("shared", "app", "app:v1");
    account.task_definition("shared", "app", "app:v2");
    let newest = account.task_definition("shared", "app", "app:v3");
    account.rolling_service("prod", "a", &newest, 1, true);
    account.rolling_service("prod", "b", &old, 1, true);
    let source = "cluster = \"prod\"\nservice a = \"a\"\nprune \"shared\" keep 1\nlet _a = a\n";
    let run = planned_run(&emulator, source, &[], &[]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run.out.contains("deregistered shared:2"), "{}", run.out);
    assert_eq!(account.active_revisions("shared"), [1, 3]);
}

#[test]
fn an_absurd_timeout_is_not_a_crash() {
    let emulator = Emulator::start(TIME_SCALE);
    let _account = account(&emulator, true);
    let run = planned_run(&emulator, DEPLOY, &["--param", "timeout=500000000000years"], &[]);
    assert_eq!(run.code, 0, "{}", run.out);
}

/// The clean-up restores scaling first; a `resume-scaling` in `on-failure`
/// then restores the same state the suspend found, not "all active".
#[test]
fn resume_scaling_in_on_failure_restores_what_the_suspend_found() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, false);
    let source = r#"
cluster = "prod"
service web = "web"
let td = register from web {
  container "web" { image = "web:v2-crash-2" }
}
suspend-scaling web
update web { task-definition = td }
await-stable web { timeout = 4s }
resume-scaling web
on-failure {
  resume-scaling web
  rollback web
}
"#;
    let run = run(&emulator, source, &[]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(
        run.out.contains(
            "↺ on-failure: resume-scaling web — restored (scale-in suspended, scale-out active, scheduled active)"
        ),
        "{}",
        run.out
    );
    assert_eq!(account.suspended("prod", "web"), (true, false, false), "{}", run.out);
}
