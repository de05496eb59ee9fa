//! A run's timeline as an SVG picture: one lane per replica, the deletion
//! flow's waits below them, simulated time along the axis.
//!
//! Each replica's lane shows its container's life (starting, not ready,
//! ready; gaps while it is down), a stripe while it leads, and marks for
//! discovery, informer LIST attempts and syncs, probe failures, kills and
//! restarts. A line marks the CRD deletion across every lane; a stall is
//! framed on its replica's lane. Hovering a mark shows its event.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use stallsim_harness::{format_duration, Run, Verdict, WorldConfig};

use crate::lanes::{view, Lane, MarkKind, State};
use crate::text::replay_command;

const WIDTH: f64 = 1200.0;
const MARGIN_LEFT: f64 = 110.0;
const MARGIN_RIGHT: f64 = 40.0;
const HEADER_HEIGHT: f64 = 92.0;
const LANE_HEIGHT: f64 = 84.0;
const FLOW_LANE_HEIGHT: f64 = 52.0;
const AXIS_HEIGHT: f64 = 40.0;
const LEGEND_HEIGHT: f64 = 64.0;
/// Ticks on the time axis, about; the step is the first of [`TICK_STEPS_S`]
/// that gives no more.
const TICKS_MAX: u64 = 14;
const TICK_STEPS_S: &[u64] = &[1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
/// A segment narrower than this carries no text.
const LABEL_WIDTH_MIN: f64 = 56.0;

const COLOR_STARTING: &str = "#c7ced6";
const COLOR_NOT_READY: &str = "#f0a830";
const COLOR_READY: &str = "#3a9a5b";
const COLOR_LEADER: &str = "#6b4fc8";
const COLOR_FAIL: &str = "#d62728";
const COLOR_DISCOVERY: &str = "#1f77b4";
const COLOR_TEXT: &str = "#222";
const COLOR_GRID: &str = "#e4e4e4";

fn color(state: State) -> &'static str {
    match state {
        State::Starting => COLOR_STARTING,
        State::NotReady => COLOR_NOT_READY,
        State::Ready => COLOR_READY,
    }
}

/// Text safe inside SVG elements and attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `30s`, `2m`, `1m30s`, `1h`: an axis label.
fn short_duration(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, (seconds / 60) % 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if s > 0 || out.is_empty() {
        let _ = write!(out, "{s}s");
    }
    out
}

