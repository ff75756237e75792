//! `build` and `push` with real components: buildah building real
//! Dockerfiles, the distribution registry with htpasswd auth as the ECR
//! registry, moto's ECR for repositories and tokens, and the rollout emulator.

#[path = "common/aws_setup.rs"]
mod aws_setup;
#[path = "common/calls.rs"]
mod calls;
mod common;
#[path = "common/emulator.rs"]
mod emulator;
#[path = "common/moto.rs"]
mod moto;
#[path = "common/registry.rs"]
mod registry;

use std::path::Path;
use std::process::Command;

use aws_setup::Account;
use emulator::Emulator;
use registry::{BuildEnv, Registry, ECR_HOST, MOTO_PASSWORD};

struct Run {
    code: i32,
    out: String,
}

fn ecsflow(emulator: &Emulator, dir: &Path, env: &[(String, String)], args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_ecsflow"))
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("AWS_ENDPOINT_URL", emulator.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-value")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    // Neither the AWS credentials nor the ECR token may show.
    assert!(!out.contains("test-secret-value") && !out.contains(MOTO_PASSWORD), "a secret leaked:\n{out}");
    Run { code: output.status.code().unwrap_or(-1), out }
}

fn ecr_repository(account: &Account, endpoint: &str, name: &str) {
    let config = account.runtime.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ecs::config::Credentials::new("test", "test", None, None, "tests"))
            .load(),
    );
    let ecr = aws_sdk_ecr::Client::new(&config);
    account.runtime.block_on(ecr.create_repository().repository_name(name).send()).unwrap();
}

/// The image of the service's task definition's first container.
fn deployed_image(account: &Account, cluster: &str, service: &str) -> String {
    let revision = account.live_revision(cluster, service);
    let out =
        account.runtime.block_on(account.ecs.describe_task_definition().task_definition(revision).send()).unwrap();
    out.task_definition().unwrap().container_definitions()[0].image().unwrap().to_string()
}

const DEPLOY: &str = r#"
cluster = "prod"
repository app = "web-app"
service web = "web"
let image = build "app"
let pushed = push image to app { tags = ["v1", "prod"] }
let td = register from web {
  container "web" { image = pushed }
}
update web { task-definition = td }
await-stable web
"#;

/// DEPLOY beside an `app/` context whose Dockerfile starts `FROM scratch`.
fn scratch_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    registry::write(
        dir.path(),
        &[
            ("deploy.ecsflow", DEPLOY),
            ("app/Dockerfile", "FROM scratch\nCOPY hello.txt /hello.txt\n"),
            ("app/hello.txt", "hello\n"),
        ],
    );
    dir
}

fn service(emulator: &Emulator) -> Account {
    let account = Account::new(&emulator.endpoint());
    account.cluster("prod");
    let td = account.task_definition("web", "web", "web:v1");
    account.rolling_service("prod", "web", &td, 1, true);
    ecr_repository(&account, &emulator.endpoint(), "web-app");
    account
}

#[test]
fn a_scratch_image_is_built_pushed_and_deployed_by_its_digest() {
    let emulator = Emulator::start(0.2);
    let registry = Registry::start(MOTO_PASSWORD);
    let build = BuildEnv::new();
    let account = service(&emulator);
    let dir = scratch_project();
    let run = ecsflow(&emulator, dir.path(), &build.env(registry.port), &["run", "deploy.ecsflow"]);
    assert_eq!(run.code, 0, "{}", run.out);
    assert!(run.out.contains("with buildah"), "{}", run.out);
    let digest = registry.digest("web-app", "v1").expect("the registry has web-app:v1");
    assert_eq!(registry.digest("web-app", "prod").as_deref(), Some(digest.as_str()), "both tags name one manifest");
    assert_eq!(deployed_image(&account, "prod", "web"), format!("{ECR_HOST}/web-app@{digest}"));
    assert!(run.out.contains(&format!("pushed {ECR_HOST}/web-app@{digest} (tags v1, prod)")), "{}", run.out);
}

