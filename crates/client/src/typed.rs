//! Conversions between `k8s-openapi` types and the dynamic objects on the wire.

use kube::core::DynamicObject;
use serde::{de::DeserializeOwned, Serialize};

use crate::ApiError;

/// A typed object (a `Lease`, a `CustomResourceDefinition`) as a dynamic one.
pub fn to_dynamic<K: Serialize>(object: &K) -> Result<DynamicObject, ApiError> {
    serde_json::to_value(object)
        .and_then(serde_json::from_value)
        .map_err(|e| ApiError::Decode(e.to_string()))
}

/// A dynamic object as a typed one.
pub fn from_dynamic<K: DeserializeOwned>(object: &DynamicObject) -> Result<K, ApiError> {
    serde_json::to_value(object)
        .and_then(serde_json::from_value)
        .map_err(|e| ApiError::Decode(e.to_string()))
}
