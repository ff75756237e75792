//! What a name is: the one list of reserved words and the one rule for a valid
//! name. The grammar spells the same rule in pest (`word`, `keyword`); a test
//! in `parse.rs` keeps the two in step.

/// Step and declaration keywords: no binding may take one of these names.
pub const KEYWORDS: &[&str] = &[
    "build",
    "push",
    "register",
    "suspend-scaling",
    "resume-scaling",
    "update",
    "await-stable",
    "run-task",
    "rollback",
    "continue",
    "prune",
    "parallel",
    "on-failure",
    "pipeline",
    "region",
    "cluster",
    "param",
    "service",
    "repository",
    "let",
];

/// A character that may continue a name: `[A-Za-z0-9_-]`.
pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Whether `text` reads as one name: `[A-Za-z_][A-Za-z0-9_-]*`.
pub fn is_name(text: &str) -> bool {
    text.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && text.chars().all(is_name_char)
}

/// A word that reads as something else than a binding: a keyword, or `true`
/// and `false`, which always read as the literals.
pub fn is_reserved(word: &str) -> bool {
    KEYWORDS.contains(&word) || matches!(word, "true" | "false")
}

/// Whether a binding may be called `text`.
pub fn is_binding_name(text: &str) -> bool {
    is_name(text) && !is_reserved(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_lexical_rule() {
        for good in ["web", "_x", "web-app", "a1_b-2"] {
            assert!(is_name(good), "{good}");
        }
        for bad in ["", "1web", "-web", "web.app", "wéb"] {
            assert!(!is_name(bad), "{bad}");
        }
        assert!(!is_binding_name("update") && !is_binding_name("true") && is_binding_name("updates"));
    }
}
