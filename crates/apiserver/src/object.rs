//! Stored objects: typed where the server knows the kind, each written as
//! JSON once when stored; their keys, and timestamps.

use std::borrow::Cow;
use std::rc::Rc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::jiff::Timestamp;
use serde::de::{Deserialize, Deserializer, Error as _};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use stallsim_core::{ApiError, Body, ResourceRef};

use crate::size::json_bytes;
use crate::status::bad_request;

/// Seconds since the Unix epoch of simulated time zero: 2025-04-01T00:00:00Z.
const EPOCH_UNIX_SECONDS: i64 = 1_743_465_600;

/// Which stored collection a resource's objects live in. The version is left
/// out: every resource is served at one version.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ResourceKey {
    pub(crate) group: String,
    pub(crate) plural: String,
}

impl ResourceKey {
    pub(crate) fn of(resource: &ResourceRef) -> Self {
        ResourceKey {
            group: resource.group.clone(),
            plural: resource.plural.clone(),
        }
    }
}

/// One object within its collection: namespace (empty when cluster-scoped),
/// then name, so iteration is sorted as a LIST answers.
pub(crate) type ObjectKey = (String, String);

/// The k8s `Time` of simulated instant `now`, to the second.
pub(crate) fn time_at(now: Duration) -> Time {
    let seconds = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let timestamp = Timestamp::from_second(EPOCH_UNIX_SECONDS.saturating_add(seconds))
        .unwrap_or(Timestamp::MAX);
    Time(timestamp)
}

/// An object as the server holds it: as its `k8s-openapi` type for the
/// kinds a run writes (leases, pods, CRDs), as JSON fields around typed
/// metadata for every other kind (custom resources, the other built-ins).
///
/// Each serializes to the same JSON a `serde_json::Value` of it would,
/// keys in order: `k8s-openapi` writes a type's fields sorted by name,
/// and [`JsonObject`] places `metadata` among its sorted fields.
// A pod is the largest; an object is built once per write and then lives
// in its `Rc<Stored>`, so boxing would only add an allocation per write.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Object {
    Lease(Lease),
    Pod(Pod),
    Crd(CustomResourceDefinition),
    Json(JsonObject),
}

/// An object of a kind the server keeps as JSON: its metadata, typed as
/// every object's is, and its other fields (`apiVersion` and `kind` among
/// them) as they came.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct JsonObject {
    pub(crate) metadata: ObjectMeta,
    pub(crate) fields: Map<String, Value>,
}

/// The representation a resource's objects take.
enum Shape {
    Lease,
    Pod,
    Crd,
    Json,
}

fn shape(resource: &ResourceRef) -> Shape {
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("coordination.k8s.io", "leases") => Shape::Lease,
        ("", "pods") => Shape::Pod,
        ("apiextensions.k8s.io", "customresourcedefinitions") => Shape::Crd,
        _ => Shape::Json,
    }
}

impl Object {
    /// A request body read as an object of `resource`: 400 for a body
    /// that is not a JSON object, or that does not decode as the kind, as
    /// kube-apiserver answers one (k8s.io/apiserver/pkg/endpoints/
    /// handlers/rest.go, `transformDecodeError`).
    pub(crate) fn read(resource: &ResourceRef, body: &Body) -> Result<Object, ApiError> {
        if !body.text().starts_with('{') {
            return Err(bad_request("the request body must be a JSON object"));
        }
        let mut reader = serde_json::Deserializer::from_str(body.text());
        Object::decode(resource, &mut reader).map_err(|e| cannot_handle(resource, &e))
    }

    /// A JSON value (a patched object) read as an object of `resource`.
    pub(crate) fn from_value(resource: &ResourceRef, value: Value) -> Result<Object, ApiError> {
        if !value.is_object() {
            return Err(bad_request("the request body must be a JSON object"));
        }
        Object::decode(resource, value).map_err(|e| cannot_handle(resource, &e))
    }

