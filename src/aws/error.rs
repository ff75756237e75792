//! What went wrong talking to AWS, in words a user can act on, and whether
//! trying again can help: every SDK failure is classified here, once.

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct AwsError {
    /// The API call, such as `ecs:UpdateService`.
    pub operation: &'static str,
    /// The service's error code, such as `ServiceNotFoundException`.
    pub code: Option<String>,
    pub message: String,
    pub kind: ErrorKind,
}

/// What kind of failure it was: the transient ones are worth another try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttling: the account's API rate limit, shared by every client.
    Throttled,
    /// An HTTP 5xx answer.
    ServerError(u16),
    /// The connection was refused, reset or dropped, or could not be made.
    Connection(Connection),
    /// No answer in time.
    TimedOut,
    /// No credentials anywhere in the chain, or expired ones.
    NoCredentials,
    /// The credentials may not call this action on this resource.
    AccessDenied,
    /// Anything else: AWS's answer stands, another try gives the same.
    Final,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Refused,
    Reset,
    Other,
}

/// Error codes AWS services use for throttling.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
    "BandwidthLimitExceeded",
    "EC2ThrottledException",
    "PriorRequestNotComplete",
];
const TIMEOUTS: &[&str] = &["RequestTimeout", "RequestTimeoutException"];
const DENIED: &[&str] = &["AccessDeniedException", "AccessDenied", "UnauthorizedOperation"];
const BAD_CREDENTIALS: &[&str] = &[
    "ExpiredTokenException",
    "ExpiredToken",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
];

impl ErrorKind {
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled | ErrorKind::ServerError(_) | ErrorKind::Connection(_) | ErrorKind::TimedOut
        )
    }

    /// What the progress display says while retrying: "retrying: throttled".
    pub fn retry_cause(self) -> Option<String> {
        Some(match self {
            ErrorKind::Throttled => "throttled".into(),
            ErrorKind::ServerError(status) => format!("server error (HTTP {status})"),
            ErrorKind::Connection(Connection::Refused) => "connection refused".into(),
            ErrorKind::Connection(Connection::Reset) => "connection reset".into(),
            ErrorKind::Connection(Connection::Other) => "connection failed".into(),
            ErrorKind::TimedOut => "timed out".into(),
            _ => return None,
        })
    }
}

impl AwsError {
    pub fn new(operation: &'static str, message: impl Into<String>) -> Self {
        AwsError { operation, code: None, message: message.into(), kind: ErrorKind::Final }
    }

    /// A final error with the service's code, as ecsflow derives it from an answer.
    pub fn coded(operation: &'static str, code: impl Into<String>, message: impl Into<String>) -> Self {
        AwsError { operation, code: Some(code.into()), message: message.into(), kind: ErrorKind::Final }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }

    /// What to do about it.
    pub fn help(&self) -> String {
        let profile = std::env::var("AWS_PROFILE").unwrap_or_else(|_| "PROFILE".into());
        match self.kind {
            ErrorKind::NoCredentials => format!(
                "log in with `aws sso login --profile {profile}`, or set AWS_PROFILE to a profile with credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ),
            ErrorKind::AccessDenied => format!(
                "check the AWS credentials and the role's permissions: grant `{}` on {} to the role or user",
                self.operation,
                denied_resource(&self.message).map(|r| format!("`{r}`")).unwrap_or_else(|| "the resource".into())
            ),
            ErrorKind::Throttled => {
                "AWS kept throttling for over a minute: the account's API rate limit is shared by every job and the console; run again when it is quieter".into()
            }
            ErrorKind::ServerError(_) => "AWS kept answering with server errors for over a minute: check the AWS Health Dashboard for the region, then run again".into(),
            ErrorKind::Connection(_) => "check the network, a proxy (HTTPS_PROXY), AWS_ENDPOINT_URL and the region, then run again".into(),
            ErrorKind::TimedOut => "AWS did not answer in time: check the network and the AWS Health Dashboard, then run again".into(),
            ErrorKind::Final => match self.code.as_deref() {
                Some("ServiceNotFoundException") | Some("ClusterNotFoundException") => {
                    "check the service's name and cluster in the pipeline, and the region".into()
                }
                Some("InvalidParameterException") | Some("ClientException") => format!(
                    "AWS refused the values sent to `{}`; the message names the one to fix in the pipeline or the task definition",
                    self.operation
                ),
                _ => format!(
                    "the message is AWS's answer to `{}`; fix what it names (a name, the region, a permission), then run again",
                    self.operation
                ),
            },
        }
    }

    pub fn from_sdk<E>(operation: &'static str, error: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        // The SDK's own words go to the trace only: they are for debugging ecsflow.
        crate::trace::debug(&format!("{operation} failed: {error:?}"));
        let chain = DisplayErrorContext(&error).to_string();
        match &error {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                let status = service.raw().status().as_u16();
                let code = inner.code().map(str::to_string);
                let message = match (inner.code(), inner.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_string(),
                    (None, Some(message)) => message.to_string(),
                    (None, None) => format!("HTTP {status} with no error code"),
                };
                let c = code.as_deref().unwrap_or_default();
                let kind = if THROTTLING.contains(&c) || status == 429 {
                    ErrorKind::Throttled
                } else if TIMEOUTS.contains(&c) {
                    ErrorKind::TimedOut
                } else if status >= 500 {
                    ErrorKind::ServerError(status)
                } else if DENIED.contains(&c) {
                    ErrorKind::AccessDenied
                } else if BAD_CREDENTIALS.contains(&c) {
                    return AwsError {
                        operation,
                        message: format!("AWS does not accept the credentials ({message})"),
                        code,
                        kind: ErrorKind::NoCredentials,
                    };
                } else {
                    ErrorKind::Final
                };
                AwsError { operation, code, message, kind }
            }
            SdkError::TimeoutError(_) => {
                AwsError { kind: ErrorKind::TimedOut, ..AwsError::new(operation, "no answer from AWS in time") }
            }
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                AwsError { kind: ErrorKind::TimedOut, ..AwsError::new(operation, "no answer from AWS in time") }
            }
            SdkError::DispatchFailure(failure) if failure.is_io() => connection(operation, &chain),
            SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) if mentions_credentials(&chain) => {
                no_credentials(operation, &chain)
            }
            SdkError::DispatchFailure(_) => connection(operation, &chain),
            SdkError::ResponseError(response) => {
                let status = response.raw().status().as_u16();
                if status >= 500 {
                    AwsError {
                        kind: ErrorKind::ServerError(status),
                        ..AwsError::new(
                            operation,
                            format!("AWS answered HTTP {status} with a body ecsflow cannot read"),
                        )
                    }
                } else {
                    connection(operation, &chain)
                }
            }
            _ => AwsError::new(operation, first_line(&chain)),
        }
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or(text).chars().take(300).collect()
}

