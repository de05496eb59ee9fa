//! [`RequestLoad`]: how many requests the server answered, and how densely,
//! as a real server's request metrics would tell.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

/// The window the peak rate is measured over.
const PEAK_WINDOW: Duration = Duration::from_secs(60);

/// The requests a server answered: the total, and the most in any
/// `PEAK_WINDOW` (a sliding minute).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestLoad {
    pub total: u64,
    pub peak_per_minute: u64,
    /// Arrival times within the last window, oldest first.
    #[serde(skip)]
    recent: VecDeque<Duration>,
}

impl RequestLoad {
    /// Counts one request that arrived at `now` (never earlier than the last).
    pub(crate) fn count(&mut self, now: Duration) {
        self.total += 1;
        self.recent.push_back(now);
        while self
            .recent
            .front()
            .is_some_and(|t| now.saturating_sub(*t) >= PEAK_WINDOW)
        {
            self.recent.pop_front();
        }
        self.peak_per_minute = self.peak_per_minute.max(self.recent.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_busiest_sliding_minute() {
        let mut load = RequestLoad::default();
        let s = Duration::from_secs;
        for at in [0, 10, 20, 59, 60, 61, 62, 200] {
            load.count(s(at));
        }
        assert_eq!(load.total, 8);
        // 10s, 20s, 59s, 60s, 61s, 62s fall within one minute.
        assert_eq!(load.peak_per_minute, 6);
    }
}
