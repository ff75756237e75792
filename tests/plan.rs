//! `ecsflow plan` against moto: what it shows, its exit codes, and that it
//! makes read-only calls only (moto's request recorder sees every call).

#[path = "common/aws_setup.rs"]
mod aws_setup;
mod common;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;

use std::process::Command;

use aws_setup::Account;
use moto::Moto;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn plan(moto: &Moto, source: &str, args: &[&str]) -> Run {
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let output = Command::new(env!("CARGO_BIN_EXE_ecsflow"))
        .arg("plan")
        .arg("deploy.ecsflow")
        .args(args)
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-value")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A cluster `prod` with service `web` on `web:1` (nginx:1.25), desired 2,
/// whose scalable target has scale-in suspended, and `web:2`, `web:3` older
/// revisions around for pruning.
fn account(moto: &Moto) -> Account {
    let account = Account::new(&moto.endpoint());
    account.cluster("prod");
    let live = account.task_definition("web", "web", "nginx:1.25");
    account.task_definition("web", "web", "nginx:1.24");
    account.task_definition("web", "web", "nginx:1.23");
    account.service("prod", "web", &live, 2);
    account.scalable_target("prod", "web", true);
    account
}

const DEPLOY: &str = r#"
cluster = "prod"
param image = "nginx:1.26"
param replicas: int = 3
service web = "web"

let td = register from web {
  container "web" {
    image = image
    env     = { RELEASE = "r42" }
    secrets = { API_KEY = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-key" }
  }
}
suspend-scaling web
update web {
  task-definition = td
  desired-count   = replicas
  circuit-breaker = rollback
}
await-stable web
resume-scaling web
prune td keep 1
on-failure {
  rollback web
}
"#;

const PLANNED: &str = r#"plan for pipeline `deploy` in us-east-1

~ let td = register from web  (line 7)
    registers web:4
    --- web:1
    +++ web:4 (new)
    @@ -6,10 +6,14 @@
             {
               "name": "LOG_LEVEL",
               "value": "info"
    +        },
    +        {
    +          "name": "RELEASE",
    +          "value": "r42"
             }
           ],
           "essential": true,
    -      "image": "nginx:1.25",
    +      "image": "nginx:1.26",
           "memory": 256,
           "mountPoints": [],
           "name": "web",
    @@ -18,6 +22,10 @@
             {
               "name": "DB_PASSWORD",
               "valueFrom": "(hidden)"
    +        },
    +        {
    +          "name": "API_KEY",
    +          "valueFrom": "(hidden)"
             }
           ],
           "volumesFrom": []
    → ecs:RegisterTaskDefinition web (ECS numbers the revision at run time: expected web:4)
~ suspend-scaling web  (line 14)
    scale-in suspended, scale-out active, scheduled active → all suspended
    → application-autoscaling:RegisterScalableTarget service/prod/web
~ update web  (line 15)
    task-definition: web:1 → web:4
    desired-count: 2 → 3
    circuit-breaker: off → rollback
    rolls out web (desired 3)
    → ecs:UpdateService prod/web (`td` is the revision registered, expected web:4)
  await-stable web  (line 20)
    waits for web to be stable (timeout 10m)
~ resume-scaling web  (line 21)
    all suspended → scale-in suspended, scale-out active, scheduled active
    → application-autoscaling:RegisterScalableTarget service/prod/web
~ prune td keep 1  (line 22)
    deregisters web:3, web:2 of `web`, keeping the newest 1
    keeps web:1: prod/web returns to it on rollback
    → ecs:DeregisterTaskDefinition web:3 (`td` is the revision registered, expected web:4)
    → ecs:DeregisterTaskDefinition web:2 (`td` is the revision registered, expected web:4)

on failure (as after a failure at the last step):
  ~ restore the scaling of web  (line 14)
      automatic while `suspend-scaling web` holds it: all suspended → scale-in suspended, scale-out active, scheduled active
      → application-autoscaling:RegisterScalableTarget service/prod/web
  ~ rollback web  (line 24)
      rolls web back: web:4 → web:1
      → ecs:UpdateService prod/web

