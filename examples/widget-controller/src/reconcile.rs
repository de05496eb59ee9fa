//! One reconcile of a widget: its finalizer first, then its status.

use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{finalizer, Event};
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::{Error, HostWork, Widget};

/// The finalizer each widget carries while the controller owns it.
pub const FINALIZER: &str = "widgets.example.com/cleanup";

/// How long after a failed reconcile a widget is tried again.
pub(crate) const RETRY_AFTER_ERROR: Duration = Duration::from_secs(5);

/// What every reconcile gets: the client, and where its requests run.
pub(crate) struct Context {
    pub(crate) client: Client,
    pub(crate) host: HostWork,
}

pub(crate) async fn reconcile(widget: Arc<Widget>, context: Arc<Context>) -> Result<Action, Error> {
    let client = context.client.clone();
    context
        .host
        .run(reconcile_on_host(widget, client))
        .await
        .unwrap_or_else(|| Err(Error::Finalizer("the process is stopping".to_string())))
}

async fn reconcile_on_host(widget: Arc<Widget>, client: Client) -> Result<Action, Error> {
    let namespace = widget.namespace().unwrap_or_default();
    let api: Api<Widget> = Api::namespaced(client, &namespace);
    finalizer(&api, FINALIZER, widget, |event| async {
        match event {
            Event::Apply(widget) => apply(&api, &widget).await,
            // Nothing outside the widget to clean up; the finalizer shows
            // that a deleted widget is seen before it goes.
            Event::Cleanup(_) => Ok(Action::await_change()),
        }
    })
    .await
    .map_err(|error| match error {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        kube::runtime::finalizer::Error::AddFinalizer(e)
        | kube::runtime::finalizer::Error::RemoveFinalizer(e) => Error::Reconcile(e),
        other => Error::Finalizer(other.to_string()),
    })
}

/// Writes the status of a widget whose generation is not yet observed.
async fn apply(api: &Api<Widget>, widget: &Widget) -> Result<Action, Error> {
    let generation = widget.metadata.generation;
    let observed = widget.status.as_ref().and_then(|s| s.observed_generation);
    if observed != generation {
        let status = json!({"status": {"observedGeneration": generation, "ready": true}});
        api.patch_status(
            &widget.name_any(),
            &PatchParams::default(),
            &Patch::Merge(status),
        )
        .await
        .map_err(Error::Reconcile)?;
    }
    Ok(Action::await_change())
}

pub(crate) fn error_policy(_: Arc<Widget>, _: &Error, _: Arc<Context>) -> Action {
    Action::requeue(RETRY_AFTER_ERROR)
}
