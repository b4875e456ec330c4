//! The notes repository: notes on contacts, optionally tied to a call.

use crate::error::{Result, StoreError};
use crate::outbox::OutboxOp;
use crate::sql;
use crate::{Store, Writer};
use cuecard_core::{CallId, ContactId, Note, NoteId, TimelineKind};

impl Writer<'_> {
    /// Adds a note to a contact and its timeline.
    pub fn add_note(
        &mut self,
        contact_id: ContactId,
        call_id: Option<CallId>,
        body: &str,
    ) -> Result<Note> {
        let body = body.trim();
        if body.is_empty() {
            return Err(StoreError::Decode {
                what: "note",
                detail: "a note cannot be empty".into(),
            });
        }
        if self.contact(contact_id)?.is_none() {
            return Err(StoreError::NotFound {
                entity: "contact",
                id: contact_id.to_string(),
            });
        }
        let note = Note {
            id: NoteId::new(),
            contact_id,
            call_id,
            body: body.to_owned(),
            created_at: self.now,
            updated_at: self.now,
        };
        self.tx.execute(
            "INSERT INTO notes (id, contact_id, call_id, body, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            (
                note.id.to_string(),
                contact_id.to_string(),
                call_id.map(|c| c.to_string()),
                &note.body,
                sql::ts(&note.created_at),
            ),
        )?;
        let change = serde_json::to_value(&note).map_err(|e| StoreError::decode("note", e))?;
        self.record("notes", &note.id.to_string(), OutboxOp::Insert, &change)?;
        let first_line: String = note
            .body
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(80)
            .collect();
        self.add_timeline(
            contact_id,
            TimelineKind::Note,
            Some(&note.id.to_string()),
            &first_line,
        )?;
        Ok(note)
    }
}

impl Store {
    /// A contact's live notes, newest first.
    pub fn notes_for_contact(&self, contact_id: ContactId) -> Result<Vec<Note>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, call_id, body, created_at, updated_at FROM notes
             WHERE contact_id = ?1 AND deleted_at IS NULL ORDER BY created_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([contact_id.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        let mut notes = Vec::new();
        for row in rows {
            let (id, call_id, body, created_at, updated_at) = row?;
            notes.push(Note {
                id: sql::parse_id("note id", &id)?,
                contact_id,
                call_id: call_id.map(|c| sql::parse_id("call id", &c)).transpose()?,
                body,
                created_at: sql::parse_ts("created_at", &created_at)?,
                updated_at: sql::parse_ts("updated_at", &updated_at)?,
            });
        }
        Ok(notes)
    }
}
