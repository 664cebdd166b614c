//! One retry policy for lockwatch's HTTP clients (`github::GitHubApp`, `registry::RegistryClient`):
//! how many attempts, the exponential backoff and its cap, and a server's `Retry-After`
//! honoured. Each client says which of its errors are worth another attempt (`Retryable`,
//! the classification hook); this module says whether to try again and how long to wait.
//! Pure: the clients sleep and log.

use std::time::Duration;

/// What a client's failed attempt says about trying again.
pub trait Retryable {
    /// Worth another attempt (a server error, a rate limit, a timeout, a dropped
    /// connection), as opposed to a definite answer.
    fn is_transient(&self) -> bool;
    /// How long the server asked to wait (`Retry-After`, a rate limit's reset), if it did.
    fn retry_after(&self) -> Option<Duration>;
}

/// What a wait longer than the policy's `max_wait` becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongWait {
    /// Wait `max_wait` instead.
    Cap,
    /// Do not retry inside the call: the caller tries again later (the App's queue).
    GiveUp,
}

/// How a client retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// The wait before the first retry; doubled before each further one.
    pub backoff: Duration,
    /// The longest wait inside one call.
    pub max_wait: Duration,
    /// What a longer wait becomes.
    pub long_wait: LongWait,
}

impl Policy {
    /// Whether to try again after attempt `attempt` (0 for the first retry's decision)
    /// failed with `error`, and after how long: the backoff, or what the server asked when
    /// that is longer (a `Retry-After` is the least wait, never a shorter one). `None`: give
    /// up and return the error.
    pub fn wait(&self, attempt: u32, error: &impl Retryable) -> Option<Duration> {
        if !error.is_transient() || attempt >= self.retries {
            return None;
        }
        let backoff = self.backoff.saturating_mul(2u32.saturating_pow(attempt));
        let wait = error
            .retry_after()
            .map_or(backoff, |asked| asked.max(backoff));
        if wait <= self.max_wait {
            return Some(wait);
        }
        match self.long_wait {
            LongWait::Cap => Some(self.max_wait),
            LongWait::GiveUp => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failed {
        transient: bool,
        asked: Option<Duration>,
    }

    impl Retryable for Failed {
        fn is_transient(&self) -> bool {
            self.transient
        }
        fn retry_after(&self) -> Option<Duration> {
            self.asked
        }
    }

    const fn failed(transient: bool, asked: Option<Duration>) -> Failed {
        Failed { transient, asked }
    }

    fn policy(long_wait: LongWait) -> Policy {
        Policy {
            retries: 3,
            backoff: Duration::from_millis(100),
            max_wait: Duration::from_secs(1),
            long_wait,
        }
    }

    #[test]
    fn backoff_doubles_until_the_retries_run_out() {
        let p = policy(LongWait::Cap);
        let waits: Vec<Option<Duration>> = (0..4).map(|a| p.wait(a, &failed(true, None))).collect();
        assert_eq!(
            waits,
            [
                Some(Duration::from_millis(100)),
                Some(Duration::from_millis(200)),
                Some(Duration::from_millis(400)),
                None
            ]
        );
    }

    #[test]
    fn a_definite_answer_is_not_retried() {
        assert_eq!(policy(LongWait::Cap).wait(0, &failed(false, None)), None);
    }

    #[test]
    fn retry_after_is_the_least_wait() {
        let p = policy(LongWait::Cap);
        let asked = |ms| failed(true, Some(Duration::from_millis(ms)));
        assert_eq!(p.wait(0, &asked(700)), Some(Duration::from_millis(700)));
        // Asking less than the backoff does not shorten it.
        assert_eq!(p.wait(2, &asked(0)), Some(Duration::from_millis(400)));
    }

    #[test]
    fn a_long_wait_is_capped_or_given_up() {
        let long = failed(true, Some(Duration::from_secs(60)));
        assert_eq!(
            policy(LongWait::Cap).wait(0, &long),
            Some(Duration::from_secs(1))
        );
        assert_eq!(policy(LongWait::GiveUp).wait(0, &long), None);
        let p = Policy {
            retries: 40,
            ..policy(LongWait::GiveUp)
        };
        // Backoff alone past the cap, and no overflow however many retries.
        assert_eq!(p.wait(4, &failed(true, None)), None);
        assert_eq!(p.wait(39, &failed(true, None)), None);
        assert_eq!(
            Policy {
                long_wait: LongWait::Cap,
                ..p
            }
            .wait(39, &failed(true, None)),
            Some(Duration::from_secs(1))
        );
    }
}
