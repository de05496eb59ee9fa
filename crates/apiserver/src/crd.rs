//! [`CrdSpec`]: a custom resource to serve, how a CRD object becomes a served
//! resource, and the marks its deletion leaves on it.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionCondition, CustomResourceDefinitionNames,
    CustomResourceDefinitionSpec, CustomResourceDefinitionStatus, CustomResourceDefinitionVersion,
    CustomResourceSubresourceStatus, CustomResourceSubresources, CustomResourceValidation,
    JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::Serialize;
use stallsim_core::{ApiError, ResourceRef};

/// A custom resource to serve. Its CRD is named `{plural}.{group}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CrdSpec {
    /// API group, e.g. `monitoring.coreos.com`.
    pub group: String,
    /// The one version served, e.g. `v1`.
    pub version: String,
    /// Kind of one object, e.g. `Prometheus`.
    pub kind: String,
    /// Plural resource name, as in the URL, e.g. `prometheuses`.
    pub plural: String,
    /// Namespaced (`true`) or cluster-scoped.
    pub namespaced: bool,
    /// Whether its version serves the `status` subresource: `…/status`
    /// reads and writes only `.status`, and a write of the object leaves
    /// `.status` as it was.
    #[serde(skip_serializing_if = "is_false")]
    pub status_subresource: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl CrdSpec {
    /// The CRD's name: `{plural}.{group}`, e.g. `prometheuses.monitoring.coreos.com`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }

    /// The resource the CRD serves.
    pub fn resource(&self) -> ResourceRef {
        ResourceRef::new(
            &self.group,
            &self.version,
            &self.plural,
            &self.kind,
            self.namespaced,
        )
    }

    /// The `CustomResourceDefinition` object that serves this resource: one
    /// served and stored version with a schema that keeps unknown fields.
    pub fn to_crd(&self) -> CustomResourceDefinition {
        CustomResourceDefinition {
            metadata: ObjectMeta {
                name: Some(self.name()),
                ..ObjectMeta::default()
            },
            spec: CustomResourceDefinitionSpec {
                group: self.group.clone(),
                names: CustomResourceDefinitionNames {
                    kind: self.kind.clone(),
                    list_kind: Some(format!("{}List", self.kind)),
                    plural: self.plural.clone(),
                    singular: Some(self.kind.to_lowercase()),
                    ..CustomResourceDefinitionNames::default()
                },
                scope: scope_name(self.namespaced).to_string(),
                versions: vec![CustomResourceDefinitionVersion {
                    name: self.version.clone(),
                    served: true,
                    storage: true,
                    schema: Some(CustomResourceValidation {
                        open_api_v3_schema: Some(JSONSchemaProps {
                            type_: Some("object".to_string()),
                            x_kubernetes_preserve_unknown_fields: Some(true),
                            ..JSONSchemaProps::default()
                        }),
                    }),
                    subresources: self.status_subresource.then(|| CustomResourceSubresources {
                        status: Some(CustomResourceSubresourceStatus(serde_json::json!({}))),
                        scale: None,
                    }),
                    ..CustomResourceDefinitionVersion::default()
                }],
                ..CustomResourceDefinitionSpec::default()
            },
            status: None,
        }
    }

    /// `monitoring.coreos.com/v1` `Prometheus` (`prometheuses`), namespaced.
    pub fn prometheus() -> Self {
        CrdSpec::monitoring("Prometheus", "prometheuses")
    }

    /// `monitoring.coreos.com/v1` `Alertmanager` (`alertmanagers`), namespaced.
    pub fn alertmanager() -> Self {
        CrdSpec::monitoring("Alertmanager", "alertmanagers")
    }

    fn monitoring(kind: &str, plural: &str) -> Self {
        CrdSpec {
            group: "monitoring.coreos.com".to_string(),
            version: "v1".to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            namespaced: true,
            status_subresource: false,
        }
    }
}

fn scope_name(namespaced: bool) -> &'static str {
    if namespaced {
        "Namespaced"
    } else {
        "Cluster"
    }
}

fn invalid(message: String) -> ApiError {
    ApiError::Status {
        code: 422,
        reason: "Invalid".to_string(),
        message,
    }
}

/// A CRD object as sent by a client, checked and read.
pub(crate) struct ParsedCrd {
    /// The resource it serves: its first served version.
    pub(crate) resource: ResourceRef,
    /// Its `spec.names.shortNames`, as discovery lists them.
    pub(crate) short_names: Vec<String>,
    /// Whether the served version declares the `status` subresource.
    pub(crate) status_subresource: bool,
}