    fn decode<'de, D: Deserializer<'de>>(
        resource: &ResourceRef,
        reader: D,
    ) -> Result<Object, D::Error> {
        Ok(match shape(resource) {
            Shape::Lease => Object::Lease(Lease::deserialize(reader)?),
            Shape::Pod => Object::Pod(Pod::deserialize(reader)?),
            Shape::Crd => Object::Crd(CustomResourceDefinition::deserialize(reader)?),
            Shape::Json => Object::Json(JsonObject::deserialize(reader)?),
        })
    }

    pub(crate) fn meta(&self) -> &ObjectMeta {
        match self {
            Object::Lease(lease) => &lease.metadata,
            Object::Pod(pod) => &pod.metadata,
            Object::Crd(crd) => &crd.metadata,
            Object::Json(object) => &object.metadata,
        }
    }

    pub(crate) fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::Lease(lease) => &mut lease.metadata,
            Object::Pod(pod) => &mut pod.metadata,
            Object::Crd(crd) => &mut crd.metadata,
            Object::Json(object) => &mut object.metadata,
        }
    }

    /// Sets `apiVersion` and `kind` to the resource's; a typed object
    /// always writes its own.
    pub(crate) fn set_type(&mut self, resource: &ResourceRef) {
        if let Object::Json(object) = self {
            object.fields.insert(
                "apiVersion".to_string(),
                Value::String(resource.api_version()),
            );
            object
                .fields
                .insert("kind".to_string(), Value::String(resource.kind.clone()));
        }
    }

    /// Whether both have the same desired state: every field but
    /// `metadata` and the type, which the server owns, and `status` unless
    /// `status_is_desired`. A change of it bumps `metadata.generation`.
    ///
    /// A custom resource's status is part of it when its CRD serves no
    /// status subresource (apiextensions-apiserver pkg/registry/
    /// customresource/strategy.go, `PrepareForUpdate`: everything but
    /// `metadata`, and `status` too when the subresource is served).
    pub(crate) fn same_desired_state(&self, other: &Object, status_is_desired: bool) -> bool {
        match (self, other) {
            (Object::Lease(a), Object::Lease(b)) => a.spec == b.spec,
            (Object::Pod(a), Object::Pod(b)) => a.spec == b.spec,
            (Object::Crd(a), Object::Crd(b)) => a.spec == b.spec,
            (Object::Json(a), Object::Json(b)) => {
                let desired = |(key, _): &(&String, &Value)| match key.as_str() {
                    "apiVersion" | "kind" => false,
                    "status" => status_is_desired,
                    _ => true,
                };
                a.fields
                    .iter()
                    .filter(desired)
                    .eq(b.fields.iter().filter(desired))
            }
            _ => false,
        }
    }

    /// The `status` of an object kept as JSON (a custom resource's), if
    /// it has one.
    pub(crate) fn status(&self) -> Option<&Value> {
        match self {
            Object::Json(object) => object.fields.get("status"),
            _ => None,
        }
    }

    /// Sets (or, with `None`, removes) the `status` of an object kept as
    /// JSON; a typed object keeps its own.
    pub(crate) fn set_status(&mut self, status: Option<Value>) {
        if let Object::Json(object) = self {
            match status {
                Some(status) => object.fields.insert("status".to_string(), status),
                None => object.fields.remove("status"),
            };
        }
    }
}

/// 400 for a body that does not decode as the resource's kind.
fn cannot_handle(resource: &ResourceRef, error: &impl std::fmt::Display) -> ApiError {
    let kind = &resource.kind;
    bad_request(format!(
        "{kind} in version {:?} cannot be handled as a {kind}: {error}",
        resource.version
    ))
}

impl Serialize for Object {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Object::Lease(lease) => lease.serialize(serializer),
            Object::Pod(pod) => pod.serialize(serializer),
            Object::Crd(crd) => crd.serialize(serializer),
            Object::Json(object) => object.serialize(serializer),
        }
    }
}

