//! A run as a Markdown report for pull requests and issues: the verdict, the
//! replay command, the key-event table and the timeline as a Mermaid gantt
//! chart, which GitHub and GitLab draw.

use std::fmt::Write;
use std::path::Path;

use stallsim_harness::{format_duration, render_timeline, Run, Verdict, WorldConfig};
use stallsim_scenario::Draw;

use crate::lanes::{view, MarkKind, State};
use crate::text::{replay_command, run_text};

/// The Markdown report of `run`, a finished run of the world `config`
/// drawn (with `draws`) from the scenario at `file`.
pub fn markdown(file: &Path, config: &WorldConfig, draws: &[Draw], run: &Run) -> String {
    let report = &run.report;
    let mut out = String::new();
    let verdict = match &report.verdict {
        Verdict::Stall(_) => "STALL",
        Verdict::RestartLoop(_) => "RESTART LOOP",
        Verdict::Converges => "CONVERGES",
        Verdict::Inconclusive { .. } => "INCONCLUSIVE",
    };
    let _ = writeln!(
        out,
        "# {}, seed {}: {verdict}\n",
        report.scenario, report.seed
    );
    // The verdict in words, as `stallsim run` prints it (its timeline aside).
    let summary = run_text(file, config, draws, run);
    let words: Vec<&str> = summary
        .lines()
        .take_while(|line| !line.starts_with("replay:"))
        .collect();
    let _ = writeln!(out, "```text\n{}\n```\n", words.join("\n"));
    let _ = writeln!(
        out,
        "Replay:\n\n```sh\n{}\n```\n",
        replay_command(file, report.seed)
    );
    let _ = writeln!(out, "## Timeline\n");
    out.push_str(&gantt(config, run));
    let _ = writeln!(
        out,
        "\n## Key events\n\n| simulated time | where | event |\n|---:|---|---|"
    );
    for line in render_timeline(&run.trace).lines() {
        let (time, rest) = line.split_at(line.len().min(12));
        let rest = rest.trim_start();
        let (source, event) = rest.split_once(' ').unwrap_or((rest, ""));
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            time.trim(),
            cell(source),
            cell(event.trim())
        );
    }
    out
}

/// Text safe in a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Text safe as a Mermaid gantt task name (no `:`, `#` or `;`).
fn task(text: &str) -> String {
    text.replace([':', '#', ';'], " ")
}

/// The replicas' lanes, the flow's waits and the CRD deletion as a Mermaid
/// gantt chart in simulated milliseconds, up to where the picture stops.
fn gantt(config: &WorldConfig, run: &Run) -> String {
    let (picture, end_ms) = view(config, run);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "```mermaid\n---\ndisplayMode: compact\n---\ngantt\n    title {} (seed {}), simulated time (mm:ss)\n    dateFormat x\n    axisFormat %M:%S",
        task(&run.report.scenario),
        run.report.seed
    );
    for lane in &picture.lanes {
        let section = match &lane.replaces {
            Some(replaced) => format!("{} (replaces {replaced})", lane.name),
            None => lane.name.clone(),
        };
        let _ = writeln!(out, "    section {}", task(&section));
        // A process starts in seconds: too short a bar to read here.
        for (since, until, state) in lane
            .states
            .iter()
            .filter(|s| s.0 < end_ms && s.2 != State::Starting)
        {
            let tag = if *state == State::NotReady {
                "crit, "
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {} :{tag}{since}, {}",
                state.label(),
                (*until).min(end_ms).max(since + 1)
            );
        }
        for (since, until) in lane.leading.iter().filter(|l| l.0 < end_ms) {
            let _ = writeln!(
                out,
                "    leader :active, {since}, {}",
                (*until).min(end_ms).max(since + 1)
            );
        }
        for mark in lane.marks.iter().filter(|m| m.at_ms < end_ms) {
            let name = match mark.kind {
                MarkKind::NodeLost => "node lost",
                MarkKind::NodeNotReady => "node NotReady",
                MarkKind::Evicted => "evicted",
                MarkKind::Note => {
                    let at = mark.at_ms;
                    let text = mermaid_text(&mark.title);
                    let _ = writeln!(out, "    {text} :milestone, {at}, {at}");
                    continue;
                }
                _ => continue,
            };
            let at = mark.at_ms;
            let _ = writeln!(out, "    {name} :milestone, crit, {at}, {at}");
        }
    }
    let _ = writeln!(out, "    section deletion flow");
    if let Some((at, _)) = picture.deletions.first() {
        let _ = writeln!(out, "    CRDs deleted :milestone, crit, {at}, {at}");
    }
    for wait in picture
        .waits
        .iter()
        .filter(|w| w.start_ms < end_ms - end_ms / 100)
    {
        let (tag, outcome) = match wait.end {
            Some((_, true)) => ("", "ready"),
            Some((_, false)) => ("crit, ", "timed out"),
            None => ("active, ", "waiting"),
        };
        let end = wait.end.map_or(end_ms, |(end, _)| end).min(end_ms);
        let timeout = format_duration(std::time::Duration::from_millis(
            wait.deadline_ms - wait.start_ms,
        ));
        let _ = writeln!(
            out,
            "    wait (timeout {}) {outcome} :{tag}{}, {}",
            task(&timeout),
            wait.start_ms,
            end.max(wait.start_ms + 1)
        );
    }
    if let Verdict::Stall(stall) = &run.report.verdict {
        let at = stall.detected_at.as_millis();
        let _ = writeln!(
            out,
            "    {} stalled, bound ran out :milestone, crit, {at}, {at}",
            task(&stall.replica)
        );
    }
    out.push_str("```\n");
    out
}

/// A mark's title as a Mermaid gantt task's name: no `:`, `;` or `#`,
/// which the chart's syntax reads, and at most 60 characters.
fn mermaid_text(title: &str) -> String {
    title
        .chars()
        .map(|c| if matches!(c, ':' | ';' | '#') { ' ' } else { c })
        .take(60)
        .collect()
}
