//! One test per checker rule: the real binary on a small file, asserting the
//! exact diagnostics (code, line, column, message, label, help) and that a
//! mistake gives one diagnostic, not a cascade.

mod common;
use common::{check, check_with, d};

const DOCKERFILE: &[u8] = b"FROM scratch\n";

#[test]
fn a_correct_pipeline_has_no_diagnostics() {
    let source = r#"
service web = "web"
let td = register from web { container "web" { image = "nginx:1.25" } }
update web { task-definition = td }
await-stable web
"#;
    assert_eq!(check(source), (0, vec![]));
}

// ------------------------------------------------------------------- syntax

#[test]
fn syntax_error_says_what_was_expected_where() {
    let source = "service web = \"web\"\nupdate web {\n  desired-count 2\n}\n";
    assert_eq!(check(source), (1, vec![d("syntax", 3, 17, "expected `=`, found `2`", "expected `=` here", None)]));
}

#[test]
fn unknown_statement_suggests_the_keyword_and_parsing_goes_on() {
    let source = "service web = \"web\"\nupdat web {\n  desired-count = 2\n}\nawait-stabel web\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![
                d(
                    "syntax",
                    2,
                    1,
                    "unknown statement `updat`",
                    "not a declaration or a step",
                    Some("did you mean `update`?")
                ),
                d(
                    "syntax",
                    5,
                    1,
                    "unknown statement `await-stabel`",
                    "not a declaration or a step",
                    Some("did you mean `await-stable`?")
                ),
            ]
        )
    );
}

#[test]
fn unterminated_string_points_at_the_line_end() {
    let (code, diags) = check("param tag = \"abc\nparam n: int = 1\n");
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![d(
            "syntax",
            1,
            17,
            "expected closing `\"`, found end of line",
            "expected closing `\"` here",
            Some("strings end on the line they start; close it with `\"`")
        )]
    );
}

#[test]
fn unknown_escape_and_reserved_name() {
    assert_eq!(
        check("param a = \"x\\qy\"\nlet build = \"x\"\n"),
        (
            1,
            vec![
                d(
                    "syntax",
                    1,
                    13,
                    "unknown escape `\\q` in a string",
                    "unknown escape",
                    Some(r#"the escapes are \" \\ \n \t and \$; write \\ for a backslash"#)
                ),
                d(
                    "syntax",
                    2,
                    5,
                    "`build` is a reserved word and cannot be a name",
                    "reserved word",
                    Some("choose another name, such as `build_`")
                ),
            ]
        )
    );
}

#[test]
fn declarations_and_on_failure_belong_at_the_top_level() {
    let source = "service web = \"web\"\nparallel {\n  service api = \"api\"\n}\non-failure {\n  on-failure {\n    rollback web\n  }\n}\n";
    let (code, diags) = check(source);
    assert_eq!(code, 1);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert_eq!(
        (diags[0].line, diags[0].column, diags[0].message.as_str()),
        (3, 3, "`service` can only stand at the top level of a file")
    );
    assert_eq!(
        (diags[1].line, diags[1].column, diags[1].message.as_str()),
        (6, 3, "`on-failure` can only stand at the top level of a file")
    );
}

#[test]
fn integers_out_of_range_are_reported_not_wrapped() {
    let (_, diags) = check("param n: int = 99999999999999999999\n");
    assert_eq!(diags[0].message, "integer `99999999999999999999` is out of range");
}

// ------------------------------------------------------------------- names

#[test]
fn unknown_name_suggests_the_nearest_defined_name() {
    let source = "service web = \"web\"\nupdate wbe { force-new-deployment = true }\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "unknown-name",
                2,
                8,
                "unknown name `wbe`",
                "not defined in this pipeline",
                Some("did you mean `web`?")
            )]
        )
    );
}

#[test]
fn unknown_function_names_env() {
    let source = "param _tag = getenv(\"SHA\")\n";
    let (code, diags) = check(source);
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![d(
            "unknown-name",
            1,
            14,
            "unknown function `getenv`",
            "not a function",
            Some(r#"the only function is `env("NAME")` or `env("NAME", "default")`"#)
        )]
    );
}

#[test]
fn use_before_definition_labels_both_places() {
    let source = "update web { force-new-deployment = true }\nservice web = \"web\"\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "use-before-definition",
                1,
                8,
                "`web` is used before it is defined",
                "used here",
                Some("move the definition of `web` above its first use; steps run from top to bottom")
            )]
        )
    );
}

