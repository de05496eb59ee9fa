//! Components: the informer-based processes a world runs, each a
//! deployment of its own (its pods, the process they run, the kubelet's
//! probes of them), all on the one fake API server.
//!
//! The resource manager is the world's first component: `WorldConfig`'s
//! `replicas` running its `manager`, probed as `kubelet` says, its pods
//! labelled `app=gardener-resource-manager`. `WorldConfig::components`
//! holds any further ones.

use serde::Serialize;
use stallsim_manager::ManagerConfig;

use crate::{ProbeConfig, Program, ReplicaSpec, WorldConfig};

/// The resource manager's name: its deployment's, its pods' `app` label
/// and its container's.
pub const RESOURCE_MANAGER: &str = "gardener-resource-manager";

/// The hosts a world runs besides the replicas: no replica may take
/// their names (a host name is a replica's name).
pub const RESERVED_HOSTS: [&str; 4] = [
    crate::APISERVER_HOST,
    crate::world::KUBELET_HOST,
    crate::world::FLOW_HOST,
    crate::nodes::CONTROLLER_MANAGER_HOST,
];

/// One component: a deployment of replicas, each running `process`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentConfig {
    /// The deployment's name, its pods' `app` label and its container's
    /// name; the deletion flow names a component by it.
    pub name: String,
    /// Its pods; their names are host names, unique in the world.
    pub replicas: Vec<ReplicaSpec>,
    /// The process every replica runs (written as `manager` or `program`).
    #[serde(flatten)]
    pub process: ComponentProcess,
    /// The kubelet's liveness probe of its pods (`/healthz`).
    pub liveness: ProbeConfig,
    /// The kubelet's readiness probe of its pods (`/readyz`).
    pub readiness: ProbeConfig,
}

/// What a component's replicas run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComponentProcess {
    /// An informer-based process of the resource manager's design, as its
    /// configuration describes it; `identity` is set per replica.
    Manager(ManagerConfig),
    /// The user's own code.
    Program(Program),
}

impl ComponentProcess {
    /// The manager's configuration, unless the component runs a program.
    pub fn manager(&self) -> Option<&ManagerConfig> {
        match self {
            ComponentProcess::Manager(manager) => Some(manager),
            ComponentProcess::Program(_) => None,
        }
    }

    /// The manager's configuration to change, unless the component runs a
    /// program.
    pub fn manager_mut(&mut self) -> Option<&mut ManagerConfig> {
        match self {
            ComponentProcess::Manager(manager) => Some(manager),
            ComponentProcess::Program(_) => None,
        }
    }

    /// The program, if the component runs one.
    pub fn program(&self) -> Option<&Program> {
        match self {
            ComponentProcess::Manager(_) => None,
            ComponentProcess::Program(program) => Some(program),
        }
    }
}

impl WorldConfig {
    /// Every component of the world: the resource manager (when it has
    /// replicas), then `components` in order.
    pub fn all_components(&self) -> Vec<ComponentConfig> {
        let primary = (!self.replicas.is_empty()).then(|| ComponentConfig {
            name: RESOURCE_MANAGER.to_string(),
            replicas: self.replicas.clone(),
            process: ComponentProcess::Manager(self.manager.clone()),
            liveness: self.kubelet.liveness.clone(),
            readiness: self.kubelet.readiness.clone(),
        });
        primary
            .into_iter()
            .chain(self.components.iter().cloned())
            .collect()
    }

    /// Every replica of every component, in the order of
    /// [`WorldConfig::all_components`].
    pub fn all_replicas(&self) -> Vec<&ReplicaSpec> {
        self.replicas
            .iter()
            .chain(self.components.iter().flat_map(|c| c.replicas.iter()))
            .collect()
    }

    /// Sets the candidate fixes of every component's process.
    pub fn set_mitigations(&mut self, mitigations: &stallsim_manager::Mitigations) {
        self.manager.mitigations = mitigations.clone();
        for component in &mut self.components {
            if let Some(manager) = component.process.manager_mut() {
                manager.mitigations = mitigations.clone();
            }
        }
    }

    /// Binds `program`'s code to every component that runs a program of
    /// its name; false when none does.
    pub fn bind_program(&mut self, program: &Program) -> bool {
        let mut bound = false;
        for component in &mut self.components {
            if let ComponentProcess::Program(p) = &mut component.process {
                if p.name() == program.name() {
                    *p = program.clone();
                    bound = true;
                }
            }
        }
        bound
    }

    /// The programs of the world's components not bound to code, by name.
    pub fn unbound_programs(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for program in self.components.iter().filter_map(|c| c.process.program()) {
            if !program.is_bound() && !names.contains(&program.name()) {
                names.push(program.name());
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_world_is_the_resource_manager_alone() {
        let config = WorldConfig::default();
        let components = config.all_components();
        assert_eq!(components.len(), 1);
        assert_eq!(components[0].name, RESOURCE_MANAGER);
        assert_eq!(components[0].replicas, config.replicas);
        assert_eq!(config.all_replicas().len(), 2);
    }

    #[test]
    fn further_components_follow_the_resource_manager() {
        let mut config = WorldConfig::default();
        let mut other = config.all_components().remove(0);
        other.name = "operator".to_string();
        other.replicas[0].name = "op-0".to_string();
        other.replicas.truncate(1);
        config.components.push(other);
        let names: Vec<&str> = config
            .all_replicas()
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(names, ["grm-0", "grm-1", "op-0"]);
        config.replicas.clear();
        assert_eq!(config.all_components()[0].name, "operator");
    }
}
