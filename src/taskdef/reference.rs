//! A task definition reference, in each way the pipeline and ECS write one:
//! an ARN (`arn:…:task-definition/web:41`), `family:revision` (`web:41`), a
//! bare family (`web`), or in a `rollback … to`, a bare revision (`41`).
//! Read here only, so that every step compares and shows them alike.

/// `arn:…:task-definition/web:41` → `web:41`; anything without a `/` as is.
pub fn short(reference: &str) -> String {
    reference.rsplit('/').next().unwrap_or(reference).to_string()
}

/// The family of `web:41`, of an ARN, or of a bare family name.
pub fn family_of(reference: &str) -> String {
    split(reference).0.to_string()
}

/// The revision number of `web:41` or of an ARN; `None` for a bare family.
pub fn revision_of(reference: &str) -> Option<i64> {
    split(reference).1
}

/// A `rollback … to` target as ECS takes it: a bare number is a revision of
/// `current`'s family (`41` with `web:40` running → `web:41`); anything else
/// is already a reference.
pub fn in_family_of(target: &str, current: &str) -> String {
    if is_revision(target) {
        format!("{}:{target}", family_of(current))
    } else {
        target.to_string()
    }
}

/// A reference's family and revision: `web:41` → (`web`, 41), and an ARN
/// likewise. Without a numeric revision after the last `:`, it is all family.
pub fn split(reference: &str) -> (&str, Option<i64>) {
    let short = reference.rsplit('/').next().unwrap_or(reference);
    match short.rsplit_once(':') {
        // `web:` has no revision, and `web` is still its family.
        Some((family, revision)) if revision.chars().all(|c| c.is_ascii_digit()) => (family, revision.parse().ok()),
        _ => (short, None),
    }
}

fn is_revision(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:41";

    #[test]
    fn an_arn_and_its_short_form_say_the_same() {
        assert_eq!(short(ARN), "web:41");
        assert_eq!(short("web:41"), "web:41");
        assert_eq!(family_of(ARN), "web");
        assert_eq!(family_of("web:41"), "web");
        assert_eq!(family_of("web"), "web");
        assert_eq!(revision_of(ARN), Some(41));
        assert_eq!(revision_of("web"), None);
    }

    #[test]
    fn a_bare_number_is_a_revision_of_the_running_family() {
        assert_eq!(in_family_of("39", ARN), "web:39");
        assert_eq!(in_family_of("api:3", ARN), "api:3");
        assert_eq!(in_family_of("", ARN), "");
    }
}