#[test]
fn duplicate_name_points_at_the_second_definition() {
    let source = "service web = \"web\"\nservice web = \"web-2\"\nupdate web { force-new-deployment = true }\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "duplicate-name",
                2,
                9,
                "`web` is defined twice",
                "defined again here",
                Some("rename one of them; every name in a pipeline is defined once")
            )]
        )
    );
}

#[test]
fn a_second_on_failure_block_is_a_duplicate() {
    let source = "service web = \"web\"\nupdate web { force-new-deployment = true }\non-failure { rollback web }\non-failure { rollback web }\n";
    let (code, diags) = check(source);
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![d(
            "duplicate-name",
            4,
            1,
            "`on-failure` is defined twice",
            "defined again here",
            Some("a file has one `on-failure`; remove one of them")
        )]
    );
}

// ------------------------------------------------------------------- types

#[test]
fn type_mismatch_names_both_types_and_where_the_value_was_bound() {
    let source = "repository app = \"app\"\nservice web = \"web\"\nlet image = build \".\"\nlet pushed = push image to app { tags = [\"v1\"] }\nupdate web { task-definition = image }\n";
    let (code, diags) = check_with(source, &[("Dockerfile", DOCKERFILE)]);
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![
            d("unused-binding", 4, 5, "`pushed` is never used", "bound here", Some("drop `let pushed =` to run the step without keeping its result, or name it `_pushed`")),
            d(
                "type-mismatch",
                5,
                32,
                "expected `task-definition` or `string`, found `image`",
                "this is `image`",
                Some("an `image` is built locally; push it first (`let pushed = push IMAGE to REPOSITORY { tags = [tag] }`) and use the pushed image")
            ),
        ]
    );
}

#[test]
fn a_param_is_a_string_unless_annotated() {
    let (code, diags) = check("param replicas = 2\nservice web = \"web\"\nupdate web { desired-count = replicas }\n");
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![
            // One mistake, one diagnostic: `replicas` is then taken as the int it was meant to be.
            d(
                "type-mismatch",
                1,
                18,
                "expected `string`, found `int`",
                "this is `int`",
                Some("a param is a `string` unless annotated: `param replicas: int = …`")
            ),
        ]
    );
}

#[test]
fn map_values_are_strings() {
    let source = "service web = \"web\"\nlet td = register from web { container \"web\" { env = { PORT = 8080 } } }\nupdate web { task-definition = td }\n";
    let (_, diags) = check(source);
    assert_eq!(
        diags,
        vec![d("type-mismatch", 2, 63, "expected `string`, found `int`", "this is `int`", Some("quote it: \"8080\""))]
    );
}

#[test]
fn services_must_be_declared_not_written_as_strings() {
    let (_, diags) = check("suspend-scaling \"web\"\n");
    assert_eq!(
        diags,
        vec![d(
            "type-mismatch",
            1,
            17,
            "expected `service`, found `string`",
            "this is `string`",
            Some(r#"declare the service with `service NAME = "…"` and use NAME here"#)
        )]
    );
}

#[test]
fn interpolating_a_service_is_a_type_mismatch() {
    let (_, diags) = check("service web = \"web\"\nparam x = \"${web}\"\nupdate web { force-new-deployment = true }\n");
    assert_eq!(diags.len(), 2, "{diags:#?}");
    // `x` is unused too: an independent mistake, reported first by position.
    assert_eq!((diags[0].code.as_str(), diags[0].line, diags[0].column), ("ecsflow::unused-binding", 2, 7));
    assert_eq!((diags[1].code.as_str(), diags[1].line, diags[1].column), ("ecsflow::type-mismatch", 2, 14));
    assert_eq!(diags[1].message, "expected a value with a text form, found `service`");
}

// -------------------------------------------------------------- attributes

#[test]
fn unknown_attribute_suggests_the_nearest() {
    let source = "service web = \"web\"\nupdate web { desired-cont = 2 }\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "unknown-attribute",
                2,
                14,
                "`update` has no attribute `desired-cont`",
                "unknown attribute",
                Some("did you mean `desired-count`?")
            )]
        )
    );
}

#[test]
fn unknown_attribute_of_another_step_says_where_it_belongs() {
    let source = "service web = \"web\"\nupdate web { timeout = 5m }\n";
    let (_, diags) = check(source);
    assert_eq!(diags.len(), 1);
    assert_eq!(
        diags[0].help.as_deref(),
        Some("`timeout` belongs to `await-stable`; `update` takes `task-definition`, `desired-count`, `min-healthy-percent`, `max-percent`, `force-new-deployment`, `circuit-breaker`, `health-check-grace`, `strategy`, `bake-time`, `linear-step-percent`, `linear-step-bake-time`, `canary-percent`, `canary-bake-time`, `alarms`, `alarm-rollback`, `circuit-breaker-threshold`, `circuit-breaker-reset-on-healthy`, `early-success` and `early-success-cleanup`")
    );
}

