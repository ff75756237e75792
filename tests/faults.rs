//! A flaky AWS never changes the verdict: `ecsflow run` talks to the emulator
//! through the fault-injecting proxy (harness/fault_proxy.py), which opens
//! windows of throttling, 5xx, resets and blackholes per API action while ECS
//! itself keeps working. Each scenario asserts the exit status and the final
//! state: the service on the right revision, one deployment per `update`,
//! one revision per `register`, scaling as it was found.

#[path = "common/aws_setup.rs"]
mod aws_setup;
mod common;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;
#[path = "common/proxy.rs"]
mod proxy;

use aws_setup::Account;
use emulator::Emulator;
use proxy::Proxy;
use serde_json::{json, Value as Json};

const TIME_SCALE: f64 = 0.2;

use common::DEPLOY;

struct World {
    _emulator: Emulator,
    proxy: Proxy,
    account: Account,
}

fn world(breaker: bool) -> World {
    let emulator = Emulator::start(TIME_SCALE);
    // The account is set up behind the proxy's back; ecsflow goes through it.
    let account = Account::with_web(&emulator.endpoint(), breaker);
    let proxy = Proxy::start(&emulator.endpoint());
    World { _emulator: emulator, proxy, account }
}

fn run(world: &World, args: &[&str]) -> (i32, String) {
    run_source(world, DEPLOY, args)
}

fn run_source(world: &World, source: &str, args: &[&str]) -> (i32, String) {
    let output = ecsflow(world, source, &["run", "deploy.ecsflow", "--format", "plain"], args);
    let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(!out.contains("test-secret-value"), "credentials leaked:\n{out}");
    (output.status.code().unwrap_or(-1), out)
}

/// `ecsflow COMMAND… ARGS…` on `source` (as `deploy.ecsflow`), through the proxy.
fn ecsflow(world: &World, source: &str, command: &[&str], args: &[&str]) -> std::process::Output {
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    common::against(&world.proxy.endpoint(), dir.path(), &[command, args].concat()).output().unwrap()
}

/// How many requests of `action` reached ECS (the proxy forwarded them).
fn forwarded(world: &World, action: &str) -> usize {
    world.proxy.log().iter().filter(|e| e["action"] == action && e["forwarded"] == true).count()
}

/// The deployment a good run ends on: web:2, alone, one UpdateService and one
/// RegisterTaskDefinition reached ECS, scaling as found.
fn assert_deployed_once(world: &World, code: i32, out: &str) {
    assert_eq!(code, 0, "{out}");
    assert_eq!(world.account.live_revision("prod", "web"), "web:2", "{out}");
    assert_eq!(world.account.active_revisions("web"), [1, 2], "one revision for one register\n{out}");
    assert_eq!(forwarded(world, "UpdateService"), 1, "one deployment for one update\n{out}");
    assert_eq!(world.account.suspended("prod", "web"), (true, false, false), "{out}");
}

fn window(world: &World, spec: Json) {
    assert!(!world.proxy.fault(spec).is_empty());
}

// ------------------------------------------------------------ reads

#[test]
fn six_seconds_of_throttled_describe_services_during_await_stable_is_waited_out() {
    let world = world(true);
    window(&world, json!({"action": "DescribeServices", "kind": "throttle", "seconds": 6}));
    let (code, out) = run(&world, &[]);
    assert_deployed_once(&world, code, &out);
    assert!(out.contains("retrying: throttled (ecs:DescribeServices)"), "{out}");
    assert!(!out.contains("on-failure"), "a good release was rolled back:\n{out}");
}

#[test]
fn three_seconds_of_reset_connections_are_waited_out() {
    let world = world(true);
    window(&world, json!({"action": "*", "kind": "reset", "seconds": 3}));
    let (code, out) = run(&world, &[]);
    assert_deployed_once(&world, code, &out);
}

#[test]
fn a_blackholed_describe_is_given_up_on_and_retried() {
    let world = world(true);
    window(&world, json!({"action": "DescribeServices", "kind": "blackhole", "seconds": 3}));
    let (code, out) = run(&world, &[]);
    assert_deployed_once(&world, code, &out);
}

// ------------------------------------------------------------ run-task

/// A migration of about 2 s (10 emulated seconds) that exits 0.
const MIGRATE: &str = r#"
cluster = "prod"
service web = "web"
let _migration = run-task "web:1" {
  like = web
  container "web" { command = ["sleep 10"] }
}
"#;

