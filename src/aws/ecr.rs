//! ECR: where a repository lives, and a token to push to it.

use aws_config::Region;

use super::retry::{self, READ_BUDGET};
use super::{Aws, AwsError};

/// Credentials for one registry. Never printed: `Debug` hides the password.
#[derive(Clone)]
pub struct RegistryAuth {
    /// `123456789012.dkr.ecr.eu-west-1.amazonaws.com`
    pub host: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("host", &self.host)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `(account, region)` of an ECR registry host, or `None` for other registries.
pub fn ecr_host(host: &str) -> Option<(String, String)> {
    let mut parts = host.split('.');
    let account = parts.next()?;
    let (dkr, ecr, region, amazonaws) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let is_ecr = account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && dkr == "dkr"
        && (ecr == "ecr" || ecr == "ecr-fips")
        && amazonaws == "amazonaws";
    is_ecr.then(|| (account.to_string(), region.to_string()))
}

impl Aws {
    /// The URI of an ECR repository of this account and region, by name.
    pub async fn repository_uri(&self, name: &str) -> Result<String, AwsError> {
        const OP: &str = "ecr:DescribeRepositories";
        let described = retry::idempotent(READ_BUDGET, || async {
            self.ecr.describe_repositories().repository_names(name).send().await.map_err(|e| AwsError::from_sdk(OP, e))
        })
        .await;
        let out = described.map_err(|error| {
            if error.is("RepositoryNotFoundException") {
                AwsError {
                    message: format!(
                        "ECR repository `{name}` does not exist in {}; create it (`aws ecr create-repository --repository-name {name}`) or give its full URI",
                        self.region
                    ),
                    ..error
                }
            } else {
                error
            }
        })?;
        out.repositories()
            .first()
            .and_then(|r| r.repository_uri())
            .map(str::to_string)
            .ok_or_else(|| AwsError::new(OP, format!("ECR repository `{name}` has no URI")))
    }

    /// A fresh push token for an ECR registry host (tokens last 12 hours, so
    /// one is asked for right before each push).
    pub async fn registry_auth(&self, host: &str) -> Result<RegistryAuth, AwsError> {
        const OP: &str = "ecr:GetAuthorizationToken";
        let (_account, region) =
            ecr_host(host).ok_or_else(|| AwsError::new(OP, format!("`{host}` is not an ECR registry")))?;
        // The token is regional: ask the registry's own region.
        let client = if region == self.region {
            self.ecr.clone()
        } else {
            aws_sdk_ecr::Client::from_conf(self.ecr.config().to_builder().region(Region::new(region)).build())
        };
        let out = retry::idempotent(READ_BUDGET, || async {
            client.get_authorization_token().send().await.map_err(|e| AwsError::from_sdk(OP, e))
        })
        .await?;
        let token = out
            .authorization_data()
            .first()
            .and_then(|d| d.authorization_token())
            .ok_or_else(|| AwsError::new(OP, "the answer has no token"))?;
        let decoded =
            aws_smithy_types::base64::decode(token).map_err(|_| AwsError::new(OP, "the token is not base64"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| AwsError::new(OP, "the token is not text"))?;
        let (username, password) =
            decoded.split_once(':').ok_or_else(|| AwsError::new(OP, "the token is not USER:PASSWORD"))?;
        Ok(RegistryAuth { host: host.to_string(), username: username.to_string(), password: password.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::ecr_host;

    #[test]
    fn recognises_ecr_hosts() {
        assert_eq!(
            ecr_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(("123456789012".into(), "eu-west-1".into()))
        );
        assert_eq!(ecr_host("ghcr.io"), None);
        assert_eq!(ecr_host("public.ecr.aws"), None);
    }
}