/// The picture of `run`, a finished run of the world `config` read from
/// the scenario at `file`, as an SVG document.
pub fn svg(file: &Path, config: &WorldConfig, run: &Run) -> String {
    let (picture, end_ms) = view(config, run);
    let plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
    let x = |at_ms: u64| MARGIN_LEFT + plot_width * (at_ms.min(end_ms) as f64) / (end_ms as f64);
    let lanes_top = HEADER_HEIGHT;
    let flow_top = lanes_top + LANE_HEIGHT * picture.lanes.len() as f64;
    let axis_top = flow_top + FLOW_LANE_HEIGHT;
    let height = axis_top + AXIS_HEIGHT + LEGEND_HEIGHT;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12" fill="{COLOR_TEXT}">"#
    );
    let _ = writeln!(
        svg,
        r##"<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
    );

    // Title: what ran and what it came to.
    let report = &run.report;
    let verdict = match &report.verdict {
        Verdict::Stall(stall) => format!(
            "STALL: {} not ready since {}, never restarted",
            stall.replica,
            format_duration(stall.not_ready_since)
        ),
        Verdict::RestartLoop(looping) => format!(
            "RESTART LOOP: {} not ready since {}, {} restarts",
            looping.replica,
            format_duration(looping.not_ready_since),
            looping.restarts
        ),
        Verdict::Converges => "CONVERGES".to_string(),
        Verdict::Inconclusive { .. } => "INCONCLUSIVE".to_string(),
    };
    let _ = writeln!(
        svg,
        r#"<text x="16" y="26" font-size="17" font-weight="bold">{} (seed {}): {}</text>"#,
        escape(&report.scenario),
        report.seed,
        escape(&verdict)
    );
    let shown = if end_ms < picture.end_ms {
        format!(
            "simulated time, the first {} of {} (nothing new after)",
            format_duration(Duration::from_millis(end_ms)),
            format_duration(report.simulated)
        )
    } else {
        format!(
            "simulated time, {} in all",
            format_duration(report.simulated)
        )
    };
    let _ = writeln!(
        svg,
        r##"<text x="16" y="46" fill="#555">{} · {shown} · replay: {}</text>"##,
        escape(&file.display().to_string()),
        escape(&replay_command(file, report.seed))
    );

    // Grid and axis.
    let end_s = end_ms.div_ceil(1000);
    let step_s = TICK_STEPS_S
        .iter()
        .copied()
        .find(|step| end_s / step <= TICKS_MAX)
        .unwrap_or(3600);
    let mut tick_s = 0;
    while tick_s * 1000 <= end_ms {
        let tx = x(tick_s * 1000);
        let _ = writeln!(
            svg,
            r#"<line x1="{tx:.1}" y1="{lanes_top}" x2="{tx:.1}" y2="{axis_top}" stroke="{COLOR_GRID}"/>"#
        );
        let _ = writeln!(
            svg,
            r##"<text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#555">{}</text>"##,
            axis_top + 16.0,
            short_duration(tick_s)
        );
        tick_s += step_s;
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{MARGIN_LEFT}" y1="{axis_top}" x2="{:.1}" y2="{axis_top}" stroke="#888"/>"##,
        WIDTH - MARGIN_RIGHT
    );

    // Replica lanes.
    for (i, lane) in picture.lanes.iter().enumerate() {
        let top = lanes_top + LANE_HEIGHT * i as f64;
        draw_lane(&mut svg, lane, top, end_ms, &x);
    }

    // The flow's lane: each wait from its start to its end, its deadline marked.
    let _ = writeln!(
        svg,
        r#"<text x="12" y="{:.1}" font-weight="bold">deletion flow</text>"#,
        flow_top + 27.0
    );
    for wait in picture
        .waits
        .iter()
        .filter(|w| w.start_ms < end_ms - end_ms / 100)
    {
        let (end, fill, outcome) = match wait.end {
            Some((end, true)) => (end, COLOR_READY, "deployment ready".to_string()),
            Some((end, false)) => (end, COLOR_FAIL, "timed out".to_string()),
            None => (end_ms, COLOR_STARTING, "still waiting".to_string()),
        };
        let (x0, x1) = (x(wait.start_ms), x(end));
        let timeout = format_duration(Duration::from_millis(wait.deadline_ms - wait.start_ms));
        let _ = writeln!(
            svg,
            r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="18" rx="3" fill="{fill}" fill-opacity="0.25" stroke="{fill}"><title>{} wait for the deployment (timeout {timeout}): {outcome}</title></rect>"#,
            flow_top + 12.0,
            (x1 - x0).max(1.0),
            format_duration(Duration::from_millis(wait.start_ms)),
        );
        // The window the flow allows, to its deadline, behind what it used.
        let _ = writeln!(
            svg,
            r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="18" rx="3" fill="none" stroke="{fill}" stroke-dasharray="3 3"/>"#,
            flow_top + 12.0,
            (x(wait.deadline_ms) - x0).max(1.0),
        );
        if wait.deadline_ms <= end_ms && !matches!(wait.end, Some((_, true))) {
            let dx = x(wait.deadline_ms);
            let _ = writeln!(
                svg,
                r#"<line x1="{dx:.1}" y1="{:.1}" x2="{dx:.1}" y2="{:.1}" stroke="{COLOR_FAIL}" stroke-width="2"/>"#,
                flow_top + 6.0,
                flow_top + 36.0
            );
        }
        if x(wait.deadline_ms) - x0 > LABEL_WIDTH_MIN * 2.0 {
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="11">wait ≤ {}: {outcome}</text>"#,
                x0 + 4.0,
                flow_top + 25.0,
                short_duration((wait.deadline_ms - wait.start_ms) / 1000)
            );
        }
    }

    // The CRD deletion, across every lane.
    if let Some((first_ms, _)) = picture.deletions.first() {
        let dx = x(*first_ms);
        let names: Vec<&str> = picture.deletions.iter().map(|(_, n)| n.as_str()).collect();
        let _ = writeln!(
            svg,
            r#"<line x1="{dx:.1}" y1="{:.1}" x2="{dx:.1}" y2="{axis_top}" stroke="{COLOR_FAIL}" stroke-width="2" stroke-dasharray="6 3"><title>CRDs deleted: {}</title></line>"#,
            lanes_top - 22.0,
            escape(&names.join(", "))
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" fill="{COLOR_FAIL}" font-weight="bold">CRDs deleted at {}</text>"#,
            dx + 5.0,
            lanes_top - 10.0,
            format_duration(Duration::from_millis(*first_ms))
        );
    }

    // The stall or the restart loop, framed on its lane.
    let framed = match &report.verdict {
        Verdict::Stall(stall) => Some((
            &stall.replica,
            stall.not_ready_since,
            stall.detected_at,
            match (&stall.last_probe, stall.unsynced_informers.first()) {
                (Some(probe), _) => format!("STALL: not ready: {probe}"),
                (None, Some(kind)) => format!("STALL: informer {kind} never syncs"),
                (None, None) => "STALL".to_string(),
            },
        )),
        Verdict::RestartLoop(looping) => Some((
            &looping.replica,
            looping.not_ready_since,
            looping.detected_at,
            match looping.watched_kinds.first() {
                Some(kind) => format!(
                    "RESTART LOOP: {} restarts, waiting for {kind}",
                    looping.restarts
                ),
                None => format!("RESTART LOOP: {} restarts", looping.restarts),
            },
        )),
        Verdict::Converges | Verdict::Inconclusive { .. } => None,
    };
    if let Some((replica, since, detected, why)) = framed {
        if let Some(i) = picture.lanes.iter().position(|l| l.name == *replica) {
            let top = lanes_top + LANE_HEIGHT * i as f64;
            let x0 = x(since.as_millis() as u64);
            let x1 = x(detected.as_millis() as u64);
            let _ = writeln!(
                svg,
                r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{COLOR_FAIL}" stroke-width="2.5" rx="4"/>"#,
                top + 2.0,
                (x1 - x0).max(2.0),
                LANE_HEIGHT - 6.0
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" fill="{COLOR_FAIL}" font-weight="bold">{}</text>"#,
                x0 + 6.0,
                top + 13.0,
                escape(&why)
            );
        }
    }

    draw_legend(&mut svg, axis_top + AXIS_HEIGHT);
    svg.push_str("</svg>\n");
    svg
}

