//! A served resource: group, version, plural and scope, and its REST paths.

use serde::{Deserialize, Serialize};

/// A resource as the API server serves it (what a REST mapping resolves to).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResourceRef {
    /// API group; empty for the core group.
    pub group: String,
    pub version: String,
    /// Plural resource name, as in the URL (`prometheuses`).
    pub plural: String,
    /// Kind of one object (`Prometheus`).
    pub kind: String,
    pub namespaced: bool,
}

impl ResourceRef {
    pub fn new(group: &str, version: &str, plural: &str, kind: &str, namespaced: bool) -> Self {
        ResourceRef {
            group: group.to_string(),
            version: version.to_string(),
            plural: plural.to_string(),
            kind: kind.to_string(),
            namespaced,
        }
    }

    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The group/version prefix of every path: `/api/v1` or `/apis/g/v`.
    pub fn group_version_path(&self) -> String {
        let mut path = String::with_capacity(self.path_len(None, 0));
        self.push_group_version_path(&mut path);
        path
    }

    /// The collection path, namespaced when a namespace is given.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let namespace = namespace.filter(|_| self.namespaced);
        let mut path = String::with_capacity(self.path_len(namespace, 0));
        self.push_collection_path(&mut path, namespace);
        path
    }

    /// The path of one object.
    pub fn object_path(&self, namespace: Option<&str>, name: &str) -> String {
        let namespace = namespace.filter(|_| self.namespaced);
        let mut path = String::with_capacity(self.path_len(namespace, name.len() + 1));
        self.push_collection_path(&mut path, namespace);
        path.push('/');
        path.push_str(name);
        path
    }

    // A client builds a path per request: each is pushed into one string
    // allocated to size, not made of nested `format!`s.

    fn push_group_version_path(&self, path: &mut String) {
        if self.group.is_empty() {
            path.push_str("/api/");
        } else {
            path.push_str("/apis/");
            path.push_str(&self.group);
            path.push('/');
        }
        path.push_str(&self.version);
    }

    /// `namespace` only when the resource is namespaced.
    fn push_collection_path(&self, path: &mut String, namespace: Option<&str>) {
        self.push_group_version_path(path);
        if let Some(namespace) = namespace {
            path.push_str("/namespaces/");
            path.push_str(namespace);
        }
        path.push('/');
        path.push_str(&self.plural);
    }

    /// The length of a path with `namespace` and `more` bytes after it.
    fn path_len(&self, namespace: Option<&str>, more: usize) -> usize {
        "/apis//".len()
            + self.group.len()
            + self.version.len()
            + namespace.map_or(0, |ns| "/namespaces/".len() + ns.len())
            + 1
            + self.plural.len()
            + more
    }

    /// `plural.group` (or the plural alone for the core group), as in a CRD name.
    pub fn qualified_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

impl std::fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_kubernetes_layout() {
        let lease = ResourceRef::new("coordination.k8s.io", "v1", "leases", "Lease", true);
        assert_eq!(
            lease.object_path(Some("garden"), "grm"),
            "/apis/coordination.k8s.io/v1/namespaces/garden/leases/grm"
        );
        let pods = ResourceRef::new("", "v1", "pods", "Pod", true);
        assert_eq!(pods.collection_path(None), "/api/v1/pods");
        assert_eq!(pods.api_version(), "v1");
        let crd = ResourceRef::new(
            "apiextensions.k8s.io",
            "v1",
            "customresourcedefinitions",
            "CustomResourceDefinition",
            false,
        );
        assert_eq!(
            crd.collection_path(Some("ignored")),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        );
    }
}
