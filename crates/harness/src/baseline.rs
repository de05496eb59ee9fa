//! The empty world: the same hosts, network and duration with idle
//! software, the floor a run's cost is measured against.

use crate::WorldConfig;

/// Runs a world of idle hosts shaped like `config` for its duration.
/// Returns the number of driver steps taken (one per tick boundary the
/// world's driver would visit if nothing ever fell due: none).
pub fn run_empty(config: &WorldConfig) -> u64 {
    let mut sim = stallsim_net::Builder::new()
        .seed(config.seed)
        .latency(config.network.latency_min, config.network.latency_max)
        .build();
    let mut hosts = vec!["apiserver".to_string(), "kubelet".to_string()];
    if config.flow.is_some() {
        hosts.push("flow".to_string());
    }
    hosts.extend(config.all_replicas().iter().map(|r| r.name.clone()));
    for host in &hosts {
        sim.host(host, std::future::pending::<()>);
    }
    let mut steps = 0;
    while sim.elapsed() < config.duration {
        sim.run_until(config.duration, &mut || false);
        steps += 1;
    }
    steps
}