fn draw_lane(svg: &mut String, lane: &Lane, top: f64, end_ms: u64, x: &impl Fn(u64) -> f64) {
    let bar_top = top + 30.0;
    let bar_height = 20.0;
    let _ = writeln!(
        svg,
        r#"<text x="12" y="{:.1}" font-weight="bold">{}</text>"#,
        bar_top + 14.0,
        escape(&lane.name)
    );
    if let Some(replaced) = &lane.replaces {
        let _ = writeln!(
            svg,
            r#"<text x="12" y="{:.1}" font-size="10">replaces {}</text>"#,
            bar_top + 27.0,
            escape(replaced)
        );
    }
    let _ = writeln!(
        svg,
        r##"<line x1="{MARGIN_LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#f2f2f2"/>"##,
        top + LANE_HEIGHT,
        WIDTH - MARGIN_RIGHT,
        top + LANE_HEIGHT
    );
    for (since, until, state) in lane.states.iter().filter(|s| s.0 < end_ms) {
        let (x0, x1) = (x(*since), x(*until));
        let _ = writeln!(
            svg,
            r#"<rect x="{x0:.1}" y="{bar_top:.1}" width="{:.1}" height="{bar_height}" fill="{}"><title>{} from {} to {}</title></rect>"#,
            (x1 - x0).max(0.5),
            color(*state),
            state.label(),
            format_duration(Duration::from_millis(*since)),
            format_duration(Duration::from_millis(*until)),
        );
        if x1 - x0 >= LABEL_WIDTH_MIN {
            let fill = if *state == State::Ready {
                "#fff"
            } else {
                COLOR_TEXT
            };
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="11" fill="{fill}">{}</text>"#,
                x0 + 4.0,
                bar_top + 14.0,
                state.label()
            );
        }
    }
    for (since, until) in lane.leading.iter().filter(|l| l.0 < end_ms) {
        let (x0, x1) = (x(*since), x(*until));
        let _ = writeln!(
            svg,
            r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="11" fill="{COLOR_LEADER}"><title>leader from {} to {}</title></rect>"#,
            bar_top - 13.0,
            (x1 - x0).max(1.0),
            format_duration(Duration::from_millis(*since)),
            format_duration(Duration::from_millis(*until)),
        );
        if x1 - x0 >= LABEL_WIDTH_MIN {
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="9" fill="#fff">leader</text>"##,
                x0 + 4.0,
                bar_top - 4.5
            );
        }
    }
    let marks_top = bar_top + bar_height;
    for mark in lane.marks.iter().filter(|m| m.at_ms <= end_ms) {
        let mx = x(mark.at_ms);
        let title = escape(&mark.title);
        let shape = match mark.kind {
            MarkKind::Discovery => format!(
                r##"<path d="M{mx:.1} {:.1} l5 5 l-5 5 l-5 -5 z" fill="{COLOR_DISCOVERY}" stroke="#fff"/>"##,
                bar_top + 5.0
            ),
            MarkKind::ListFailed => format!(
                r#"<path d="M{:.1} {:.1} l6 6 m0 -6 l-6 6" stroke="{COLOR_FAIL}" stroke-width="1.6"/>"#,
                mx - 3.0,
                marks_top + 3.0
            ),
            MarkKind::ListSucceeded => format!(
                r#"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{:.1}" stroke="{COLOR_READY}" stroke-width="1.6"/>"#,
                marks_top + 2.0,
                marks_top + 9.0
            ),
            MarkKind::Synced => format!(
                r#"<circle cx="{mx:.1}" cy="{:.1}" r="2.5" fill="{COLOR_READY}"/>"#,
                marks_top + 14.0
            ),
            MarkKind::ReadinessFailed => format!(
                r#"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{:.1}" stroke="{COLOR_NOT_READY}" stroke-width="1.4"/>"#,
                marks_top + 12.0,
                marks_top + 19.0
            ),
            MarkKind::LivenessFailed => format!(
                r#"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{:.1}" stroke="{COLOR_FAIL}" stroke-width="2"/>"#,
                marks_top + 12.0,
                marks_top + 22.0
            ),
            MarkKind::Stopped => format!(
                r##"<path d="M{:.1} {:.1} l10 10 m0 -10 l-10 10" stroke="#000" stroke-width="2.5"/>"##,
                mx - 5.0,
                bar_top + 5.0
            ),
            MarkKind::NodeLost => format!(
                r##"<path d="M{:.1} {:.1} l10 10 m0 -10 l-10 10" stroke="#000" stroke-width="2.5"/><text x="{:.1}" y="{:.1}" font-size="10">node lost</text>"##,
                mx - 5.0,
                bar_top + 5.0,
                mx + 7.0,
                bar_top - 2.0
            ),
            MarkKind::NodeNotReady | MarkKind::Evicted => format!(
                r##"<circle cx="{mx:.1}" cy="{:.1}" r="4" fill="none" stroke="#000" stroke-width="1.6"/>"##,
                bar_top + 10.0
            ),
            MarkKind::Restarted => format!(
                r##"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{:.1}" stroke="#000" stroke-width="2.5"/><text x="{:.1}" y="{:.1}" font-size="10">restart</text>"##,
                bar_top - 16.0,
                bar_top + bar_height + 4.0,
                mx + 3.0,
                bar_top - 16.0
            ),
            MarkKind::Note => format!(
                r##"<rect x="{:.1}" y="{:.1}" width="5" height="5" fill="none" stroke="#555" stroke-width="1.2"/>"##,
                mx - 2.5,
                marks_top + 2.0
            ),
        };
        let _ = writeln!(svg, "<g><title>{title}</title>{shape}</g>");
    }
}

