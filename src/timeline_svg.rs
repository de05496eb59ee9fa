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

use stallsim_harness::manager::ManagerEvent;
use stallsim_harness::{
    custom_resources, format_duration, Probe, Run, TraceEvent, Verdict, What, WorldConfig,
    WorldEvent,
};

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
/// Room left after the last key event, as a fraction of the time shown.
const VIEW_MARGIN: f64 = 0.08;
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

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum State {
    Starting,
    NotReady,
    Ready,
}

impl State {
    fn color(self) -> &'static str {
        match self {
            State::Starting => COLOR_STARTING,
            State::NotReady => COLOR_NOT_READY,
            State::Ready => COLOR_READY,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            State::Starting => "starting",
            State::NotReady => "not ready",
            State::Ready => "ready",
        }
    }
}

#[derive(Clone, Copy)]
enum MarkKind {
    Discovery,
    ListFailed,
    ListSucceeded,
    Synced,
    ReadinessFailed,
    LivenessFailed,
    Stopped,
    Restarted,
}

struct Mark {
    at_ms: u64,
    kind: MarkKind,
    title: String,
}

/// One replica's lane, read from the trace.
pub(crate) struct Lane {
    pub name: String,
    pub states: Vec<(u64, u64, State)>,
    pub leading: Vec<(u64, u64)>,
    marks: Vec<Mark>,
    /// The state open now, and since when (while the container runs).
    open: Option<(u64, State)>,
    leading_since: Option<u64>,
}

impl Lane {
    fn new(name: &str) -> Lane {
        Lane {
            name: name.to_string(),
            states: Vec::new(),
            leading: Vec::new(),
            marks: Vec::new(),
            open: None,
            leading_since: None,
        }
    }

    fn enter(&mut self, at_ms: u64, state: State) {
        self.close(at_ms);
        self.open = Some((at_ms, state));
    }

    fn close(&mut self, at_ms: u64) {
        if let Some((since, state)) = self.open.take() {
            self.states.push((since, at_ms, state));
        }
    }

    fn stop_leading(&mut self, at_ms: u64) {
        if let Some(since) = self.leading_since.take() {
            self.leading.push((since, at_ms));
        }
    }

    fn mark(&mut self, at_ms: u64, kind: MarkKind, title: String) {
        self.marks.push(Mark { at_ms, kind, title });
    }

    fn apply(&mut self, event: &TraceEvent) {
        let at = event.at_ms;
        let time = format_duration(event.at());
        match &event.what {
            What::World(WorldEvent::ContainerStarted { restarts }) => {
                self.enter(at, State::Starting);
                if *restarts > 0 {
                    self.mark(
                        at,
                        MarkKind::Restarted,
                        format!("{time} container restarted (restart #{restarts})"),
                    );
                }
            }
            What::Manager(ManagerEvent::ProcessStarted) => {
                if matches!(self.open, Some((_, State::Starting))) {
                    self.enter(at, State::NotReady);
                }
            }
            What::World(WorldEvent::ReadinessChanged { ready }) if self.open.is_some() => {
                let state = if *ready {
                    State::Ready
                } else {
                    State::NotReady
                };
                self.enter(at, state);
            }
            What::World(WorldEvent::ContainerKilled { reason }) => {
                self.close(at);
                self.stop_leading(at);
                self.mark(
                    at,
                    MarkKind::Stopped,
                    format!("{time} container killed: {reason}"),
                );
            }
            What::World(WorldEvent::ContainerExited) => {
                self.close(at);
                self.stop_leading(at);
                self.mark(at, MarkKind::Stopped, format!("{time} container exited"));
            }
            What::Manager(ManagerEvent::ProcessExited { .. })
            | What::Manager(ManagerEvent::LeadershipLost)
            | What::Manager(ManagerEvent::LeaseReleased) => self.stop_leading(at),
            What::Manager(ManagerEvent::LeaderElected) if self.leading_since.is_none() => {
                self.leading_since = Some(at);
            }
            What::Manager(ManagerEvent::DiscoveryCompleted { resources }) => {
                let custom = custom_resources(resources);
                let found = if custom.is_empty() {
                    "no custom resources".to_string()
                } else {
                    custom.join(", ")
                };
                self.mark(
                    at,
                    MarkKind::Discovery,
                    format!("{time} discovery: {found}"),
                );
            }
            What::Manager(ManagerEvent::ListFailed { kind, error, .. }) => self.mark(
                at,
                MarkKind::ListFailed,
                format!("{time} LIST {kind} failed: {error}"),
            ),
            What::Manager(ManagerEvent::ListSucceeded { kind, items, .. }) => self.mark(
                at,
                MarkKind::ListSucceeded,
                format!("{time} LIST {kind}: {items} items"),
            ),
            What::Manager(ManagerEvent::InformerSynced { kind }) => self.mark(
                at,
                MarkKind::Synced,
                format!("{time} informer synced: {kind}"),
            ),
            What::World(WorldEvent::ProbeResult {
                probe,
                ok: false,
                detail,
            }) => {
                let (kind, name) = match probe {
                    Probe::Readiness => (MarkKind::ReadinessFailed, "readiness"),
                    Probe::Liveness => (MarkKind::LivenessFailed, "liveness"),
                };
                self.mark(at, kind, format!("{time} {name} probe failed: {detail}"));
            }
            _ => {}
        }
    }
}

/// One wait of the deletion flow for the deployment.
pub(crate) struct Wait {
    pub start_ms: u64,
    pub deadline_ms: u64,
    /// When it ended and whether the deployment was ready; `None` while
    /// still waiting at the end of the run.
    pub end: Option<(u64, bool)>,
}

