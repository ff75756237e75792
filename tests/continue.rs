//! `continue` against the emulator: the step in a run, and `ecsflow continue`
//! on a deployment a PAUSE lifecycle hook holds. The paused deployments come
//! from ordinary UpdateService calls on a blue/green service with a PAUSE hook.

#[path = "common/aws_setup.rs"]
mod aws_setup;
#[path = "common/calls.rs"]
mod calls;
mod common;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;

use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    DeploymentConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookStage, DeploymentLifecycleHookTargetType,
    DeploymentStrategy,
};
use aws_setup::Account;
use emulator::Emulator;

const TIME_SCALE: f64 = 0.2;

/// Blue/green, no bake, a PAUSE hook after the green tasks scaled up.
fn paused_at_post_scale_up() -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::BlueGreen)
        .bake_time_in_minutes(0)
        .lifecycle_hooks(
            DeploymentLifecycleHook::builder()
                .target_type(DeploymentLifecycleHookTargetType::Pause)
                .lifecycle_stages(DeploymentLifecycleHookStage::PostScaleUp)
                .build(),
        )
        .build()
}

/// Cluster `prod`, service `web` stable on `web:1`, revisions `web:2` and
/// `web:3` registered; when `hooked`, its deploymentConfiguration is then
/// blue/green with a PAUSE hook (a change of configuration alone starts no
/// deployment, so nothing is paused yet).
fn account(emulator: &Emulator, hooked: bool) -> Account {
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let live = account.task_definition("web", "web", "web:v1");
    account.task_definition("web", "web", "web:v2");
    account.task_definition("web", "web", "web:v3");
    account.rolling_service("prod", "web", &live, 1, false);
    if hooked {
        account
            .runtime
            .block_on(
                account
                    .ecs
                    .update_service()
                    .cluster("prod")
                    .service("web")
                    .deployment_configuration(paused_at_post_scale_up())
                    .send(),
            )
            .unwrap();
    }
    account
}

/// The service's current service deployment: `(ARN, status, stage, hook statuses)`.
fn current(account: &Account) -> (String, String, Option<String>, Vec<String>) {
    let ecs = &account.ecs;
    let service = account.runtime.block_on(ecs.describe_services().cluster("prod").services("web").send()).unwrap();
    let arn = service.services()[0].current_service_deployment().unwrap().to_string();
    let out =
        account.runtime.block_on(ecs.describe_service_deployments().service_deployment_arns(&arn).send()).unwrap();
    let d = &out.service_deployments()[0];
    (
        arn,
        d.status().unwrap().as_str().to_string(),
        d.lifecycle_stage().map(|s| s.as_str().to_string()),
        d.lifecycle_hook_details().iter().map(|h| h.status().unwrap().as_str().to_string()).collect(),
    )
}

fn wait_for_status(account: &Account, status: &str) -> (String, String, Option<String>, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = current(account);
        if now.1 == status {
            return now;
        }
        assert!(Instant::now() < deadline, "the service deployment never became {status}: {now:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Deploys `revision` with the SDK and waits until the PAUSE hook holds it.
fn deploy_until_paused(account: &Account, revision: &str) -> String {
    account
        .runtime
        .block_on(account.ecs.update_service().cluster("prod").service("web").task_definition(revision).send())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (arn, _, stage, hooks) = current(account);
        if hooks.iter().any(|h| h == "AWAITING_ACTION") {
            assert_eq!(stage.as_deref(), Some("POST_SCALE_UP"));
            return arn;
        }
        assert!(Instant::now() < deadline, "the deployment of {revision} never paused");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run(emulator: &Emulator, source: &str) -> (i32, String) {
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let output = common::against(&emulator.endpoint(), dir.path(), &["run", "deploy.ecsflow"]).output().unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.code().unwrap_or(-1), out)
}

fn continue_command(emulator: &Emulator, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let output =
        common::against(&emulator.endpoint(), dir.path(), &[&["continue", "--cluster", "prod"], args].concat())
            .output()
            .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `continue web` right after `update web` waits for the pause, resumes it,
/// and the `await-stable` after it follows the deployment to the end; the
/// run makes exactly the calls `plan` listed.
#[test]
fn a_pipeline_resumes_the_deployment_its_update_started_once_it_pauses() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let source = r#"
cluster = "prod"
service web = "web"

update web { task-definition = "web:2" }
continue web { timeout = 2m }
await-stable web { timeout = 2m }
"#;
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let ecsflow = |args: &[&str]| {
        let output = common::against(&emulator.endpoint(), dir.path(), args).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code().unwrap_or(-1), stdout, stderr)
    };
    let (plan, out) = calls::plan_then_run(&emulator, &ecsflow, "deploy.ecsflow", &[], &[]);
    let planned = &plan["steps"][1]["calls"][0];
    assert_eq!(planned["api"], "ecs:ContinueServiceDeployment");
    assert_eq!(planned["target"], "prod/web");
    assert_eq!(planned["known_at_run_time"], "the service deployment and its PAUSE hook are known at run time");
    let resumed = out.lines().find(|l| l.starts_with("✓ continue web ")).unwrap_or_default();
    assert!(
        resumed.contains("resumed deployment ") && resumed.contains(" of web at POST_SCALE_UP (hook ecs-pause-"),
        "{out}"
    );
    let (_, _, _, hooks) = wait_for_status(&account, "SUCCESSFUL");
    assert_eq!(hooks, ["SUCCEEDED"], "{out}");
    assert_eq!(account.live_revision("prod", "web"), "web:2");
}

/// `action = rollback` returns once ECS accepted; ECS then rolls the
/// deployment back to the revision before it.
#[test]
fn a_pipeline_can_roll_the_paused_deployment_back() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);
    let source = "cluster = \"prod\"\nservice web = \"web\"\nupdate web { task-definition = \"web:2\" }\ncontinue web { action = rollback }\n";
    let (code, out) = run(&emulator, source);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("asked ECS to roll back deployment "), "{out}");
    let (_, _, stage, hooks) = wait_for_status(&account, "ROLLBACK_SUCCESSFUL");
    assert_eq!((stage.as_deref(), hooks), (Some("POST_SCALE_UP"), vec!["FAILED".to_string()]));
}