fn mentions_credentials(chain: &str) -> bool {
    let chain = chain.to_ascii_lowercase();
    chain.contains("credentials") || chain.contains("identity") || chain.contains("sso") || chain.contains("token")
}

fn no_credentials(operation: &'static str, chain: &str) -> AwsError {
    let lower = chain.to_ascii_lowercase();
    let message = if lower.contains("expired") {
        "the AWS credentials have expired".to_string()
    } else if lower.contains("sso") {
        "the SSO login of the AWS profile is missing or has expired".to_string()
    } else {
        "no AWS credentials found: tried the environment (AWS_ACCESS_KEY_ID), the profile (AWS_PROFILE, ~/.aws/config and ~/.aws/credentials), SSO, web identity (AWS_WEB_IDENTITY_TOKEN_FILE), and the container and instance metadata".to_string()
    };
    AwsError { kind: ErrorKind::NoCredentials, ..AwsError::new(operation, message) }
}

fn connection(operation: &'static str, chain: &str) -> AwsError {
    let lower = chain.to_ascii_lowercase();
    let (how, what) = if lower.contains("refused") {
        (Connection::Refused, "the connection was refused")
    } else if lower.contains("reset") || lower.contains("closed") || lower.contains("broken pipe") {
        (Connection::Reset, "the connection was reset")
    } else if lower.contains("dns") || lower.contains("resolve") || lower.contains("lookup") {
        (Connection::Other, "its host name does not resolve")
    } else {
        (Connection::Other, "the connection failed")
    };
    AwsError { kind: ErrorKind::Connection(how), ..AwsError::new(operation, format!("cannot reach AWS: {what}")) }
}

/// `…on resource: arn:aws:ecs:…` in an AccessDenied message.
fn denied_resource(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once("on resource: ")?;
    rest.split_whitespace().next().map(|r| r.trim_end_matches(['.', ',']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_of_an_access_denied_message() {
        let message = "AccessDeniedException: User: arn:aws:iam::1:user/ci is not authorized to perform: ecs:UpdateService on resource: arn:aws:ecs:us-east-1:1:service/prod/web because no identity-based policy allows it";
        assert_eq!(denied_resource(message), Some("arn:aws:ecs:us-east-1:1:service/prod/web"));
        assert_eq!(denied_resource("not authorized"), None);
    }

    #[test]
    fn transient_kinds_say_why_they_retry() {
        assert_eq!(ErrorKind::Throttled.retry_cause().as_deref(), Some("throttled"));
        assert_eq!(ErrorKind::Connection(Connection::Reset).retry_cause().as_deref(), Some("connection reset"));
        assert_eq!(ErrorKind::ServerError(503).retry_cause().as_deref(), Some("server error (HTTP 503)"));
        assert!(!ErrorKind::AccessDenied.is_transient());
        assert_eq!(ErrorKind::Final.retry_cause(), None);
    }
}