impl Serialize for JsonObject {
    /// The fields in key order, `metadata` in its place among them.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len() + 1))?;
        let mut metadata_written = false;
        for (key, value) in &self.fields {
            if !metadata_written && key.as_str() > "metadata" {
                map.serialize_entry("metadata", &self.metadata)?;
                metadata_written = true;
            }
            map.serialize_entry(key, value)?;
        }
        if !metadata_written {
            map.serialize_entry("metadata", &self.metadata)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<JsonObject, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let metadata = match fields.remove("metadata") {
            None | Some(Value::Null) => ObjectMeta::default(),
            Some(metadata) => ObjectMeta::deserialize(metadata)
                .map_err(|e| D::Error::custom(format_args!("metadata: {e}")))?,
        };
        Ok(JsonObject { metadata, fields })
    }
}

/// An object as committed: the object, its JSON written once (what every
/// answer, list and watch frame that carries it copies), and the memory
/// its JSON value would hold. Shared by the store, the history and the
/// watch frames, never copied.
///
/// A typed object is held as its type and its JSON; an object kept as JSON
/// holds its fields once, as that JSON, beside its typed metadata: an
/// update or a patch of it reads them back ([`Stored::object`]).
#[derive(Debug)]
pub(crate) struct Stored {
    /// The object; for [`Object::Json`], its metadata and no fields.
    held: Object,
    pub(crate) json: Body,
    /// What the [`MemoryBounds`](crate::MemoryBounds) count for it.
    pub(crate) bytes: u64,
}

impl Stored {
    /// `object` written as JSON, once.
    pub(crate) fn new(mut object: Object) -> Result<Rc<Stored>, ApiError> {
        let json = Body::of(&object)?;
        let bytes = json_bytes(json.text());
        if let Object::Json(held) = &mut object {
            held.fields = Map::new();
        }
        Ok(Rc::new(Stored {
            held: object,
            json,
            bytes,
        }))
    }

