//! The empty world: the same hosts, tick and duration with idle software,
//! the floor a run's cost is measured against.

use std::time::Duration;

use crate::WorldConfig;

/// Steps a world of idle hosts shaped like `config` for its duration.
/// Returns the number of steps taken.
pub fn run_empty(config: &WorldConfig) -> u64 {
    let mut sim = turmoil::Builder::new()
        .simulation_duration(config.duration + Duration::from_secs(3600))
        .tick_duration(config.tick)
        .rng_seed(config.seed)
        .build();
    let mut hosts = vec!["apiserver".to_string(), "kubelet".to_string()];
    if config.flow.is_some() {
        hosts.push("flow".to_string());
    }
    hosts.extend(config.replicas.iter().map(|r| r.name.clone()));
    for host in &hosts {
        sim.host(host.as_str(), std::future::pending::<turmoil::Result>);
    }
    let mut steps = 0;
    while sim.elapsed() < config.duration {
        sim.step().expect("idle hosts never fail");
        steps += 1;
    }
    steps
}
