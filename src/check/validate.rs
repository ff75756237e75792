//! Checks on literal values against what AWS and container registries accept.
//! Each returns the problem and a fix, for an `invalid-value` diagnostic.

pub struct Invalid {
    pub message: String,
    pub help: Option<String>,
}

fn invalid(message: impl Into<String>, help: impl Into<String>) -> Result<(), Invalid> {
    Err(Invalid { message: message.into(), help: Some(help.into()) })
}

/// `eu-west-1`, `us-gov-west-1`, `cn-north-1`.
pub fn region(value: &str) -> Result<(), Invalid> {
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1].iter().all(|p| p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        invalid(format!("`{value}` is not an AWS region"), "write a region code such as `eu-west-1` or `us-east-1`")
    }
}

fn is_ecs_name(value: &str) -> bool {
    !value.is_empty() && value.len() <= 255 && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `cluster`: a name or an ARN.
pub fn cluster(value: &str) -> Result<(), Invalid> {
    if value.starts_with("arn:") || is_ecs_name(value) {
        Ok(())
    } else {
        invalid(
            format!("`{value}` is not an ECS cluster name"),
            "cluster names have up to 255 letters, digits, hyphens and underscores",
        )
    }
}

/// `service web = "web"` or `"cluster/web"` or a service ARN.
pub fn service(value: &str) -> Result<(), Invalid> {
    if value.starts_with("arn:") {
        return Ok(());
    }
    let ok = match value.split_once('/') {
        Some((cluster, service)) => is_ecs_name(cluster) && is_ecs_name(service),
        None => is_ecs_name(value),
    };
    if ok {
        Ok(())
    } else {
        invalid(
            format!("`{value}` is not an ECS service name"),
            r#"write "SERVICE" for a service in `cluster`, or "CLUSTER/SERVICE"; names have letters, digits, hyphens and underscores"#,
        )
    }
}

/// An ECR repository name (`team/web-app`) or a full image repository URI.
pub fn repository(value: &str) -> Result<(), Invalid> {
    let first = value.split('/').next().unwrap_or("");
    if first.contains('.') || first.contains(':') || first == "localhost" {
        // A URI: registry host, then a path.
        return if value.contains('/') && !value.ends_with('/') && !value.contains("://") {
            Ok(())
        } else {
            invalid(
                format!("`{value}` is not a repository URI"),
                "write HOST/PATH without a scheme, such as `123456789012.dkr.ecr.eu-west-1.amazonaws.com/web-app`",
            )
        };
    }
    let component_ok = |c: &str| {
        !c.is_empty()
            && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
            && c.chars().next().is_some_and(|ch| ch.is_ascii_alphanumeric())
            && c.chars().last().is_some_and(|ch| ch.is_ascii_alphanumeric())
    };
    if (2..=256).contains(&value.len()) && value.split('/').all(component_ok) {
        Ok(())
    } else {
        invalid(
            format!("`{value}` is not an ECR repository name"),
            "repository names are lowercase letters, digits and `._-/`, 2 to 256 characters",
        )
    }
}

/// An image tag as registries accept it.
pub fn tag(value: &str) -> Result<(), Invalid> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        invalid(
            format!("`{value}` is not a valid image tag"),
            "tags have up to 128 letters, digits, `_`, `.` and `-`, and do not start with `.` or `-`",
        )
    }
}

/// A task definition family name.
pub fn family(value: &str) -> Result<(), Invalid> {
    if is_ecs_name(value) {
        Ok(())
    } else {
        invalid(
            format!("`{value}` is not a task definition family"),
            "family names have up to 255 letters, digits, hyphens and underscores",
        )
    }
}

/// Task-level `cpu`: units (`"512"`) or vCPUs (`"1 vCPU"`, `"0.5 vcpu"`).
pub fn cpu(value: &str) -> Result<(), Invalid> {
    if units_or(value, &["vcpu"]) {
        Ok(())
    } else {
        invalid(
            format!("`{value}` is not a task cpu size"),
            r#"write CPU units such as "512" or "1024", or vCPUs such as "1 vCPU""#,
        )
    }
}

/// Task-level `memory`: MiB (`"2048"`) or GB (`"2 GB"`).
pub fn memory(value: &str) -> Result<(), Invalid> {
    if units_or(value, &["gb"]) {
        Ok(())
    } else {
        invalid(format!("`{value}` is not a task memory size"), r#"write MiB such as "2048", or GB such as "2 GB""#)
    }
}

fn units_or(value: &str, suffixes: &[&str]) -> bool {
    let positive_int = |s: &str| s.parse::<u64>().is_ok_and(|n| n > 0);
    if positive_int(value) {
        return true;
    }
    let lower = value.to_ascii_lowercase();
    suffixes.iter().any(|suffix| {
        lower
            .strip_suffix(suffix)
            .map(str::trim_end)
            .is_some_and(|number| number.parse::<f64>().is_ok_and(|n| n > 0.0 && n.is_finite()))
    })
}

/// `linux/amd64`, `linux/arm64/v8`, comma-separated for multi-platform.
pub fn platform(value: &str) -> Result<(), Invalid> {
    let one = |p: &str| {
        let parts: Vec<&str> = p.split('/').collect();
        (2..=3).contains(&parts.len())
            && parts.iter().all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    };
    if value.split(',').all(|p| one(p.trim())) {
        Ok(())
    } else {
        invalid(format!("`{value}` is not a platform"), "write OS/ARCH such as `linux/amd64` or `linux/arm64`")
    }
}

/// An environment variable name as a container or `env()` sees it.
pub fn env_name(value: &str) -> Result<(), Invalid> {
    let ok = value.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        invalid(
            format!("`{value}` is not an environment variable name"),
            "names start with a letter or `_` and have letters, digits and `_`",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_aws_accepts() {
        assert!(region("eu-west-1").is_ok());
        assert!(region("us-gov-west-1").is_ok());
        assert!(region("eu-west").is_err());
        assert!(service("prod/web").is_ok());
        assert!(service("a/b/c").is_err());
        assert!(repository("team/web-app").is_ok());
        assert!(repository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web").is_ok());
        assert!(repository("Web").is_err());
        assert!(tag("v1.2.3").is_ok());
        assert!(tag("-x").is_err());
        assert!(cpu("1 vCPU").is_ok());
        assert!(cpu("lots").is_err());
        assert!(memory("2 GB").is_ok());
        assert!(memory("0").is_err());
        assert!(platform("linux/amd64,linux/arm64").is_ok());
        assert!(platform("amd64").is_err());
    }
}
