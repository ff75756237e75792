//! Snapshots of what people see: the source, then `ecsflow check`'s report.
//! Review changes with `cargo insta review` (or INSTA_UPDATE=always, then git diff).

mod common;
use common::{ecsflow, project};

fn report(source: &str, extra: &[(&str, &[u8])]) -> String {
    let mut files: Vec<(&str, &[u8])> = vec![("web.ecsflow", source.as_bytes())];
    files.extend_from_slice(extra);
    let dir = project(&files);
    let run = ecsflow(dir.path(), &["check", "web.ecsflow"]);
    format!("{source}\n──── exit {} ────\n{}", run.code, run.stdout)
}

#[test]
fn type_mismatch_with_binding_label() {
    insta::assert_snapshot!(report(
        r#"repository app = "web-app"
service web = "web"

let image = build "."
let pushed = push image to app { tags = ["v1"] }

update web {
  task-definition = image
}
"#,
        &[("Dockerfile", b"FROM scratch\n")]
    ));
}

#[test]
fn several_independent_mistakes() {
    insta::assert_snapshot!(report(
        r#"param replicas: int = 1
service web = "web"

suspend-scaling web
update wbe { force-new-deployment = true }
update web {
  desired-count       = replicas
  min-healthy-percent = 100
  max-percent         = 100
  circuit-breaker     = rolback
  timeot              = 5m
}
await-stable web
"#,
        &[]
    ));
}

#[test]
fn syntax_error_in_a_block() {
    insta::assert_snapshot!(report(
        r#"service web = "web"
update web {
  desired-count 2
}
"#,
        &[]
    ));
}

#[test]
fn unknown_statement() {
    insta::assert_snapshot!(report(
        r#"service web = "web"
updat web { force-new-deployment = true }
"#,
        &[]
    ));
}

#[test]
fn taskdef_file_and_unknown_container() {
    insta::assert_snapshot!(report(
        r#"let td = register file "taskdef.json" {
  container "ap" { image = "nginx:1.25" }
}
let _migrate = run-task td
"#,
        &[("taskdef.json", br#"{"family": "api", "containerDefinitions": [{"name": "api"}]}"#)]
    ));
}

#[test]
fn parallel_conflict_and_use_before_definition() {
    insta::assert_snapshot!(report(
        r#"service web = "web"
parallel {
  update web { force-new-deployment = true }
  await-stable web { timeout = 5m }
}
rollback api
service api = "api"
"#,
        &[]
    ));
}

#[test]
fn warnings_only() {
    insta::assert_snapshot!(report(
        r#"repository app = "web-app"
service web = "web"
service unused = "unused"
let image = build "."
let _pushed = push image to app { tags = ["latest"] }
rollback web
await-stable web
"#,
        &[("Dockerfile", b"FROM scratch\n")]
    ));
}

#[test]
fn invalid_utf8() {
    let dir = project(&[("web.ecsflow", b"service web = \"w\xffb\"\n")]);
    let run = ecsflow(dir.path(), &["check", "web.ecsflow"]);
    insta::assert_snapshot!(run.stdout);
}
