//! Transient faults (throttling, 5xx, resets, timeouts) are retried here, not
//! by the SDK, so that every retry is seen and a write is never resent blindly.
//!
//! Reads retry for [`READ_BUDGET`]; writes for [`WRITE_BUDGET`], and a write
//! with no idempotency token reads first whether the lost attempt took effect.
//! Who waits (a step of `run`) learns of each retry through the observer it
//! installs with [`observed`].

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::AwsError;

/// How long a read keeps trying through transient faults.
pub const READ_BUDGET: Duration = Duration::from_secs(60);
/// How long a write keeps trying through transient faults.
pub const WRITE_BUDGET: Duration = Duration::from_secs(75);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Told "retrying: throttled (ecs:UpdateService)" at each retry.
pub type Observer = Arc<dyn Fn(&str) + Send + Sync>;

tokio::task_local! {
    static OBSERVER: Observer;
}

/// Runs `future` with `observer` told of every retry of the AWS calls it makes.
pub async fn observed<F: Future>(observer: Observer, future: F) -> F::Output {
    OBSERVER.scope(observer, future).await
}

fn tell(note: &str) {
    crate::trace::debug(note);
    let _ = OBSERVER.try_with(|observer| observer(note));
}

/// Says that a call is retried after `error`, and why.
pub fn note_retry(error: &AwsError, wait: Duration) {
    let cause = error.kind.retry_cause().unwrap_or_else(|| "error".into());
    tell(&format!("retrying: {cause} ({}), next try in {:.1}s", error.operation, wait.as_secs_f64()));
}

/// Jittered, growing, capped waits between attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(FIRST_BACKOFF, MAX_BACKOFF)
    }
}

impl Backoff {
    pub fn new(first: Duration, cap: Duration) -> Backoff {
        Backoff { next: first, cap }
    }

    /// The next wait: between half and all of a doubling step, at most the cap.
    pub fn next_wait(&mut self) -> Duration {
        let step = self.next.min(self.cap);
        self.next = (self.next * 2).min(self.cap);
        step.mul_f64(0.5 + jitter() / 2.0)
    }
}

/// A number in [0, 1): enough randomness to spread retries apart.
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A call that may be repeated as is: reads, and idempotent writes.
pub async fn idempotent<T, F, Fut>(budget: Duration, mut attempt: F) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
{
    let started = Instant::now();
    let mut backoff = Backoff::default();
    loop {
        match attempt().await {
            Err(error) if error.is_transient() && started.elapsed() < budget => {
                let wait = backoff.next_wait();
                note_retry(&error, wait);
                tokio::time::sleep(wait).await;
            }
            done => return done,
        }
    }
}

/// A write that must not take effect twice: after a transient failure,
/// `took_effect` reads whether the lost attempt went through (its answer, or
/// `None` to send again). ECS is eventually consistent, so "it did not" is
/// believed only after two reads in a row, [`CONFIRM_GAP`] apart. While those
/// reads fail too, nothing is resent.
pub async fn checked<T, F, Fut, C, CFut>(budget: Duration, mut attempt: F, mut took_effect: C) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AwsError>>,
    C: FnMut() -> CFut,
    CFut: Future<Output = Result<Option<T>, AwsError>>,
{
    let started = Instant::now();
    let mut backoff = Backoff::default();
    loop {
        let error = match attempt().await {
            Err(error) if error.is_transient() && started.elapsed() < budget => error,
            done => return done,
        };
        let mut last = error;
        let mut not_yet = 0;
        loop {
            let wait = match not_yet {
                0 => backoff.next_wait(),
                _ => CONFIRM_GAP,
            };
            if not_yet == 0 {
                note_retry(&last, wait);
            }
            tokio::time::sleep(wait).await;
            match took_effect().await {
                Ok(Some(done)) => {
                    tell(&format!("{}: the earlier attempt took effect; not sending it again", last.operation));
                    return Ok(done);
                }
                Ok(None) if not_yet == 0 => not_yet = 1,
                Ok(None) => break,
                Err(error) if error.is_transient() && started.elapsed() < budget => last = error,
                // Unknown whether it went through: the original error says what failed.
                Err(_) => return Err(last),
            }
        }
    }
}

