//! `register file "…"` sends a task definition as written: `ecsflow run`
//! against moto with real-world-shaped files (tests/fixtures/taskdefs/, see
//! its README for where each comes from). moto's recorder shows the exact
//! request body; DescribeTaskDefinition shows what moto stored.
//!
//! moto hides some differences, which is why the request body is asserted
//! too: it answers `volumes`, `placementConstraints` and `tags` as `[]`
//! whether or not they were sent, and reads a `null` as an absent field.

mod common;
#[path = "common/moto.rs"]
mod moto;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use moto::Moto;
use serde_json::{json, Value as Json};

/// What a `describe-task-definition` export carries that RegisterTaskDefinition does not take.
const OUTPUT_ONLY: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/taskdefs").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `let _td = register file "taskdef.json"` with the real binary.
fn register_file(moto: &Moto, taskdef: &str) -> String {
    run(moto, "let _td = register file \"taskdef.json\"\n", taskdef)
}

/// Runs `pipeline` next to `taskdef.json` with the real binary; it must succeed.
fn run(moto: &Moto, pipeline: &str, taskdef: &str) -> String {
    let dir = common::project(&[("deploy.ecsflow", pipeline.as_bytes()), ("taskdef.json", taskdef.as_bytes())]);
    let output = Command::new(env!("CARGO_BIN_EXE_ecsflow"))
        .args(["run", "deploy.ecsflow"])
        .current_dir(dir.path())
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{out}");
    out
}

/// The file as RegisterTaskDefinition input, worked out independently of
/// ecsflow: output-only fields out, `null` members out at every depth,
/// `tags` beside an export's `taskDefinition` brought in, empty lists kept.
fn expected_input(file: &Json) -> Json {
    fn drop_nulls(value: &mut Json) {
        match value {
            Json::Object(members) => {
                members.retain(|_, v| !v.is_null());
                members.values_mut().for_each(drop_nulls);
            }
            Json::Array(items) => items.iter_mut().for_each(drop_nulls),
            _ => {}
        }
    }
    let mut input = file.get("taskDefinition").unwrap_or(file).clone();
    let members = input.as_object_mut().unwrap();
    members.retain(|k, _| !OUTPUT_ONLY.contains(&k.as_str()));
    if let Some(tags) = file.get("taskDefinition").and(file.get("tags")) {
        members.insert("tags".into(), tags.clone());
    }
    drop_nulls(&mut input);
    input
}

/// The JSON bodies of the RegisterTaskDefinition requests moto recorded.
fn recorded_registrations(moto: &Moto) -> Vec<Json> {
    moto::http(moto.port, "POST", "/moto-api/recorder/stop-recording", "").unwrap();
    let recording = moto::http(moto.port, "GET", "/moto-api/recorder/download-recording", "").unwrap();
    recording
        .lines()
        .filter_map(|line| serde_json::from_str::<Json>(line).ok())
        .filter(|entry| {
            entry["headers"].as_object().unwrap().iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("x-amz-target") && v.as_str().unwrap().ends_with(".RegisterTaskDefinition")
            })
        })
        .map(|entry| {
            let body = entry["body"].as_str().unwrap();
            let bytes = if entry["body_encoded"].as_bool().unwrap_or(false) {
                aws_smithy_types::base64::decode(body).unwrap()
            } else {
                body.as_bytes().to_vec()
            };
            serde_json::from_slice(&bytes).unwrap()
        })
        .collect()
}

/// One ECS call to moto, answered as moto's raw JSON (HTTP/1.0: no chunking).
fn ecs(moto: &Moto, action: &str, body: &Json) -> Json {
    let body = body.to_string();
    let mut stream = TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Amz-Target: AmazonEC2ContainerServiceV20141113.{action}\r\nContent-Type: application/x-amz-json-1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/ecs/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{action}: {response}");
    serde_json::from_str(body).unwrap()
}

/// What moto stores for an input: it fills in what ECS would default and
/// keeps everything else as sent. Each default is one of moto's, not ecsflow's.
fn as_moto_stores(input: &Json) -> Json {
    let mut stored = input.clone();
    let members = stored.as_object_mut().unwrap();
    // moto keeps tags beside the task definition, and does not read
    // `enableFaultInjection` at all: a field moto drops, not ecsflow.
    members.remove("tags");
    members.remove("enableFaultInjection");
    for list in ["volumes", "placementConstraints"] {
        members.entry(list).or_insert_with(|| json!([]));
    }
    let fargate = members["requiresCompatibilities"].as_array().is_some_and(|c| c.contains(&json!("FARGATE")));
    members.entry("networkMode").or_insert_with(|| json!(if fargate { "awsvpc" } else { "bridge" }));
    for container in members["containerDefinitions"].as_array_mut().unwrap() {
        let container = container.as_object_mut().unwrap();
        for (field, default) in [
            ("cpu", json!(0)),
            ("essential", json!(true)),
            ("portMappings", json!([])),
            ("environment", json!([])),
            ("mountPoints", json!([])),
            ("volumesFrom", json!([])),
        ] {
            container.entry(field).or_insert(default);
        }
    }
    for volume in members["volumes"].as_array_mut().unwrap() {
        if let Some(efs) = volume.get_mut("efsVolumeConfiguration").and_then(Json::as_object_mut) {
            efs.entry("rootDirectory").or_insert_with(|| json!("/"));
        }
    }
    stored
}

