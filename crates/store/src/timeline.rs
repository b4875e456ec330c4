//! The per-contact timeline: a local, append-only log of what happened with each contact.
//! Written by the other repositories in the same transaction as the change it describes.

use crate::Store;
use crate::Writer;
use crate::error::{Result, StoreError};
use crate::sql;
use cuecard_core::{ContactId, TimelineEvent, TimelineEventId, TimelineKind};

impl Writer<'_> {
    /// Appends an event to a contact's timeline.
    pub fn add_timeline(
        &mut self,
        contact_id: ContactId,
        kind: TimelineKind,
        ref_id: Option<&str>,
        summary: &str,
    ) -> Result<TimelineEventId> {
        let id = TimelineEventId::new();
        self.tx
            .prepare_cached(
                "INSERT INTO timeline_events (id, contact_id, at, kind, ref_id, summary)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((
                id.to_string(),
                contact_id.to_string(),
                sql::ts(&self.now),
                kind.as_str(),
                ref_id,
                summary,
            ))?;
        Ok(id)
    }
}

impl Store {
    /// A contact's timeline, newest first.
    pub fn timeline(&self, contact_id: ContactId, limit: u32) -> Result<Vec<TimelineEvent>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, at, kind, ref_id, summary FROM timeline_events
             WHERE contact_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map((contact_id.to_string(), limit), |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        let mut events = Vec::new();
        for row in rows {
            let (id, at, kind, ref_id, summary) = row?;
            events.push(TimelineEvent {
                id: sql::parse_id("timeline id", &id)?,
                contact_id,
                at: sql::parse_ts("timeline time", &at)?,
                kind: TimelineKind::parse(&kind)
                    .ok_or_else(|| StoreError::decode("timeline kind", &kind))?,
                ref_id,
                summary,
            });
        }
        Ok(events)
    }
}
