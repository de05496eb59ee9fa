//! A run in words, as `stallsim run` prints it: the verdict and why, the
//! flow, restarts and API requests, the replay line, the key events.

use std::fmt::Write;
use std::path::Path;

use stallsim_harness::{format_duration, render_timeline, Run, Verdict, WorldConfig};
use stallsim_scenario::Draw;

/// The one command that replays the run of the scenario at `file` with
/// `seed` exactly.
pub fn replay_command(file: &Path, seed: u64) -> String {
    format!(
        "cargo run --release -- run {} --seed {seed}",
        file.display()
    )
}

/// `run`, a finished run of the world `config` drawn (with `draws`) from
/// the scenario at `file`, in words, ending with its key-event timeline.
pub fn run_text(file: &Path, config: &WorldConfig, draws: &[Draw], run: &Run) -> String {
    let report = &run.report;
    let bound = format_duration(config.checker.stall_bound);
    let mut out = String::new();
    let _ = writeln!(out, "scenario: {} ({})", report.scenario, file.display());
    let _ = writeln!(out, "seed:     {}", report.seed);
    for (i, draw) in draws.iter().enumerate() {
        let label = if i == 0 { "drawn:" } else { "" };
        let _ = writeln!(out, "{label:<10}{draw}");
    }
    match &report.verdict {
        Verdict::Converges => {
            let _ = writeln!(
                out,
                "verdict:  CONVERGES: every replica that was not ready became ready or was restarted within {bound}"
            );
        }
        Verdict::Inconclusive { .. } => {}
        Verdict::RestartLoop(looping) => {
            let _ = writeln!(
                out,
                "verdict:  RESTART LOOP: {} not ready since {}, restarted {} time(s) without getting ready; \
                 bound of {bound} ran out at {}",
                looping.replica,
                format_duration(looping.not_ready_since),
                looping.restarts,
                format_duration(looping.detected_at),
            );
            let _ = writeln!(out, "why:      {}", looping.cause);
        }
        Verdict::Stall(stall) => {
            let _ = writeln!(
                out,
                "verdict:  STALL: {} not ready since {} and never restarted; bound of {bound} ran out at {}",
                stall.replica,
                format_duration(stall.not_ready_since),
                format_duration(stall.detected_at),
            );
            if let Some(probe) = &stall.last_probe {
                let _ = writeln!(out, "why:      its readiness probe answered: {probe}");
            } else if stall.unsynced_informers.is_empty() {
                let _ = writeln!(
                    out,
                    "why:      no informer was unsynced (readiness failed for another reason)"
                );
            } else {
                let _ = writeln!(
                    out,
                    "why:      informer never synced: {}",
                    stall.unsynced_informers.join("; ")
                );
            }
            if let Some(error) = &stall.last_list_error {
                let _ = writeln!(out, "          its LIST keeps failing: {error}");
            }
            if let Some(requests) = report.requests_of(&stall.replica) {
                let list = &requests.list;
                let _ = writeln!(
                    out,
                    "          it sent {} LISTs, {:.2}/s over the run, at most {} in any minute",
                    list.total, list.per_second, list.busiest_minute
                );
            }
            let holder = stall.lease_holder.as_deref().unwrap_or("nobody");
            let _ = writeln!(out, "          lease held by {holder}");
        }
    }
    if let Verdict::Inconclusive { reasons } = &report.verdict {
        let _ = writeln!(
            out,
            "verdict:  INCONCLUSIVE: the run cannot tell whether every replica that was not ready recovers or is restarted within {bound}"
        );
        for (i, reason) in reasons.iter().enumerate() {
            let label = if i == 0 { "why:" } else { "" };
            let _ = writeln!(out, "{label:<10}{reason}");
        }
    }
    if let Some(flow) = &report.flow {
        let deleted = flow
            .deleted_at
            .map(format_duration)
            .unwrap_or_else(|| "never".to_string());
        let ready = match flow.ready_at {
            Some(at) if flow.ready_within_timeout => format!(
                "ready at {} (within the flow's timeout)",
                format_duration(at)
            ),
            Some(at) => format!(
                "ready at {} only, after {} timed-out wait(s)",
                format_duration(at),
                flow.failed_waits
            ),
            None => format!("never ready; {} wait(s) timed out", flow.failed_waits),
        };
        let _ = writeln!(
            out,
            "flow:     CRDs deleted at {deleted}; deployment {ready}"
        );
    }
    let restarts: Vec<String> = report
        .restarts
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let _ = writeln!(out, "restarts: {}", restarts.join(", "));
    let failure_start = report.verdict.failure_start();
    for (i, alert) in report.alerts.iter().enumerate() {
        let head = if i == 0 { "alerts:  " } else { "         " };
        let relative = |at: std::time::Duration| match failure_start {
            Some((start, what)) if at >= start => {
                format!(", {} after the {what} began", format_duration(at - start))
            }
            Some((start, what)) => {
                format!(", {} before the {what} began", format_duration(start - at))
            }
            None => String::new(),
        };
        let what = match (alert.firing_at, alert.pending_at, &alert.error) {
            (_, _, Some(error)) => format!("could not be evaluated: {error}"),
            (Some(firing), pending, None) => format!(
                "fired at {}{} (pending from {})",
                format_duration(firing),
                relative(firing),
                pending.map_or("-".to_string(), format_duration)
            ),
            (None, Some(pending), None) => format!(
                "never fired (pending at {}, its `for` never ran out)",
                format_duration(pending)
            ),
            (None, None, None) => "never fired (its expression never held)".to_string(),
        };
        let _ = writeln!(out, "{head} {} {what}", alert.alert);
    }
    let _ = writeln!(
        out,
        "api:      {} requests to the API server, at most {} in any minute",
        report.api_requests.total, report.api_requests.peak_per_minute
    );
    for requests in &report.api_by_replica {
        let _ = writeln!(
            out,
            "          {}: {}",
            requests.replica,
            requests.describe()
        );
    }
    for requests in &report.api_by_component {
        let _ = writeln!(
            out,
            "          component {}: {}",
            requests.component,
            requests.describe()
        );
    }
    let _ = writeln!(out, "replay:   {}", replay_command(file, report.seed));
    let _ = writeln!(
        out,
        "\ntimeline (simulated time; {} in all):",
        format_duration(report.simulated)
    );
    out.push_str(&render_timeline(&run.trace));
    out
}
