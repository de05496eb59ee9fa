//! client-go's exponential backoff manager, as reflectors use it.

use rand::{rngs::SmallRng, Rng};
use tokio::time::{Duration, Instant};

use crate::BackoffConfig;

/// Hands out waits `d + random(0..jitter*d)` with `d` growing by `factor` up
/// to `cap`; forgets its growth when the previous wait started more than
/// `reset_after` ago.
#[derive(Debug)]
pub struct Backoff {
    config: BackoffConfig,
    current: Duration,
    last_start: Option<Instant>,
}

impl Backoff {
    pub fn new(config: BackoffConfig) -> Self {
        let current = config.initial;
        Backoff {
            config,
            current,
            last_start: None,
        }
    }

    /// The next wait, starting now.
    pub fn next(&mut self, rng: &mut SmallRng) -> Duration {
        let now = tokio::time::Instant::now();
        if self
            .last_start
            .is_none_or(|start| now.duration_since(start) > self.config.reset_after)
        {
            self.current = self.config.initial;
        }
        self.last_start = Some(now);
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

    #[test]
    fn no_jitter_is_exact() {
        let mut rng = SmallRng::seed_from_u64(1);
        assert_eq!(
            jitter(Duration::from_secs(2), 0.0, &mut rng),
            Duration::from_secs(2)
        );
    }
}
