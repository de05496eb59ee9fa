//! The informer cache behind the cached client: one informer per kind,
//! created on first read, each with its reflector task; and the uncached
//! API reader beside it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use rand::{rngs::SmallRng, Rng, SeedableRng};
use stallsim_client::{ApiClient, ApiError, DynamicObject, ListParams};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::informer::Reflector;
use crate::runtime_informer;
use crate::{
    EventSink, Gvk, Informer, InformerLibrary, ManagerEvent, MapperError, ReflectorConfig,
    RestMapper,
};

#[derive(Clone, Debug, PartialEq)]
pub enum CacheError {
    Mapping(MapperError),
    /// An uncached read's request failed.
    Api(ApiError),
    /// The caller's deadline passed before the informer synced.
    SyncTimeout(Gvk),
}

impl CacheError {
    pub fn is_no_match(&self) -> bool {
        matches!(self, CacheError::Mapping(MapperError::NoMatch(_)))
    }

    /// A NotFound from the server. A cached read waits for its informer
    /// rather than failing so; an uncached read of a deleted CRD's kind does.
    pub fn is_not_found(&self) -> bool {
        match self {
            CacheError::Api(e) | CacheError::Mapping(MapperError::Discovery(e)) => e.is_not_found(),
            _ => false,
        }
    }
}

impl std::fmt::Display for CacheError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheError::Mapping(e) => e.fmt(f),
            CacheError::Api(e) => e.fmt(f),
            CacheError::SyncTimeout(gvk) => write!(
                f,
                "failed to list {}List: Timeout: failed waiting for *v1.PartialObjectMetadata Informer to sync",
                gvk
            ),
        }
    }
}

struct Entry {
    informer: Rc<Informer>,
    task: JoinHandle<()>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Informers by kind, created lazily. Dropping the cache stops them all.
pub struct Cache<C> {
    client: C,
    mapper: Rc<RestMapper>,
    config: ReflectorConfig,
    not_found_list_is_empty: bool,
    sink: Rc<dyn EventSink>,
    rng: RefCell<SmallRng>,
    informers: RefCell<BTreeMap<Gvk, Entry>>,
}

impl<C: ApiClient + Clone + 'static> Cache<C> {
    pub fn new(
        client: C,
        mapper: Rc<RestMapper>,
        config: ReflectorConfig,
        not_found_list_is_empty: bool,
        sink: Rc<dyn EventSink>,
        seed: u64,
    ) -> Self {
        Cache {
            client,
            mapper,
            config,
            not_found_list_is_empty,
            sink,
            rng: RefCell::new(SmallRng::seed_from_u64(seed)),
            informers: RefCell::default(),
        }
    }

    /// The informer for `kind`, created and started on first use.
    pub async fn informer(&self, kind: &Gvk) -> Result<Rc<Informer>, CacheError> {
        if let Some(entry) = self.informers.borrow().get(kind) {
            return Ok(entry.informer.clone());
        }
        let resource = self
            .mapper
            .mapping(&self.client, kind, &*self.sink)
            .await
            .map_err(CacheError::Mapping)?;
        // Another task may have created it while the mapper was asking.
        if let Some(entry) = self.informers.borrow().get(kind) {
            return Ok(entry.informer.clone());
        }
        let informer = Informer::new(kind.clone(), resource.clone());
        self.sink.record(ManagerEvent::InformerCreated {
            kind: kind.to_string(),
            resource: resource.qualified_name(),
        });
        let seed = self.rng.borrow_mut().random();
        let task = match (self.config.library, self.client.kube_client()) {
            (InformerLibrary::KubeRuntime, Some(kube)) => tokio::task::spawn_local(
                runtime_informer::run(kube, informer.clone(), self.sink.clone(), seed),
            ),
            (InformerLibrary::KubeRuntime, None) => {
                panic!("kube-runtime's informer runs on a kube::Client, and this client has none")
            }
            (InformerLibrary::ClientGo, _) => {
                let reflector = Reflector {
                    client: self.client.clone(),
                    config: self.config.clone(),
                    sink: self.sink.clone(),
                    rng: SmallRng::seed_from_u64(seed),
                    not_found_list_is_empty: self.not_found_list_is_empty,
                };
                tokio::task::spawn_local(reflector.run(informer.clone()))
            }
        };
        self.informers.borrow_mut().insert(
            kind.clone(),
            Entry {
                informer: informer.clone(),
                task,
            },
        );
        Ok(informer)
    }

    /// Lists `kind` from the cache, waiting until `deadline` for its informer
    /// to sync (controller-runtime's cached `List`).
    pub async fn list(
        &self,
        kind: &Gvk,
        deadline: Instant,
    ) -> Result<Vec<DynamicObject>, CacheError> {
        let informer = self.informer(kind).await?;
        if !informer.has_synced()
            && tokio::time::timeout_at(deadline, informer.wait_for_sync())
                .await
                .is_err()
        {
            return Err(CacheError::SyncTimeout(kind.clone()));
        }
        Ok(informer.items())
    }

    /// Lists `kind` straight from the API server (controller-runtime's API
    /// reader): no informer, no waiting, the server's answer as it is.
    pub async fn list_uncached(&self, kind: &Gvk) -> Result<Vec<DynamicObject>, CacheError> {
        let resource = self
            .mapper
            .mapping(&self.client, kind, &*self.sink)
            .await
            .map_err(CacheError::Mapping)?;
        let list = self
            .client
            .list(&resource, &ListParams::default())
            .await
            .map_err(CacheError::Api)?;
        Ok(list.items)
    }

    /// Stops and forgets the informer of `kind`.
    pub fn remove(&self, kind: &Gvk) {
        if self.informers.borrow_mut().remove(kind).is_some() {
            self.sink.record(ManagerEvent::InformerRemoved {
                kind: kind.to_string(),
            });
        }
    }

    /// Stops every informer, as a stopping manager stops its caches; they
    /// keep what they had (synced or not), and nothing lists again.
    pub fn stop(&self) {
        for entry in self.informers.borrow().values() {
            entry.task.abort();
        }
    }

    /// Whether the cache holds an informer for `kind`.
    pub fn has(&self, kind: &Gvk) -> bool {
        self.informers.borrow().contains_key(kind)
    }

    /// Every informer that has not synced yet, oldest first by kind order.
    pub fn unsynced(&self) -> Vec<Rc<Informer>> {
        self.informers
            .borrow()
            .values()
            .filter(|e| !e.informer.has_synced())
            .map(|e| e.informer.clone())
            .collect()
    }
}
