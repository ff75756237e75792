//! docs/language.md stays true: every example followed by a ```text block is
//! checked by the real binary, whose report must match the block. A ```json
//! block just before an example is its `taskdef.json`; every example also has
//! `app/Dockerfile` and an empty `web/` beside it.
//! `UPDATE_DOCS=1 cargo test --test docs` rewrites the blocks from the binary.

mod common;
use common::{ecsflow, project};

struct Example {
    taskdef: Option<String>,
    source: String,
    /// Byte range of the ```text block's contents in the document.
    output: std::ops::Range<usize>,
}

fn examples(doc: &str) -> Vec<Example> {
    let mut found = Vec::new();
    let mut blocks: Vec<(String, String, std::ops::Range<usize>)> = Vec::new();
    let mut offset = 0;
    let mut lines = doc.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        offset += line.len();
        if let Some(lang) = line.trim_end().strip_prefix("```") {
            let start = offset;
            let mut body = String::new();
            for inner in lines.by_ref() {
                offset += inner.len();
                if inner.trim_end() == "```" {
                    break;
                }
                body.push_str(inner);
            }
            blocks.push((lang.to_string(), body, start..start));
            let end = blocks.len() - 1;
            let len = blocks[end].1.len();
            blocks[end].2 = start..start + len;
        }
    }
    for (i, (lang, body, range)) in blocks.iter().enumerate() {
        if lang != "text" || i == 0 || !body.starts_with("ecsflow::") || !blocks[i - 1].0.is_empty() {
            continue;
        }
        let taskdef = (i >= 2 && blocks[i - 2].0 == "json").then(|| blocks[i - 2].1.clone());
        found.push(Example { taskdef, source: blocks[i - 1].1.clone(), output: range.clone() });
    }
    found
}

fn report(example: &Example) -> String {
    let mut files: Vec<(&str, &[u8])> =
        vec![("deploy.ecsflow", example.source.as_bytes()), ("app/Dockerfile", b"FROM scratch\n"), ("web/.keep", b"")];
    if let Some(taskdef) = &example.taskdef {
        files.push(("taskdef.json", taskdef.as_bytes()));
    }
    let dir = project(&files);
    let run = ecsflow(dir.path(), &["check", "deploy.ecsflow"]);
    let mut out = run.stdout.trim_end().to_string();
    // The closing summary line is not part of the examples.
    if let Some(cut) = out.rfind("\n\nchecked ") {
        out.truncate(cut);
    }
    out.push('\n');
    out
}

#[test]
fn every_diagnostic_example_in_the_language_reference_is_what_ecsflow_prints() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let examples = examples(&doc);
    assert!(examples.len() >= 19, "one example per diagnostic code at least, found {}", examples.len());
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut rewritten = doc.clone();
    let mut mismatches = Vec::new();
    // From the end, so earlier ranges stay valid while rewriting.
    for example in examples.iter().rev() {
        let actual = report(example);
        if doc[example.output.clone()] != actual {
            mismatches.push(format!(
                "--- example:\n{}--- docs say:\n{}--- ecsflow prints:\n{}",
                example.source,
                &doc[example.output.clone()],
                actual
            ));
            rewritten.replace_range(example.output.clone(), &actual);
        }
    }
    if update {
        std::fs::write(&path, rewritten).unwrap();
    } else {
        assert!(
            mismatches.is_empty(),
            "docs/language.md is out of date (UPDATE_DOCS=1 rewrites it):\n{}",
            mismatches.join("\n")
        );
    }
}

#[test]
fn every_diagnostic_code_is_documented() {
    let doc =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md")).unwrap();
    let source = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/check/error.rs"))
        .unwrap()
        + &std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/syntax/error.rs"))
            .unwrap();
    let codes: std::collections::BTreeSet<&str> = source
        .match_indices("code(\"ecsflow::")
        .map(|(i, m)| source[i + m.len()..].split('"').next().unwrap())
        .collect();
    assert!(codes.len() >= 19);
    for code in codes {
        assert!(
            doc.contains(&format!("### `ecsflow::{code}`")),
            "docs/language.md has no section for `ecsflow::{code}`"
        );
    }
}
