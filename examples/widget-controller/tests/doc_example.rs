use std::{cell::Cell, rc::Rc};

use futures::StreamExt;
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::{Api, CustomResource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use stallsim::{Process, Program, Scenario};

#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[kube(group = "example.com", version = "v1", kind = "Widget", namespaced)]
pub struct WidgetSpec {
    size: u32,
}

/// Caches every widget; ready once its cache has synced.
fn controller() -> Program {
    Program::new("widget-cache", |p: Process| async move {
        let (store, writer) = reflector::store::<Widget>();
        let synced = Rc::new(Cell::new(false));
        let ready = synced.clone();
        p.set_health(
            move || ready.get().then_some(()).ok_or("cache not synced".into()),
            || Ok(()),
        );
        let watch = reflector(writer, watcher(Api::all(p.client()), Default::default()));
        let cache = watch
            .default_backoff()
            .applied_objects()
            .for_each(|_| async {});
        let sync = async {
            let _ = store.wait_until_ready().await;
            synced.set(true);
            std::future::pending::<()>().await
        };
        tokio::select! { biased; () = p.shutdown() => {}, () = cache => {}, () = sync => {} }
    })
}

#[test]
fn a_restart_after_the_crd_is_gone_stalls() {
    let s = Scenario::from_file("scenarios/widget-cache.yaml").unwrap();
    let s = s.program(controller()).unwrap();
    let e = s.explore().runs(16).run().unwrap();
    let stalls = e.stall_rate();
    assert!(stalls.count > 0 && stalls.count < 16, "{stalls:?}");
}
