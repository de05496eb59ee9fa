//! The wire between the hosts' kernels: a latency per segment drawn from
//! the seed, delivery in order per connection, partitions.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use foldhash::fast::FixedState;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;
use turmoil_net::{EnterGuard, Packet, Transport};

/// Segments counted by kind, for tests that look at the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentCounts {
    /// Every segment put on the wire.
    pub sent: u64,
    /// Connection attempts (SYN without ACK).
    pub syns: u64,
    /// Resets.
    pub resets: u64,
    /// Dropped by a partition.
    pub dropped: u64,
}

/// One direction of one connection.
type Flow = (SocketAddr, SocketAddr);

pub(crate) struct Fabric {
    rng: SmallRng,
    latency_min: Duration,
    latency_max: Duration,
    /// Segments on the wire by delivery time, then emission order.
    in_flight: BTreeMap<(Instant, u64), Packet>,
    sent_total: u64,
    /// The latest delivery time of each flow with a segment on the wire:
    /// a later segment never arrives before it (keyed lookup only, so a
    /// fixed-seed hasher). Kept only under a latency spread: with one
    /// latency, delivery times already follow emission times.
    flow_last: HashMap<Flow, Instant, FixedState>,
    /// Whether some kernel may hold segments to send: a process ran, a
    /// segment arrived, or a process died since the last egress pass.
    kernels_touched: bool,
    /// Cut links, each as (lower, higher) address.
    partitions: BTreeSet<(IpAddr, IpAddr)>,
    egress: Vec<Packet>,
    counts: SegmentCounts,
}

impl Fabric {
    pub(crate) fn new(seed: u64, latency_min: Duration, latency_max: Duration) -> Self {
        Fabric {
            rng: SmallRng::seed_from_u64(seed),
            latency_min,
            latency_max: latency_max.max(latency_min),
            in_flight: BTreeMap::new(),
            sent_total: 0,
            flow_last: HashMap::with_hasher(FixedState::default()),
            kernels_touched: false,
            partitions: BTreeSet::new(),
            egress: Vec::new(),
            counts: SegmentCounts::default(),
        }
    }

    pub(crate) fn counts(&self) -> SegmentCounts {
        self.counts
    }

    pub(crate) fn partition(&mut self, a: IpAddr, b: IpAddr) {
        self.partitions.insert(link(a, b));
    }

    pub(crate) fn repair(&mut self, a: IpAddr, b: IpAddr) {
        self.partitions.remove(&link(a, b));
    }

    fn is_cut(&self, packet: &Packet) -> bool {
        !self.partitions.is_empty() && self.partitions.contains(&link(packet.src, packet.dst))
    }

    /// Notes that a host's process ran or died, so its kernel may have
    /// segments to send.
    pub(crate) fn touch(&mut self) {
        self.kernels_touched = true;
    }

    /// The earliest delivery still to come.
    pub(crate) fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.keys().next().map(|(at, _)| *at)
    }

    /// Takes every host's outgoing segments onto the wire. A kernel that
    /// no process ran in and no segment reached since its last pass has
    /// none (the pass left its queues empty, and retransmission is off),
    /// so when no kernel was touched the sweep is skipped.
    pub(crate) fn take_egress(&mut self, net: &EnterGuard, now: Instant) {
        if !std::mem::take(&mut self.kernels_touched) {
            return;
        }
        let spread = self.latency_max > self.latency_min;
        let mut egress = std::mem::take(&mut self.egress);
        net.egress_all(&mut egress);
        for packet in egress.drain(..) {
            self.count(&packet);
            if self.is_cut(&packet) {
                self.counts.dropped += 1;
                continue;
            }
            let mut at = now + self.latency();
            if let Some(flow) = flow_of(&packet).filter(|_| spread) {
                let last = self.flow_last.entry(flow).or_insert(at);
                at = at.max(*last);
                *last = at;
            }
            self.in_flight.insert((at, self.sent_total), packet);
            self.sent_total += 1;
        }
        self.egress = egress;
    }

    /// Hands every segment due by `now` to its destination's kernel.
    pub(crate) fn deliver_due(&mut self, net: &EnterGuard, now: Instant) {
        while let Some(entry) = self.in_flight.first_entry() {
            let (at, _) = *entry.key();
            if at > now {
                break;
            }
            let packet = entry.remove();
            if let Some(flow) = flow_of(&packet).filter(|_| !self.flow_last.is_empty()) {
                // Nothing of this flow is left on the wire after its last segment.
                if let Entry::Occupied(last) = self.flow_last.entry(flow) {
                    if *last.get() == at {
                        last.remove();
                    }
                }
            }
            if self.is_cut(&packet) {
                self.counts.dropped += 1;
                continue;
            }
            self.kernels_touched = true;
            net.deliver(packet);
        }
    }

    fn latency(&mut self) -> Duration {
        if self.latency_max == self.latency_min {
            return self.latency_min;
        }
        let min = self.latency_min.as_nanos() as u64;
        let max = self.latency_max.as_nanos() as u64;
        Duration::from_nanos(self.rng.random_range(min..=max))
    }

    fn count(&mut self, packet: &Packet) {
        self.counts.sent += 1;
        if let Transport::Tcp(segment) = &packet.payload {
            if segment.flags.rst {
                self.counts.resets += 1;
            } else if segment.flags.syn && !segment.flags.ack {
                self.counts.syns += 1;
            }
        }
    }
}

fn link(a: IpAddr, b: IpAddr) -> (IpAddr, IpAddr) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn flow_of(packet: &Packet) -> Option<Flow> {
    match &packet.payload {
        Transport::Tcp(segment) => Some((
            SocketAddr::new(packet.src, segment.src_port),
            SocketAddr::new(packet.dst, segment.dst_port),
        )),
        Transport::Udp(_) => None,
    }
}
