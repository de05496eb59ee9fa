//! kube-runtime's `Controller` with `finalizer()` against the face on a
//! loopback socket, in real time: a widget created is given the finalizer
//! and its status written (`/status`, `observedGeneration`); a spec change
//! is reconciled again; a delete runs the cleanup, removes the finalizer,
//! and the widget is gone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::finalizer::{finalizer, Event};
use kube::runtime::watcher;
use serde_json::json;
use stallsim_apiserver::{ApiServerConfig, CrdSpec};

use crate::support::{kube_client, spawn_server};

const FINALIZER: &str = "widgets.example.com/cleanup";

fn widgets() -> CrdSpec {
    CrdSpec {
        group: "example.com".to_string(),
        version: "v1".to_string(),
        kind: "Widget".to_string(),
        plural: "widgets".to_string(),
        namespaced: true,
        status_subresource: true,
    }
}

#[derive(Debug)]
struct Failed(String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

struct Context {
    api: Api<DynamicObject>,
    cleanups: AtomicUsize,
}

async fn reconcile(widget: Arc<DynamicObject>, context: Arc<Context>) -> Result<Action, Failed> {
    let api = &context.api;
    finalizer(api, FINALIZER, widget, |event| async {
        match event {
            Event::Apply(widget) => {
                let name = widget.metadata.name.clone().unwrap_or_default();
                let status = json!({"status": {
                    "observedGeneration": widget.metadata.generation,
                    "ready": true,
                }});
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(status))
                    .await
                    .map_err(|e| Failed(e.to_string()))?;
            }
            Event::Cleanup(_) => {
                context.cleanups.fetch_add(1, Ordering::SeqCst);
            }
        }
        Ok::<_, Failed>(Action::await_change())
    })
    .await
    .map_err(|e| Failed(e.to_string()))
}

/// Polls `check` every 20ms until it answers `Some`, for at most 10s.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_with_a_finalizer_reconciles_and_deletes_a_widget() {
    let client = kube_client(spawn_server(ApiServerConfig::default(), vec![widgets()]));
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", "v1", "Widget"),
        "widgets",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &resource);
    let context = Arc::new(Context {
        api: api.clone(),
        cleanups: AtomicUsize::new(0),
    });
    let controller =
        Controller::new_with(api.clone(), watcher::Config::default(), resource.clone())
            .run(
                reconcile,
                |_, _, _| Action::requeue(Duration::from_millis(100)),
                Arc::clone(&context),
            )
            .for_each(|_| async {});
    let controller = tokio::spawn(controller);

    let widget: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w"}, "spec": {"size": 1},
    }))
    .unwrap();
    api.create(&PostParams::default(), &widget).await.unwrap();
    let reconciled = |generation: i64| {
        let api = api.clone();
        move || {
            let api = api.clone();
            async move {
                let widget = api.get("w").await.ok()?;
                let observed = widget.data["status"]["observedGeneration"].as_i64();
                (observed == Some(generation)).then_some(widget)
            }
        }
    };
    let first = eventually("generation 1 reconciled", reconciled(1)).await;
    assert_eq!(first.metadata.finalizers, Some(vec![FINALIZER.to_string()]));
    assert_eq!(first.data["status"]["ready"], true);
    assert_eq!(first.data["spec"], json!({"size": 1}));

    let spec = json!({"spec": {"size": 2}});
    api.patch("w", &PatchParams::default(), &Patch::Merge(spec))
        .await
        .unwrap();
    let second = eventually("generation 2 reconciled", reconciled(2)).await;
    assert_eq!(second.data["spec"], json!({"size": 2}));

    api.delete("w", &DeleteParams::default()).await.unwrap();
    eventually("the widget deleted", || {
        let api = api.clone();
        async move { api.get_opt("w").await.ok()?.is_none().then_some(()) }
    })
    .await;
    assert_eq!(context.cleanups.load(Ordering::SeqCst), 1);
    controller.abort();
}