/// A deployment no PAUSE hook will hold is a failure at once, with its
/// status, its code and a help line.
#[test]
fn continue_on_a_deployment_without_a_pause_hook_fails_with_its_status() {
    let emulator = Emulator::start(TIME_SCALE);
    account(&emulator, false);
    let source =
        "cluster = \"prod\"\nservice web = \"web\"\nupdate web { task-definition = \"web:2\" }\ncontinue web\n";
    let started = Instant::now();
    let (code, out) = run(&emulator, source);
    assert_eq!(code, 1, "{out}");
    assert!(started.elapsed() < Duration::from_secs(10), "it did not wait for a pause that cannot come");
    let failed = out.lines().find(|l| l.starts_with("✗ `continue web` (line 4) failed: ")).unwrap_or_default();
    assert!(
        failed.contains(" of web is ") && failed.ends_with(", and no PAUSE hook holds it or is ahead of it"),
        "{out}"
    );
    assert!(out.contains("ecsflow::not-paused"), "{out}");
    assert!(
        out.contains("give web a PAUSE lifecycle hook (deploymentConfiguration.lifecycleHooks, targetType PAUSE)"),
        "{out}"
    );
}

#[test]
fn the_continue_command_resumes_or_rolls_back_a_paused_deployment_and_says_when_nothing_is_paused() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = account(&emulator, true);

    let arn = deploy_until_paused(&account, "web:2");
    let id = arn.rsplit('/').next().unwrap();
    let (code, stdout, stderr) = continue_command(&emulator, &["--service", "web"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.starts_with(&format!("resumed deployment {id} of web at POST_SCALE_UP (hook ecs-pause-")),
        "{stdout}{stderr}"
    );
    wait_for_status(&account, "SUCCESSFUL");
    account.wait_stable("prod", "web");
    assert_eq!(account.live_revision("prod", "web"), "web:2");

    let arn = deploy_until_paused(&account, "web:3");
    let id = arn.rsplit('/').next().unwrap();
    let (code, stdout, stderr) = continue_command(&emulator, &["--service", "web", "--rollback"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with(&format!("asked ECS to roll back deployment {id} of web at POST_SCALE_UP (hook ")));
    let (_, _, _, hooks) = wait_for_status(&account, "ROLLBACK_SUCCESSFUL");
    assert_eq!(hooks, ["FAILED"]);

    // Nothing is paused now.
    let (code, stdout, stderr) = continue_command(&emulator, &["--service", "web"]);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "ecsflow::not-paused

  × nothing to continue: deployment {id} of web is ROLLBACK_SUCCESSFUL at
  │ POST_SCALE_UP, and no PAUSE hook holds it or is ahead of it
  help: `continue` acts on a deployment a PAUSE lifecycle hook holds, and this one is over; an
        `update` of web starts one that pauses when the service's deploymentConfiguration has a
        PAUSE hook (lifecycleHooks, targetType PAUSE)

"
        )
    );

    // No such service: AWS's answer, with its code and help.
    let (code, _, stderr) = continue_command(&emulator, &["--service", "nope"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        stderr,
        "ecsflow::aws

  × ecs:DescribeServices: service `nope` does not exist in cluster `prod`
  help: check --cluster and --service, and the region (--region, AWS_REGION or the profile's)

"
    );
    assert!(!stderr.contains("test-secret-value"));
}

/// Without credentials anywhere (every AWS_* variable unset, an empty home,
/// no instance metadata): exit 1, with the code and how to log in.
#[test]
fn the_continue_command_without_credentials_says_how_to_log_in() {
    let home = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ecsflow"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") || name == "ECSFLOW_LOG" {
            command.env_remove(name);
        }
    }
    let output = command
        .args(["continue", "--cluster", "prod", "--service", "web"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let flat = stderr.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.starts_with("ecsflow::aws × ecs:DescribeServices: no AWS credentials found"), "{stderr}");
    assert!(flat.contains("help: log in with `aws sso login --profile PROFILE`"), "{stderr}");
}
