//! The controller inside stallsim (feature `simulation`): the programs a
//! scenario file's `program: widget-controller` and `program:
//! widget-maker` are bound to.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use k8s_openapi::jiff::SignedDuration;
use kube::api::{Api, PostParams};
use stallsim::{Process, Program};
use tokio::time::Instant;

use crate::{run, Design, HostWork, Readiness, Settings, Timings, Widget, WidgetSpec};

/// The port `/readyz` is served on, as a scenario's `httpGet` probe names it.
pub const READYZ_PORT: u16 = 8080;

/// The program `widget-controller`: [`run`] in `design`, its readiness on
/// [`READYZ_PORT`], the Lease's times from the simulated wall clock.
pub fn controller(design: Design) -> Program {
    Program::new("widget-controller", move |process| run_in(process, design))
}

async fn run_in(process: Process, design: Design) {
    let readiness = Readiness::default();
    let listener = match process.listen(READYZ_PORT).await {
        Ok(listener) => listener,
        Err(error) => return process.note(format!("no port {READYZ_PORT}: {error}")),
    };
    // The simulated wall clock, read without the process: its time at
    // start plus tokio's (simulated) time since.
    let (wall, start) = (process.now(), Instant::now());
    let clock = Arc::new(move || {
        let elapsed = SignedDuration::try_from(start.elapsed()).unwrap_or(SignedDuration::MAX);
        wall.saturating_add(elapsed).unwrap_or(wall)
    });
    let (host, host_worker) = HostWork::on_host();
    let settings = Settings {
        lease_namespace: process.namespace().to_string(),
        lease_name: "widget-controller".to_string(),
        identity: process.pod().to_string(),
        timings: Timings::default(),
        clock,
        design,
        host,
    };
    let running = run(
        process.client(),
        settings,
        readiness.clone(),
        process.shutdown(),
    );
    // `/readyz` on every connection accepted; they live inside the
    // process and die with it.
    let mut connections = FuturesUnordered::new();
    tokio::pin!(running);
    tokio::pin!(host_worker);
    loop {
        tokio::select! {
            biased;
            result = &mut running => {
                if let Err(error) = result {
                    process.note(format!("exits: {error}"));
                }
                return;
            }
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    connections.push(readiness.clone().serve(stream));
                }
            }
            Some(_) = connections.next(), if !connections.is_empty() => {}
            () = &mut host_worker => {}
        }
    }
}

/// How often the maker checks its widgets.
const MAKER_CHECK_PERIOD: Duration = Duration::from_secs(1);

/// The program `widget-maker`: creates `count` widgets (`widget-0`, …) in
/// its namespace, retrying until each exists, and is ready only once
/// every one of them is reconciled (`status.observedGeneration` is its
/// generation), so that a run's verdict covers the controller's work.
pub fn maker(count: usize) -> Program {
    Program::new("widget-maker", move |process| make(process, count))
}

async fn make(process: Process, count: usize) {
    let reconciled = Rc::new(Cell::new(false));
    let ready = Rc::clone(&reconciled);
    process.set_health(
        move || match ready.get() {
            true => Ok(()),
            false => Err("widgets not reconciled".to_string()),
        },
        || Ok(()),
    );
    let widgets: Api<Widget> = Api::namespaced(process.client(), process.namespace());
    let names: Vec<String> = (0..count).map(|i| format!("widget-{i}")).collect();
    let shutdown = process.shutdown();
    tokio::pin!(shutdown);
    loop {
        let mut all = true;
        for name in &names {
            all &= match widgets.get_opt(name).await {
                Ok(Some(widget)) => {
                    let observed = widget.status.as_ref().and_then(|s| s.observed_generation);
                    observed.is_some() && observed == widget.metadata.generation
                }
                Ok(None) => {
                    let widget = Widget::new(name, WidgetSpec { size: 1 });
                    let _ = widgets.create(&PostParams::default(), &widget).await;
                    false
                }
                Err(_) => false,
            };
        }
        reconciled.set(all);
        tokio::select! {
            biased;
            () = tokio::time::sleep(MAKER_CHECK_PERIOD) => {}
            () = &mut shutdown => return,
        }
    }
}
