//! Discovery: `/api`, `/apis`, resource lists and `/version`.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIVersions;
use k8s_openapi::apimachinery::pkg::version::Info;
use stallsim_apiserver::{builtin_resources, ApiServer, ApiServerConfig, CrdSpec};
use stallsim_client::{ApiClient, Method, Request};

use crate::support::{call, client, run, shared};

#[test]
fn groups_list_built_ins_in_a_fixed_order_then_crd_groups_sorted() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let mut zebra = CrdSpec::prometheus();
        zebra.group = "zebra.example.com".to_string();
        zebra.version = "v1beta1".to_string();
        server.borrow_mut().install_crd(&zebra, Duration::ZERO);
        server
            .borrow_mut()
            .install_crd(&CrdSpec::prometheus(), Duration::ZERO);
        let api = client(&server);
        let groups = api.server_groups().await.unwrap();
        let names: Vec<&str> = groups.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "apps",
                "batch",
                "coordination.k8s.io",
                "apiextensions.k8s.io",
                "monitoring.coreos.com",
                "zebra.example.com",
            ]
        );
        for group in &groups.groups {
            let preferred = group.preferred_version.as_ref().expect("preferred version");
            assert_eq!(preferred, &group.versions[0]);
        }
        let zebra_group = groups.groups.last().unwrap();
        assert_eq!(
            zebra_group.versions[0].group_version,
            "zebra.example.com/v1beta1"
        );
        assert!(
            groups.groups.iter().all(|g| !g.name.is_empty()),
            "the core group is /api's"
        );

        let core = api.server_resources("v1").await.unwrap();
        assert_eq!(core.group_version, "v1");
        let names: Vec<&str> = core.resources.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["pods", "secrets", "configmaps", "namespaces"]);
        let namespaces = &core.resources[3];
        assert!(!namespaces.namespaced);
        assert_eq!(namespaces.kind, "Namespace");
        assert_eq!(namespaces.singular_name, "namespace");
        assert!(namespaces.verbs.iter().any(|v| v == "watch"));

        let monitoring = api
            .server_resources("monitoring.coreos.com/v1")
            .await
            .unwrap();
        let prometheus = &monitoring.resources[0];
        assert_eq!(
            (
                prometheus.name.as_str(),
                prometheus.kind.as_str(),
                prometheus.namespaced
            ),
            ("prometheuses", "Prometheus", true)
        );
        assert!(api
            .server_resources("monitoring.coreos.com/v2")
            .await
            .unwrap_err()
            .is_not_found());
    });
}

#[test]
fn every_built_in_resource_is_discoverable() {
    run(async {
        let server = shared(ApiServerConfig::default());
        let api = client(&server);
        for resource in builtin_resources() {
            let list = api.server_resources(&resource.api_version()).await.unwrap();
            let found = list
                .resources
                .iter()
                .find(|r| r.name == resource.plural)
                .unwrap_or_else(|| panic!("{resource} not discovered"));
            assert_eq!(
                (found.kind.as_str(), found.namespaced),
                (resource.kind.as_str(), resource.namespaced)
            );
        }
    });
}

#[test]
fn core_versions_and_version_documents() {
    let mut server = ApiServer::new(ApiServerConfig::default());
    let api = call(
        &mut server,
        Request::new(Method::Get, "/api"),
        Duration::ZERO,
    );
    assert_eq!(api.body.to_value()["kind"], "APIVersions");
    let versions: APIVersions = api.body.decode().unwrap();
    assert_eq!(versions.versions, ["v1"]);
    let version = call(
        &mut server,
        Request::new(Method::Get, "/version"),
        Duration::ZERO,
    );
    let info: Info = version.body.decode().unwrap();
    assert_eq!((info.major.as_str(), info.minor.as_str()), ("1", "33"));
    let groups = call(
        &mut server,
        Request::new(Method::Get, "/apis"),
        Duration::ZERO,
    );
    assert_eq!(groups.body.to_value()["kind"], "APIGroupList");
    let resources = call(
        &mut server,
        Request::new(Method::Get, "/api/v1"),
        Duration::ZERO,
    );
    assert_eq!(resources.body.to_value()["kind"], "APIResourceList");
}
