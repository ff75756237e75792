//! `plan` predicts `run`: the mutating calls `plan --format json` lists are
//! exactly the ones moto's recorder sees the run make, call for call (the
//! order inside a `parallel` block aside). Here: the plan's JSON itself, the
//! example pipelines without a build, and prune over two clusters; the
//! successful scenarios of `tests/run.rs` and the example pipelines that build
//! (`tests/images.rs`) go through the same check.

#[path = "common/aws_setup.rs"]
mod aws_setup;
#[path = "common/calls.rs"]
mod calls;
mod common;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;

use std::path::Path;

use aws_setup::Account;
use calls::planned_groups;
use emulator::Emulator;

const TIME_SCALE: f64 = 0.2;

fn ecsflow(emulator: &Emulator, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = common::against(&emulator.endpoint(), dir, args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn plan_then_run(emulator: &Emulator, dir: &Path, pipeline: &str, args: &[&str]) -> serde_json::Value {
    calls::plan_then_run(emulator, &|args: &[&str]| ecsflow(emulator, dir, args), pipeline, args, &[]).0
}

fn project(name: &str, source: &str) -> tempfile::TempDir {
    common::project(&[(name, source.as_bytes())])
}

/// Cluster `prod`, service `web` on `web:1` (desired 2, breaker on), with
/// scale-in suspended on its scalable target.
fn web_account(emulator: &Emulator) -> Account {
    Account::with_web(&emulator.endpoint(), true)
}

use common::DEPLOY;

#[test]
fn a_full_deploy_makes_exactly_the_planned_calls() {
    let emulator = Emulator::start(TIME_SCALE);
    let _account = web_account(&emulator);
    let dir = project("deploy.ecsflow", DEPLOY);
    let plan = plan_then_run(&emulator, dir.path(), "deploy.ecsflow", &[]);
    let calls = |i: usize| plan["steps"][i]["calls"].clone();
    assert_eq!(
        calls(0),
        serde_json::json!([{"api": "ecs:RegisterTaskDefinition", "target": "web",
            "known_at_run_time": "ECS numbers the revision at run time: expected web:2"}])
    );
    assert_eq!(
        calls(2),
        serde_json::json!([{"api": "ecs:UpdateService", "target": "prod/web",
            "known_at_run_time": "`td` is the revision registered, expected web:2"}])
    );
    // On failure: the scaling comes back first, then the rollback.
    let on_failure = &plan["on_failure"];
    assert_eq!(on_failure[0]["calls"][0]["api"], "application-autoscaling:RegisterScalableTarget");
    assert_eq!(on_failure[0]["calls"][0]["target"], "service/prod/web");
    assert_eq!(on_failure[1]["details"][0], "rolls web back: web:2 → web:1");
    assert_eq!(on_failure[1]["calls"][0]["api"], "ecs:UpdateService");
}

#[test]
fn a_second_deploy_of_the_same_image_plans_and_makes_no_call() {
    let emulator = Emulator::start(TIME_SCALE);
    let _account = web_account(&emulator);
    let dir =
        project("deploy.ecsflow", &DEPLOY.replace("suspend-scaling web\n", "").replace("resume-scaling web\n", ""));
    let plan = plan_then_run(&emulator, dir.path(), "deploy.ecsflow", &["--param", "image=web:v1"]);
    assert_eq!(plan["changes"], false);
    assert!(planned_groups(&plan["steps"]).is_empty());
}

#[test]
fn a_migration_task_and_a_desired_count_change() {
    let emulator = Emulator::start(TIME_SCALE);
    let _account = web_account(&emulator);
    let source = r#"
cluster = "prod"
service web = "web"
let td = register from web {
  container "web" { image = "web:v2" }
}
let _migration = run-task td {
  like = web
  container "web" { command = ["./migrate"] }
}
update web { task-definition = td, desired-count = 3 }
await-stable web
"#;
    let dir = project("deploy.ecsflow", source);
    let plan = plan_then_run(&emulator, dir.path(), "deploy.ecsflow", &[]);
    assert_eq!(plan["steps"][1]["calls"][0]["target"], "prod/web:2");
}

/// `prune` over services in two clusters, with a `rollback … to` in
/// `on-failure`: plan protects what run protects, and says why.
#[test]
fn prune_across_two_clusters_with_a_rollback_target_in_on_failure() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    account.cluster("staging");
    let first = account.task_definition("web", "web", "web:v1");
    let second = account.task_definition("web", "web", "web:v2");
    for image in ["web:v3", "web:v4", "web:v5"] {
        account.task_definition("web", "web", image);
    }
    account.rolling_service("prod", "web", &first, 1, true);
    account.rolling_service("staging", "web", &second, 1, true);
    let source = r#"
cluster = "prod"
service web = "web"
service staging_web = "staging/web"
let td = register from web {
  container "web" { image = "web:v6" }
}
update web { task-definition = td }
await-stable web
prune td keep 1
on-failure {
  rollback web to "web:3"
}
let _s = staging_web
"#;
    let dir = project("deploy.ecsflow", source);
    let plan = plan_then_run(&emulator, dir.path(), "deploy.ecsflow", &[]);
    let prune = &plan["steps"][3];
    assert_eq!(
        prune["details"],
        serde_json::json!([
            "deregisters web:5, web:4 of `web`, keeping the newest 1",
            "keeps web:3: the target of a `rollback … to` in on-failure",
            "keeps web:2: staging/web runs it",
            "keeps web:1: prod/web returns to it on rollback",
        ])
    );
    assert_eq!(account.active_revisions("web"), [1, 2, 3, 6]);
    assert_eq!(plan["on_failure"][0]["calls"][0]["target"], "prod/web");
}

// ------------------------------------------------ the example pipelines

fn example(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines").join(name)).unwrap()
}

#[test]
fn example_prune_pipeline() {
    let emulator = Emulator::start(TIME_SCALE);
    // The pipeline names its region.
    let account = Account::in_region(&emulator.endpoint(), "eu-central-1");
    account.cluster("staging");
    let live = account.task_definition("reports", "reports", "reports:v1");
    for image in ["reports:v2", "reports:v3", "reports:v4", "reports:v5", "reports:v6", "reports:v7"] {
        account.task_definition("reports", "reports", image);
    }
    account.rolling_service("staging", "staging-reports", &live, 1, true);
    let dir = project("prune.ecsflow", &example("prune.ecsflow"));
    let plan = plan_then_run(&emulator, dir.path(), "prune.ecsflow", &["--param", "stage=staging"]);
    // reports:8 is new; 7, 6, 5, 4 are the newest; 1 is the rollback target.
    assert_eq!(plan["steps"][3]["calls"].as_array().unwrap().len(), 2);
    assert_eq!(account.active_revisions("reports"), [1, 4, 5, 6, 7, 8]);
}

#[test]
fn example_redeploy_pipeline() {
    let emulator = Emulator::start(TIME_SCALE);
    let account = Account::new(&emulator.endpoint());
    account.cluster("jobs");
    let live = account.task_definition("worker", "worker", "worker:v1");
    account.rolling_service("jobs", "worker", &live, 2, true);
    let dir = project("redeploy.ecsflow", &example("redeploy.ecsflow"));
    let plan = plan_then_run(&emulator, dir.path(), "redeploy.ecsflow", &[]);
    assert_eq!(plan["steps"][0]["calls"], serde_json::json!([{"api": "ecs:UpdateService", "target": "jobs/worker"}]));
}
