//! `kube::Client` (kube 5) against the face on a loopback socket: list,
//! watch, create, update with a conflict, delete, for namespaced,
//! cluster-scoped and custom resources, and leases.

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::Discovery;
use serde_json::json;
use stallsim_apiserver::{ApiServerConfig, CrdSpec};

use crate::support::{kube_client, spawn_server};

fn config_map(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "data": {"value": value},
    }))
    .expect("a ConfigMap")
}

fn conflict(error: kube::Error) -> u16 {
    match error {
        kube::Error::Api(status) => status.code,
        other => panic!("not an API error: {other}"),
    }
}

#[tokio::test]
async fn list_watch_create_update_delete() {
    let client = kube_client(spawn_server(ApiServerConfig::default(), Vec::new()));
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let created = api
        .create(&PostParams::default(), &config_map("a", "1"))
        .await
        .unwrap();
    let version = created.metadata.resource_version.clone().unwrap();
    let list = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert_eq!(
        list.metadata.resource_version.as_deref(),
        Some(version.as_str())
    );

    let mut watch = api
        .watch(&WatchParams::default().timeout(30), &version)
        .await
        .unwrap()
        .boxed();

    let mut stale = created.clone();
    stale.metadata.resource_version = Some("0".to_string());
    let error = api
        .replace("a", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    assert_eq!(conflict(error), 409);

    let mut update = created.clone();
    update.data = Some([("value".to_string(), "2".to_string())].into());
    let updated = api
        .replace("a", &PostParams::default(), &update)
        .await
        .unwrap();
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let error = api.get("a").await.unwrap_err();
    assert_eq!(conflict(error), 404);

    match watch.try_next().await.unwrap() {
        Some(WatchEvent::Modified(object)) => assert_eq!(object.metadata, updated.metadata),
        other => panic!("expected MODIFIED, got {other:?}"),
    }
    match watch.try_next().await.unwrap() {
        Some(WatchEvent::Deleted(object)) => assert_eq!(object.metadata.name.as_deref(), Some("a")),
        other => panic!("expected DELETED, got {other:?}"),
    }
}

#[tokio::test]
async fn cluster_scoped_objects_and_leases() {
    let client = kube_client(spawn_server(ApiServerConfig::default(), Vec::new()));
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let garden: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "garden"}})).unwrap();
    namespaces
        .create(&PostParams::default(), &garden)
        .await
        .unwrap();
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert_eq!(names, ["garden"]);

    let leases: Api<Lease> = Api::namespaced(client, "garden");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "grm"},
        "spec": {"holderIdentity": "replica-0", "leaseDurationSeconds": 15},
    }))
    .unwrap();
    let held = leases.create(&PostParams::default(), &lease).await.unwrap();
    // Two replicas read the same version; the second PUT loses.
    let mut first = held.clone();
    first.spec.as_mut().unwrap().holder_identity = Some("replica-1".to_string());
    let mut second = held.clone();
    second.spec.as_mut().unwrap().holder_identity = Some("replica-2".to_string());
    leases
        .replace("grm", &PostParams::default(), &first)
        .await
        .unwrap();
    let error = leases
        .replace("grm", &PostParams::default(), &second)
        .await
        .unwrap_err();
    assert_eq!(conflict(error), 409);
    let now = leases.get("grm").await.unwrap();
    assert_eq!(
        now.spec.unwrap().holder_identity.as_deref(),
        Some("replica-1")
    );
}

#[tokio::test]
async fn custom_resources_are_discovered_and_served() {
    let crd = CrdSpec::prometheus();
    let client = kube_client(spawn_server(ApiServerConfig::default(), vec![crd.clone()]));
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let listed = crds.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        listed.items[0].metadata.name.as_deref(),
        Some(crd.name().as_str())
    );

    let discovery = Discovery::new(client.clone()).run().await.unwrap();
    let resource = crd.resource();
    let gvk = GroupVersionKind::gvk(&resource.group, &resource.version, &resource.kind);
    let (found, _) = discovery
        .resolve_gvk(&gvk)
        .expect("the CRD's resource is discovered");
    assert_eq!(found.plural, resource.plural);

    let api: Api<DynamicObject> = Api::namespaced_with(
        client,
        "garden",
        &ApiResource::from_gvk_with_plural(&gvk, &resource.plural),
    );
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": resource.api_version(),
        "kind": resource.kind,
        "metadata": {"name": "shoot"},
        "spec": {"replicas": 1},
    }))
    .unwrap();
    api.create(&PostParams::default(), &object).await.unwrap();
    let got = api.get("shoot").await.unwrap();
    assert_eq!(got.data["spec"]["replicas"], 1);
    let deleted = api.delete("shoot", &DeleteParams::default()).await.unwrap();
    assert!(deleted.is_left(), "a delete answers the deleted object");
    assert!(api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .is_empty());
}
