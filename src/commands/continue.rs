//! `ecsflow continue`: resumes the service deployment a PAUSE lifecycle hook
//! holds, or rolls it back, as the step `continue SERVICE` does, but on the
//! service's current deployment at once, without waiting for a pause.

use std::time::Duration;

use super::{Error, Outcome};
use crate::aws::{Aws, AwsError, ConnectOptions};
use crate::check::pipeline::HookAction;
use crate::eval::ServiceRef;
use crate::exec::resume::{self, NotResumed};

/// Why `ecsflow continue` resumed nothing. Each has the code a run uses for
/// the same failure.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ContinueError {
    /// No PAUSE hook holds the service's deployment.
    #[error("nothing to continue: {reason}")]
    #[diagnostic(code("ecsflow::not-paused"))]
    NotPaused {
        reason: String,
        #[help]
        help: String,
    },
    /// The service is missing, the credentials are, or AWS refused.
    #[error("{error}")]
    #[diagnostic(code("ecsflow::aws"))]
    Aws {
        error: AwsError,
        #[help]
        help: String,
    },
}

impl From<AwsError> for ContinueError {
    fn from(error: AwsError) -> Self {
        let help = match error.code.as_deref() {
            Some("ServiceNotFoundException" | "ClusterNotFoundException") => {
                "check --cluster and --service, and the region (--region, AWS_REGION or the profile's)".to_string()
            }
            _ => error.help(),
        };
        ContinueError::Aws { error, help }
    }
}

pub fn resume(cluster: &str, service: &str, rollback: bool, options: &ConnectOptions) -> Result<Outcome, Error> {
    let action = if rollback { HookAction::Rollback } else { HookAction::Continue };
    let service = ServiceRef { cluster: cluster.to_string(), name: service.to_string() };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(Error::Runtime)?;
    let resumed = runtime.block_on(async {
        let aws = Aws::connect(options).await.map_err(ContinueError::from)?;
        resume::resume(&aws, &service, action, Duration::ZERO, false).await.map_err(|error| match error {
            NotResumed::NotPaused { reason, help } | NotResumed::Timeout { reason, help } => {
                ContinueError::NotPaused { reason, help }
            }
            NotResumed::Aws(error) => ContinueError::from(error),
        })
    })?;
    println!("{}", resumed.describe(&service));
    Ok(Outcome::Done)
}
