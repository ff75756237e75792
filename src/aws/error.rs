//! What went wrong talking to AWS, in words a user can act on.

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {message}")]
pub struct AwsError {
    /// The API call, such as `ecs:UpdateService`.
    pub operation: &'static str,
    /// The service's error code, such as `ServiceNotFoundException`.
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn new(operation: &'static str, message: impl Into<String>) -> Self {
        AwsError { operation, code: None, message: message.into() }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// What to do about it, from the service's error code.
    pub fn help(&self) -> String {
        match self.code.as_deref() {
            Some("ServiceNotFoundException") | Some("ClusterNotFoundException") => {
                "check the service's name and cluster in the pipeline, and the region".into()
            }
            Some("AccessDeniedException") | Some("UnrecognizedClientException") => {
                "check the AWS credentials and the role's permissions".into()
            }
            Some("ThrottlingException") => "AWS kept throttling after retries; run again when the account is quieter".into(),
            Some("InvalidParameterException") | Some("ClientException") => format!(
                "AWS refused the values sent to `{}`; the message names the one to fix in the pipeline or the task definition",
                self.operation
            ),
            _ => format!(
                "the message is AWS's answer to `{}`; fix what it names (a name, the region, a permission), then run again",
                self.operation
            ),
        }
    }

    pub fn from_sdk<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        match &error {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                let code = inner.code().map(str::to_string);
                let message = match (inner.code(), inner.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_string(),
                    (None, Some(message)) => message.to_string(),
                    (None, None) => DisplayErrorContext(&error).to_string(),
                };
                AwsError { operation, code, message }
            }
            SdkError::TimeoutError(_) => AwsError::new(operation, "no answer from AWS in time (after retries)"),
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                AwsError::new(operation, format!("cannot reach AWS: {}", DisplayErrorContext(&error)))
            }
            _ => AwsError::new(operation, DisplayErrorContext(&error).to_string()),
        }
    }
}
