//! The progress bar of an exploration, on stderr (hidden when stderr is
//! not a terminal, so pipes and tests see nothing of it).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use stallsim::explore::RunRecord;

/// How long the exploration is, as the bar shows it.
#[derive(Clone, Copy, Debug)]
pub enum Length {
    /// This many runs.
    Runs(u64),
    /// As many as start in this much wall-clock time.
    For(Duration),
}

pub struct Progress {
    bar: ProgressBar,
    /// Runs so far per verdict: converges, stall, inconclusive.
    counts: [u64; 4],
    failed: u64,
}

impl Progress {
    pub fn new(length: Length) -> Progress {
        let (bar, template) = match length {
            Length::Runs(runs) => (
                ProgressBar::new(runs),
                "{bar:30} {pos}/{len} runs, {per_sec}, {elapsed} {msg}".to_string(),
            ),
            // The budget is wall-clock time: show it beside the elapsed.
            Length::For(duration) => (
                ProgressBar::no_length(),
                format!(
                    "{{spinner}} {{pos}} runs, {{per_sec}}, {{elapsed}} of {}s {{msg}}",
                    duration.as_secs()
                ),
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar,
            counts: [0; 4],
            failed: 0,
        }
    }

    pub fn seen(&mut self, record: &RunRecord) {
        let slot = match record.verdict.as_str() {
            "converges" => 0,
            "stall" => 1,
            "restart-loop" => 2,
            _ => 3,
        };
        self.counts[slot] += 1;
        if !record.held() {
            self.failed += 1;
        }
        let [converges, stall, restart_loop, inconclusive] = self.counts;
        self.bar.set_message(format!(
            "converges {converges}, stall {stall}, restart loop {restart_loop}, \
             inconclusive {inconclusive}; {} failed",
            self.failed
        ));
        self.bar.inc(1);
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
