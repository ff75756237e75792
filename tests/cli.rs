//! `ecsflow check` as users run it: paths, formats, exit codes.

mod common;
use common::{ecsflow, project};

const GOOD: &[u8] = b"service web = \"web\"\nupdate web { force-new-deployment = true }\nawait-stable web\n";
const WARNS: &[u8] = b"service web = \"web\"\nservice api = \"api\"\nupdate web { force-new-deployment = true }\n";
const BAD: &[u8] = b"service web = \"web\"\nupdate wbe { force-new-deployment = true }\n";

#[test]
fn exit_codes_follow_errors_and_warnings() {
    let dir = project(&[("good.ecsflow", GOOD), ("warns.ecsflow", WARNS), ("bad.ecsflow", BAD)]);
    assert_eq!(ecsflow(dir.path(), &["check", "good.ecsflow"]).code, 0);
    assert_eq!(ecsflow(dir.path(), &["check", "warns.ecsflow"]).code, 0);
    assert_eq!(ecsflow(dir.path(), &["check", "--deny-warnings", "warns.ecsflow"]).code, 1);
    assert_eq!(ecsflow(dir.path(), &["check", "bad.ecsflow"]).code, 1);
}

#[test]
fn usage_errors_exit_2() {
    let dir = project(&[("good.ecsflow", GOOD)]);
    let unknown_flag = ecsflow(dir.path(), &["check", "--frobnicate"]);
    assert_eq!(unknown_flag.code, 2);
    assert!(unknown_flag.stderr.contains("--frobnicate"), "{}", unknown_flag.stderr);

    let missing = ecsflow(dir.path(), &["check", "nope.ecsflow"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.starts_with("error: cannot read `nope.ecsflow`"), "{}", missing.stderr);

    let bad_format = ecsflow(dir.path(), &["check", "--format", "xml", "good.ecsflow"]);
    assert_eq!(bad_format.code, 2);
}

#[test]
fn directories_are_searched_recursively_and_default_to_pipelines() {
    let dir = project(&[
        ("pipelines/a.ecsflow", GOOD),
        ("pipelines/team/b.ecsflow", BAD),
        ("pipelines/notes.txt", b"not a pipeline"),
    ]);
    let run = ecsflow(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["files"], 2);
    assert_eq!(json["diagnostics"][0]["file"], "pipelines/team/b.ecsflow");

    let empty = project(&[("docs/readme.md", b"# hi")]);
    let run = ecsflow(empty.path(), &["check", "docs"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.trim(), "error: no `.ecsflow` files under `docs`");
}

#[test]
fn json_has_the_documented_shape_and_counts_columns_in_characters() {
    // «é» are 2 bytes each: the unknown name starts at byte 25 but column 21.
    let dir = project(&[("p.ecsflow", "param x = \"«é»\" # «»\nlet y = [x, zz]\n".as_bytes())]);
    let run = ecsflow(dir.path(), &["check", "--format", "json", "p.ecsflow"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["files"], 1);
    // The keys in the documented order, as one line.
    assert!(
        run.stdout.contains(r#"{"file":"p.ecsflow","line":2,"column":13,"end_line":2,"end_column":15,"severity":"error","code":"ecsflow::unknown-name","message":"unknown name `zz`","label":"not defined in this pipeline","help":"#),
        "{}",
        run.stdout
    );

    let dir = project(&[("p.ecsflow", "param x = \"«é»\"; zz\n".as_bytes())]);
    let run = ecsflow(dir.path(), &["check", "--format", "json", "p.ecsflow"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["diagnostics"][0]["column"], 16, "{}", run.stdout);
}

#[test]
fn github_format_emits_escaped_workflow_commands() {
    let dir = project(&[("bad.ecsflow", BAD), ("warns.ecsflow", WARNS)]);
    let run = ecsflow(dir.path(), &["check", "--format", "github", "bad.ecsflow", "warns.ecsflow"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "::error file=bad.ecsflow,line=2,col=8,endLine=2,endColumn=11,title=ecsflow%3A%3Aunknown-name::unknown name `wbe`%0Ahelp: did you mean `web`?",
            "::warning file=warns.ecsflow,line=2,col=9,endLine=2,endColumn=12,title=ecsflow%3A%3Aunused-binding::`api` is never used%0Ahelp: remove it, or name it `_api` to keep it unused",
        ]
    );
}

#[test]
fn human_output_has_no_colour_off_a_terminal_and_ends_with_a_summary() {
    let dir = project(&[("bad.ecsflow", BAD), ("good.ecsflow", GOOD)]);
    let run = ecsflow(dir.path(), &["check", "bad.ecsflow", "good.ecsflow"]);
    assert!(!run.stdout.contains('\u{1b}'), "escape codes in {}", run.stdout);
    assert!(run.stdout.contains("ecsflow::unknown-name"));
    assert!(run.stdout.contains("help: did you mean `web`?"));
    assert_eq!(run.stdout.lines().last(), Some("checked 2 files: 1 error, 0 warnings"));
}

#[test]
fn check_needs_no_aws_configuration_or_home() {
    let dir = project(&[("good.ecsflow", GOOD)]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ecsflow"))
        .args(["check", "good.ecsflow"])
        .current_dir(dir.path())
        .env_clear()
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_PROFILE", "no-such-profile")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "checked 1 file: 0 errors, 0 warnings");
}

#[test]
fn the_example_pipelines_pass_check_from_the_repository_root() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = ecsflow(root, &["check", "--deny-warnings", "pipelines"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let files = std::fs::read_dir(root.join("pipelines"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "ecsflow"))
        .count();
    assert!(files >= 5, "at least five example pipelines, found {files}");
    assert_eq!(run.stdout.trim(), format!("checked {files} files: 0 errors, 0 warnings"));
}

#[test]
fn the_examples_cover_every_step() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = String::new();
    for entry in std::fs::read_dir(root.join("pipelines")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "ecsflow") {
            all.push_str(&std::fs::read_to_string(path).unwrap());
        }
    }
    for step in [
        "build ",
        "push ",
        "register from",
        "register file",
        "register family",
        "suspend-scaling",
        "resume-scaling",
        "update ",
        "await-stable",
        "run-task",
        "rollback",
        "prune",
        "parallel",
        "on-failure",
    ] {
        assert!(all.contains(step), "no example uses `{step}`");
    }
}