5 steps would change something
"#;

#[test]
fn plan_shows_every_change_and_calls_only_read_only_apis() {
    let moto = Moto::start();
    let _account = account(&moto);
    moto.start_recording();
    let run = plan(&moto, DEPLOY, &[]);
    assert_eq!(run.code, 2, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);

    // The new revision as a diff against the live one, secrets' sources
    // hidden; web:1 is live and the rollback target, web:4 would be new, so
    // 2 and 3 go; every change with the call that makes it.
    assert_eq!(run.stdout, PLANNED, "{}", run.stdout);
    assert!(!run.stdout.contains("parameter/db") && !run.stdout.contains("secret:api-key"));
    assert!(!run.stdout.contains("test-secret-value") && !run.stderr.contains("test-secret-value"));

    let actions = moto.recorded_actions();
    assert!(!actions.is_empty());
    for action in &actions {
        assert!(
            action.starts_with("Describe") || action.starts_with("List"),
            "plan made a mutating call: {action} in {actions:?}"
        );
    }
}

#[test]
fn an_up_to_date_pipeline_plans_no_change_and_exits_0() {
    let moto = Moto::start();
    let _account = account(&moto);
    let source = "cluster = \"prod\"\nservice web = \"web\"\nlet td = register from web {\n  container \"web\" { image = \"nginx:1.25\" }\n}\nupdate web { task-definition = td, desired-count = 2 }\nawait-stable web\n";
    let run = plan(&moto, source, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Nothing changes, so no call is listed.
    assert_eq!(
        run.stdout,
        "plan for pipeline `deploy` in us-east-1\n\n  let td = register from web  (line 3)\n    no change: uses web:1\n  update web  (line 6)\n    no change\n  await-stable web  (line 7)\n    waits for web to be stable (timeout 10m)\n\nno changes: running this pipeline would change nothing\n"
    );
}

#[test]
fn plan_as_json() {
    let moto = Moto::start();
    let _account = account(&moto);
    let run = plan(&moto, DEPLOY, &["--format", "json", "--param", "replicas=2"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["changes"], true);
    assert_eq!(json["steps"][0]["step"], "let td = register from web");
    assert_eq!(json["steps"][0]["line"], 7);
    assert!(json["steps"][0]["diff"].as_str().unwrap().contains("nginx:1.26"));
    // `--param replicas=2` leaves the desired count as it is.
    let update = json["steps"][2]["details"].as_array().unwrap();
    assert!(!update.iter().any(|d| d.as_str().unwrap().starts_with("desired-count")), "{update:?}");
}

#[test]
fn a_missing_service_is_an_error_at_its_step() {
    let moto = Moto::start();
    let _account = account(&moto);
    let run = plan(&moto, "cluster = \"prod\"\nservice api = \"api\"\nupdate api { desired-count = 1 }\n", &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("ecs:DescribeServices"), "{}", run.stderr);
    assert!(run.stderr.contains("deploy.ecsflow:3:1"), "{}", run.stderr);
}

#[test]
fn params_are_checked_against_their_types_and_names() {
    let moto = Moto::start();
    let run = plan(&moto, DEPLOY, &["--param", "replicas=three"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("`three` is not a valid `int` for param `replicas`"), "{}", run.stderr);
    let run = plan(&moto, DEPLOY, &["--param", "replica=3"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("this pipeline has no param `replica`"), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean `replicas`?"), "{}", run.stderr);
    let run = plan(&moto, "param tag = env(\"ECSFLOW_TEST_UNSET_VARIABLE\")\nlet _t = tag\n", &[]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("environment variable `ECSFLOW_TEST_UNSET_VARIABLE` is not set"), "{}", run.stderr);
    let run = plan(&moto, "param tag = \"a\"\nlet _t = tag\n", &["--param", "oops"]);
    assert_eq!(run.code, 1, "for plan, 2 means changes: a malformed --param is 1");
}

#[test]
fn plan_shows_the_builder_and_the_repository_it_would_push_to() {
    let moto = Moto::start();
    let account = account(&moto);
    let source = "repository app = \"web-app\"\nlet image = build \"app\" { build-args = { VERSION = \"1.2\" } }\nlet _pushed = push image to app { tags = [\"v1\", \"prod\"] }\n";
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes()), ("app/Dockerfile", b"FROM scratch\n")]);
    let plan = |dir: &std::path::Path| {
        let output = Command::new(env!("CARGO_BIN_EXE_ecsflow"))
            .args(["plan", "deploy.ecsflow"])
            .current_dir(dir)
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("ECSFLOW_BUILDER", "buildah")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            output.status.code(),
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
        )
    };
    // The repository does not exist yet: the plan says so before any run.
    let (code, out) = plan(dir.path());
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ECR repository `web-app` does not exist in us-east-1"), "{out}");

    let config = account.runtime.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(moto.endpoint())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ecs::config::Credentials::new("test", "test", None, None, "tests"))
            .load(),
    );
    account
        .runtime
        .block_on(aws_sdk_ecr::Client::new(&config).create_repository().repository_name("web-app").send())
        .unwrap();
    let (code, out) = plan(dir.path());
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("builds an image from `app` with buildah"), "{out}");
    assert!(out.contains("build-arg VERSION=1.2"), "{out}");
    assert!(
        out.contains("pushes the image to `123456789012.dkr.ecr.us-east-1.amazonaws.com/web-app` with tags v1, prod"),
        "{out}"
    );
}