#[test]
fn the_example_pipeline_builds_on_a_local_base_and_rolls_out() {
    let emulator = Emulator::start(0.2);
    let registry = Registry::start(MOTO_PASSWORD);
    let build = BuildEnv::new();
    build.busybox_base();
    // pipelines/web.ecsflow deploys to eu-west-1: prepare that region.
    boto3(
        &emulator,
        "eu-west-1",
        r#"
ecs = boto3.client("ecs", **kw); ecr = boto3.client("ecr", **kw); aas = boto3.client("application-autoscaling", **kw)
ecr.create_repository(repositoryName="web-app")
ecs.create_cluster(clusterName="prod")
td = ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "web:v1", "memory": 256}])["taskDefinition"]["taskDefinitionArn"]
ecs.create_service(cluster="prod", serviceName="web", taskDefinition=td, desiredCount=2,
    deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
aas.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/prod/web", ScalableDimension="ecs:service:DesiredCount",
    MinCapacity=1, MaxCapacity=4, SuspendedState={"DynamicScalingInSuspended": False, "DynamicScalingOutSuspended": True, "ScheduledScalingSuspended": False})
"#,
    );
    let mut env = build.env(registry.port);
    env.push(("GITHUB_SHA".into(), "abc123".into()));
    // The plan first: the run makes exactly the calls it lists.
    let (plan, out) = plan_then_run(&emulator, &env, "pipelines/web.ecsflow");
    let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    assert_eq!(
        plan["steps"][1]["calls"],
        serde_json::json!(
            ["abc123", "prod"].map(|tag| serde_json::json!({"api": "ecr:PutImage",
            "target": format!("{host}/web-app:{tag}"),
            "known_at_run_time": "the image digest is known at run time; `image` is the image ID, known at run time"}))
        )
    );
    let digest = registry.digest("web-app", "abc123").expect("pushed with the commit's tag");
    assert!(out.contains(&format!("pushed {host}/web-app@{digest} (tags abc123, prod)")), "{out}");
    assert!(out.contains("✓ await-stable web web stable on web:2 (2/2 running)"), "{out}");
    assert!(out.contains("restored (scale-in active, scale-out suspended, scheduled active)"), "{out}");
}

/// Runs `plan` then `run` on a pipeline of this repository, holding the run
/// to the plan's calls; returns the plan and the run's output.
fn plan_then_run(emulator: &Emulator, env: &[(String, String)], pipeline: &str) -> (serde_json::Value, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ecsflow = |args: &[&str]| {
        let run = ecsflow(emulator, root, env, args);
        (run.code, run.out, String::new())
    };
    calls::plan_then_run(emulator, &ecsflow, pipeline, &[], &[])
}

/// Runs Python with boto3 against the emulator: `setup` sees `kw`, the
/// client arguments for `region`.
fn boto3(emulator: &Emulator, region: &str, setup: &str) {
    let script = format!(
        "import boto3, sys\nkw = dict(endpoint_url=sys.argv[1], region_name={region:?}, aws_access_key_id=\"test\", aws_secret_access_key=\"test\")\n{setup}"
    );
    let status = Command::new(moto::venv_bin("python")).args(["-c", &script, &emulator.endpoint()]).status().unwrap();
    assert!(status.success(), "the account setup failed");
}

