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
pub const HOOK_ACTIONS: &[&str] = &["continue", "rollback"];

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
];

pub const AWAIT_STABLE: &[Attr] = &[opt("timeout", Want::Duration), opt("until", Want::Word(UNTIL))];

pub const CONTINUE: &[Attr] = &[opt("action", Want::Word(HOOK_ACTIONS)), opt("timeout", Want::Duration)];

pub const RUN_TASK: &[Attr] = &[
    opt("like", Want::Service),
    opt("wait", Want::Word(WAIT)),
    opt("timeout", Want::Duration),
    opt("container", Want::String),
];

pub const RUN_TASK_CONTAINER: &[Attr] = &[opt("command", Want::StringList), opt("env", Want::Map)];

const TABLES: [(&str, &[Attr]); 9] = [
    ("build", BUILD),
    ("push", PUSH),
    ("register", REGISTER),
    ("update", UPDATE),
    ("await-stable", AWAIT_STABLE),
    ("run-task", RUN_TASK),
    ("continue", CONTINUE),
    ("container", REGISTER_CONTAINER),
    ("container", RUN_TASK_CONTAINER),
];

/// Which step takes an attribute, for "`timeout` belongs to `await-stable`".
pub fn owner_of(name: &str) -> Option<&'static str> {
    TABLES.iter().find(|(_, attrs)| attrs.iter().any(|attr| attr.name == name)).map(|(step, _)| *step)
}

/// Every attribute name of every block.
pub fn all_names() -> impl Iterator<Item = &'static str> {
    TABLES.iter().flat_map(|(_, attrs)| attrs.iter().map(|attr| attr.name))
}
