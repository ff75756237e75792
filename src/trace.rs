//! A debug trace on stderr for what the default output leaves out (the SDK's
//! raw errors, each retry): on with `--verbose` or `ECSFLOW_LOG=debug`.

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Turns the trace on (the global `--verbose` flag).
pub fn enable() {
    VERBOSE.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    VERBOSE.load(Ordering::Relaxed)
        || std::env::var("ECSFLOW_LOG").is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "debug" | "trace"))
}

/// One line (or more) of the trace, never in the default output.
pub fn debug(message: &str) {
    if enabled() {
        eprintln!("ecsflow debug: {message}");
    }
}
