//! The statistics of an exploration: rates with confidence intervals.

use serde::Serialize;

/// The normal quantile for a two-sided 95% interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval of a rate of `successes` in `trials`, at 95%
/// confidence: unlike the normal approximation it stays within [0, 1] and
/// does not shrink to a point when nothing (or everything) was seen.
/// `None` for no trials.
pub fn wilson_95(successes: u64, trials: u64) -> Option<(f64, f64)> {
    if trials == 0 || successes > trials {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// How often something happened in some runs: the count, the rate, and
/// the rate's 95% Wilson interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rate {
    /// Runs it happened in.
    pub count: u64,
    /// `count` over the runs (0 for no runs).
    pub rate: f64,
    /// The 95% Wilson score interval of the rate (all of 0 to 1 for no
    /// runs: nothing is known).
    pub ci95: (f64, f64),
}

impl Rate {
    /// `count` of `runs`.
    pub fn of(count: u64, runs: u64) -> Rate {
        Rate {
            count,
            rate: if runs == 0 {
                0.0
            } else {
                count as f64 / runs as f64
            },
            ci95: wilson_95(count, runs).unwrap_or((0.0, 1.0)),
        }
    }

    /// The lower end of the 95% interval.
    pub fn lower_95(&self) -> f64 {
        self.ci95.0
    }

    /// The upper end of the 95% interval: with 95% confidence the true
    /// rate is at most this.
    pub fn upper_95(&self) -> f64 {
        self.ci95.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < 1e-4
    }

    #[test]
    fn wilson_of_nothing_seen_reaches_from_zero() {
        // Closed form at p = 0: the upper end is z² / (n + z²).
        let (low, high) = wilson_95(0, 20).unwrap();
        assert_eq!(low, 0.0);
        assert!(close(high, 0.16113), "{high}");
    }

    #[test]
    fn wilson_of_everything_seen_reaches_one() {
        let (low, high) = wilson_95(20, 20).unwrap();
        assert!(close(low, 0.83887), "{low}");
        assert_eq!(high, 1.0);
    }

    #[test]
    fn wilson_of_half_is_symmetric_about_it() {
        let (low, high) = wilson_95(5, 10).unwrap();
        assert!(close(low, 0.23659), "{low}");
        assert!(close(high, 0.76341), "{high}");
        assert!(close(low + high, 1.0));
    }

    #[test]
    fn wilson_matches_a_textbook_value() {
        // 81 of 263: the interval is about 0.2553 to 0.3662.
        let (low, high) = wilson_95(81, 263).unwrap();
        assert!(close(low, 0.25527), "{low}");
        assert!(close(high, 0.36619), "{high}");
    }

    #[test]
    fn wilson_narrows_with_more_trials_and_holds_the_rate() {
        let (low_10, high_10) = wilson_95(3, 10).unwrap();
        let (low_1000, high_1000) = wilson_95(300, 1000).unwrap();
        assert!(high_1000 - low_1000 < high_10 - low_10);
        assert!(low_1000 < 0.3 && 0.3 < high_1000);
    }

    #[test]
    fn wilson_needs_trials() {
        assert_eq!(wilson_95(0, 0), None);
        assert_eq!(wilson_95(3, 2), None);
    }

    #[test]
    fn a_rate_of_no_runs_knows_nothing() {
        let none = Rate::of(0, 0);
        assert_eq!(
            (none.rate, none.lower_95(), none.upper_95()),
            (0.0, 0.0, 1.0)
        );
        let some = Rate::of(5, 10);
        assert_eq!(some.rate, 0.5);
        assert!(close(some.lower_95(), 0.23659) && close(some.upper_95(), 0.76341));
    }
}
