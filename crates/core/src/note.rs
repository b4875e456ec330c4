//! Notes a rep writes on a contact, optionally tied to a call.

use crate::{CallId, ContactId, NoteId, Timestamp};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Note {
    pub id: NoteId,
    pub contact_id: ContactId,
    pub call_id: Option<CallId>,
    pub body: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
