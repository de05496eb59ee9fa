//! The REST mapper: kind → served resource, learned by discovery.
//!
//! Like controller-runtime's dynamic mapper, a positive mapping is never
//! dropped when a CRD goes away; the mapper asks the server again only after
//! a lookup found no match.

use std::cell::RefCell;
use std::collections::BTreeMap;

use stallsim_client::{ApiClient, ApiError, ResourceRef};

use crate::{EventSink, Gvk, ManagerEvent};

#[derive(Clone, Debug, PartialEq)]
pub enum MapperError {
    /// The server does not serve this kind (`meta.IsNoMatchError`).
    NoMatch(Gvk),
    Discovery(ApiError),
}

impl std::fmt::Display for MapperError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MapperError::NoMatch(gvk) => write!(
                f,
                "no matches for kind \"{}\" in version \"{}\"",
                gvk.kind,
                gvk.api_version()
            ),
            MapperError::Discovery(e) => write!(f, "discovery failed: {e}"),
        }
    }
}

/// Maps kinds to resources, discovering on first use or when told to.
#[derive(Debug, Default)]
pub struct RestMapper {
    mappings: RefCell<BTreeMap<Gvk, ResourceRef>>,
    discovered: RefCell<bool>,
}

impl RestMapper {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the server for every group and resource and adds what it serves;
    /// mappings learned before are kept. Returns how many resources were seen.
    pub async fn discover<C: ApiClient>(
        &self,
        client: &C,
        sink: &dyn EventSink,
    ) -> Result<usize, ApiError> {
        match fetch(client).await {
            Ok(found) => {
                let mut names: Vec<String> =
                    found.iter().map(|(_, r)| r.qualified_name()).collect();
                names.sort();
                let count = found.len();
                self.mappings.borrow_mut().extend(found);
                *self.discovered.borrow_mut() = true;
                sink.record(ManagerEvent::DiscoveryCompleted { resources: names });
                Ok(count)
            }
            Err(error) => {
                sink.record(ManagerEvent::DiscoveryFailed {
                    error: error.to_string(),
                });
                Err(error)
            }
        }
    }

    /// Forgets everything; the next lookup discovers again.
    pub fn reset(&self) {
        self.mappings.borrow_mut().clear();
        *self.discovered.borrow_mut() = false;
    }

    /// The resource serving `gvk`: from what is known, else after one reload.
    pub async fn mapping<C: ApiClient>(
        &self,
        client: &C,
        gvk: &Gvk,
        sink: &dyn EventSink,
    ) -> Result<ResourceRef, MapperError> {
        if *self.discovered.borrow() {
            if let Some(found) = self.known(gvk) {
                return Ok(found);
            }
        }
        self.discover(client, sink)
            .await
            .map_err(MapperError::Discovery)?;
        self.known(gvk).ok_or_else(|| {
            sink.record(ManagerEvent::MapperNoMatch {
                kind: gvk.to_string(),
            });
            MapperError::NoMatch(gvk.clone())
        })
    }

    /// The mapping known now, without asking the server.
    pub fn known(&self, gvk: &Gvk) -> Option<ResourceRef> {
        self.mappings.borrow().get(gvk).cloned()
    }
}

async fn fetch<C: ApiClient>(client: &C) -> Result<Vec<(Gvk, ResourceRef)>, ApiError> {
    let groups = client.server_groups().await?;
    let mut group_versions = vec![("".to_string(), "v1".to_string())];
    for group in &groups.groups {
        for version in &group.versions {
            group_versions.push((group.name.clone(), version.version.clone()));
        }
    }
    let mut found = Vec::new();
    for (group, version) in group_versions {
        let group_version = if group.is_empty() {
            version.clone()
        } else {
            format!("{group}/{version}")
        };
        let list = match client.server_resources(&group_version).await {
            Ok(list) => list,
            // The group went away between the two requests.
            Err(ApiError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        for resource in list.resources.iter().filter(|r| !r.name.contains('/')) {
            let gvk = Gvk::new(&group, &version, &resource.kind);
            let served = ResourceRef::new(
                &group,
                &version,
                &resource.name,
                &resource.kind,
                resource.namespaced,
            );
            found.push((gvk, served));
        }
    }
    Ok(found)
}