/// What the picture is drawn from.
pub(crate) struct Picture {
    pub lanes: Vec<Lane>,
    pub waits: Vec<Wait>,
    pub deletions: Vec<(u64, String)>,
    pub end_ms: u64,
    /// The last key event: a container or readiness change, an election,
    /// the end of the flow's first wait. Later is repetition (LIST retries,
    /// probe failures, further waits); the picture stops soon after it.
    last_key_ms: u64,
}

fn read(config: &WorldConfig, run: &Run) -> Picture {
    let mut lanes: Vec<Lane> = config.replicas.iter().map(|r| Lane::new(&r.name)).collect();
    let mut waits: Vec<Wait> = Vec::new();
    let mut deletions = Vec::new();
    let end_ms = run.report.simulated.as_millis() as u64;
    let mut last_key_ms = 0;
    for event in &run.trace {
        let key = matches!(
            &event.what,
            What::World(
                WorldEvent::ContainerStarted { .. }
                    | WorldEvent::ContainerKilled { .. }
                    | WorldEvent::ContainerExited
                    | WorldEvent::ReadinessChanged { .. }
                    | WorldEvent::CrdDeleted { .. }
            ) | What::Manager(ManagerEvent::LeaderElected)
        ) || matches!(&event.what, What::World(WorldEvent::FlowWaitSucceeded { .. } | WorldEvent::FlowWaitTimedOut { .. }) if waits.len() == 1);
        if key {
            last_key_ms = event.at_ms;
        }
        if let Some(lane) = lanes.iter_mut().find(|l| l.name == event.source) {
            lane.apply(event);
            continue;
        }
        match &event.what {
            What::World(WorldEvent::CrdDeleted { name }) => {
                deletions.push((event.at_ms, name.clone()));
            }
            What::World(WorldEvent::FlowWaitStarted { timeout_ms }) => waits.push(Wait {
                start_ms: event.at_ms,
                deadline_ms: event.at_ms + timeout_ms,
                end: None,
            }),
            What::World(WorldEvent::FlowWaitSucceeded { .. }) => {
                if let Some(wait) = waits.last_mut().filter(|w| w.end.is_none()) {
                    wait.end = Some((event.at_ms, true));
                }
            }
            What::World(WorldEvent::FlowWaitTimedOut { .. }) => {
                if let Some(wait) = waits.last_mut().filter(|w| w.end.is_none()) {
                    wait.end = Some((event.at_ms, false));
                }
            }
            _ => {}
        }
    }
    for lane in &mut lanes {
        lane.close(end_ms);
        lane.stop_leading(end_ms);
    }
    Picture {
        lanes,
        waits,
        deletions,
        end_ms,
        last_key_ms,
    }
}

/// What the picture shows of `run`, and where it stops: a little after the
/// last key event (or the stall's detection), at most the run's end.
pub(crate) fn view(config: &WorldConfig, run: &Run) -> (Picture, u64) {
    let picture = read(config, run);
    let mut last_key_ms = picture.last_key_ms;
    if let Verdict::Stall(stall) = &run.report.verdict {
        last_key_ms = last_key_ms.max(stall.detected_at.as_millis() as u64);
    }
    let end_ms =
        ((last_key_ms as f64 * (1.0 + VIEW_MARGIN)) as u64).clamp(1, picture.end_ms.max(1));
    (picture, end_ms)
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

/// The picture of `run` as an SVG document.
pub fn render(file: &Path, config: &WorldConfig, run: &Run) -> String {
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
        escape(&crate::output::replay_command(file, report.seed))
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

    // The stall, framed on its lane.
    if let Verdict::Stall(stall) = &report.verdict {
        if let Some(i) = picture.lanes.iter().position(|l| l.name == stall.replica) {
            let top = lanes_top + LANE_HEIGHT * i as f64;
            let x0 = x(stall.not_ready_since.as_millis() as u64);
            let x1 = x(stall.detected_at.as_millis() as u64);
            let _ = writeln!(
                svg,
                r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="none" stroke="{COLOR_FAIL}" stroke-width="2.5" rx="4"/>"#,
                top + 2.0,
                (x1 - x0).max(2.0),
                LANE_HEIGHT - 6.0
            );
            let why = stall
                .unsynced_informers
                .first()
                .map(|kind| format!("STALL: informer {kind} never syncs"))
                .unwrap_or_else(|| "STALL".to_string());
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
            state.color(),
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
            MarkKind::Restarted => format!(
                r##"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{:.1}" stroke="#000" stroke-width="2.5"/><text x="{:.1}" y="{:.1}" font-size="10">restart</text>"##,
                bar_top - 16.0,
                bar_top + bar_height + 4.0,
                mx + 3.0,
                bar_top - 16.0
            ),
        };
        let _ = writeln!(svg, "<g><title>{title}</title>{shape}</g>");
    }
}

fn draw_legend(svg: &mut String, top: f64) {
    let items: [(&str, String); 12] = [
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

/// Writes the picture of `run` to `out`; the error names the file.
pub fn write(out: &Path, file: &Path, config: &WorldConfig, run: &Run) -> Result<(), String> {
    std::fs::write(out, render(file, config, run))
        .map_err(|error| format!("cannot write the timeline to {}: {error}", out.display()))
}

/// Runs `seed` of `scenario` again and writes its picture beside `saved`
/// (the file a failure was saved to), as `<saved>.svg`.
pub fn write_beside(
    saved: &Path,
    scenario: &stallsim_scenario::Scenario,
    seed: u64,
) -> Result<std::path::PathBuf, String> {
    let config = scenario.world(seed).config;
    let run = stallsim_harness::run(&config);
    let out = saved.with_extension("svg");
    write(&out, saved, &config, &run)?;
    Ok(out)
}
