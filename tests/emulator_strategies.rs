//! The test support for ECS's deployment strategies, through the AWS SDK alone
//! (not the ecsflow binary): a blue/green service, a canary with a deployment
//! alarm, and the emulator's `--minute`. ecsflow's run tests build on these.

#[path = "common/aws_setup.rs"]
mod aws_setup;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;

use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    CanaryConfiguration, DeploymentAlarms, DeploymentConfiguration, DeploymentStrategy, ServiceDeployment,
    ServiceDeploymentStatus,
};
use aws_setup::{put_alarm, set_alarm_state, Account};
use emulator::Emulator;

/// Updates `web` to `task_definition`; returns the service deployment it started.
fn deploy(account: &Account, task_definition: &str) -> String {
    let out = account
        .runtime
        .block_on(account.ecs.update_service().cluster("prod").service("web").task_definition(task_definition).send())
        .unwrap();
    out.service().unwrap().current_service_deployment().unwrap().to_string()
}

fn service_deployment(account: &Account, arn: &str) -> ServiceDeployment {
    let out = account
        .runtime
        .block_on(account.ecs.describe_service_deployments().service_deployment_arns(arn).send())
        .unwrap();
    out.service_deployments()[0].clone()
}

/// Polls the service deployment until `done` says so; panics after 30 s.
fn wait_deployment(
    account: &Account,
    arn: &str,
    what: &str,
    done: impl Fn(&ServiceDeployment) -> bool,
) -> ServiceDeployment {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = service_deployment(account, arn);
        if done(&d) {
            return d;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {d:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_blue_green_deployment_succeeds_after_its_bake() {
    // One bake minute is 2 emulated seconds, 0.4 s real.
    let emulator = Emulator::start_with(0.2, &["--minute", "2"]);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let v1 = account.task_definition("web", "web", "web:v1");
    let config =
        DeploymentConfiguration::builder().strategy(DeploymentStrategy::BlueGreen).bake_time_in_minutes(1).build();
    account.strategy_service("prod", "web", &v1, 2, config);
    let v2 = account.task_definition("web", "web", "web:v2");
    let arn = deploy(&account, &v2);
    let d = wait_deployment(&account, &arn, "SUCCESSFUL", |d| d.status() == Some(&ServiceDeploymentStatus::Successful));
    assert_eq!(d.lifecycle_stage().map(|s| s.as_str()), Some("CLEAN_UP"));
    let bake_started = emulator
        .timeline()
        .into_iter()
        .find(|e| e["event"] == "stage" && e["stage"] == "BAKE_TIME" && e["serviceDeployment"] == arn.as_str())
        .expect("a BAKE_TIME stage in the timeline")["time"]
        .as_f64()
        .unwrap();
    let finished = d.finished_at().unwrap().as_secs_f64();
    assert!(finished - bake_started >= 0.4 - 0.01, "SUCCESSFUL {:.2} s after the bake began", finished - bake_started);
    assert_eq!(account.live_revision("prod", "web"), "web:2");
}

#[test]
fn an_alarm_during_a_canary_rolls_it_back_and_is_named() {
    let emulator = Emulator::start_with(0.2, &["--minute", "2"]);
    put_alarm(&emulator.endpoint(), "web-5xx");
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let v1 = account.task_definition("web", "web", "web:v1");
    let config = DeploymentConfiguration::builder()
        .strategy(DeploymentStrategy::Canary)
        .bake_time_in_minutes(0)
        .canary_configuration(
            CanaryConfiguration::builder().canary_percent(10.0).canary_bake_time_in_minutes(10).build(),
        )
        .alarms(DeploymentAlarms::builder().alarm_names("web-5xx").enable(true).rollback(true).build().unwrap())
        .build();
    account.strategy_service("prod", "web", &v1, 2, config);
    let v2 = account.task_definition("web", "web", "web:v2");
    let arn = deploy(&account, &v2);
    wait_deployment(&account, &arn, "the canary step", |d| {
        d.target_service_revision().and_then(|r| r.requested_production_traffic_weight()) == Some(10.0)
    });
    set_alarm_state(&emulator.endpoint(), "web-5xx", "ALARM");
    let d = wait_deployment(&account, &arn, "ROLLBACK_SUCCESSFUL", |d| {
        d.status() == Some(&ServiceDeploymentStatus::RollbackSuccessful)
    });
    let alarms = d.alarms().unwrap();
    assert_eq!(alarms.triggered_alarm_names(), ["web-5xx"]);
    assert_eq!(d.rollback().unwrap().reason(), Some("CloudWatch alarm(s) web-5xx in ALARM state. Rolling back."));
    account.wait_stable("prod", "web");
    assert_eq!(account.live_revision("prod", "web"), "web:1");
}

#[test]
fn a_code_deploy_service_refuses_a_task_definition_update() {
    use aws_sdk_ecs::error::ProvideErrorMetadata;
    let emulator = Emulator::start(0.2);
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let v1 = account.task_definition("web", "web", "web:v1");
    account.controller_service("prod", "web", &v1, 2, "CODE_DEPLOY");
    let out = account.runtime.block_on(account.ecs.describe_services().cluster("prod").services("web").send()).unwrap();
    let controller = out.services()[0].deployment_controller().unwrap().r#type().as_str().to_string();
    assert_eq!(controller, "CODE_DEPLOY");
    let v2 = account.task_definition("web", "web", "web:v2");
    let err = account
        .runtime
        .block_on(account.ecs.update_service().cluster("prod").service("web").task_definition(&v2).send())
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(err.message().unwrap().starts_with("Unable to update task definition on services with a CODE_DEPLOY"));
}