#[test]
fn missing_attribute_points_at_the_step() {
    let source = "repository app = \"app\"\nlet image = build \".\"\nlet _pushed = push image to app\n";
    assert_eq!(
        check_with(source, &[("Dockerfile", DOCKERFILE)]),
        (
            1,
            vec![d(
                "missing-attribute",
                3,
                15,
                "`push` needs `tags`",
                "`tags` is missing",
                Some("add a block: `push … { tags = [tag] }`")
            )]
        )
    );
}

#[test]
fn duplicate_attribute_labels_the_repeat() {
    let source = "service web = \"web\"\nupdate web {\n  desired-count = 2\n  desired-count = 3\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "duplicate-attribute",
                4,
                3,
                "attribute `desired-count` is given twice",
                "given again here",
                Some("remove one of them")
            )]
        )
    );
}

// ------------------------------------------------------------------ values

#[test]
fn percentages_out_of_range_are_invalid_values() {
    let source = "service web = \"web\"\nupdate web {\n  min-healthy-percent = 120\n  max-percent = 90\n}\n";
    let (code, diags) = check(source);
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![
            d("invalid-value", 3, 25, "`min-healthy-percent` must be from 0 to 100, found 120", "out of range", Some("ECS keeps this percentage of the desired count healthy during a rollout")),
            d("invalid-value", 4, 17, "`max-percent` must be at least 100, found 90", "below 100", Some("ECS runs at most this percentage of the desired count during a rollout; 200 lets it start a full new set first")),
        ]
    );
}

#[test]
fn enumerated_attributes_take_bare_words() {
    let source = "service web = \"web\"\nupdate web { circuit-breaker = rolback }\nupdate web { circuit-breaker = \"rollback\" }\n";
    let (_, diags) = check(source);
    assert_eq!(
        diags,
        vec![
            d(
                "invalid-value",
                2,
                32,
                "`rolback` is not a value of `circuit-breaker`",
                "expected one of `off`, `on`, `rollback`",
                Some("did you mean `rollback`? `circuit-breaker` takes one of `off`, `on`, `rollback`")
            ),
            d(
                "invalid-value",
                3,
                32,
                "`circuit-breaker` takes a bare word",
                "expected one of `off`, `on`, `rollback`",
                Some("remove the quotes: `rollback`")
            ),
        ]
    );
}

#[test]
fn aws_values_are_checked_when_written_out() {
    let source = "region = \"eu-west\"\nservice web = \"a/b/c\"\nupdate web { force-new-deployment = true }\n";
    let (_, diags) = check(source);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert_eq!((diags[0].line, diags[0].message.as_str()), (1, "`eu-west` is not an AWS region"));
    assert_eq!((diags[1].line, diags[1].message.as_str()), (2, "`a/b/c` is not an ECS service name"));
}

#[test]
fn an_env_default_must_fit_the_params_type() {
    let (_, diags) = check("param replicas: int = env(\"REPLICAS\", \"two\")\nservice web = \"web\"\nupdate web { desired-count = replicas }\n");
    assert_eq!(
        diags,
        vec![d(
            "invalid-value",
            1,
            39,
            "`two` is not a valid `int`",
            "the param is `int`",
            Some("write a whole number, such as \"2\"")
        )]
    );
}

#[test]
fn push_tags_are_checked() {
    let source = "repository app = \"app\"\nlet image = build \".\"\nlet a = push image to app { tags = [] }\nlet b = push image to app { tags = [\"-bad\"] }\nupdate_placeholder\n";
    let (_, diags) = check_with(&source.replace("update_placeholder\n", ""), &[("Dockerfile", DOCKERFILE)]);
    let codes: Vec<(&str, u64)> = diags.iter().map(|d| (d.code.as_str(), d.line)).collect();
    assert_eq!(
        codes,
        [
            ("ecsflow::unused-binding", 3),
            ("ecsflow::invalid-value", 3),
            ("ecsflow::unused-binding", 4),
            ("ecsflow::invalid-value", 4)
        ]
    );
    assert_eq!(diags[1].message, "`tags` is empty");
    assert_eq!(diags[3].message, "`-bad` is not a valid image tag");
}

// ------------------------------------------------------------- flow rules