/// Reads a CRD object as a create or update carries it; 422 Invalid when it
/// does not describe a servable resource.
pub(crate) fn parse_crd(crd: &CustomResourceDefinition) -> Result<ParsedCrd, ApiError> {
    let spec = &crd.spec;
    let expected_name = format!("{}.{}", spec.names.plural, spec.group);
    let name = crd.metadata.name.as_deref().unwrap_or_default();
    if spec.group.is_empty() || spec.names.plural.is_empty() || spec.names.kind.is_empty() {
        return Err(invalid(format!(
            "CustomResourceDefinition {name:?} is invalid: spec.group, spec.names.plural and spec.names.kind are required"
        )));
    }
    if name != expected_name {
        return Err(invalid(format!(
            "CustomResourceDefinition {name:?} is invalid: metadata.name: must be spec.names.plural+\".\"+spec.group ({expected_name:?})"
        )));
    }
    let namespaced = match spec.scope.as_str() {
        "Namespaced" => true,
        "Cluster" => false,
        other => {
            return Err(invalid(format!(
                "CustomResourceDefinition {name:?} is invalid: spec.scope: unsupported value {other:?}: supported values: \"Cluster\", \"Namespaced\""
            )))
        }
    };
    let Some(version) = spec.versions.iter().find(|v| v.served) else {
        return Err(invalid(format!(
            "CustomResourceDefinition {name:?} is invalid: spec.versions: must have at least one served version"
        )));
    };
    let resource = ResourceRef::new(
        &spec.group,
        &version.name,
        &spec.names.plural,
        &spec.names.kind,
        namespaced,
    );
    let short_names = spec.names.short_names.clone().unwrap_or_default();
    let status_subresource = version
        .subresources
        .as_ref()
        .is_some_and(|subresources| subresources.status.is_some());
    Ok(ParsedCrd {
        resource,
        short_names,
        status_subresource,
    })
}

/// The finalizer a deleted CRD keeps until its instances are gone.
pub(crate) const CLEANUP_FINALIZER: &str = "customresourcecleanup.apiextensions.k8s.io";

fn condition(
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
    now: Time,
) -> CustomResourceDefinitionCondition {
    CustomResourceDefinitionCondition {
        last_transition_time: Some(now),
        message: Some(message.to_string()),
        reason: Some(reason.to_string()),
        status: if status { "True" } else { "False" }.to_string(),
        type_: type_.to_string(),
    }
}

/// The status a CRD has once its names are accepted and it is established.
pub(crate) fn established_status(
    crd: &CustomResourceDefinition,
    now: Time,
) -> CustomResourceDefinitionStatus {
    CustomResourceDefinitionStatus {
        accepted_names: Some(crd.spec.names.clone()),
        conditions: Some(vec![
            condition(
                "NamesAccepted",
                true,
                "NoConflicts",
                "no conflicts found",
                now.clone(),
            ),
            condition(
                "Established",
                true,
                "InitialNamesAccepted",
                "the initial names have been accepted",
                now,
            ),
        ]),
        stored_versions: Some(
            crd.spec
                .versions
                .iter()
                .filter(|v| v.storage)
                .map(|v| v.name.clone())
                .collect(),
        ),
    }
}

/// Whether a CRD object carries a deletion timestamp.
pub(crate) fn is_marked_for_deletion(crd: &CustomResourceDefinition) -> bool {
    crd.metadata.deletion_timestamp.is_some()
}

/// What the first DELETE of a CRD does to it, as the CRD registry's `Delete`
/// does (pkg/registry/customresourcedefinition/etcd.go): sets the deletion
/// timestamp, adds the cleanup finalizer, and sets `Terminating`.
pub(crate) fn mark_for_deletion(crd: &mut CustomResourceDefinition, now: Time) {
    crd.metadata.deletion_timestamp = Some(now.clone());
    let finalizers = crd.metadata.finalizers.get_or_insert_with(Vec::new);
    if !finalizers.iter().any(|f| f == CLEANUP_FINALIZER) {
        finalizers.push(CLEANUP_FINALIZER.to_string());
    }
    set_condition(
        crd,
        condition(
            "Terminating",
            true,
            "InstanceDeletionPending",
            "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
            now,
        ),
    );
}

/// What the finalizer writes when it starts deleting the instances
/// (pkg/controller/finalizer/crd_finalizer.go).
pub(crate) fn mark_instance_deletion_in_progress(crd: &mut CustomResourceDefinition, now: Time) {
    set_condition(
        crd,
        condition(
            "Terminating",
            true,
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
            now,
        ),
    );
}

/// Sets a condition as upstream's `SetCRDCondition` does: replaced in place,
/// its transition time moving only when its status changes.
fn set_condition(crd: &mut CustomResourceDefinition, new: CustomResourceDefinitionCondition) {
    let conditions = crd
        .status
        .get_or_insert_with(CustomResourceDefinitionStatus::default)
        .conditions
        .get_or_insert_with(Vec::new);
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(existing) => {
            if existing.status != new.status || existing.last_transition_time.is_none() {
                existing.last_transition_time = new.last_transition_time;
            }
            existing.status = new.status;
            existing.reason = new.reason;
            existing.message = new.message;
        }
        None => conditions.push(new),
    }
}
