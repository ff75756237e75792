//! The attributes each step block takes. One table per block, so the checker,
//! the suggestions and docs/language.md read the same list.

use super::types::Want;

#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: &'static str,
    pub want: Want,
    pub required: bool,
}

const fn opt(name: &'static str, want: Want) -> Attr {
    Attr { name, want, required: false }
}

const fn req(name: &'static str, want: Want) -> Attr {
    Attr { name, want, required: true }
}

pub const BUILDERS: &[&str] = &["docker", "podman", "buildah"];
pub const CIRCUIT_BREAKER: &[&str] = &["off", "on", "rollback"];
pub const WAIT: &[&str] = &["success", "running", "none"];
pub const UNTIL: &[&str] = &["stable", "paused"];
pub const OFF: &[&str] = &["off"];
pub use crate::deployment::{CLEANUP_WORDS, HOOK_ACTION_WORDS, STAGE_WORDS, STRATEGY_WORDS};

pub const BUILD: &[Attr] = &[
    opt("dockerfile", Want::String),
    opt("target", Want::String),
    opt("build-args", Want::Map),
    opt("platform", Want::String),
    opt("builder", Want::Word(BUILDERS)),
];

pub const PUSH: &[Attr] = &[req("tags", Want::StringList)];

pub const REGISTER: &[Attr] = &[opt("cpu", Want::StringOrInt), opt("memory", Want::StringOrInt)];

pub const REGISTER_CONTAINER: &[Attr] = &[
    opt("image", Want::ImageRefOrString),
    opt("env", Want::Map),
    opt("secrets", Want::Map),
    opt("command", Want::StringList),
];

pub const UPDATE: &[Attr] = &[
    opt("task-definition", Want::TaskDefinitionOrString),
    opt("desired-count", Want::Int),
    opt("min-healthy-percent", Want::Int),
    opt("max-percent", Want::Int),
    opt("force-new-deployment", Want::Bool),
    opt("circuit-breaker", Want::Word(CIRCUIT_BREAKER)),
    opt("health-check-grace", Want::Duration),
    opt("strategy", Want::Word(STRATEGY_WORDS)),
    opt("bake-time", Want::Duration),
    opt("linear-step-percent", Want::Number),
    opt("linear-step-bake-time", Want::Duration),
    opt("canary-percent", Want::Number),
    opt("canary-bake-time", Want::Duration),
    opt("alarms", Want::StringList),
    opt("alarm-rollback", Want::Bool),
    opt("circuit-breaker-threshold", Want::StringOrInt),
    opt("circuit-breaker-reset-on-healthy", Want::Bool),
    opt("early-success", Want::IntOrWord(OFF)),
    opt("early-success-cleanup", Want::Word(CLEANUP_WORDS)),
];

/// Inside `hook pause { … }` / `hook "LAMBDA-ARN" { … }` in `update`.
pub const UPDATE_HOOK: &[Attr] = &[
    req("at", Want::WordList(STAGE_WORDS)),
    opt("role", Want::String),
    opt("details", Want::Map),
    opt("timeout", Want::Duration),
    opt("on-timeout", Want::Word(HOOK_ACTION_WORDS)),
];

pub const AWAIT_STABLE: &[Attr] = &[opt("timeout", Want::Duration), opt("until", Want::Word(UNTIL))];

pub const CONTINUE: &[Attr] = &[opt("action", Want::Word(HOOK_ACTION_WORDS)), opt("timeout", Want::Duration)];

pub const RUN_TASK: &[Attr] = &[
    opt("like", Want::Service),
    opt("wait", Want::Word(WAIT)),
    opt("timeout", Want::Duration),
    opt("container", Want::String),
];

pub const RUN_TASK_CONTAINER: &[Attr] = &[opt("command", Want::StringList), opt("env", Want::Map)];

const TABLES: [(&str, &[Attr]); 10] = [
    ("build", BUILD),
    ("push", PUSH),
    ("register", REGISTER),
    ("update", UPDATE),
    ("await-stable", AWAIT_STABLE),
    ("run-task", RUN_TASK),
    ("continue", CONTINUE),
    ("container", REGISTER_CONTAINER),
    ("container", RUN_TASK_CONTAINER),
    ("hook", UPDATE_HOOK),
];

/// Which step takes an attribute, for "`timeout` belongs to `await-stable`".
pub fn owner_of(name: &str) -> Option<&'static str> {
    TABLES.iter().find(|(_, attrs)| attrs.iter().any(|attr| attr.name == name)).map(|(step, _)| *step)
}

/// Every attribute name of every block.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    TABLES.iter().flat_map(|(_, attrs)| attrs.iter().map(|attr| attr.name))
}
