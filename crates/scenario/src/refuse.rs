//! The visitor methods a scalar field of ours uses to refuse the shapes it
//! does not take (a list, a mapping, `true`, nothing), each with a complete
//! sentence: `found a list; expected a duration like 15s`.
//!
//! serde-saphyr places an error its visitor made with `custom` at the value
//! being read; a type error from serde's defaults falls back to the key
//! above it. So our visitors refuse with sentences of their own.

use std::fmt;

use serde::de::Visitor;

/// `found <found>; expected <what the visitor expects>`
pub(crate) fn sentence<'de>(visitor: &impl Visitor<'de>, found: &str) -> String {
    struct Expecting<'a, V>(&'a V);
    impl<'de, V: Visitor<'de>> fmt::Display for Expecting<'_, V> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.expecting(f)
        }
    }
    format!("found {found}; expected {}", Expecting(visitor))
}

/// Inside `impl<'de> Visitor<'de> for ...`: refuses booleans, lists,
/// mappings and nothing (null) with [`sentence`].
macro_rules! refuse_other_shapes {
    () => {
        fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
            Err(E::custom($crate::refuse::sentence(
                &self,
                &format!("`{value}`"),
            )))
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(serde::de::Error::custom($crate::refuse::sentence(
                &self, "a list",
            )))
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Err(serde::de::Error::custom($crate::refuse::sentence(
                &self,
                "a mapping",
            )))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Err(E::custom($crate::refuse::sentence(&self, "nothing (null)")))
        }
    };
}

pub(crate) use refuse_other_shapes;
