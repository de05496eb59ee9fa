//! Periodic clocks that started before the run: a kubelet's PLEG relist,
//! a pod's probe tickers. Each ticks at a phase of the seed's choosing plus
//! whole periods, and keeps that phase whatever happens to the containers.

use std::time::Duration;

use crate::mix_seed;

/// A phase in `[0, period)`, drawn under the run's seed for the clock
/// `name`: where in its period a clock that started at an unknown moment
/// before the run ticks.
pub(crate) fn phase_of(seed: u64, name: &str, period: Duration) -> Duration {
    let period_ns = period.as_nanos() as u64;
    if period_ns == 0 {
        return Duration::ZERO;
    }
    Duration::from_nanos(mix_seed(seed, name, 0) % period_ns)
}

/// The first tick at or after `now` of a clock ticking at `phase` plus
/// whole `period`s.
pub(crate) fn next_tick(now: Duration, phase: Duration, period: Duration) -> Duration {
    if now <= phase || period.is_zero() {
        return phase.max(now);
    }
    let period_ns = period.as_nanos();
    let periods = (now - phase).as_nanos().div_ceil(period_ns);
    phase + Duration::from_nanos((periods * period_ns) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fall_at_the_phase_plus_whole_periods() {
        let ms = Duration::from_millis;
        let (phase, period) = (ms(300), ms(1000));
        assert_eq!(next_tick(ms(0), phase, period), ms(300));
        assert_eq!(next_tick(ms(300), phase, period), ms(300));
        assert_eq!(next_tick(ms(301), phase, period), ms(1300));
        assert_eq!(next_tick(ms(1300), phase, period), ms(1300));
        assert_eq!(next_tick(ms(5000), phase, period), ms(5300));
        assert_eq!(next_tick(ms(7), ms(0), Duration::ZERO), ms(7));
    }

    #[test]
    fn phases_stay_within_the_period_and_follow_the_seed() {
        let period = Duration::from_secs(10);
        for seed in 0..50 {
            let phase = phase_of(seed, "grm-0/probes", period);
            assert!(phase < period);
            assert_eq!(phase, phase_of(seed, "grm-0/probes", period));
        }
        assert_ne!(
            phase_of(1, "grm-0/probes", period),
            phase_of(1, "grm-1/probes", period)
        );
        assert_eq!(phase_of(1, "x", Duration::ZERO), Duration::ZERO);
    }
}