fn assert_migrated(code: i32, out: &str) {
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("✓ let _migration = run-task \"web:1\" task ") && out.contains(" exited 0"), "{out}");
}

#[test]
fn six_seconds_of_throttled_describe_tasks_during_run_task_are_waited_out() {
    let world = world(true);
    window(&world, json!({"action": "DescribeTasks", "kind": "throttle", "seconds": 6}));
    let (code, out) = run_source(&world, MIGRATE, &[]);
    assert_migrated(code, &out);
    assert!(out.contains("retrying: throttled (ecs:DescribeTasks)"), "{out}");
}

#[test]
fn three_seconds_of_reset_describe_tasks_during_run_task_are_waited_out() {
    let world = world(true);
    window(&world, json!({"action": "DescribeTasks", "kind": "reset", "seconds": 3}));
    let (code, out) = run_source(&world, MIGRATE, &[]);
    assert_migrated(code, &out);
    assert!(out.contains("retrying: ") && out.contains("(ecs:DescribeTasks)"), "{out}");
}

#[test]
fn a_blackholed_describe_tasks_during_run_task_is_given_up_on_and_retried() {
    let world = world(true);
    window(&world, json!({"action": "DescribeTasks", "kind": "blackhole", "seconds": 3}));
    let (code, out) = run_source(&world, MIGRATE, &[]);
    assert_migrated(code, &out);
}

// ------------------------------------------------------------ plan

#[test]
fn plan_through_throttling_prints_the_same_plan_and_says_each_retry_on_stderr() {
    let world = world(true);
    for format in ["human", "json"] {
        let plan = || ecsflow(&world, DEPLOY, &["plan", "deploy.ecsflow", "--format", format], &[]);
        let clean = plan();
        assert_eq!(clean.status.code(), Some(2), "{clean:?}");
        window(&world, json!({"action": "DescribeServices", "kind": "throttle", "seconds": 3}));
        let throttled = plan();
        let (stdout, stderr) = (String::from_utf8_lossy(&throttled.stdout), String::from_utf8_lossy(&throttled.stderr));
        assert_eq!(throttled.status.code(), Some(2), "{stdout}{stderr}");
        assert_eq!(stdout, String::from_utf8_lossy(&clean.stdout), "{format}: the plan changed under throttling");
        assert!(!stderr.is_empty(), "{format}: no retry said");
        for line in stderr.lines() {
            assert!(line.starts_with("retrying: throttled (ecs:DescribeServices), next try in "), "{stderr}");
            assert!(line.ends_with('s'), "{stderr}");
        }
    }
}

// ------------------------------------------------------------ writes

#[test]
fn four_seconds_of_500_on_update_service_retry_to_one_deployment() {
    let world = world(true);
    window(&world, json!({"action": "UpdateService", "kind": "error", "status": 500, "seconds": 4}));
    let (code, out) = run(&world, &[]);
    assert_deployed_once(&world, code, &out);
    assert!(out.contains("retrying: server error (HTTP 500) (ecs:UpdateService)"), "{out}");
}

#[test]
fn an_update_that_went_through_but_whose_answer_was_lost_is_not_sent_again() {
    let world = world(true);
    window(&world, json!({"action": "UpdateService", "kind": "reset", "count": 1, "after_forward": true}));
    let (code, out) = run(&world, &[]);
    assert_deployed_once(&world, code, &out);
    assert!(out.contains("ecs:UpdateService: the earlier attempt took effect; not sending it again"), "{out}");
}

#[test]
fn a_register_that_went_through_but_whose_answer_was_lost_makes_one_revision() {
    let world = world(true);
    window(
        &world,
        json!({"action": "RegisterTaskDefinition", "kind": "error", "status": 503, "count": 1, "after_forward": true}),
    );
    let (code, out) = run(&world, &[]);
    assert_eq!(forwarded(&world, "RegisterTaskDefinition"), 1, "{out}");
    assert_deployed_once(&world, code, &out);
}

#[test]
fn throttled_scaling_writes_are_retried_and_scaling_ends_as_found() {
    let world = world(true);
    window(&world, json!({"action": "RegisterScalableTarget", "kind": "throttle", "count": 4}));
    let (code, out) = run(&world, &[]);
    assert_deployed_once(&world, code, &out);
}

// ------------------------------------------------------------ the clean-up