#[test]
fn rollout_cannot_progress_shows_the_numbers_and_the_fix() {
    let source = "param replicas: int = 1\nservice web = \"web\"\nupdate web {\n  desired-count = replicas\n  min-healthy-percent = 100\n  max-percent = 100\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "rollout-cannot-progress",
                6,
                17,
                "this rollout can never replace a task: with desired-count 1, ECS keeps at least 1 healthy and runs at most 1",
                "allows at most 1 running",
                Some("raise `max-percent` to at least 200, or lower `min-healthy-percent` to at most 0 (computed with the default of `replicas`)")
            )]
        )
    );
}

#[test]
fn a_rollout_with_room_to_move_is_fine() {
    let source = "service web = \"web\"\nupdate web {\n  desired-count = 4\n  min-healthy-percent = 75\n  max-percent = 100\n}\n";
    assert_eq!(check(source), (0, vec![]));
}

#[test]
fn scaling_suspended_and_never_resumed() {
    let source = "service web = \"web\"\nsuspend-scaling web\nupdate web { force-new-deployment = true }\nawait-stable web\non-failure {\n  resume-scaling web\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "scaling-not-resumed",
                2,
                1,
                "scaling of `web` is suspended and never resumed",
                "suspended here",
                Some("add `resume-scaling web` after the service's `await-stable`; on a failure ecsflow resumes it by itself")
            )]
        )
    );
}

#[test]
fn taskdef_file_missing_not_json_and_not_a_task_definition() {
    let source = "let a = register file \"missing.json\"\nlet b = register file \"broken.json\"\nlet c = register file \"other.json\"\nlet _all = [a, b, c]\n";
    let (code, diags) = check_with(source, &[("broken.json", b"{ nope"), ("other.json", b"{\"family\": \"x\"}")]);
    assert_eq!(code, 1);
    let found: Vec<(&str, u64, u64, &str)> =
        diags.iter().map(|d| (d.code.as_str(), d.line, d.column, d.label.as_str())).collect();
    assert_eq!(
        found,
        [
            ("ecsflow::taskdef-file", 1, 23, "not found"),
            ("ecsflow::taskdef-file", 2, 23, "not JSON"),
            ("ecsflow::taskdef-file", 3, 23, "not a task definition"),
        ]
    );
    assert_eq!(diags[0].message, "task definition file `missing.json` does not exist");
    assert_eq!(diags[1].message, "`broken.json` is not JSON: key must be a string at line 1 column 3");
    assert_eq!(diags[2].message, "`other.json` is not a task definition: it has no `containerDefinitions`");
}

#[test]
fn unknown_container_lists_the_task_definitions_containers() {
    let taskdef =
        br#"{"taskDefinition": {"family": "api", "containerDefinitions": [{"name": "api"}, {"name": "sidecar"}]}}"#;
    let source = "let td = register file \"td.json\" {\n  container \"apj\" { image = \"nginx\" }\n}\nlet _m = run-task td {\n  container \"worker\" { command = [\"x\"] }\n}\n";
    let (code, diags) = check_with(source, &[("td.json", taskdef)]);
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![
            d(
                "unknown-container",
                2,
                13,
                "the task definition has no container `apj`",
                "no such container",
                Some("did you mean `api`? the containers are `api`, `sidecar`")
            ),
            d(
                "unknown-container",
                5,
                13,
                "the task definition has no container `worker`",
                "no such container",
                Some("the containers are `api`, `sidecar`")
            ),
        ]
    );
}

#[test]
fn run_tasks_container_names_a_container_of_the_task_definition() {
    let taskdef =
        br#"{"taskDefinition": {"family": "api", "containerDefinitions": [{"name": "api"}, {"name": "migrate"}]}}"#;
    let source = "let td = register file \"td.json\"\nlet _ok = run-task td { container = \"migrate\" }\nlet _typo = run-task td { container = \"migrat\" }\nlet _int = run-task td { container = 3 }\n";
    let (code, diags) = check_with(source, &[("td.json", taskdef)]);
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![
            d(
                "unknown-container",
                3,
                39,
                "the task definition has no container `migrat`",
                "no such container",
                Some("did you mean `migrate`? the containers are `api`, `migrate`")
            ),
            d("type-mismatch", 4, 38, "expected `string`, found `int`", "this is `int`", Some("quote it: \"3\"")),
        ]
    );
}

