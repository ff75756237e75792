//! No input makes `ecsflow check` panic, hang or overflow its stack: each of
//! these ends with a diagnostic or a clean pass, and a normal exit code.

mod common;
use common::{ecsflow, project};

fn run_on(bytes: &[u8]) -> common::Run {
    let dir = project(&[("p.ecsflow", bytes)]);
    ecsflow(dir.path(), &["check", "--format", "json", "p.ecsflow"])
}

fn codes(run: &common::Run) -> Vec<String> {
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stderr));
    json["diagnostics"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()).collect()
}

#[test]
fn an_empty_file_is_a_valid_empty_pipeline() {
    let run = run_on(b"");
    assert_eq!(run.code, 0);
    assert!(codes(&run).is_empty());
}

#[test]
fn invalid_utf8_is_a_diagnostic_at_the_first_bad_byte() {
    let run = run_on(b"service web = \"w\xffeb\"\n");
    assert_eq!(run.code, 1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["message"].as_str()),
        (Some("ecsflow::syntax"), Some("this file is not valid UTF-8"))
    );
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(1), Some(17)));
}

#[test]
fn binary_garbage_is_a_syntax_error() {
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let run = run_on(&garbage);
    assert_eq!(run.code, 1);
    assert_eq!(codes(&run), ["ecsflow::syntax"]);
}

#[test]
fn fifty_thousand_nested_brackets_are_refused_not_overflowed() {
    for (open, close) in [("[", "]"), ("{", "}"), ("env(", ")")] {
        let source = format!("param x = {}{}\n", open.repeat(50_000), close.repeat(50_000));
        let run = run_on(source.as_bytes());
        assert_eq!(run.code, 1, "{open}: {}", run.stderr);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["diagnostics"][0]["message"], "brackets are nested more than 64 deep");
    }
}

#[test]
fn nesting_within_the_limit_still_parses() {
    let source = format!("let _x = {}\"a\"{}\n", "[".repeat(60), "]".repeat(60));
    let run = run_on(source.as_bytes());
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_two_megabyte_string_is_just_a_string() {
    let source = format!("param _big = \"{}\"\n", "a".repeat(2 * 1024 * 1024));
    let run = run_on(source.as_bytes());
    assert_eq!(run.code, 0);
    assert!(codes(&run).is_empty());
}

#[test]
fn an_unclosed_block_at_end_of_file_says_so() {
    let run = run_on(b"service web = \"web\"\nupdate web {\n  desired-count = 2\n");
    assert_eq!(run.code, 1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["diagnostics"][0]["message"], "expected an attribute, a new line or `}`, found end of file");
    assert_eq!(json["diagnostics"][0]["help"], "a block opened above is not closed; add the missing `}`");
}

#[test]
fn unclosed_braces_after_an_unknown_word_are_not_exponential() {
    // Found by the fuzzer: each unclosed `{` once doubled the parse time
    // (60 of them would have run for years). Now it is one syntax error.
    let source = format!("a{}\ne\x00{}\n", "{".repeat(60), "{{{{{{\n{{{\n{{{{{{~");
    let started = std::time::Instant::now();
    let run = run_on(source.as_bytes());
    assert_eq!(run.code, 1, "{}", run.stdout);
    // A hang guard, not a speed goal (benches/ measures speed): before the
    // fix this input would not have finished at all.
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "took {:?}", started.elapsed());
}

#[test]
fn a_task_definition_file_that_never_ends_is_refused() {
    let run = run_on(b"let _td = register file \"/dev/zero\"\n");
    assert_eq!(run.code, 1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["diagnostics"][0]["message"], "cannot read `/dev/zero`: it is not a regular file");
}
