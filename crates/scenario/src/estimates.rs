//! The model's estimated constants: every timing the model needs that no
//! upstream code or documentation fixes, with the range of values a real
//! cluster plausibly has and why, in one table.
//!
//! Everything else the model runs on is sourced (docs/model.md names the
//! repository, file and line at a release). docs/model.md's table of
//! estimates, `stallsim sensitivity` and `stallsim explore --estimates
//! plausible` all read this one; a test holds the document to it.

use std::time::Duration;

use crate::duration;

/// One estimated constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The scenario field that sets it (`spec.kubelet.processStart`).
    pub field: &'static str,
    /// The model's value when the file names none.
    pub default: Duration,
    /// The least and greatest value a real cluster plausibly has.
    pub plausible: (Duration, Duration),
    /// Why that range, in one line.
    pub reason: &'static str,
}

impl Estimate {
    /// The field's own name (`processStart`), as verdicts name what they rest on.
    pub fn name(&self) -> &'static str {
        self.field.rsplit('.').next().unwrap_or(self.field)
    }

    /// `500ms..5s`
    pub fn plausible_text(&self) -> String {
        format!(
            "{}..{}",
            duration::format(self.plausible.0),
            duration::format(self.plausible.1)
        )
    }
}

const fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

const fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// Every estimated constant, in the order of the file format.
pub const ESTIMATES: &[Estimate] = &[
    Estimate {
        field: "spec.network.latencyMin",
        default: ms(1),
        plausible: (ms(0), ms(2)),
        reason: "the fastest hop between two pods: well under a millisecond within a zone, one or two across zones",
    },
    Estimate {
        field: "spec.network.latencyMax",
        default: ms(5),
        plausible: (ms(2), ms(50)),
        reason: "the slowest hop: across zones, through an overlay network and a busy node; a tail, not a mean",
    },
    Estimate {
        field: "spec.network.requestTimeout",
        default: secs(30),
        plausible: (secs(10), secs(60)),
        reason: "when a client gives up on an unanswered request: client-go sets no overall timeout, and notices a dead connection by HTTP/2's health check (30s idle, then a 15s ping) or TCP's",
    },
    Estimate {
        field: "spec.apiServer.crdFinalizerDelay",
        default: ms(100),
        plausible: (ms(10), secs(1)),
        reason: "the CRD finalizer controller learns of the DELETE through its informer and workqueue: a watch event and a queue hop, longer on a loaded server",
    },
    Estimate {
        field: "spec.apiServer.instanceDeletionCost",
        default: ms(5),
        plausible: (ms(1), ms(50)),
        reason: "the finalizer deletes the custom objects one etcd write at a time: a round trip to etcd, longer under load",
    },
    Estimate {
        field: "spec.apiServer.servingRemovalLag",
        default: ms(100),
        plausible: (ms(10), secs(1)),
        reason: "the CRD handler finds CRDs through its informer, so it stops serving one informer hop after the CRD object is gone",
    },
    Estimate {
        field: "spec.apiServer.discoveryLag",
        default: ms(500),
        plausible: (ms(50), secs(2)),
        reason: "the discovery controller resyncs from the CRD informer through its workqueue, and the aggregated document is rebuilt after it",
    },
    Estimate {
        field: "spec.kubelet.containerStart",
        default: secs(1),
        plausible: (ms(200), secs(3)),
        reason: "containerd creating and starting a container whose image is cached: the CRI round trips, runc, cgroups; seconds on a busy node",
    },
    Estimate {
        field: "spec.kubelet.processStart",
        default: secs(2),
        plausible: (ms(500), secs(5)),
        reason: "the resource manager's Go binary before it serves: flags and config, its REST clients and scheme, webhook certificates read from disk, the manager's setup",
    },
    Estimate {
        field: "spec.nodeLifecycle.schedulingDelay",
        default: secs(5),
        plausible: (secs(1), secs(30)),
        reason: "a replacement pod's binding (milliseconds), the new node's kubelet syncing it and mounting its secrets (about a second), and the image pull where that node lacks the image (seconds to tens)",
    },
    Estimate {
        field: "spec.deletionFlow.retryAfter",
        default: secs(60),
        plausible: (secs(10), secs(300)),
        reason: "Gardener runs a failed deletion flow again on the shoot's next reconcile, after its controller's requeue backoff",
    },
];

/// The estimate for `field` (`spec.kubelet.processStart`), if it is one.
pub fn estimate_of(field: &str) -> Option<&'static Estimate> {
    ESTIMATES.iter().find(|e| e.field == field)
}

/// The table of estimates as docs/model.md shows it: field, default,
/// plausible range, why.
pub fn estimates_markdown() -> String {
    let mut out = String::from("| field | default | plausible | why |\n|---|---|---|---|\n");
    for e in ESTIMATES {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            e.field,
            duration::format(e.default),
            e.plausible_text(),
            e.reason
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::bounds::{range_of, Range};

    /// A world with a deletion flow and a node loss, so that every
    /// estimated field takes part.
    const WORLD: &str =
        "apiVersion: stallsim/v1alpha1\nkind: Scenario\nmetadata: {name: t}\nspec:\n  \
        deletionFlow: {deleteAt: 1m}\n  faults: [{at: 30s, nodeLoss: grm-0}]\n";

    #[test]
    fn every_estimate_is_a_live_field_whose_default_is_the_models() {
        let scenario = crate::parse(Path::new("t.yaml"), WORLD).expect("the world parses");
        let world = scenario.world(1).config;
        for e in ESTIMATES {
            let at = |value: Duration| {
                let chosen = BTreeMap::from([(e.field.to_string(), value)]);
                scenario.world_with(1, &chosen).config
            };
            assert_eq!(
                at(e.default),
                world,
                "{}: the default is not the model's",
                e.field
            );
            let other = if e.plausible.1 != e.default {
                e.plausible.1
            } else {
                e.plausible.0
            };
            assert_ne!(
                at(other),
                world,
                "{}: choosing a value changes nothing",
                e.field
            );
        }
    }

    #[test]
    fn every_plausible_range_holds_its_default_and_lies_within_the_fields_bounds() {
        for e in ESTIMATES {
            let (least, greatest) = e.plausible;
            assert!(least <= e.default && e.default <= greatest, "{}", e.field);
            match range_of(e.field) {
                Some(Range::Duration(r)) => {
                    assert!(r.contains(least) && r.contains(greatest), "{}", e.field)
                }
                other => panic!("{}: not a bounded duration field: {other:?}", e.field),
            }
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = ESTIMATES.iter().map(Estimate::name).collect();
        names.sort_unstable();
        let all = names.len();
        names.dedup();
        assert_eq!(names.len(), all);
    }

    #[test]
    fn the_model_documentation_shows_the_table() {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/model.md");
        let doc = std::fs::read_to_string(doc).expect("docs/model.md exists");
        assert!(
            doc.contains(&estimates_markdown()),
            "docs/model.md must hold the table of estimates as estimates_markdown() writes it:\n{}",
            estimates_markdown()
        );
    }
}