#[test]
fn missing_build_context_and_dockerfile() {
    let source =
        "let a = build \"nowhere\"\nlet b = build \"app\" { dockerfile = \"Dockerfile.prod\" }\nlet _all = [a, b]\n";
    let (code, diags) = check_with(source, &[("app/Dockerfile", DOCKERFILE)]);
    assert_eq!(code, 1);
    assert_eq!(
        diags,
        vec![
            d(
                "missing-path",
                1,
                15,
                "build context `nowhere` does not exist",
                "does not exist",
                Some(
                    "paths are relative to the directory ecsflow runs in: the repository root in CI and in pre-commit"
                )
            ),
            d(
                "missing-path",
                2,
                36,
                "Dockerfile `app/Dockerfile.prod` does not exist",
                "does not exist",
                Some("`dockerfile` is relative to the build context; set `dockerfile = \"…\"` to the file's name")
            ),
        ]
    );
}

#[test]
fn parallel_steps_on_one_service_conflict() {
    let source =
        "service web = \"web\"\nparallel {\n  update web { force-new-deployment = true }\n  await-stable web\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "parallel-conflict",
                4,
                3,
                "two steps of one `parallel` block work on `web`",
                "`await-stable` here",
                Some("the steps of `parallel` run at the same time; move one of the steps on `web` out of the block")
            )]
        )
    );
}

#[test]
fn two_names_for_one_service_in_a_parallel_block_conflict() {
    let source = "cluster = \"prod\"\nservice web = \"web\"\nservice site = \"prod/web\"\nparallel {\n  update web { force-new-deployment = true }\n  update site { desired-count = 3 }\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "parallel-conflict",
                6,
                3,
                "two steps of one `parallel` block work on `prod/web`, as `web` and as `site`",
                "`update` here",
                Some("the steps of `parallel` run at the same time; move one of the steps on `prod/web` out of the block")
            )]
        )
    );
    // Other clusters are other services.
    let other = "cluster = \"prod\"\nservice web = \"web\"\nservice staging_web = \"staging/web\"\nparallel {\n  update web { force-new-deployment = true }\n  update staging_web { force-new-deployment = true }\n}\n";
    assert_eq!(check(other), (0, vec![]));
}

#[test]
fn parallel_step_using_a_value_bound_in_the_same_block_conflicts() {
    let source =
        "service web = \"web\"\nparallel {\n  let td = register from web\n  update web { task-definition = td }\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "parallel-conflict",
                4,
                34,
                "`td` is bound in the same `parallel` block that uses it",
                "used here",
                Some("the steps of `parallel` run at the same time; move the step that uses `td` after the block")
            )]
        )
    );
}

// ---------------------------------------------------------------- warnings

#[test]
fn unused_bindings_warn_unless_named_with_an_underscore() {
    let source =
        "param tag = \"v1\"\nparam _spare = \"x\"\nservice web = \"web\"\nupdate web { force-new-deployment = true }\n";
    assert_eq!(
        check(source),
        (
            0,
            vec![d(
                "unused-binding",
                1,
                7,
                "`tag` is never used",
                "bound here",
                Some("remove it, or name it `_tag` to keep it unused")
            )]
        )
    );
}

#[test]
fn await_without_update_warns() {
    let source = "service web = \"web\"\nawait-stable web\n";
    assert_eq!(
        check(source),
        (
            0,
            vec![d(
                "await-without-update",
                2,
                14,
                "`await-stable` waits for `web`, which this pipeline never updates",
                "never updated",
                Some("`await-stable` follows the deployment this run starts; add `update web { … }` before it, or remove it")
            )]
        )
    );
}

#[test]
fn latest_tag_only_warns() {
    let source =
        "repository app = \"app\"\nlet image = build \".\"\nlet _p = push image to app { tags = [\"latest\"] }\n";
    let (code, diags) = check_with(source, &[("Dockerfile", DOCKERFILE)]);
    assert_eq!(code, 0);
    assert_eq!(
        diags,
        vec![d(
            "latest-tag-only",
            3,
            37,
            "the only tag pushed is `latest`",
            "only `latest`",
            Some(
                r#"add an immutable tag, such as the commit: `tags = [tag, "latest"]`; `latest` alone hides which build is live"#
            )
        )]
    );
}

#[test]
fn rollback_before_any_update_warns_but_not_in_on_failure() {
    let source = "service web = \"web\"\nrollback web\nupdate web { force-new-deployment = true }\non-failure { rollback web }\n";
    assert_eq!(
        check(source),
        (
            0,
            vec![d(
                "nothing-to-roll-back",
                2,
                1,
                "nothing to roll back: `web` is not updated before this `rollback`",
                "no update of `web` before this",
                Some("update `web` before rolling it back, or name the revision: `rollback web to TASKDEF`; on failures, put `rollback` in `on-failure`")
            )]
        )
    );
}

