//! LIST a page at a time: `limit` and `continue`, with a consistent view
//! across pages.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use stallsim_apiserver::ApiServerConfig;

use crate::support::{kube_client, spawn_server};

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"v": "1"}})).unwrap()
}

fn names(list: &kube::core::ObjectList<ConfigMap>) -> Vec<String> {
    list.items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect()
}

#[tokio::test]
async fn pages_follow_one_another_at_one_version() {
    let client = kube_client(spawn_server(ApiServerConfig::default(), Vec::new()));
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for name in ["a", "b", "c", "d", "e"] {
        api.create(&PostParams::default(), &config_map(name))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(names(&first), ["a", "b"]);
    let version = first.metadata.resource_version.clone().unwrap();
    let token = first.metadata.continue_.clone().expect("more pages");

    // Changes after the first page do not show in the next ones.
    api.delete("c", &DeleteParams::default()).await.unwrap();
    api.create(&PostParams::default(), &config_map("cc"))
        .await
        .unwrap();
    let mut changed = api.get("d").await.unwrap();
    changed.data = Some([("v".to_string(), "2".to_string())].into());
    api.replace("d", &PostParams::default(), &changed)
        .await
        .unwrap();

    let second = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&second), ["c", "d"]);
    assert_eq!(
        second.metadata.resource_version.as_deref(),
        Some(version.as_str())
    );
    assert_eq!(second.items[1].data.as_ref().unwrap()["v"], "1");
    let token = second.metadata.continue_.clone().expect("one more page");
    let third = api
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&third), ["e"]);
    assert_eq!(third.metadata.continue_.as_deref().unwrap_or_default(), "");

    // A fresh list sees the changes.
    let now = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(names(&now), ["a", "b", "cc", "d", "e"]);
}

#[tokio::test]
async fn a_continue_older_than_the_history_is_410() {
    let config = ApiServerConfig {
        history_events_max: 3,
        ..ApiServerConfig::default()
    };
    let client = kube_client(spawn_server(config, Vec::new()));
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    for name in ["a", "b", "c"] {
        api.create(&PostParams::default(), &config_map(name))
            .await
            .unwrap();
    }
    let first = api.list(&ListParams::default().limit(1)).await.unwrap();
    let token = first.metadata.continue_.clone().expect("more pages");
    for name in ["x", "y", "z", "zz"] {
        api.create(&PostParams::default(), &config_map(name))
            .await
            .unwrap();
    }
    let error = api
        .list(&ListParams::default().limit(1).continue_token(&token))
        .await
        .unwrap_err();
    match error {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 410);
            assert_eq!(status.reason, "Expired");
        }
        other => panic!("not an API error: {other}"),
    }
}
