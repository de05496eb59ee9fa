//! A bounded load on the HTTP face over loopback: many watchers and a
//! steady write rate for a fixed time. Every watcher must see every change,
//! in order, and the process's peak memory must stay bounded. Prints its
//! figures (`cargo test --release -p stallsim-apiserver --test http_load --
//! --nocapture`).

#[path = "http/support.rs"]
mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;
use stallsim_apiserver::ApiServerConfig;

/// Concurrent watches, each on its own connection.
const WATCHERS: usize = 100;
/// Writes per second the writer aims at.
const WRITES_PER_SECOND: u64 = 400;
/// How long the writer writes.
const WRITE_DURATION: Duration = Duration::from_secs(5);
/// Names the writes cycle through: create, update, delete each in turn.
const NAMES: usize = 20;
/// The most the process's peak resident memory may grow by under the load.
const PEAK_GROWTH_MAX_MIB: u64 = 512;
/// A guard against a hang while the watchers catch up, not a measure.
const CATCH_UP_WAIT_MAX: Duration = Duration::from_secs(60);

/// One change as the writer made it and a watcher must see it.
type Seen = (&'static str, String, String);

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn config_map(name: &str, value: u64) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"n": value.to_string()}}))
        .expect("a ConfigMap")
}

fn version(object: &ConfigMap) -> String {
    object.metadata.resource_version.clone().unwrap_or_default()
}

fn name(object: &ConfigMap) -> String {
    object.metadata.name.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_watchers_see_every_change_in_order() {
    let start_rss_kib = status_kib("VmHWM:");
    let address = support::spawn_server(ApiServerConfig::default(), Vec::new());
    let client = support::kube_client(address);
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let from = api
        .list(&ListParams::default())
        .await
        .expect("a list")
        .metadata
        .resource_version
        .expect("a list version");

    let (writes_sender, writes_receiver) = tokio::sync::watch::channel(None::<usize>);
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        // Each watcher its own client, so its own connection.
        let api: Api<ConfigMap> = Api::namespaced(support::kube_client(address), "default");
        let stream = api
            .watch(&WatchParams::default().timeout(290), &from)
            .await
            .expect("a watch");
        let mut total = writes_receiver.clone();
        watchers.push(tokio::spawn(async move {
            let mut stream = stream.boxed();
            let mut seen: Vec<Seen> = Vec::new();
            loop {
                if total.borrow().is_some_and(|total| seen.len() >= total) {
                    return seen;
                }
                tokio::select! {
                    event = stream.next() => match event {
                        Some(Ok(WatchEvent::Added(o))) => seen.push(("ADDED", name(&o), version(&o))),
                        Some(Ok(WatchEvent::Modified(o))) => seen.push(("MODIFIED", name(&o), version(&o))),
                        Some(Ok(WatchEvent::Deleted(o))) => seen.push(("DELETED", name(&o), version(&o))),
                        Some(Ok(WatchEvent::Bookmark(_))) => {}
                        other => panic!("the watch broke after {} events: {other:?}", seen.len()),
                    },
                    _ = total.changed() => {}
                }
            }
        }));
    }

    // The writer: one change per tick, cycling create, update, delete.
    let mut written: Vec<Seen> = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / WRITES_PER_SECOND));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let began = Instant::now();
    let mut n: u64 = 0;
    while began.elapsed() < WRITE_DURATION {
        ticks.tick().await;
        let slot = (n as usize) % (NAMES * 3);
        let name_ = format!("cm-{}", slot % NAMES);
        let change = match slot / NAMES {
            0 => {
                let o = api
                    .create(&PostParams::default(), &config_map(&name_, n))
                    .await
                    .unwrap();
                ("ADDED", name(&o), version(&o))
            }
            1 => {
                let mut o = api.get(&name_).await.unwrap();
                o.data = config_map(&name_, n).data;
                let o = api
                    .replace(&name_, &PostParams::default(), &o)
                    .await
                    .unwrap();
                ("MODIFIED", name(&o), version(&o))
            }
            _ => {
                let o = api
                    .delete(&name_, &DeleteParams::default())
                    .await
                    .unwrap()
                    .left()
                    .expect("the deleted object");
                ("DELETED", name(&o), version(&o))
            }
        };
        written.push(change);
        n += 1;
    }
    let writing = began.elapsed();
    writes_sender.send(Some(written.len())).unwrap();

    let mut delivered = 0;
    for watcher in watchers {
        let seen = tokio::time::timeout(CATCH_UP_WAIT_MAX, watcher)
            .await
            .expect("the watchers catch up")
            .expect("no watcher panics");
        assert_eq!(seen.len(), written.len(), "a watcher lost events");
        assert!(
            seen == written,
            "a watcher saw the changes out of order or altered"
        );
        delivered += seen.len();
    }
    let all = began.elapsed();
    let peak_rss_kib = status_kib("VmHWM:");
    let growth_mib = peak_rss_kib.saturating_sub(start_rss_kib) / 1024;
    println!(
        "load: {WATCHERS} watchers, {} writes (aiming at {WRITES_PER_SECOND}/s) in {:.1} s ({:.0} writes/s), {delivered} events \
         delivered in {:.1} s ({:.0} events/s), none lost or reordered; peak RSS {} MiB \
         (grew {growth_mib} MiB)",
        written.len(),
        writing.as_secs_f64(),
        written.len() as f64 / writing.as_secs_f64(),
        all.as_secs_f64(),
        delivered as f64 / all.as_secs_f64(),
        peak_rss_kib / 1024,
    );
    assert!(
        growth_mib <= PEAK_GROWTH_MAX_MIB,
        "peak memory grew {growth_mib} MiB"
    );
}
