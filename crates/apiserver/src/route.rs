//! Request paths: which document, collection or object a path names.

/// What a request path addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/api`
    CoreVersions,
    /// `/apis`
    Groups,
    /// `/version`
    Version,
    /// `/healthz`: the server's own liveness, answered `ok`.
    Healthz,
    /// `/api/v1`, `/apis/{group}/{version}`
    Resources { group: String, version: String },
    /// `/openapi/v3`: where each group version's OpenAPI document is.
    OpenApiRoot,
    /// `/openapi/v3/api/v1`, `/openapi/v3/apis/{group}/{version}`
    OpenApi { group: String, version: String },
    /// `…/{plural}` or `…/namespaces/{namespace}/{plural}`
    Collection {
        target: Target,
        namespace: Option<String>,
    },
    /// `…/{plural}/{name}` or `…/namespaces/{namespace}/{plural}/{name}`,
    /// and its `/status` subresource
    Object {
        target: Target,
        namespace: Option<String>,
        name: String,
        part: Part,
    },
}

/// Which part of an object a path addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// The object: `…/{name}`.
    Main,
    /// Its status subresource: `…/{name}/status`.
    Status,
}

/// The resource a collection or object path names, before it is looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) plural: String,
}

impl Route {
    /// Reads a path; `None` when it matches no route of the API.
    pub(crate) fn parse(path: &str) -> Option<Route> {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let (group, version, rest) = match segments.as_slice() {
            ["api"] => return Some(Route::CoreVersions),
            ["apis"] => return Some(Route::Groups),
            ["version"] => return Some(Route::Version),
            ["healthz"] => return Some(Route::Healthz),
            ["openapi", "v3"] => return Some(Route::OpenApiRoot),
            ["openapi", "v3", "api", version] => {
                return Some(Route::OpenApi {
                    group: String::new(),
                    version: version.to_string(),
                })
            }
            ["openapi", "v3", "apis", group, version] => {
                return Some(Route::OpenApi {
                    group: group.to_string(),
                    version: version.to_string(),
                })
            }
            ["api", version, rest @ ..] => ("", *version, rest),
            ["apis", group, version, rest @ ..] => (*group, *version, rest),
            _ => return None,
        };
        let target = |plural: &str| Target {
            group: group.to_string(),
            version: version.to_string(),
            plural: plural.to_string(),
        };
        let route = match rest {
            [] => Route::Resources {
                group: group.to_string(),
                version: version.to_string(),
            },
            [plural] => Route::Collection {
                target: target(plural),
                namespace: None,
            },
            ["namespaces", namespace, plural] => Route::Collection {
                target: target(plural),
                namespace: Some(namespace.to_string()),
            },
            ["namespaces", namespace, plural, name] => Route::Object {
                target: target(plural),
                namespace: Some(namespace.to_string()),
                name: name.to_string(),
                part: Part::Main,
            },
            ["namespaces", namespace, plural, name, "status"] => Route::Object {
                target: target(plural),
                namespace: Some(namespace.to_string()),
                name: name.to_string(),
                part: Part::Status,
            },
            [plural, name] => Route::Object {
                target: target(plural),
                namespace: None,
                name: name.to_string(),
                part: Part::Main,
            },
            [plural, name, "status"] => Route::Object {
                target: target(plural),
                namespace: None,
                name: name.to_string(),
                part: Part::Status,
            },
            _ => return None,
        };
        Some(route)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(group: &str, plural: &str) -> Target {
        Target {
            group: group.to_string(),
            version: "v1".to_string(),
            plural: plural.to_string(),
        }
    }

    #[test]
    fn paths_map_to_routes() {
        let cases = [
            ("/api", Some(Route::CoreVersions)),
            ("/apis", Some(Route::Groups)),
            ("/version", Some(Route::Version)),
            (
                "/api/v1",
                Some(Route::Resources {
                    group: String::new(),
                    version: "v1".to_string(),
                }),
            ),
            (
                "/apis/monitoring.coreos.com/v1",
                Some(Route::Resources {
                    group: "monitoring.coreos.com".to_string(),
                    version: "v1".to_string(),
                }),
            ),
            (
                "/api/v1/pods",
                Some(Route::Collection {
                    target: target("", "pods"),
                    namespace: None,
                }),
            ),
            (
                "/api/v1/namespaces/garden",
                Some(Route::Object {
                    target: target("", "namespaces"),
                    namespace: None,
                    name: "garden".to_string(),
                    part: Part::Main,
                }),
            ),
            (
                "/apis/coordination.k8s.io/v1/namespaces/garden/leases",
                Some(Route::Collection {
                    target: target("coordination.k8s.io", "leases"),
                    namespace: Some("garden".to_string()),
                }),
            ),
            (
                "/apis/coordination.k8s.io/v1/namespaces/garden/leases/grm",
                Some(Route::Object {
                    target: target("coordination.k8s.io", "leases"),
                    namespace: Some("garden".to_string()),
                    name: "grm".to_string(),
                    part: Part::Main,
                }),
            ),
            ("/openapi/v3", Some(Route::OpenApiRoot)),
            (
                "/openapi/v3/apis/apps/v1",
                Some(Route::OpenApi {
                    group: "apps".to_string(),
                    version: "v1".to_string(),
                }),
            ),
            ("/openapi/v2", None),
            ("/", None),
            ("/metrics", None),
            (
                "/apis/example.com/v1/namespaces/ns/widgets/w/status",
                Some(Route::Object {
                    target: target("example.com", "widgets"),
                    namespace: Some("ns".to_string()),
                    name: "w".to_string(),
                    part: Part::Status,
                }),
            ),
            ("/api/v1/namespaces/garden/pods/p/scale", None),
        ];
        for (path, expected) in cases {
            assert_eq!(Route::parse(path), expected, "{path}");
        }
    }
}
