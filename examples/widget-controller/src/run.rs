//! A process's life: a standby until it holds the lease, then the leader
//! running the widget controller, until shutdown or the lease is lost.

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use kube::api::Api;
use kube::runtime::{watcher, Controller};
use kube::Client;

use crate::leader::{Clock, LeaderElector, Timings};
use crate::readiness::{Readiness, State};
use crate::reconcile::{error_policy, reconcile, Context};
use crate::{Error, HostWork, Widget};

/// How the leader starts its widget controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// Start it at once and report ready once its store has synced. A
    /// leader that starts after the Widget CRD was deleted waits for a
    /// store that never syncs: its LIST answers 404 for ever.
    WaitForStore,
    /// Ask discovery first whether widgets are served, and again every
    /// `retry_period` until the store has synced: while they are not, stop
    /// the controller and report ready with nothing to reconcile.
    CheckServed,
}

/// What a process runs with.
pub struct Settings {
    /// The namespace of the Lease.
    pub lease_namespace: String,
    /// The name of the Lease.
    pub lease_name: String,
    /// This process's name in the Lease: its pod's.
    pub identity: String,
    pub timings: Timings,
    /// Where the Lease's times come from.
    pub clock: Clock,
    pub design: Design,
    /// Where reconciles' requests run: [`HostWork::inline`] on a cluster.
    pub host: HostWork,
}

/// Runs one process: the election, then the controller while leading.
/// Ends `Ok` at `shutdown` (releasing the lease if held), or with
/// [`Error::LeadershipLost`].
pub async fn run(
    client: Client,
    settings: Settings,
    readiness: Readiness,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let leases = Api::namespaced(client.clone(), &settings.lease_namespace);
    let mut elector = LeaderElector::new(
        leases,
        settings.lease_name.clone(),
        settings.identity.clone(),
        settings.timings,
        Arc::clone(&settings.clock),
    );
    readiness.set(State::Standby);
    tokio::pin!(shutdown);
    tokio::select! {
        biased;
        () = elector.acquire() => {}
        () = &mut shutdown => return Ok(()),
    }
    let lost = {
        let lead = lead(&client, &settings, &readiness);
        tokio::select! {
            biased;
            () = lead => false,
            () = elector.hold() => true,
            () = &mut shutdown => false,
        }
    };
    if lost {
        return Err(Error::LeadershipLost);
    }
    elector.release().await;
    Ok(())
}

/// The leader's work: the widget controller, for ever.
async fn lead(client: &Client, settings: &Settings, readiness: &Readiness) {
    loop {
        if settings.design == Design::CheckServed {
            while served(client).await != Some(true) {
                readiness.set(State::Unserved);
                tokio::time::sleep(settings.timings.retry_period).await;
            }
        }
        readiness.set(State::Syncing);
        let controller = Controller::new(
            Api::<Widget>::all(client.clone()),
            watcher::Config::default(),
        );
        let store = controller.store();
        let running = controller
            .run(
                reconcile,
                error_policy,
                Arc::new(Context {
                    client: client.clone(),
                    host: settings.host.clone(),
                }),
            )
            .for_each(|_| async {});
        let synced = async {
            if store.wait_until_ready().await.is_ok() {
                readiness.set(State::Leading);
            }
        };
        let gone = async {
            if settings.design == Design::CheckServed {
                loop {
                    tokio::time::sleep(settings.timings.retry_period).await;
                    if readiness.get() == State::Leading {
                        return futures::future::pending().await;
                    }
                    if served(client).await == Some(false) {
                        return;
                    }
                }
            }
            futures::future::pending().await
        };
        tokio::select! {
            biased;
            _ = futures::future::join(running, synced) => return,
            () = gone => {}
        }
    }
}

/// Whether discovery lists widgets; `None` when it could not be asked.
async fn served(client: &Client) -> Option<bool> {
    match client.list_api_group_resources("example.com/v1").await {
        Ok(list) => Some(list.resources.iter().any(|r| r.name == "widgets")),
        Err(kube::Error::Api(status)) if status.code == 404 => Some(false),
        Err(_) => None,
    }
}