#[test]
fn on_failure_rolls_back_through_resets_and_restores_scaling() {
    let world = world(false);
    // The new revision crashes; without a breaker the timeout fails the run
    // and on-failure rolls back, while every UpdateService answer is lost
    // once after it went through.
    window(&world, json!({"action": "UpdateService", "kind": "reset", "count": 2, "after_forward": true}));
    let (code, out) = run(&world, &["--param", "image=web:v2-crash-2", "--param", "timeout=4s"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("↺ on-failure: rollback web — rolled web back from web:2 to web:1"), "{out}");
    assert_eq!(world.account.live_revision("prod", "web"), "web:1", "{out}");
    assert_eq!(forwarded(&world, "UpdateService"), 2, "one update and one rollback\n{out}");
    assert_eq!(world.account.suspended("prod", "web"), (true, false, false), "{out}");
}

// ------------------------------------------------------------ every fault in every phase

/// Each fault class in each phase a deploy writes or reads: the run ends on
/// web:2 with one deployment and scaling as found. Throttling and 5xx come
/// as three answers in a row, resets as two, a blackhole holds for 2 s.
fn every_phase(kind: Json) {
    for action in ["RegisterTaskDefinition", "UpdateService", "DescribeServices", "RegisterScalableTarget"] {
        let world = world(true);
        let mut spec = kind.clone();
        spec["action"] = json!(action);
        window(&world, spec.clone());
        let (code, out) = run(&world, &[]);
        let context = format!("{spec}\n{out}");
        assert_deployed_once(&world, code, &context);
    }
}

#[test]
fn throttling_in_every_phase() {
    every_phase(json!({"kind": "throttle", "count": 3}));
}

#[test]
fn server_errors_in_every_phase() {
    every_phase(json!({"kind": "error", "status": 503, "count": 3}));
}

#[test]
fn resets_in_every_phase() {
    every_phase(json!({"kind": "reset", "count": 2}));
}

#[test]
fn blackholes_in_every_phase() {
    every_phase(json!({"kind": "blackhole", "seconds": 2}));
}

// ------------------------------------------------------------ stale reads

/// ECS is eventually consistent: for a while after UpdateService,
/// DescribeServices still shows the service as before (the emulator's
/// --describe-lag). The run waits for its deployment to show; it does not
/// call it replaced or failed.
#[test]
fn stale_describe_services_after_the_update_do_not_change_the_verdict() {
    let world = world(true);
    world._emulator.post("/_emulator/consistency", r#"{"describeServicesLag": 15}"#);
    let (code, out) = run(&world, &[]);
    assert_deployed_once(&world, code, &out);
    assert!(out.contains("✓ await-stable web web stable on web:2"), "{out}");
}

/// The riskiest write: a forced deployment whose answer was lost while
/// DescribeServices still shows the service as before. Resending it would
/// start a second deployment; the run looks twice, 2 s apart, and sees it.
#[test]
fn a_lost_forced_deployment_behind_stale_reads_is_not_sent_again() {
    let world = world(true);
    // 5 emulated seconds: 1 s at this time scale.
    world._emulator.post("/_emulator/consistency", r#"{"describeServicesLag": 5}"#);
    window(&world, json!({"action": "UpdateService", "kind": "reset", "count": 1, "after_forward": true}));
    let source =
        "cluster = \"prod\"\nservice web = \"web\"\nupdate web { force-new-deployment = true }\nawait-stable web\n";
    let (code, out) = run_source(&world, source, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(forwarded(&world, "UpdateService"), 1, "one forced deployment, not two\n{out}");
    assert!(out.contains("ecs:UpdateService: the earlier attempt took effect; not sending it again"), "{out}");
}

/// A deployment ECS does not list before the step's own timeout is a
/// timeout that says so, not a wait past the deadline.
#[test]
fn a_deployment_never_seen_before_the_timeout_is_a_timeout_that_says_so() {
    let world = world(true);
    // 25 emulated seconds: 5 s at this time scale; the step allows 2 s.
    world._emulator.post("/_emulator/consistency", r#"{"describeServicesLag": 25}"#);
    let started = std::time::Instant::now();
    let (code, out) = run(&world, &["--param", "timeout=2s"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("failed: timed out after 2s: deployment ecs-svc/"), "{out}");
    assert!(out.contains("never showed in ECS's answers"), "{out}");
    assert!(out.contains("ecsflow::rollout-timeout"), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "{out}");
}