fn draw_legend(svg: &mut String, top: f64) {
    let items: [(&str, String); 13] = [
        ("starting", swatch(COLOR_STARTING)),
        ("not ready", swatch(COLOR_NOT_READY)),
        ("ready", swatch(COLOR_READY)),
        (
            "leader",
            format!(r#"<rect x="0" y="3" width="18" height="6" fill="{COLOR_LEADER}"/>"#),
        ),
        (
            "discovery",
            format!(r#"<path d="M9 0 l5 5 l-5 5 l-5 -5 z" fill="{COLOR_DISCOVERY}"/>"#),
        ),
        (
            "LIST ok",
            format!(r#"<line x1="9" y1="0" x2="9" y2="10" stroke="{COLOR_READY}" stroke-width="1.6"/>"#),
        ),
        (
            "LIST failed",
            format!(r#"<path d="M6 2 l6 6 m0 -6 l-6 6" stroke="{COLOR_FAIL}" stroke-width="1.6"/>"#),
        ),
        (
            "informer synced",
            format!(r#"<circle cx="9" cy="5" r="2.5" fill="{COLOR_READY}"/>"#),
        ),
        (
            "readiness failed",
            format!(r#"<line x1="9" y1="0" x2="9" y2="10" stroke="{COLOR_NOT_READY}" stroke-width="1.4"/>"#),
        ),
        (
            "liveness failed",
            format!(r#"<line x1="9" y1="0" x2="9" y2="10" stroke="{COLOR_FAIL}" stroke-width="2"/>"#),
        ),
        (
            "killed / restart",
            r##"<path d="M2 0 l8 8 m0 -8 l-8 8" stroke="#000" stroke-width="2"/><line x1="16" y1="-2" x2="16" y2="10" stroke="#000" stroke-width="2.5"/>"##.to_string(),
        ),
        (
            "node NotReady / pod evicted",
            r##"<circle cx="9" cy="5" r="4" fill="none" stroke="#000" stroke-width="1.6"/>"##
                .to_string(),
        ),
        (
            "CRD deletion / wait deadline",
            format!(r#"<line x1="4" y1="-2" x2="4" y2="10" stroke="{COLOR_FAIL}" stroke-width="2" stroke-dasharray="4 2"/><line x1="14" y1="-2" x2="14" y2="10" stroke="{COLOR_FAIL}" stroke-width="2"/>"#),
        ),
    ];
    let column_width = (WIDTH - 2.0 * 16.0) / 6.0;
    for (i, (label, shape)) in items.iter().enumerate() {
        let lx = 16.0 + column_width * (i % 6) as f64;
        let ly = top + 8.0 + 22.0 * (i / 6) as f64;
        let _ = writeln!(
            svg,
            r#"<g transform="translate({lx:.1} {ly:.1})">{shape}<text x="26" y="10">{label}</text></g>"#
        );
    }
}

fn swatch(color: &str) -> String {
    format!(r#"<rect x="0" y="0" width="18" height="10" fill="{color}"/>"#)
}
