//! Follow-ups: the e-mail or SMS a rep sends after a call, from draft to sent.

use crate::{CallId, ContactId, FollowUpId, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FollowUp {
    pub id: FollowUpId,
    pub contact_id: ContactId,
    pub call_id: Option<CallId>,
    pub channel: FollowUpChannel,
    pub status: FollowUpStatus,
    /// E-mail subject; empty for SMS.
    pub subject: String,
    pub body: String,
    pub due_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpChannel {
    Email,
    Sms,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    Draft,
    Approved,
    Sent,
    Canceled,
}