#[test]
fn all_independent_mistakes_are_reported_in_one_run() {
    let source = "service web = \"web\"\nupdate wbe { force-new-deployment = true }\nupdate web { desired-cont = 2 }\nawait-stable web { timeout = 0s }\n";
    let (code, diags) = check(source);
    assert_eq!(code, 1);
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["ecsflow::unknown-name", "ecsflow::unknown-attribute", "ecsflow::invalid-value"]);
}

// ------------------------------------------- regressions from review findings

fn codes(source: &str) -> Vec<(String, u64)> {
    check(source).1.into_iter().map(|d| (d.code.trim_start_matches("ecsflow::").to_string(), d.line)).collect()
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(c, l)| (c.to_string(), *l)).collect()
}

#[test]
fn an_alias_is_the_service_it_names() {
    let source = "service web = \"web\"\nlet w = web\nsuspend-scaling w\nupdate w { force-new-deployment = true }\nawait-stable w\n";
    assert_eq!(codes(source), pairs(&[("scaling-not-resumed", 3)]));
    let source = "service web = \"web\"\nlet w = web\nparallel {\n  update w { force-new-deployment = true }\n  update web { desired-count = 2 }\n}\n";
    assert_eq!(codes(source), pairs(&[("parallel-conflict", 5)]));
}

#[test]
fn a_name_bound_in_on_failure_is_not_visible_in_the_main_flow() {
    let source = "service web = \"web\"\non-failure {\n  let td = register from web\n  rollback web to td\n}\nupdate web { task-definition = td }\n";
    let (_, diags) = check(source);
    assert_eq!(diags.len(), 1);
    assert_eq!((diags[0].code.as_str(), diags[0].line), ("ecsflow::unknown-name", 6));
    assert_eq!(
        diags[0].help.as_deref(),
        Some("`td` is bound inside `on-failure`, which runs only after a failure; bind it in the main flow to use it here")
    );
}

#[test]
fn list_typing_does_not_depend_on_order() {
    let source = "service web = \"web\"\nlet td = register from web\nlet _a = [td, \"x\"]\nlet _b = [\"x\", td]\n";
    assert_eq!(codes(source), pairs(&[]));
}

#[test]
fn an_unknown_param_type_is_one_diagnostic() {
    assert_eq!(codes("param k: integer = 2\nlet _x = k\n"), pairs(&[("invalid-value", 1)]));
}

#[test]
fn a_step_without_a_value_cannot_be_bound() {
    let (_, diags) = check("service web = \"web\"\nlet x = update web\n");
    assert_eq!(
        diags,
        vec![d(
            "syntax",
            2,
            9,
            "`update` has no value to bind",
            "bound with `let`",
            Some("only `build`, `push`, `register` and `run-task` give values; write `update …` on its own line")
        )]
    );
}

#[test]
fn a_misspelt_duration_is_shown_whole() {
    let (_, diags) = check("param a: duration = 10min\n");
    assert_eq!(
        diags,
        vec![d(
            "syntax",
            1,
            21,
            "expected a value, found `10min`",
            "expected a value here",
            Some("durations are written `90s`, `10m`, `1h30m` or `500ms`")
        )]
    );
}

#[test]
fn a_second_on_failure_block_is_still_checked() {
    let source = "service web = \"web\"\nupdate web\non-failure { rollback web }\non-failure {\n  rollback nope\n}\n";
    assert_eq!(codes(source), pairs(&[("duplicate-name", 4), ("unknown-name", 5)]));
}

#[test]
fn a_rollback_in_on_failure_does_not_count_as_an_update_of_the_main_flow() {
    let source = "service web = \"web\"\nawait-stable web\non-failure {\n  rollback web\n}\n";
    assert_eq!(codes(source), pairs(&[("await-without-update", 2)]));
}

#[test]
fn true_and_false_are_reserved() {
    assert_eq!(codes("param true = \"a\"\n"), pairs(&[("syntax", 1)]));
}

#[test]
fn an_env_fallback_is_no_basis_for_the_rollout_arithmetic() {
    let source = "param replicas: int = env(\"REPLICAS\", \"1\")\nservice web = \"web\"\nupdate web { desired-count = replicas, min-healthy-percent = 100, max-percent = 150 }\n";
    assert_eq!(codes(source), pairs(&[]));
}

// ---------------------------------------------------------------- continue

#[test]
fn continue_after_an_update_is_valid_with_or_without_its_attributes() {
    let source = r#"
service web = "web"
update web { force-new-deployment = true }
await-stable web { until = paused }
continue web
continue web { action = continue, timeout = 30m }
await-stable web
on-failure {
  continue web { action = rollback }
}
"#;
    assert_eq!(check(source), (0, vec![]));
}

