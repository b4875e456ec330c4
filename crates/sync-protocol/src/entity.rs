//! The entities that sync: their wire names, who sees them, and how conflicts resolve.
//!
//! The conflict policy of each entity is written out, with the reasons, in ARCHITECTURE.md
//! ("Sync"). This table is the one place the code reads it from.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Everything that syncs. The wire name is the local store's table name, which is also the
/// outbox's `entity` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Contacts,
    Calls,
    Utterances,
    Notes,
    Scorecards,
    FollowUps,
    Personas,
    PracticeSessions,
    Dnc,
    Reviews,
}

/// Who may read a row (always within its organisation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone in the organisation: the do-not-call list and the persona library are
    /// shared compliance and training data.
    Org,
    /// The rep who owns the row, the managers of the teams that rep is in, and admins.
    Owner,
}

/// How concurrent and repeated writes to one row combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Each field keeps the value with the newest HLC stamp; deletes are tombstones that a
    /// newer write (a restore) can lift.
    FieldLww,
    /// Written once; afterwards only the listed fields may change (last writer wins per
    /// field). Any other field that differs from the stored value is refused.
    InsertOnce { mutable: &'static [&'static str] },
    /// Written once, never changed: an identical repeat is accepted, anything else refused.
    Immutable,
    /// Field LWW, except that `field` only moves forward through `order`.
    Monotonic {
        field: &'static str,
        order: &'static [&'static str],
    },
    /// Field LWW, writable only by managers and admins.
    ManagerOnly,
}

/// A call's fields that may change after it is first stored: its progress, outcome,
/// recording and the rep's notes. Who, when and which way are fixed.
pub const CALL_MUTABLE_FIELDS: &[&str] = &[
    "contact_id",
    "status",
    "answered_at",
    "ended_at",
    "duration_secs",
    "disposition",
    "recording",
    "notes",
];

/// Scorecard status order: draft → final → reviewed.
pub const SCORECARD_STATUS_ORDER: &[&str] = &["draft", "final", "reviewed"];

impl Entity {
    pub const ALL: [Entity; 10] = [
        Entity::Contacts,
        Entity::Calls,
        Entity::Utterances,
        Entity::Notes,
        Entity::Scorecards,
        Entity::FollowUps,
        Entity::Personas,
        Entity::PracticeSessions,
        Entity::Dnc,
        Entity::Reviews,
    ];

    /// The wire (and local table) name.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Contacts => "contacts",
            Entity::Calls => "calls",
            Entity::Utterances => "utterances",
            Entity::Notes => "notes",
            Entity::Scorecards => "scorecards",
            Entity::FollowUps => "follow_ups",
            Entity::Personas => "personas",
            Entity::PracticeSessions => "practice_sessions",
            Entity::Dnc => "dnc",
            Entity::Reviews => "reviews",
        }
    }

    /// The first sync schema version that has this entity.
    pub fn since_schema(self) -> u32 {
        match self {
            Entity::Reviews => 2,
            _ => 1,
        }
    }

    pub fn visibility(self) -> Visibility {
        match self {
            Entity::Dnc | Entity::Personas => Visibility::Org,
            _ => Visibility::Owner,
        }
    }

    pub fn policy(self) -> Policy {
        match self {
            Entity::Contacts | Entity::Notes | Entity::FollowUps | Entity::Personas => {
                Policy::FieldLww
            }
            Entity::Dnc => Policy::FieldLww,
            Entity::Calls => Policy::InsertOnce {
                mutable: CALL_MUTABLE_FIELDS,
            },
            Entity::Utterances | Entity::PracticeSessions => Policy::Immutable,
            Entity::Scorecards => Policy::Monotonic {
                field: "status",
                order: SCORECARD_STATUS_ORDER,
            },
            Entity::Reviews => Policy::ManagerOnly,
        }
    }

    /// The data field whose non-null value marks the row deleted, for entities that carry
    /// their own soft-delete stamp. Others are deleted by a `delete` operation alone.
    pub fn tombstone_field(self) -> Option<&'static str> {
        match self {
            Entity::Contacts | Entity::Notes => Some("deleted_at"),
            _ => None,
        }
    }

    /// For rows that belong to another row's owner rather than to their writer: the data
    /// field naming the parent row and the parent's entity. A review belongs to the rep
    /// whose call it reviews, whichever manager wrote it.
    pub fn owner_from(self) -> Option<(&'static str, Entity)> {
        match self {
            Entity::Reviews => Some(("call_id", Entity::Calls)),
            _ => None,
        }
    }

    /// The id of the row this one hangs off, from its data: a transcript line's or a
    /// review's call, a scorecard's subject, a note's or follow-up's contact, a call's
    /// contact. The server indexes it to find a call's transcript and scorecard.
    pub fn parent_of(self, data: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
        let text = |key: &str| data.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        match self {
            Entity::Utterances | Entity::Reviews => text("call_id"),
            Entity::Scorecards => data
                .get("subject")
                .and_then(|s| s.get("id"))
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            Entity::Notes | Entity::FollowUps | Entity::Calls => text("contact_id"),
            _ => None,
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An entity name that is not part of the protocol.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown entity {0:?}")]
pub struct UnknownEntity(pub String);

impl FromStr for Entity {
    type Err = UnknownEntity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Entity::ALL
            .into_iter()
            .find(|e| e.name() == s)
            .ok_or_else(|| UnknownEntity(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for entity in Entity::ALL {
            assert_eq!(entity.name().parse::<Entity>(), Ok(entity));
            assert_eq!(
                serde_json::to_value(entity).ok(),
                Some(serde_json::Value::String(entity.name().into()))
            );
        }
        assert!("users".parse::<Entity>().is_err());
    }
}
