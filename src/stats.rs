//! The statistics of an exploration: rates with confidence intervals, ranks, means.

use std::time::Duration;

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

/// The `q`-quantile (0 < q <= 1) of `sorted` by the nearest-rank method:
/// the smallest value with at least a `q` share of the values at or below
/// it, always one of the values. `None` when there are none.
pub fn nearest_rank<T: Copy>(sorted: &[T], q: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Median, 99th percentile and maximum of some durations (nearest rank).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spread {
    pub median: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Spread {
    pub fn of(mut values: Vec<Duration>) -> Option<Spread> {
        values.sort();
        Some(Spread {
            median: nearest_rank(&values, 0.5)?,
            p99: nearest_rank(&values, 0.99)?,
            max: *values.last()?,
        })
    }
}

/// The mean of some counts; 0 for none.
pub fn mean(values: &[u64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64
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
    fn nearest_rank_picks_a_value_of_the_list() {
        let values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(nearest_rank(&values, 0.5), Some(5));
        assert_eq!(nearest_rank(&values, 0.99), Some(10));
        assert_eq!(nearest_rank(&values, 0.1), Some(1));
        assert_eq!(nearest_rank(&values, 1.0), Some(10));
        assert_eq!(nearest_rank(&[7], 0.5), Some(7));
        assert_eq!(nearest_rank::<u32>(&[], 0.5), None);
        let hundred: Vec<u32> = (1..=100).collect();
        assert_eq!(nearest_rank(&hundred, 0.99), Some(99));
    }

    #[test]
    fn spread_sorts_first() {
        let secs = |s| Duration::from_secs(s);
        let spread = Spread::of(vec![secs(9), secs(1), secs(5)]).unwrap();
        assert_eq!(spread.median, secs(5));
        assert_eq!(spread.p99, secs(9));
        assert_eq!(spread.max, secs(9));
        assert_eq!(Spread::of(Vec::new()), None);
    }

    #[test]
    fn mean_of_counts() {
        assert_eq!(mean(&[]), 0.0);
        assert!(close(mean(&[1, 2, 4]), 7.0 / 3.0));
    }
}