#[test]
fn continue_needs_a_declared_service() {
    let source = "service web = \"web\"\nupdate web { force-new-deployment = true }\ncontinue wbe\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "unknown-name",
                3,
                10,
                "unknown name `wbe`",
                "not defined in this pipeline",
                Some("did you mean `web`?")
            )]
        )
    );
}

#[test]
fn continue_action_lists_the_allowed_words() {
    let source = "service web = \"web\"\nupdate web { force-new-deployment = true }\ncontinue web { action = abort }\ncontinue web { action = \"rollback\" }\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![
                d(
                    "invalid-value",
                    3,
                    25,
                    "`abort` is not a value of `action`",
                    "expected one of `continue`, `rollback`",
                    Some("`action` takes one of `continue`, `rollback`")
                ),
                d(
                    "invalid-value",
                    4,
                    25,
                    "`action` takes a bare word",
                    "expected one of `continue`, `rollback`",
                    Some("remove the quotes: `rollback`")
                ),
            ]
        )
    );
}

#[test]
fn continue_counts_in_the_one_step_per_service_rule_of_parallel() {
    let source = "service web = \"web\"\nparallel {\n  update web { force-new-deployment = true }\n  continue web\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "parallel-conflict",
                4,
                3,
                "two steps of one `parallel` block work on `web`",
                "`continue` here",
                Some("the steps of `parallel` run at the same time; move one of the steps on `web` out of the block")
            )]
        )
    );
}

#[test]
fn continue_before_any_update_warns_but_not_in_on_failure() {
    let source = "service web = \"web\"\ncontinue web\nupdate web { force-new-deployment = true }\non-failure { continue web { action = rollback } }\n";
    assert_eq!(
        check(source),
        (
            0,
            vec![d(
                "continue-without-update",
                2,
                1,
                "`continue` resumes `web`, which this pipeline does not update before it",
                "no update of `web` before this",
                Some("`continue` resumes the deployment an update of this run starts; add `update web { … }` before it, or resume a deployment started elsewhere with `ecsflow continue --cluster CLUSTER --service SERVICE`")
            )]
        )
    );
}

#[test]
fn continue_is_reserved() {
    let (code, diags) = check("let continue = \"x\"\n");
    assert_eq!(code, 1);
    assert_eq!(diags[0].message, "`continue` is a reserved word and cannot be a name");
}

// ------------------------------------------------------ deployment strategies

#[test]
fn a_full_blue_green_update_with_hooks_and_decimals_is_correct() {
    let source = r#"
service web = "web"
param share: number = 2.5
update web {
  strategy = canary
  canary-percent = share
  canary-bake-time = 10m
  bake-time = 15m
  alarms = ["web-5xx"]
  alarm-rollback = false
  circuit-breaker-threshold = "50%"
  circuit-breaker-reset-on-healthy = true
  hook pause { at = [post-scale-up, post-test-traffic-shift], timeout = 2h, on-timeout = rollback }
  hook "arn:aws:lambda:eu-west-1:123456789012:function:smoke" {
    role = "arn:aws:iam::123456789012:role/hooks"
    at = [test-traffic-shift]
    details = { URL = "https://test.example.com" }
  }
}
"#;
    assert_eq!(check(source), (0, vec![]));
}

#[test]
fn strategy_ranges_are_checked_on_literals() {
    let source = "service web = \"web\"\nupdate web {\n  bake-time = 1441m\n  linear-step-percent = 2.9\n  canary-percent = 0.05\n  canary-bake-time = 30s\n  early-success = 101\n  circuit-breaker-threshold = \"half\"\n  hook pause { at = [post-scale-up], timeout = 0m }\n}\n";
    let (code, diags) = check(source);
    assert_eq!(code, 1);
    let found: Vec<(u64, &str)> = diags.iter().map(|d| (d.line, d.message.as_str())).collect();
    assert_eq!(
        found,
        [
            (3, "`bake-time` must be from 0m to 1440m, found 1441m"),
            (4, "`linear-step-percent` must be from 3 to 100 in steps of 0.1, found 2.9"),
            (5, "`canary-percent` must be from 0.1 to 100 in steps of 0.1, found 0.05"),
            (6, "`canary-bake-time` is counted in whole minutes"),
            (7, "`early-success` must be from 0 to 100, found 101"),
            (8, "`half` is not a circuit breaker threshold"),
            (9, "`timeout` must be from 1m to 20160m, found 0m"),
        ]
    );
    assert!(diags.iter().all(|d| d.code == "ecsflow::invalid-value"), "{diags:?}");
}