#[test]
fn continue_plans_its_call_with_the_deployment_and_hook_known_at_run_time() {
    let moto = Moto::start();
    let _account = account(&moto);
    let source = "cluster = \"prod\"\nservice web = \"web\"\nupdate web { force-new-deployment = true }\ncontinue web\ncontinue web { action = rollback, timeout = 1h }\non-failure {\n  continue web { action = rollback }\n}\n";
    let run = plan(&moto, source, &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        "\
plan for pipeline `deploy` in us-east-1

~ update web  (line 3)
    starts a new deployment of the same task definition
    rolls out web (desired 2)
    → ecs:UpdateService prod/web
~ continue web  (line 4)
    resumes the deployment of web at its PAUSE hook (waits up to 10m for the pause)
    → ecs:ContinueServiceDeployment prod/web (the service deployment and its PAUSE hook are known at run time)
~ continue web  (line 5)
    rolls back the deployment of web at its PAUSE hook (waits up to 1h for the pause)
    → ecs:ContinueServiceDeployment prod/web (the service deployment and its PAUSE hook are known at run time)

on failure (as after a failure at the last step):
  ~ continue web  (line 7)
      rolls back the deployment of web at its PAUSE hook, if one holds it
      → ecs:ContinueServiceDeployment prod/web (the service deployment and its PAUSE hook are known at run time)

3 steps would change something
"
    );
    let json = plan(&moto, source, &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        json["steps"][1]["calls"],
        serde_json::json!([{
            "api": "ecs:ContinueServiceDeployment",
            "target": "prod/web",
            "known_at_run_time": "the service deployment and its PAUSE hook are known at run time"
        }])
    );
    assert_eq!(json["steps"][1]["step"], "continue web");
}

/// A rolling service with a Lambda hook and deployment alarms, on the emulator
/// (a pause hook would hold the service's first deployment, and the set-up
/// waits for it to be stable).
fn hooked_service(emulator: &emulator::Emulator) -> Account {
    use aws_sdk_ecs::types::{
        DeploymentAlarms, DeploymentConfiguration, DeploymentLifecycleHook, DeploymentLifecycleHookStage,
        DeploymentLifecycleHookTargetType,
    };
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let td = account.task_definition("web", "web", "web:v1");
    let hook = DeploymentLifecycleHook::builder()
        .target_type(DeploymentLifecycleHookTargetType::AwsLambda)
        .hook_target_arn("arn:aws:lambda:us-east-1:123456789012:function:check")
        .role_arn("arn:aws:iam::123456789012:role/ecs-hooks")
        .lifecycle_stages(DeploymentLifecycleHookStage::PostScaleUp)
        .build();
    let config = DeploymentConfiguration::builder()
        .minimum_healthy_percent(100)
        .maximum_percent(200)
        .alarms(DeploymentAlarms::builder().alarm_names("web-5xx").enable(true).rollback(true).build().unwrap())
        .lifecycle_hooks(hook)
        .build();
    account.configured_service("prod", "web", &td, config);
    account
}

