//! One DescribeServices call per cluster per poll, however many services a
//! run awaits at once: `await-stable a, b` and the `await-stable`s of a
//! `parallel` block ask the poller, which coalesces the asks that can wait
//! for the same moment into one call of up to ten services.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::aws::{Aws, AwsError, ServiceAnswers, ServiceState};

/// DescribeServices takes at most ten services a call.
const BATCH_LIMIT: usize = 10;
/// How long the first ask of a batch waits for others to join it.
const GATHER: Duration = Duration::from_millis(20);

/// The per-run poller the waits share.
pub struct ServicePoller {
    aws: Aws,
    open: Arc<Mutex<Vec<Arc<Batch>>>>,
}

/// One future DescribeServices call.
struct Batch {
    cluster: String,
    at: Instant,
    /// The names asked for; `None` once the call is on its way.
    names: Mutex<Option<Vec<String>>>,
    answer: OnceCell<Result<Arc<ServiceAnswers>, AwsError>>,
}

impl ServicePoller {
    pub fn new(aws: &Aws) -> ServicePoller {
        ServicePoller { aws: aws.clone(), open: Arc::new(Mutex::new(Vec::new())) }
    }

    /// `service` as ECS describes it after about `interval`: no later than
    /// that, and no sooner than half of it, so that other waits' polls in
    /// that window can answer it too. One attempt: the caller retries.
    pub async fn describe(&self, cluster: &str, service: &str, interval: Duration) -> Result<ServiceState, AwsError> {
        let now = Instant::now();
        let latest = now + interval.max(GATHER);
        let earliest = now + interval / 2;
        let batch = {
            let mut open = self.open.lock().expect("poller lock");
            let joined = open.iter().find(|b| {
                b.cluster == cluster && b.at >= earliest && b.at <= latest + GATHER && {
                    let mut names = b.names.lock().expect("batch lock");
                    match names.as_mut() {
                        Some(names) if names.iter().any(|n| n == service) => true,
                        Some(names) if names.len() < BATCH_LIMIT => {
                            names.push(service.to_string());
                            true
                        }
                        _ => false,
                    }
                }
            });
            match joined {
                Some(batch) => batch.clone(),
                None => {
                    let batch = Arc::new(Batch {
                        cluster: cluster.to_string(),
                        at: latest,
                        names: Mutex::new(Some(vec![service.to_string()])),
                        answer: OnceCell::new(),
                    });
                    open.push(batch.clone());
                    batch
                }
            }
        };
        let answers = batch
            .answer
            .get_or_init(|| async {
                tokio::time::sleep_until(batch.at).await;
                let names = batch.names.lock().expect("batch lock").take().unwrap_or_default();
                self.open.lock().expect("poller lock").retain(|b| !Arc::ptr_eq(b, &batch));
                self.aws.describe_services_once(cluster, &names).await.map(Arc::new)
            })
            .await
            .clone()?;
        answers.iter().find(|(name, _)| name == service).map(|(_, answer)| answer.clone()).unwrap_or_else(|| {
            Err(AwsError::coded(
                "ecs:DescribeServices",
                "ServiceNotFoundException",
                format!("no answer for `{service}`"),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"{"services": [
        {"serviceName": "a", "serviceArn": "arn:aws:ecs:us-east-1:1:service/prod/a", "status": "ACTIVE"},
        {"serviceName": "b", "serviceArn": "arn:aws:ecs:us-east-1:1:service/prod/b", "status": "ACTIVE"}
    ], "failures": []}"#;

    #[tokio::test(start_paused = true)]
    async fn waits_that_can_poll_together_share_one_call() {
        let (aws, calls) = Aws::answering_counted(ANSWER);
        let poller = ServicePoller::new(&aws);
        let (a, b) = tokio::join!(
            poller.describe("prod", "a", Duration::from_millis(1000)),
            poller.describe("prod", "b", Duration::from_millis(1500)),
        );
        assert_eq!((a.unwrap().name, b.unwrap().name), ("a".to_string(), "b".to_string()));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Far apart in time, or in different clusters: two calls each.
        let (_, _) = tokio::join!(
            poller.describe("prod", "a", Duration::from_millis(100)),
            poller.describe("prod", "b", Duration::from_millis(1500)),
        );
        let (_, _) =
            tokio::join!(poller.describe("prod", "a", Duration::ZERO), poller.describe("test", "b", Duration::ZERO));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 5);
    }
}
