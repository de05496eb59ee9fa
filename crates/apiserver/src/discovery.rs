//! Discovery documents: `/api`, `/apis`, `/api/v1`, `/apis/{group}/{version}` and `/version`.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, GroupVersionForDiscovery,
};
use k8s_openapi::apimachinery::pkg::version::Info;
use stallsim_core::ResourceRef;

/// The verbs every served resource supports.
const VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// The verbs listed for the resource of a terminating CRD: those that read
/// or delete, as upstream's `DiscoveryController` lists them
/// (pkg/apiserver/customresource_discovery_controller.go).
const TERMINATING_VERBS: &[&str] = &["delete", "get", "list", "watch"];

/// A resource as discovery lists it.
#[derive(Clone, Debug)]
pub(crate) struct Listed {
    pub(crate) resource: ResourceRef,
    /// The names kubectl also accepts for it (`crds`, `cm`).
    pub(crate) short_names: Vec<String>,
    /// Its CRD is being deleted: listed without the verbs that write.
    pub(crate) terminating: bool,
}

/// The short names of built-in resources, as the Kubernetes API server
/// lists them in discovery (`kubectl api-resources`).
const BUILTIN_SHORT_NAMES: &[(&str, &str, &[&str])] = &[
    ("", "configmaps", &["cm"]),
    ("", "namespaces", &["ns"]),
    ("", "pods", &["po"]),
    (
        "apiextensions.k8s.io",
        "customresourcedefinitions",
        &["crd", "crds"],
    ),
    ("apps", "daemonsets", &["ds"]),
    ("apps", "deployments", &["deploy"]),
    ("apps", "statefulsets", &["sts"]),
    ("batch", "cronjobs", &["cj"]),
];

/// The short names of a built-in resource; none for most.
pub(crate) fn builtin_short_names(resource: &ResourceRef) -> Vec<String> {
    BUILTIN_SHORT_NAMES
        .iter()
        .find(|(group, plural, _)| *group == resource.group && *plural == resource.plural)
        .map(|(_, _, names)| names.iter().map(|n| n.to_string()).collect())
        .unwrap_or_default()
}

/// `GET /api`: the core group's versions.
pub(crate) fn api_versions() -> APIVersions {
    APIVersions {
        versions: vec!["v1".to_string()],
        ..APIVersions::default()
    }
}

/// `GET /apis`: every named group of `resources`, in order of first
/// appearance, each with its versions in order of first appearance, the
/// first preferred. The core group is not listed here (it is `GET /api`).
pub(crate) fn group_list(resources: &[Listed]) -> APIGroupList {
    let mut groups: Vec<APIGroup> = Vec::new();
    for Listed { resource, .. } in resources.iter().filter(|l| !l.resource.group.is_empty()) {
        let version = GroupVersionForDiscovery {
            group_version: resource.api_version(),
            version: resource.version.clone(),
        };
        match groups.iter_mut().find(|g| g.name == resource.group) {
            Some(group) => {
                if !group.versions.contains(&version) {
                    group.versions.push(version);
                }
            }
            None => groups.push(APIGroup {
                name: resource.group.clone(),
                preferred_version: Some(version.clone()),
                versions: vec![version],
                ..APIGroup::default()
            }),
        }
    }
    APIGroupList { groups }
}

/// `GET /api/v1` or `/apis/{group}/{version}`; `None` when nothing is served there.
pub(crate) fn resource_list(
    resources: &[Listed],
    group: &str,
    version: &str,
) -> Option<APIResourceList> {
    let here = |l: &&Listed| l.resource.group == group && l.resource.version == version;
    let served: Vec<APIResource> = resources
        .iter()
        .filter(here)
        .map(
            |Listed {
                 resource: r,
                 short_names,
                 terminating,
             }| {
                let verbs = if *terminating {
                    TERMINATING_VERBS
                } else {
                    VERBS
                };
                APIResource {
                    name: r.plural.clone(),
                    singular_name: r.kind.to_lowercase(),
                    namespaced: r.namespaced,
                    kind: r.kind.clone(),
                    verbs: verbs.iter().map(|v| v.to_string()).collect(),
                    short_names: (!short_names.is_empty()).then(|| short_names.clone()),
                    ..APIResource::default()
                }
            },
        )
        .collect();
    let first = resources.iter().find(here)?;
    Some(APIResourceList {
        group_version: first.resource.api_version(),
        resources: served,
    })
}

/// `GET /version`: the Kubernetes version the fake server poses as.
pub(crate) fn version_info() -> Info {
    Info {
        major: "1".to_string(),
        minor: "33".to_string(),
        git_version: "v1.33.0-stallsim".to_string(),
        git_commit: "0000000000000000000000000000000000000000".to_string(),
        git_tree_state: "clean".to_string(),
        build_date: "2025-04-01T00:00:00Z".to_string(),
        go_version: "go1.24.0".to_string(),
        compiler: "gc".to_string(),
        platform: "linux/amd64".to_string(),
        ..Info::default()
    }
}