const BLUE_GREEN: &str = r#"cluster = "prod"
service web = "web"
update web {
  strategy  = blue-green
  bake-time = 15m
  hook pause { at = [post-test-traffic-shift], timeout = 2h, on-timeout = rollback }
  hook "arn:aws:lambda:us-east-1:123456789012:function:smoke" {
    role    = "arn:aws:iam::123456789012:role/ecs-hooks"
    at      = [test-traffic-shift]
    details = { URL = "https://test.example.com" }
  }
}
"#;

#[test]
fn a_blue_green_update_with_hooks_shows_the_merged_configuration() {
    let emulator = emulator::Emulator::start(0.2);
    let _account = hooked_service(&emulator);
    let dir = common::project(&[("deploy.ecsflow", BLUE_GREEN.as_bytes())]);
    let output = common::against(&emulator.endpoint(), dir.path(), &["plan", "deploy.ecsflow"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(
        stdout,
        r#"plan for pipeline `deploy` in us-east-1

~ update web  (line 3)
    strategy: (unset) → blue-green
    bake-time: (unset) → 15m
    lifecycle hooks: replaces the service's 1 hook(s) with 2
      hook pause at post-test-traffic-shift (timeout 120m, then rollback)
      hook arn:aws:lambda:us-east-1:123456789012:function:smoke at test-traffic-shift
    rolls out web (desired 1)
    keeps alarms web-5xx (enabled, rollback on alarm)
    → ecs:UpdateService prod/web

1 step would change something
"#
    );

    let output = common::against(&emulator.endpoint(), dir.path(), &["plan", "deploy.ecsflow", "--format", "json"])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let sent = &plan["steps"][0]["deployment_configuration"];
    assert_eq!(sent["strategy"], "BLUE_GREEN", "{plan}");
    assert_eq!(sent["bakeTimeInMinutes"], 15);
    assert_eq!(sent["minimumHealthyPercent"], 100);
    assert_eq!(sent["alarms"]["alarmNames"], serde_json::json!(["web-5xx"]));
    assert_eq!(
        sent["lifecycleHooks"],
        serde_json::json!([
            {"targetType": "PAUSE", "hookTargetArn": null, "roleArn": null, "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
             "hookDetails": null, "timeoutConfiguration": {"timeoutInMinutes": 120, "action": "ROLLBACK"}},
            {"targetType": "AWS_LAMBDA", "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
             "roleArn": "arn:aws:iam::123456789012:role/ecs-hooks", "lifecycleStages": ["TEST_TRAFFIC_SHIFT"],
             "hookDetails": {"URL": "https://test.example.com"}, "timeoutConfiguration": null},
        ])
    );
    // Once run, the same pipeline changes nothing: ECS keeps what was sent.
    let run = common::against(&emulator.endpoint(), dir.path(), &["run", "deploy.ecsflow"]).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let output = common::against(&emulator.endpoint(), dir.path(), &["plan", "deploy.ecsflow"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn a_setting_of_another_strategy_than_the_services_is_refused_at_the_update() {
    let emulator = emulator::Emulator::start(0.2);
    let _account = hooked_service(&emulator);
    let source = "cluster = \"prod\"\nservice web = \"web\"\nupdate web { canary-percent = 5 }\n";
    let dir = common::project(&[("deploy.ecsflow", source.as_bytes())]);
    let output = common::against(&emulator.endpoint(), dir.path(), &["plan", "deploy.ecsflow"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ecsflow::deployment-conflict"), "{stderr}");
    assert!(
        stderr.contains("`canary-percent` applies to canary deployments only; the strategy is rolling"),
        "{stderr}"
    );
    assert!(stderr.contains("deploy.ecsflow:3:1"), "{stderr}");
}
