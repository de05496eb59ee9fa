//! kube-runtime's informer: its `watcher` feeding a `reflector` store, as a
//! kube-rs controller builds it, run over the process's `kube::Client`.
//!
//! The watcher lists, then watches, and on any error backs off with
//! kube-runtime's default backoff: 800 ms doubling to 30 s, each delay
//! stretched by a random 0-100 %, reset after 120 s without an error
//! (`DefaultBackoff` in kube-runtime's `watcher.rs`). Every retry of a
//! failed LIST begins with an `Event::Init`, which is not an error, so the
//! backoff resets before each retry and never grows past its first step: a
//! LIST that keeps answering 404 is retried every 0.8 to 1.6 s for ever.
//! The informer counts as synced once `Store::wait_until_ready` resolves,
//! which needs a complete first list.

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::runtime::reflector::store::{Store, Writer};
use kube::runtime::utils::{Backoff, ResetTimerBackoff};
use kube::runtime::watcher::{self, Event, ExponentialBackoff};
use kube::runtime::WatchStreamExt;
use rand::{rngs::SmallRng, Rng, SeedableRng};
use stallsim_client::api_error;

use crate::{EventSink, Informer, ManagerEvent};

/// kube-runtime's `DefaultBackoff`: the first delay.
const BACKOFF_INITIAL: Duration = Duration::from_millis(800);
/// kube-runtime's `DefaultBackoff`: the longest delay.
const BACKOFF_CAP: Duration = Duration::from_secs(30);
const BACKOFF_FACTOR: f32 = 2.0;
/// kube-runtime's `DefaultBackoff`: a retry this long after the previous
/// one starts the delays over.
const BACKOFF_RESET_AFTER: Duration = Duration::from_secs(120);

/// Runs kube-runtime's watcher and reflector for `informer` until dropped.
pub(crate) async fn run(
    client: kube::Client,
    informer: Rc<Informer>,
    sink: Rc<dyn EventSink>,
    seed: u64,
) {
    let resource = &informer.resource;
    let gvk = GroupVersionKind::gvk(&resource.group, &resource.version, &resource.kind);
    let api_resource = ApiResource::from_gvk_with_plural(&gvk, &resource.plural);
    let api: Api<DynamicObject> = Api::all_with(client, &api_resource);
    let writer = Writer::new(api_resource);
    let store = writer.as_reader();
    let last_delay = Arc::new(AtomicU64::new(0));
    let backoff = ResetTimerBackoff::new(
        SeededBackoff::new(seed, last_delay.clone()),
        BACKOFF_RESET_AFTER,
    );
    let events = watcher::watcher(api, watcher::Config::default())
        .backoff(backoff)
        .reflect(writer);
    let mut events = std::pin::pin!(events);
    let ready = store.wait_until_ready();
    let mut ready = std::pin::pin!(ready);
    let kind = informer.kind.to_string();
    loop {
        tokio::select! {
            biased;
            answer = &mut ready, if !informer.has_synced() => {
                if answer.is_err() {
                    // The writer is gone: the watcher ended, and nothing
                    // will fill the store again.
                    return;
                }
                informer.mark_synced();
                sink.record(ManagerEvent::InformerSynced { kind: kind.clone() });
            }
            event = events.next() => {
                let Some(event) = event else { return };
                match event {
                    Ok(Event::Init) => informer.count_list_attempt(),
                    // The list pages are buffered until the list is whole.
                    Ok(Event::InitApply(_)) => {}
                    Ok(Event::InitDone) => {
                        copy_store(&store, &informer);
                        sink.record(ManagerEvent::ListSucceeded {
                            kind: kind.clone(),
                            items: informer.items().len(),
                            // The watcher keeps the list's version to itself.
                            resource_version: String::new(),
                        });
                    }
                    Ok(Event::Apply(_) | Event::Delete(_)) => copy_store(&store, &informer),
                    Err(error) => {
                        let retry_in_ms = last_delay.load(Ordering::Relaxed);
                        record_error(&*sink, &informer, &kind, error, retry_in_ms);
                    }
                }
            }
        }
    }
}

/// The store's objects into the informer the rest of the core reads (which
/// orders them: the store's own order follows a randomly seeded hash).
fn copy_store(store: &Store<DynamicObject>, informer: &Informer) {
    informer.replace(store.state().iter().map(|o| (**o).clone()).collect());
}

fn record_error(
    sink: &dyn EventSink,
    informer: &Informer,
    kind: &str,
    error: watcher::Error,
    retry_in_ms: u64,
) {
    match error {
        watcher::Error::InitialListFailed(error) => {
            let error = api_error(error).to_string();
            informer.set_last_error(&error);
            sink.record(ManagerEvent::ListFailed {
                kind: kind.to_string(),
                error,
                attempt: informer.list_attempts(),
                retry_in_ms,
            });
        }
        watcher::Error::WatchStartFailed(error) | watcher::Error::WatchFailed(error) => {
            sink.record(ManagerEvent::WatchEnded {
                kind: kind.to_string(),
                reason: api_error(error).to_string(),
            });
        }
        other => sink.record(ManagerEvent::WatchEnded {
            kind: kind.to_string(),
            reason: other.to_string(),
        }),
    }
}

/// kube-runtime's exponential backoff with jitter drawn from the process's
/// seed: every reset starts a new jittered sequence, as kube-runtime's does
/// with an unseeded one. Notes the last delay for the trace.
struct SeededBackoff {
    rng: SmallRng,
    inner: ExponentialBackoff,
    last_delay_ms: Arc<AtomicU64>,
}

impl SeededBackoff {
    fn new(seed: u64, last_delay_ms: Arc<AtomicU64>) -> Self {
        let mut rng = SmallRng::seed_from_u64(seed);
        let inner = sequence(&mut rng);
        SeededBackoff {
            rng,
            inner,
            last_delay_ms,
        }
    }
}

fn sequence(rng: &mut SmallRng) -> ExponentialBackoff {
    backon::ExponentialBuilder::default()
        .with_min_delay(BACKOFF_INITIAL)
        .with_max_delay(BACKOFF_CAP)
        .with_factor(BACKOFF_FACTOR)
        .without_max_times()
        .with_jitter()
        .with_jitter_seed(rng.random())
        .into()
}

impl Iterator for SeededBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let delay = self.inner.next()?;
        self.last_delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
        Some(delay)
    }
}

impl Backoff for SeededBackoff {
    fn reset(&mut self) {
        self.inner = sequence(&mut self.rng);
    }
}
