//! Typed identifiers. Every entity id is a UUIDv7: globally unique without coordination
//! (ids are minted on the rep's device, offline) and roughly time-ordered, which keeps
//! B-tree inserts local and lets ids double as a creation-order sort key.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, specta::Type,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Mints a new time-ordered (v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self)
            }
        }
    };
}

define_id!(
    /// Identifies a [`crate::Contact`].
    ContactId
);
define_id!(
    /// Identifies a [`crate::Call`].
    CallId
);
define_id!(
    /// Identifies an [`crate::Utterance`] within a call's or practice session's transcript.
    UtteranceId
);
define_id!(
    /// Identifies a [`crate::Scorecard`].
    ScorecardId
);
define_id!(
    /// Identifies a [`crate::FollowUp`].
    FollowUpId
);
define_id!(
    /// Identifies a [`crate::Persona`].
    PersonaId
);
define_id!(
    /// Identifies a [`crate::PracticeSession`].
    PracticeSessionId
);
define_id!(
    /// Identifies a [`crate::Note`].
    NoteId
);
define_id!(
    /// Identifies a [`crate::TimelineEvent`].
    TimelineEventId
);
define_id!(
    /// Identifies one change recorded in the sync outbox.
    MutationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_7_and_ordered() {
        let a = ContactId::new();
        let b = ContactId::new();
        assert_eq!(a.as_uuid().get_version_num(), 7);
        assert!(a < b, "v7 ids minted later sort later");
    }

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = CallId::new();
        assert_eq!(id.to_string().parse::<CallId>().ok(), Some(id));
        let json = serde_json::to_string(&id).expect("serialise");
        assert_eq!(json, format!("\"{id}\""));
        assert!("not-a-uuid".parse::<CallId>().is_err());
    }
}
