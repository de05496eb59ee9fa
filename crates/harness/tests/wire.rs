//! On the wire: in a world where no process dies, no TCP segment is ever
//! answered with a reset, even when a latency spread lets the segments of
//! one connection overtake each other. turmoil resets a segment that meets
//! a dropped socket, so this holds only if every part closes gracefully.
//! Segments are counted from turmoil's own trace of what it sends.

use std::cell::Cell;
use std::fmt::{self, Write};
use std::time::Duration;

use stallsim_harness::{CrdSpec, DeletionFlowConfig, Verdict, What, WorldConfig, WorldEvent};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

thread_local! {
    static SYNS: Cell<usize> = const { Cell::new(0) };
    static RESETS: Cell<usize> = const { Cell::new(0) };
}

/// Counts the SYNs and RSTs turmoil sends on this thread.
struct SegmentCounter;

impl Subscriber for SegmentCounter {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "turmoil"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut segment = Segment::default();
        event.record(&mut segment);
        if segment.message != "Send" {
            return;
        }
        let counter = match segment.protocol.as_str() {
            "TCP SYN" => &SYNS,
            "TCP RST" => &RESETS,
            _ => return,
        };
        counter.with(|n| n.set(n.get() + 1));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The message and the start of the `protocol` field of one event.
#[derive(Default)]
struct Segment {
    message: String,
    protocol: String,
}

impl Visit for Segment {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let into = match field.name() {
            "message" => &mut self.message,
            "protocol" => &mut self.protocol,
            _ => return,
        };
        // A data segment prints every byte; its first few tell enough.
        let _ = write!(Prefix(into), "{value:?}");
    }
}

/// Keeps the first 16 bytes written, then stops the formatting.
struct Prefix<'a>(&'a mut String);

impl Write for Prefix<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = 16usize.saturating_sub(self.0.len());
        if s.len() > room {
            self.0.extend(s.chars().take(room));
            return Err(fmt::Error);
        }
        self.0.push_str(s);
        Ok(())
    }
}

/// The incident's world without its fault: both replicas run throughout,
/// the CRDs are deleted, and every message takes 1ms to 150ms.
fn spread_world(seed: u64) -> WorldConfig {
    let defaults = WorldConfig::default();
    let mut config = WorldConfig {
        name: "latency-spread".to_string(),
        seed,
        flow: Some(DeletionFlowConfig::new(
            Duration::from_secs(60),
            defaults.crds.iter().map(CrdSpec::name).collect(),
        )),
        ..defaults
    };
    config.network.latency_min = Duration::from_millis(1);
    config.network.latency_max = Duration::from_millis(150);
    config
}

#[test]
fn a_world_where_no_process_dies_resets_nothing_on_the_wire() {
    for seed in [1, 2] {
        SYNS.with(|n| n.set(0));
        RESETS.with(|n| n.set(0));
        let run = tracing::subscriber::with_default(SegmentCounter, || {
            stallsim_harness::run(&spread_world(seed))
        });
        let timeline = stallsim_harness::render_timeline(&run.trace);
        let died = run.trace.iter().any(|e| {
            matches!(
                e.what,
                What::World(WorldEvent::ContainerExited | WorldEvent::ContainerKilled { .. })
            )
        });
        assert!(!died, "seed {seed}: a process died:\n{timeline}");
        assert_eq!(run.report.verdict, Verdict::Converges, "{timeline}");
        let syns = SYNS.with(Cell::get);
        assert!(
            syns > 100,
            "seed {seed}: only {syns} SYNs seen; is turmoil's trace still read right?"
        );
        let resets = RESETS.with(Cell::get);
        assert_eq!(
            resets, 0,
            "seed {seed}: {resets} RSTs in {syns} connections"
        );
    }
}
