//! Feeds arbitrary bytes through the whole `ecsflow check` path for one file:
//! UTF-8 decoding, the depth pre-check, the pest grammar, lowering to the AST,
//! the checker, and then every way a problem is shown (miette's graphical
//! report, the JSON diagnostic with its line/column arithmetic, and the GitHub
//! workflow command).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn base_dir() -> &'static Path {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    BASE.get_or_init(|| {
        // Failing files are re-parsed with pest's detailed tracking inside
        // `syntax::parse`, so the fuzzer covers that path as the CLI does.
        std::env::temp_dir()
    })
}

fuzz_target!(|data: &[u8]| {
    let base = base_dir();
    let file = ecsflow::source::check_bytes(Path::new("fuzz.ecsflow"), data, base);
    for problem in &file.problems {
        let human = ecsflow::diagnostic::render_human(&file, problem, false);
        std::hint::black_box(&human);
        let json = ecsflow::diagnostic::json_diagnostic(&file, problem);
        // Serialising is what `--format json` does with it.
        let _ = std::hint::black_box(serde_json::to_string(&json));
        std::hint::black_box(ecsflow::diagnostic::render_github(&file, problem));
    }
});
