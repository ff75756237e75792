//! The only module that names `aws_sdk_*`: thin calls to ECS, ECR and
//! Application Auto Scaling that take and give the domain types below.

/// A state ECS names with a string: the values known today, and `Other` for
/// any the API adds later, so a new value is data rather than an error.
macro_rules! api_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A value this version of ecsflow does not know, as ECS sent it.
            Other(String),
        }

        impl $name {
            /// As the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod deployment_settings;
mod ecr;
mod ecs;
mod error;
mod raw_json;
pub mod retry;
mod scaling;
mod service_deployments;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};

pub use deployment_settings::{DeploymentSettings, WantedDeployment};
pub use ecr::*;
pub use ecs::*;
pub use error::{AwsError, Connection, ErrorKind};
pub use scaling::*;
pub use service_deployments::*;

/// How to reach AWS; everything else comes from the default chain
/// (environment, profiles with SSO, web identity, container and instance
/// credentials) and `AWS_ENDPOINT_URL`.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
}

/// Clients for one account and region.
#[derive(Clone)]
pub struct Aws {
    ecs: aws_sdk_ecs::Client,
    scaling: aws_sdk_applicationautoscaling::Client,
    ecr: aws_sdk_ecr::Client,
    pub region: String,
}

impl Aws {
    pub async fn connect(options: &ConnectOptions) -> Result<Aws, AwsError> {
        // Transient faults are retried by `retry`, where each retry is seen and
        // no write is resent blindly; the SDK sends each attempt once. Every
        // attempt has a deadline.
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::disabled()).timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .operation_timeout(Duration::from_secs(20))
                    .build(),
            );
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &options.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let config = loader.load().await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            AwsError::new(
                "configuration",
                "no AWS region: set `region` in the pipeline, pass --region, or set AWS_REGION",
            )
        })?;
        Ok(Aws {
            ecs: aws_sdk_ecs::Client::new(&config),
            scaling: aws_sdk_applicationautoscaling::Client::new(&config),
            ecr: aws_sdk_ecr::Client::new(&config),
            region,
        })
    }
}

#[cfg(test)]
impl Aws {
    /// Clients whose every call gets `body` as an HTTP 200 answer: a recorded
    /// answer goes through the SDK's own parsing and the conversions above.
    pub(crate) fn answering(body: &str) -> Aws {
        Aws::answering_counted(body).0
    }

    /// As [`Aws::answering`], with the number of calls made so far.
    pub(crate) fn answering_counted(body: &str) -> (Aws, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use aws_sdk_ecs::config::{Credentials, SharedCredentialsProvider};
        use aws_smithy_runtime_api::client::http::{
            http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
        };
        use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
        use aws_smithy_types::body::SdkBody;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        #[derive(Debug)]
        struct Answer(Vec<u8>, Arc<AtomicUsize>);

        impl HttpConnector for Answer {
            fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
                self.1.fetch_add(1, Ordering::SeqCst);
                let ok = 200.try_into().expect("200 is a status");
                HttpConnectorFuture::ready(Ok(HttpResponse::new(ok, SdkBody::from(self.0.clone()))))
            }
        }

        let body = body.as_bytes().to_vec();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let config = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new("test", "test", None, None, "test")))
            .http_client(http_client_fn(move |_, _| SharedHttpConnector::new(Answer(body.clone(), counted.clone()))))
            .build();
        let aws = Aws {
            ecs: aws_sdk_ecs::Client::new(&config),
            scaling: aws_sdk_applicationautoscaling::Client::new(&config),
            ecr: aws_sdk_ecr::Client::new(&config),
            region: "us-east-1".into(),
        };
        (aws, calls)
    }
}