/// Registers `name` through `ecsflow run`, then checks the request body
/// against the file and moto's stored revision against the request.
fn registers_as_written(name: &str) {
    let moto = Moto::start();
    let file: Json = serde_json::from_str(&fixture(name)).unwrap();
    let expected = expected_input(&file);
    let family = expected["family"].as_str().unwrap().to_string();

    moto.start_recording();
    let out = register_file(&moto, &fixture(name));
    assert!(out.contains(&format!("registered {family}:1")), "{out}");

    let sent = recorded_registrations(&moto);
    assert_eq!(sent.len(), 1, "one RegisterTaskDefinition: {sent:?}");
    assert_eq!(sent[0], expected, "{name}: the request body is the file minus output-only fields and nulls");

    let described = ecs(&moto, "DescribeTaskDefinition", &json!({"taskDefinition": family, "include": ["TAGS"]}));
    let mut stored = described["taskDefinition"].clone();
    stored.as_object_mut().unwrap().retain(|k, _| !OUTPUT_ONLY.contains(&k.as_str()));
    assert_eq!(stored, as_moto_stores(&expected), "{name}: what moto stored");
    assert_eq!(described["tags"], expected.get("tags").cloned().unwrap_or(json!([])), "{name}: tags");
}

#[test]
fn firelens_log_router() {
    registers_as_written("firelens.json");
}

#[test]
fn app_mesh_proxy_and_envoy_sidecar() {
    registers_as_written("appmesh.json");
}

#[test]
fn efs_volumes_with_access_points() {
    registers_as_written("efs.json");
}

#[test]
fn windows_runtime_platform() {
    registers_as_written("windows.json");
}

#[test]
fn old_console_export_with_nulls() {
    registers_as_written("console-export.json");
}

#[test]
fn describe_task_definition_export_with_tags_beside() {
    registers_as_written("describe-export.json");
}

#[test]
fn storage_limits_linux_parameters_and_secrets() {
    registers_as_written("hardened.json");
}

/// The empty lists and nulls of a file never make a second run register a
/// revision that changes nothing. (Only where moto fills in no scalar default
/// the file left out: moto stores `cpu: 0`, `essential: true` and an EFS
/// `rootDirectory: "/"`, which then differ from a file without them.)
#[test]
fn a_second_run_of_an_unchanged_file_registers_nothing() {
    for name in ["firelens.json", "console-export.json", "describe-export.json"] {
        let moto = Moto::start();
        let file: Json = serde_json::from_str(&fixture(name)).unwrap();
        let family = expected_input(&file)["family"].as_str().unwrap().to_string();
        register_file(&moto, &fixture(name));
        let out = register_file(&moto, &fixture(name));
        assert!(out.contains(&format!("no change: uses {family}:1")), "{name}: {out}");
    }
}

/// A `register` block changes what it names and nothing else: the nulls
/// still go, the empty lists still stay, and `secrets: null` becomes a list.
#[test]
fn changes_apply_to_the_file_as_written() {
    let moto = Moto::start();
    let file: Json = serde_json::from_str(&fixture("console-export.json")).unwrap();
    moto.start_recording();
    let pipeline = r#"let _td = register file "taskdef.json" {
  container "findingway" {
    image   = "ghcr.io/veraticus/findingway:v2"
    env     = { DUTY = "The Omega Protocol (Ultimate)" }
    secrets = { DISCORD_TOKEN = "arn:aws:ssm:us-east-1:123456789012:parameter/findingway/discord-token" }
  }
}
"#;
    let out = run(&moto, pipeline, &fixture("console-export.json"));
    assert!(out.contains("registered findingway:1"), "{out}");

    let mut expected = expected_input(&file);
    let container = &mut expected["containerDefinitions"][0];
    container["image"] = json!("ghcr.io/veraticus/findingway:v2");
    container["environment"][2]["value"] = json!("The Omega Protocol (Ultimate)");
    container["secrets"] = json!([{"name": "DISCORD_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/findingway/discord-token"}]);
    assert_eq!(recorded_registrations(&moto), [expected]);
}

/// A file path the checker cannot read ahead (it comes from the environment)
/// is held at run time to what the checker holds a written-out one to: a
/// regular file of at most 1 MiB. The step fails; nothing hangs reading
/// `/dev/zero` or registers a half-read file.
#[test]
fn a_file_that_never_ends_or_is_too_large_fails_the_step_at_run_time() {
    let moto = Moto::start();
    let pipeline = "param td = env(\"TASKDEF\", \"taskdef.json\")\nlet _td = register file td\n";
    let large =
        format!("{{\"family\": \"big\", \"containerDefinitions\": [{{\"name\": \"big\"}}]}}{}", " ".repeat(1 << 20));
    let dir = common::project(&[("deploy.ecsflow", pipeline.as_bytes()), ("large.json", large.as_bytes())]);
    let too_large = format!("it is {} bytes, too large for a task definition", large.len());
    for (file, reason) in [("/dev/zero", "it is not a regular file"), ("large.json", too_large.as_str())] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ecsflow"))
            .args(["run", "deploy.ecsflow"])
            .current_dir(dir.path())
            .env("TASKDEF", file)
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("NO_COLOR", "1")
            .env_remove("AWS_PROFILE")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A hang guard: reading `/dev/zero` unbounded would never finish.
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(60) {
                child.kill().unwrap();
                panic!("`ecsflow run` with {file} did not finish");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let output = child.wait_with_output().unwrap();
        let out = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert_ne!(output.status.code(), Some(0), "{out}");
        assert!(out.contains(&format!("cannot read `{file}`: {reason}")), "{out}");
        assert!(!out.contains("registered"), "{out}");
    }
}
