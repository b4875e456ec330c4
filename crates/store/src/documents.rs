//! Repositories for records whose shape grows with their features — scorecards,
//! follow-ups, personas, practice sessions: a few key columns for queries and the whole
//! record as JSON, written with its outbox entry like everything else.

use crate::error::{Result, StoreError};
use crate::outbox::OutboxOp;
use crate::sql;
use crate::{Store, Writer};
use cuecard_core::{
    ContactId, FollowUp, Persona, PracticeSession, ScoreSubject, Scorecard, TimelineKind,
};
use serde::de::DeserializeOwned;

impl Writer<'_> {
    /// Saves a scorecard. A scorecard's status only moves forward (draft → final →
    /// reviewed); saving an older status over a newer one is refused.
    pub fn save_scorecard(&mut self, card: &Scorecard) -> Result<()> {
        let id = card.id.to_string();
        let current: Option<String> = sql::optional(self.tx.query_row(
            "SELECT status FROM scorecards WHERE id = ?1",
            [&id],
            |row| row.get(0),
        ))?;
        if let Some(current) = current {
            let current: cuecard_core::ScorecardStatus =
                sql::parse_enum("scorecard status", &current)?;
            if card.status < current {
                return Err(StoreError::Decode {
                    what: "scorecard",
                    detail: format!(
                        "status cannot go back from {current:?} to {:?}",
                        card.status
                    ),
                });
            }
        }
        let subject = match card.subject {
            ScoreSubject::Call(id) => id.to_string(),
            ScoreSubject::PracticeSession(id) => id.to_string(),
        };
        let data = sql::to_json(card)?;
        self.tx.execute(
            "INSERT INTO scorecards (id, subject_id, total, status, data, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET total = excluded.total, status = excluded.status, data = excluded.data",
            (&id, subject, card.total, sql::enum_name(&card.status)?, &data, sql::ts(&card.created_at)),
        )?;
        self.record_document("scorecards", &id, card)
    }

    /// Saves a follow-up (insert or replace) and notes it on the contact's timeline.
    pub fn save_follow_up(&mut self, follow_up: &FollowUp) -> Result<()> {
        let id = follow_up.id.to_string();
        let inserted = self.tx.execute(
            "INSERT INTO follow_ups (id, contact_id, status, data, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data,
                updated_at = excluded.updated_at",
            (
                &id,
                follow_up.contact_id.to_string(),
                sql::enum_name(&follow_up.status)?,
                sql::to_json(follow_up)?,
                sql::ts(&follow_up.updated_at),
            ),
        )?;
        self.record_document("follow_ups", &id, follow_up)?;
        if inserted > 0 {
            let summary = format!("Follow-up {:?}: {}", follow_up.status, follow_up.subject);
            self.add_timeline(
                follow_up.contact_id,
                TimelineKind::FollowUp,
                Some(&id),
                summary.trim_end_matches(": "),
            )?;
        }
        Ok(())
    }

    pub fn save_persona(&mut self, persona: &Persona) -> Result<()> {
        let id = persona.id.to_string();
        self.tx.execute(
            "INSERT INTO personas (id, name, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data",
            (&id, &persona.name, sql::to_json(persona)?),
        )?;
        self.record_document("personas", &id, persona)
    }

    /// Practice sessions are append-only: saving an existing id is refused.
    pub fn add_practice_session(&mut self, session: &PracticeSession) -> Result<()> {
        let id = session.id.to_string();
        self.tx.execute(
            "INSERT INTO practice_sessions (id, persona_id, started_at, data) VALUES (?1, ?2, ?3, ?4)",
            (&id, session.persona_id.to_string(), sql::ts(&session.started_at), sql::to_json(session)?),
        )?;
        self.record_document("practice_sessions", &id, session)
    }

    fn record_document<T: serde::Serialize>(
        &mut self,
        entity: &str,
        id: &str,
        value: &T,
    ) -> Result<()> {
        let change = serde_json::to_value(value).map_err(|e| StoreError::decode("record", e))?;
        self.record(entity, id, OutboxOp::Insert, &change)
    }
}

impl Store {
    pub fn scorecards_for(&self, subject_id: &str) -> Result<Vec<Scorecard>> {
        self.documents(
            "SELECT data FROM scorecards WHERE subject_id = ?1 ORDER BY created_at",
            subject_id,
            "scorecard",
        )
    }

    pub fn follow_ups_for_contact(&self, contact_id: ContactId) -> Result<Vec<FollowUp>> {
        self.documents(
            "SELECT data FROM follow_ups WHERE contact_id = ?1 ORDER BY updated_at DESC",
            &contact_id.to_string(),
            "follow-up",
        )
    }

    pub fn personas(&self) -> Result<Vec<Persona>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT data FROM personas ORDER BY name")?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|r| sql::from_json("persona", &r?)).collect()
    }

    pub fn practice_sessions_for_persona(&self, persona_id: &str) -> Result<Vec<PracticeSession>> {
        self.documents(
            "SELECT data FROM practice_sessions WHERE persona_id = ?1 ORDER BY started_at DESC",
            persona_id,
            "practice session",
        )
    }

    fn documents<T: DeserializeOwned>(
        &self,
        query: &str,
        key: &str,
        what: &'static str,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn().prepare_cached(query)?;
        let rows = stmt.query_map([key], |row| row.get::<_, String>(0))?;
        rows.map(|r| sql::from_json(what, &r?)).collect()
    }
}