    /// The whole object, its fields read back from its JSON when it is
    /// kept as JSON.
    pub(crate) fn object(&self) -> Result<Cow<'_, Object>, ApiError> {
        match &self.held {
            Object::Json(_) => Ok(Cow::Owned(Object::Json(self.json.decode()?))),
            typed => Ok(Cow::Borrowed(typed)),
        }
    }

    /// The object when its kind is typed (a lease, a pod, a CRD).
    pub(crate) fn typed(&self) -> Option<&Object> {
        (!matches!(self.held, Object::Json(_))).then_some(&self.held)
    }

    pub(crate) fn meta(&self) -> &ObjectMeta {
        self.held.meta()
    }

    /// Where it is stored within its collection.
    pub(crate) fn key(&self) -> ObjectKey {
        let meta = self.meta();
        (
            meta.namespace.clone().unwrap_or_default(),
            meta.name.clone().unwrap_or_default(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::api::core::v1::{ContainerStatus, PodCondition, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
    use serde_json::json;

    use crate::crd::{established_status, mark_for_deletion, CrdSpec};
    use crate::resources::{crd_resource, lease_resource, pod_resource};

    #[test]
    fn time_zero_is_the_fixed_epoch() {
        let expected: Timestamp = "2025-04-01T00:00:00Z".parse().unwrap();
        assert_eq!(time_at(Duration::ZERO).0, expected);
        let later = serde_json::to_value(time_at(Duration::from_millis(61_500))).unwrap();
        assert_eq!(later, "2025-04-01T00:01:01Z");
    }

    fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: namespace.map(str::to_string),
            uid: Some("uid-1".to_string()),
            resource_version: Some("7".to_string()),
            generation: Some(3),
            creation_timestamp: Some(time_at(Duration::from_secs(5))),
            labels: Some([("app".to_string(), "grm".to_string())].into()),
            annotations: Some([("b".to_string(), "c".to_string())].into()),
            finalizers: Some(vec!["f".to_string()]),
            ..ObjectMeta::default()
        }
    }

    /// Every stored object writes the bytes its `Value` would, so the
    /// wire carries the same text as when the store held values.
    #[test]
    fn a_stored_object_writes_what_its_value_would() {
        let now = MicroTime(time_at(Duration::from_secs(9)).0);
        let lease = Lease {
            metadata: meta("grm", Some("garden")),
            spec: Some(LeaseSpec {
                holder_identity: Some("grm-0".to_string()),
                lease_duration_seconds: Some(15),
                acquire_time: Some(now.clone()),
                renew_time: Some(now),
                lease_transitions: Some(2),
                ..LeaseSpec::default()
            }),
        };
        let pod = Pod {
            metadata: meta("grm-0", Some("garden")),
            spec: None,
            status: Some(PodStatus {
                conditions: Some(vec![PodCondition {
                    type_: "Ready".to_string(),
                    status: "True".to_string(),
                    last_transition_time: Some(time_at(Duration::ZERO)),
                    ..PodCondition::default()
                }]),
                container_statuses: Some(vec![ContainerStatus {
                    name: "gardener-resource-manager".to_string(),
                    ready: true,
                    restart_count: 1,
                    ..ContainerStatus::default()
                }]),
                host_ip: Some("10.0.0.1".to_string()),
                phase: Some("Running".to_string()),
                pod_ip: Some("10.1.0.1".to_string()),
                ..PodStatus::default()
            }),
        };
        let mut crd = CrdSpec::prometheus().to_crd();
        crd.metadata = meta(&CrdSpec::prometheus().name(), None);
        crd.status = Some(established_status(&crd, time_at(Duration::ZERO)));
        mark_for_deletion(&mut crd, time_at(Duration::from_secs(60)));
        let custom = json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Prometheus",
            "data": {"x": 1},
            "metadata": {"name": "p", "namespace": "garden", "labels": {"a": "b"}},
            "spec": {"replicas": 2, "z": [null, true, "s"]},
            "zeta": "last",
        });
        let resource = ResourceRef::new(
            "monitoring.coreos.com",
            "v1",
            "prometheuses",
            "Prometheus",
            true,
        );
        let objects = [
            (lease_resource(), serde_json::to_value(&lease).unwrap()),
            (pod_resource(), serde_json::to_value(&pod).unwrap()),
            (crd_resource(), serde_json::to_value(&crd).unwrap()),
            (resource, custom),
        ];
        for (resource, value) in objects {
            let object = Object::from_value(&resource, value.clone()).unwrap();
            let stored = Stored::new(object.clone()).unwrap();
            assert_eq!(stored.json.text(), serde_json::to_string(&value).unwrap());
            assert_eq!(stored.json.to_value(), value);
            // An object kept as JSON reads its fields back whole.
            assert_eq!(*stored.object().unwrap(), object);
        }
    }

    #[test]
    fn a_body_that_is_not_the_kind_is_a_bad_request() {
        let body = Body::from(json!({"spec": {"holderIdentity": 3}}));
        let error = Object::read(&lease_resource(), &body).unwrap_err();
        let status = error.to_status();
        assert_eq!((status.code, status.reason.as_str()), (400, "BadRequest"));
        assert!(
            status
                .message
                .starts_with("Lease in version \"v1\" cannot be handled as a Lease: "),
            "{}",
            status.message
        );
        let error = Object::read(&pod_resource(), &Body::from(json!([1]))).unwrap_err();
        assert_eq!(
            error.to_status().message,
            "the request body must be a JSON object"
        );
    }

    #[test]
    fn the_desired_state_leaves_out_metadata_status_and_type() {
        let resource = ResourceRef::new("", "v1", "configmaps", "ConfigMap", true);
        let read = |value: Value| Object::from_value(&resource, value).unwrap();
        let a = read(json!({"metadata": {"name": "a"}, "data": {"k": "v"}, "status": 1}));
        let b = read(json!({"metadata": {"name": "b"}, "data": {"k": "v"}, "kind": "ConfigMap"}));
        let c = read(json!({"metadata": {"name": "a"}, "data": {"k": "w"}}));
        assert!(a.same_desired_state(&b, false));
        assert!(!a.same_desired_state(&c, false));
        // Without a status subresource, the status is desired state too.
        assert!(!a.same_desired_state(&b, true));
    }
}
