//! [`ReplicaRequests`]: what each replica asked of the API server, by class,
//! as the server's own per-client counts tell (the checker reads no trace
//! for it, and the replicas report nothing themselves).

use std::time::Duration;

use serde::Serialize;
use stallsim_apiserver::{ClientLoad, RequestClass, RequestLoad};

/// The requests one replica sent the API server, by class, over the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaRequests {
    /// The replica.
    pub replica: String,
    /// Its LISTs.
    pub list: ClassRequests,
    /// Its WATCHes.
    pub watch: ClassRequests,
    /// Its lease GETs and PUTs.
    pub lease: ClassRequests,
    /// Everything else it sent.
    pub other: ClassRequests,
}

/// The requests of one class: how many, their mean rate over the run, and
/// the most in any sliding
/// [`RATE_WINDOW`](stallsim_apiserver::RATE_WINDOW).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClassRequests {
    /// Requests over the run.
    pub total: u64,
    /// Requests per simulated second, over the run.
    pub per_second: f64,
    /// The most requests in any sliding minute.
    pub busiest_minute: u64,
}

impl ClassRequests {
    fn of(load: &RequestLoad, over: Duration) -> Self {
        ClassRequests {
            total: load.total,
            per_second: load.per_second(over),
            busiest_minute: load.peak_per_minute,
        }
    }
}

impl ReplicaRequests {
    /// One class's figures.
    pub fn class(&self, class: RequestClass) -> &ClassRequests {
        match class {
            RequestClass::List => &self.list,
            RequestClass::Watch => &self.watch,
            RequestClass::Lease => &self.lease,
            RequestClass::Other => &self.other,
        }
    }

    /// `LIST 0.02/s (busiest minute 2), WATCH ..., lease ...`: the classes
    /// a replica's informers and election send, for people.
    pub fn describe(&self) -> String {
        [RequestClass::List, RequestClass::Watch, RequestClass::Lease]
            .map(|class| {
                let figures = self.class(class);
                format!(
                    "{} {:.2}/s (busiest minute {})",
                    class.label(),
                    figures.per_second,
                    figures.busiest_minute
                )
            })
            .join(", ")
    }
}

/// Each of `replicas`, in their order, with the requests the server counted
/// under its host (none for a replica that never reached it), averaged
/// over `over`, the run's simulated time.
pub fn replica_requests<'a>(
    loads: &[ClientLoad],
    replicas: impl IntoIterator<Item = &'a str>,
    over: Duration,
) -> Vec<ReplicaRequests> {
    let empty = ClientLoad::default();
    replicas
        .into_iter()
        .map(|replica| {
            let load = loads
                .iter()
                .find(|load| load.client == replica)
                .unwrap_or(&empty);
            let class = |class| ClassRequests::of(load.class(class), over);
            ReplicaRequests {
                replica: replica.to_string(),
                list: class(RequestClass::List),
                watch: class(RequestClass::Watch),
                lease: class(RequestClass::Lease),
                other: class(RequestClass::Other),
            }
        })
        .collect()
}

/// What one component's pods sent the API server over the run, summed
/// over its replicas (and the pods that replaced them).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentRequests {
    /// The component.
    pub component: String,
    /// Its requests over the run.
    pub total: u64,
    /// Its requests per simulated second, over the run.
    pub per_second: f64,
    /// Its LISTs.
    pub list: u64,
    /// Its WATCHes.
    pub watch: u64,
    /// Its lease GETs and PUTs.
    pub lease: u64,
    /// Everything else it sent.
    pub other: u64,
}

impl ComponentRequests {
    /// `1234 requests (0.51/s): LIST 300, WATCH 12, lease 0, other 922`
    pub fn describe(&self) -> String {
        format!(
            "{} requests ({:.2}/s): LIST {}, WATCH {}, lease {}, other {}",
            self.total, self.per_second, self.list, self.watch, self.lease, self.other
        )
    }
}

/// Each component of `components` (name, and the replicas it deploys), in
/// order, with the sum of its pods' figures in `replicas`: a pod is a
/// component's when it is one of its replicas or a pod that replaced one
/// (named `<replica>-<suffix>`).
pub fn component_requests(
    replicas: &[ReplicaRequests],
    components: &[(String, Vec<String>)],
    over: Duration,
) -> Vec<ComponentRequests> {
    components
        .iter()
        .map(|(component, names)| {
            let pods = replicas.iter().filter(|r| {
                names.iter().any(|name| {
                    r.replica == *name
                        || r.replica
                            .strip_prefix(name.as_str())
                            .is_some_and(|rest| rest.starts_with('-'))
                })
            });
            let mut sum = ComponentRequests {
                component: component.clone(),
                total: 0,
                per_second: 0.0,
                list: 0,
                watch: 0,
                lease: 0,
                other: 0,
            };
            for pod in pods {
                sum.list += pod.list.total;
                sum.watch += pod.watch.total;
                sum.lease += pod.lease.total;
                sum.other += pod.other.total;
            }
            sum.total = sum.list + sum.watch + sum.lease + sum.other;
            sum.per_second = if over.is_zero() {
                0.0
            } else {
                sum.total as f64 / over.as_secs_f64()
            };
            sum
        })
        .collect()
}