#[test]
fn early_success_below_min_healthy_percent_is_refused() {
    let source = "service web = \"web\"\nupdate web {\n  min-healthy-percent = 80\n  early-success = 75\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "invalid-value",
                4,
                19,
                "`early-success` (75) is below `min-healthy-percent` (80)",
                "below min-healthy-percent",
                Some("ECS requires the early-success percentage to be at least `min-healthy-percent`: raise it to 80")
            )]
        )
    );
}

#[test]
fn settings_of_another_strategy_are_a_strategy_conflict() {
    for (strategy, attribute, line_text) in [
        ("blue-green", "early-success", "early-success = 75"),
        ("rolling", "linear-step-percent", "linear-step-percent = 10"),
        ("canary", "linear-step-bake-time", "linear-step-bake-time = 2m"),
        ("linear", "canary-percent", "canary-percent = 0.5"),
        ("rolling", "canary-bake-time", "canary-bake-time = 2m"),
    ] {
        let source = format!("service web = \"web\"\nupdate web {{\n  strategy = {strategy}\n  {line_text}\n}}\n");
        let (code, diags) = check(&source);
        assert_eq!(code, 1, "{source}");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "ecsflow::strategy-conflict");
        assert_eq!((diags[0].line, diags[0].column), (4, 3));
        assert!(diags[0].message.starts_with(&format!("`{attribute}` applies to ")), "{}", diags[0].message);
    }
}

#[test]
fn a_pause_hook_at_a_traffic_shift_is_a_hook_stage_error_whatever_the_strategy() {
    let source = "service web = \"web\"\nupdate web {\n  hook pause { at = [production-traffic-shift] }\n}\n";
    assert_eq!(
        check(source),
        (
            1,
            vec![d(
                "hook-stage",
                3,
                22,
                "a pause hook cannot run at `production-traffic-shift`",
                "only Lambda hooks run here",
                Some("ECS runs only Lambda hooks during a traffic shift; pause at `post-test-traffic-shift` or `post-production-traffic-shift` instead")
            )]
        )
    );
}

#[test]
fn a_rolling_update_has_no_traffic_shift_stages() {
    let source = "service web = \"web\"\nupdate web {\n  strategy = rolling\n  hook pause { at = [post-scale-up, post-production-traffic-shift] }\n}\n";
    let (code, diags) = check(source);
    assert_eq!(code, 1);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, "ecsflow::hook-stage");
    assert_eq!(diags[0].message, "a rolling deployment has no stage `post-production-traffic-shift`");
    assert_eq!((diags[0].line, diags[0].column), (4, 37));
}

#[test]
fn a_lambda_hook_needs_a_role_and_a_hook_needs_stages() {
    let source = "service web = \"web\"\nupdate web {\n  hook \"arn:aws:lambda:us-east-1:1:function:f\" { at = [pre-scale-up] }\n  hook pause { timeout = 5m }\n}\n";
    let (code, diags) = check(source);
    assert_eq!(code, 1);
    let found: Vec<(&str, u64, &str)> = diags.iter().map(|d| (d.code.as_str(), d.line, d.message.as_str())).collect();
    assert_eq!(
        found,
        [
            ("ecsflow::missing-attribute", 3, "`hook` needs `role`"),
            ("ecsflow::missing-attribute", 4, "`hook` needs `at`")
        ]
    );
}

#[test]
fn a_hook_names_pause_or_a_lambda_arn_and_its_stages_once() {
    let source = "service web = \"web\"\nupdate web {\n  hook wait { at = [pre-scale-up, pre-scale-up] }\n  hook \"smoke\" { role = \"r\", at = [post-scale-up] }\n}\n";
    let (_, diags) = check(source);
    let found: Vec<(&str, u64)> = diags.iter().map(|d| (d.code.as_str(), d.line)).collect();
    assert_eq!(
        found,
        [("ecsflow::invalid-value", 3), ("ecsflow::duplicate-attribute", 3), ("ecsflow::invalid-value", 4)]
    );
}

#[test]
fn a_hook_block_belongs_to_update_only() {
    let source = "let _t = run-task \"web:1\" {\n  hook pause { at = [post-scale-up] }\n}\n";
    let (_, diags) = check(source);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, "ecsflow::unknown-attribute");
    assert_eq!(diags[0].message, "`run-task` has no attribute `hook`");
}

#[test]
fn a_decimal_is_a_number_which_no_int_position_takes() {
    let source = "service web = \"web\"\nupdate web { desired-count = 2.5 }\n";
    let (_, diags) = check(source);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(
        (diags[0].code.as_str(), diags[0].message.as_str()),
        ("ecsflow::type-mismatch", "expected `int`, found `number`")
    );
}
