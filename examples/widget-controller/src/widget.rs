//! The `Widget` custom resource.

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a widget asks for.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[kube(
    group = "example.com",
    version = "v1",
    kind = "Widget",
    namespaced,
    status = "WidgetStatus"
)]
pub struct WidgetSpec {
    /// Any desired state: a change of it is a new generation to reconcile.
    pub size: u32,
}

/// What the controller last did with a widget, written through `/status`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WidgetStatus {
    /// The `metadata.generation` the controller reconciled last.
    pub observed_generation: Option<i64>,
    /// Whether that generation is in place.
    pub ready: bool,
}