#[test]
fn the_example_migration_pipeline_plans_and_runs_the_same_calls() {
    let emulator = Emulator::start(0.2);
    let registry = Registry::start(MOTO_PASSWORD);
    let build = BuildEnv::new();
    build.busybox_base();
    // An awsvpc Fargate service `api`, as pipelines/migrate.ecsflow expects in eu-west-1.
    boto3(
        &emulator,
        "eu-west-1",
        r#"
ec2 = boto3.client("ec2", **kw); ecs = boto3.client("ecs", **kw); ecr = boto3.client("ecr", **kw)
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
group = ec2.create_security_group(GroupName="api", Description="api", VpcId=vpc)["GroupId"]
ecr.create_repository(repositoryName="api")
ecs.create_cluster(clusterName="prod")
td = ecs.register_task_definition(family="api", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="512", memory="1024",
    containerDefinitions=[{"name": "api", "image": "api:v1", "memory": 1024}])["taskDefinition"]["taskDefinitionArn"]
ecs.create_service(cluster="prod", serviceName="api", taskDefinition=td, desiredCount=2, launchType="FARGATE",
    networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
    deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
"#,
    );
    let mut env = build.env(registry.port);
    env.push(("GITHUB_SHA".into(), "abc123".into()));
    let (plan, out) = plan_then_run(&emulator, &env, "pipelines/migrate.ecsflow");
    assert!(registry.digest("api", "abc123").is_some(), "{out}");
    assert_eq!(plan["steps"][3]["calls"][0]["api"], "ecs:RunTask");
    assert_eq!(plan["steps"][3]["calls"][0]["target"], "prod/api:2");
    assert!(out.contains("exited 0"), "{out}");
}

#[test]
fn the_example_parallel_pipeline_plans_and_runs_the_same_calls() {
    let emulator = Emulator::start(0.2);
    let registry = Registry::start(MOTO_PASSWORD);
    let build = BuildEnv::new();
    build.busybox_base();
    boto3(
        &emulator,
        "us-east-1",
        r#"
ecs = boto3.client("ecs", **kw)
ecs.create_cluster(clusterName="shop")
for name in ["frontend", "checkout"]:
    td = ecs.register_task_definition(family=name, containerDefinitions=[{"name": name, "image": name + ":v1", "memory": 256}])["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="shop", serviceName=name, taskDefinition=td, desiredCount=1,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
"#,
    );
    let mut env = build.env(registry.port);
    env.push(("GITHUB_SHA".into(), "abc123".into()));
    let (plan, out) = plan_then_run(&emulator, &env, "pipelines/parallel.ecsflow");
    let digest = registry.digest("storefront", "abc123").expect("pushed with the commit's tag");
    assert_eq!(registry.digest("storefront", "latest").as_deref(), Some(digest.as_str()));
    // Both updates sit in one parallel block, each with its service.
    let updates: Vec<&str> = plan["steps"][3]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["calls"][0]["target"].as_str().unwrap())
        .collect();
    assert_eq!(updates, ["shop/frontend", "shop/checkout"]);
    assert!(out.contains("frontend stable on frontend:2"), "{out}");
}

#[test]
fn a_refused_token_is_a_clear_error_that_shows_no_secret() {
    let emulator = Emulator::start(0.2);
    let registry = Registry::start("a-different-password");
    let build = BuildEnv::new();
    let _account = service(&emulator);
    let dir = scratch_project();
    let run = ecsflow(&emulator, dir.path(), &build.env(registry.port), &["run", "deploy.ecsflow"]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(run.out.contains("✗ `let pushed = push image to app` (line 6) failed: buildah push failed"), "{}", run.out);
    assert!(
        run.out.to_lowercase().contains("unauthorized") || run.out.contains("authentication required"),
        "{}",
        run.out
    );
}

#[test]
fn a_failing_build_shows_the_builders_output() {
    let emulator = Emulator::start(0.2);
    let registry = Registry::start(MOTO_PASSWORD);
    let build = BuildEnv::new();
    build.busybox_base();
    let _account = service(&emulator);
    let dir = tempfile::tempdir().unwrap();
    registry::write(
        dir.path(),
        &[
            ("deploy.ecsflow", DEPLOY),
            (
                "app/Dockerfile",
                "FROM localhost/busybox-base\nRUN echo the-tests-are-failing-on-purpose >&2 && exit 7\n",
            ),
        ],
    );
    let run = ecsflow(&emulator, dir.path(), &build.env(registry.port), &["run", "deploy.ecsflow"]);
    assert_eq!(run.code, 1, "{}", run.out);
    assert!(
        run.out.contains("✗ `let image = build \"app\"` (line 5) failed: buildah build failed (exit "),
        "{}",
        run.out
    );
    assert!(run.out.contains("  | the-tests-are-failing-on-purpose"), "{}", run.out);
}

#[test]
fn without_a_builder_the_step_says_how_to_get_one() {
    let emulator = Emulator::start(0.2);
    let _account = service(&emulator);
    let dir = tempfile::tempdir().unwrap();
    registry::write(dir.path(), &[("deploy.ecsflow", DEPLOY), ("app/Dockerfile", "FROM scratch\n")]);
    let named = ecsflow(
        &emulator,
        dir.path(),
        &[("ECSFLOW_BUILDER".into(), "podman".into()), ("PATH".into(), "/nonexistent".into())],
        &["run", "deploy.ecsflow"],
    );
    assert_eq!(named.code, 1);
    assert!(named.out.contains("failed: `podman` is not installed (not found on PATH)"), "{}", named.out);
    let none = ecsflow(
        &emulator,
        dir.path(),
        &[("ECSFLOW_BUILDER".into(), String::new()), ("PATH".into(), "/nonexistent".into())],
        &["run", "deploy.ecsflow"],
    );
    assert_eq!(none.code, 1);
    assert!(
        none.out.contains("failed: no container builder found: install docker (with buildx), podman or buildah"),
        "{}",
        none.out
    );
}