/// How long apart the two reads are that show a lost write did not go through.
pub const CONFIRM_GAP: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::error::ErrorKind;
    use std::sync::atomic::AtomicUsize;

    fn throttled(op: &'static str) -> AwsError {
        AwsError { kind: ErrorKind::Throttled, ..AwsError::new(op, "ThrottlingException: Rate exceeded") }
    }

    #[test]
    fn backoff_grows_with_jitter_up_to_its_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(800));
        let waits: Vec<Duration> = (0..6).map(|_| backoff.next_wait()).collect();
        for (wait, step) in waits.iter().zip([100, 200, 400, 800, 800, 800]) {
            assert!(*wait >= Duration::from_millis(step / 2) && *wait <= Duration::from_millis(step), "{waits:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_retries_transient_errors_and_tells_the_observer() {
        let calls = AtomicUsize::new(0);
        let notes = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let seen = notes.clone();
        let observer: Observer = Arc::new(move |note: &str| seen.lock().unwrap().push(note.to_string()));
        let result = observed(
            observer,
            idempotent(READ_BUDGET, || async {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 | 1 => Err(throttled("ecs:DescribeServices")),
                    _ => Ok(7),
                }
            }),
        )
        .await;
        assert_eq!(result.unwrap(), 7);
        let notes = notes.lock().unwrap();
        assert_eq!(notes.len(), 2);
        assert!(notes[0].starts_with("retrying: throttled (ecs:DescribeServices)"), "{notes:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_error_is_not_retried_and_a_budget_ends() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = idempotent(READ_BUDGET, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(AwsError::new("ecs:DescribeServices", "no"))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let started = tokio::time::Instant::now();
        let result: Result<(), _> = idempotent(READ_BUDGET, || async { Err(throttled("ecs:ListTasks")) }).await;
        assert!(result.unwrap_err().is_transient());
        assert!(started.elapsed() >= READ_BUDGET, "{:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_took_effect_is_not_sent_again() {
        let sent = AtomicUsize::new(0);
        let result = checked(
            WRITE_BUDGET,
            || async {
                sent.fetch_add(1, Ordering::SeqCst);
                Err::<&str, _>(throttled("ecs:UpdateService"))
            },
            || async { Ok(Some("deployment-1")) },
        )
        .await;
        assert_eq!(result.unwrap(), "deployment-1");
        assert_eq!(sent.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_is_resent_only_once_a_read_says_it_did_not_take_effect() {
        let sent = AtomicUsize::new(0);
        let reads = AtomicUsize::new(0);
        let result = checked(
            WRITE_BUDGET,
            || async {
                match sent.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(throttled("ecs:RegisterTaskDefinition")),
                    _ => Ok("web:2"),
                }
            },
            || async {
                match reads.fetch_add(1, Ordering::SeqCst) {
                    0 => Err(throttled("ecs:ListTaskDefinitions")),
                    _ => Ok(None),
                }
            },
        )
        .await;
        assert_eq!(result.unwrap(), "web:2");
        // A failed read, then two that say "not there", 2 s apart: resent once.
        assert_eq!((sent.load(Ordering::SeqCst), reads.load(Ordering::SeqCst)), (2, 3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_shows_up_on_the_second_look_is_not_resent() {
        let sent = AtomicUsize::new(0);
        let reads = AtomicUsize::new(0);
        let result = checked(
            WRITE_BUDGET,
            || async {
                sent.fetch_add(1, Ordering::SeqCst);
                Err::<&str, _>(throttled("ecs:UpdateService"))
            },
            || async {
                // A stale answer first, as ECS may give right after the write.
                match reads.fetch_add(1, Ordering::SeqCst) {
                    0 => Ok(None),
                    _ => Ok(Some("ecs-svc/2")),
                }
            },
        )
        .await;
        assert_eq!(result.unwrap(), "ecs-svc/2");
        assert_eq!((sent.load(Ordering::SeqCst), reads.load(Ordering::SeqCst)), (1, 2));
    }
}
