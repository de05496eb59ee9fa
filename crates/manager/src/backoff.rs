//! client-go's exponential backoff manager, as reflectors use it.

use rand::{rngs::SmallRng, Rng};
use tokio::time::{Duration, Instant};

use crate::{BackoffConfig, BackoffReset};

/// Hands out waits `d + random(0..jitter*d)` with `d` growing by `factor` up
/// to `cap`; forgets its growth as `config.reset` says: when the previous
/// wait started more than `reset_after` ago (client-go up to v0.35), or
/// every `reset_after` since it was made or last reset (from v0.36).
#[derive(Debug)]
pub struct Backoff {
    config: BackoffConfig,
    current: Duration,
    /// `AfterQuiet`: when the previous wait started. `Periodic`: when the
    /// backoff was made or last reset.
    last_start: Option<Instant>,
}

impl Backoff {
    /// A backoff starting now at `config.initial`.
    pub fn new(config: BackoffConfig) -> Self {
        let current = config.initial;
        let last_start = match config.reset {
            BackoffReset::AfterQuiet => None,
            BackoffReset::Periodic => Some(tokio::time::Instant::now()),
        };
        Backoff {
            config,
            current,
            last_start,
        }
    }

    /// The next wait, starting now.
    pub fn next(&mut self, rng: &mut SmallRng) -> Duration {
        let now = tokio::time::Instant::now();
        let expired = self
            .last_start
            .is_none_or(|start| now.duration_since(start) > self.config.reset_after);
        if expired {
            self.current = self.config.initial;
        }
        if expired || self.config.reset == BackoffReset::AfterQuiet {
            self.last_start = Some(now);
        }
        let base = self.current;
        let grown = base.mul_f64(self.config.factor);
        self.current = grown.min(self.config.cap);
        jitter(base, self.config.jitter, rng)
    }
}

/// `d + random(0..factor*d)`, as `wait.Jitter`.
pub(crate) fn jitter(duration: Duration, factor: f64, rng: &mut SmallRng) -> Duration {
    if factor <= 0.0 {
        return duration;
    }
    duration + duration.mul_f64(factor * rng.random::<f64>())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn grows_to_the_cap_and_resets_after_a_quiet_period() {
        let mut rng = SmallRng::seed_from_u64(7);
        let mut backoff = Backoff::new(BackoffConfig::default());
        let mut waits = Vec::new();
        for _ in 0..9 {
            let wait = backoff.next(&mut rng);
            waits.push(wait);
            tokio::time::sleep(wait).await;
        }
        let base_ms = [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000];
        for (wait, base) in waits.iter().zip(base_ms) {
            let base = Duration::from_millis(base);
            assert!(
                *wait >= base && *wait < base * 2,
                "{wait:?} not in [{base:?}, 2x)"
            );
        }
        tokio::time::sleep(Duration::from_secs(121)).await;
        let wait = backoff.next(&mut rng);
        assert!(
            wait < Duration::from_millis(1600),
            "did not reset: {wait:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_periodic_reset_starts_again_while_failing_and_a_quiet_one_does_not() {
        let mut rng = SmallRng::seed_from_u64(3);
        let never_jittered = |reset| BackoffConfig {
            jitter: 0.0,
            reset,
            ..BackoffConfig::default()
        };
        for (reset, reset_seen) in [
            (BackoffReset::AfterQuiet, false),
            (BackoffReset::Periodic, true),
        ] {
            let mut backoff = Backoff::new(never_jittered(reset));
            let mut waits = Vec::new();
            // A LIST failing for 6 minutes, retried after every wait.
            let start = tokio::time::Instant::now();
            while start.elapsed() < Duration::from_secs(360) {
                let wait = backoff.next(&mut rng);
                waits.push(wait);
                tokio::time::sleep(wait).await;
            }
            let restarted = waits
                .windows(2)
                .any(|w| w[0] == Duration::from_secs(30) && w[1] < w[0]);
            assert_eq!(restarted, reset_seen, "{reset:?}: {waits:?}");
        }
    }

    #[test]
    fn no_jitter_is_exact() {
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(
            jitter(Duration::from_secs(2), 0.0, &mut rng),
            Duration::from_secs(2)
        );
    }
}
