//! The built-in resources the server always serves.

use stallsim_core::ResourceRef;

/// The built-in resources served, in discovery order: core `v1` pods,
/// secrets, configmaps and namespaces (cluster-scoped); `apps/v1`
/// deployments, statefulsets and daemonsets; `batch/v1` jobs and cronjobs;
/// `coordination.k8s.io/v1` leases; `apiextensions.k8s.io/v1`
/// customresourcedefinitions (cluster-scoped).
pub fn builtin_resources() -> Vec<ResourceRef> {
    vec![
        pod_resource(),
        ResourceRef::new("", "v1", "secrets", "Secret", true),
        ResourceRef::new("", "v1", "configmaps", "ConfigMap", true),
        ResourceRef::new("", "v1", "namespaces", "Namespace", false),
        ResourceRef::new("apps", "v1", "deployments", "Deployment", true),
        ResourceRef::new("apps", "v1", "statefulsets", "StatefulSet", true),
        ResourceRef::new("apps", "v1", "daemonsets", "DaemonSet", true),
        ResourceRef::new("batch", "v1", "jobs", "Job", true),
        ResourceRef::new("batch", "v1", "cronjobs", "CronJob", true),
        lease_resource(),
        crd_resource(),
    ]
}

/// `apiextensions.k8s.io/v1` `customresourcedefinitions` (cluster-scoped).
pub fn crd_resource() -> ResourceRef {
    ResourceRef::new(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        false,
    )
}

/// `coordination.k8s.io/v1` `leases` (namespaced).
pub fn lease_resource() -> ResourceRef {
    ResourceRef::new("coordination.k8s.io", "v1", "leases", "Lease", true)
}

/// Core `v1` `pods` (namespaced).
pub fn pod_resource() -> ResourceRef {
    ResourceRef::new("", "v1", "pods", "Pod", true)
}
