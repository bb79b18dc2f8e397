//! Lifebuoy's domain: the values every other crate speaks in, each parsed once and valid from then on,
//! the state machines of a support case, and the events its timeline records. Nothing here does I/O.

pub mod account;
pub mod appeal;
pub mod conversation;
pub mod event;
pub mod lang;
pub mod sla;

pub use account::{AgentNo, Email, Role, Tier};
pub use appeal::{AppealReason, AppealStatus, Decision, OrderState, Party};
pub use conversation::{CaseNumber, Category, ChatState, ConversationKind, KbStatus, Priority, Status, StatusError};
pub use event::{Event, FieldChange};
pub use lang::Lang;

/// A value that failed to parse: the field it was for and why, in words fit for an API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    pub field: &'static str,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Invalid { field, reason: reason.into() }
    }
}

/// Declares a string enum with its wire names, `as_str`, `parse`, `ALL` and serde in both directions.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident, $field:literal { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v),+ }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];
            /// The wire name.
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $s),+ } }
            /// Parses a wire name.
            pub fn parse(s: &str) -> Result<Self, $crate::Invalid> {
                match s { $($s => Ok($name::$v),)+ _ => Err($crate::Invalid::new($field, format!(
                    "unknown value {:?}; expected one of: {}", s, [$($s),+].join(", ")))) }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
