//! A contact's timeline: what happened with them, newest first.

use crate::{ContactId, TimelineEventId, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TimelineEvent {
    pub id: TimelineEventId,
    pub contact_id: ContactId,
    pub at: Timestamp,
    pub kind: TimelineKind,
    /// The entity the event is about (a call, note, follow-up…), when there is one.
    pub ref_id: Option<String>,
    /// One line for people: "Imported from leads.csv (row 12)", "Stage: lead → qualified".
    pub summary: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Created,
    Updated,
    Imported,
    Merged,
    Deleted,
    Restored,
    Call,
    Note,
    FollowUp,
    DoNotCall,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TimelineKind::Created => "created",
            TimelineKind::Updated => "updated",
            TimelineKind::Imported => "imported",
            TimelineKind::Merged => "merged",
            TimelineKind::Deleted => "deleted",
            TimelineKind::Restored => "restored",
            TimelineKind::Call => "call",
            TimelineKind::Note => "note",
            TimelineKind::FollowUp => "follow_up",
            TimelineKind::DoNotCall => "do_not_call",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "created" => TimelineKind::Created,
            "updated" => TimelineKind::Updated,
            "imported" => TimelineKind::Imported,
            "merged" => TimelineKind::Merged,
            "deleted" => TimelineKind::Deleted,
            "restored" => TimelineKind::Restored,
            "call" => TimelineKind::Call,
            "note" => TimelineKind::Note,
            "follow_up" => TimelineKind::FollowUp,
            "do_not_call" => TimelineKind::DoNotCall,
            _ => return None,
        })
    }
}
