//! The calls repository: call records and their transcripts.

use crate::error::{Result, StoreError};
use crate::outbox::OutboxOp;
use crate::sql;
use crate::{Store, Writer};
use cuecard_core::{Call, CallDirection, CallId, ContactId, TimelineKind, Utterance};

const COLUMNS: &str = "id, contact_id, direction, status, from_addr, to_addr, started_at, \
    answered_at, ended_at, duration_secs, disposition, recording, notes";

impl Writer<'_> {
    /// Logs a call (insert or full update by id) and, the first time, puts it on the
    /// contact's timeline.
    pub fn save_call(&mut self, call: &Call) -> Result<()> {
        let id = call.id.to_string();
        let existed = self
            .tx
            .query_row("SELECT 1 FROM calls WHERE id = ?1", [&id], |_| Ok(()))
            .is_ok();
        let disposition = call.disposition.as_ref().map(sql::to_json).transpose()?;
        let recording = call.recording.as_ref().map(sql::to_json).transpose()?;
        self.tx
            .prepare_cached(
                "INSERT INTO calls (id, contact_id, direction, status, from_addr, to_addr, started_at,
                    answered_at, ended_at, duration_secs, disposition, recording, notes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id,
                    status = excluded.status, answered_at = excluded.answered_at,
                    ended_at = excluded.ended_at, duration_secs = excluded.duration_secs,
                    disposition = excluded.disposition, recording = excluded.recording,
                    notes = excluded.notes",
            )?
            .execute(rusqlite::params![
                id,
                call.contact_id.map(|c| c.to_string()),
                sql::enum_name(&call.direction)?,
                sql::enum_name(&call.status)?,
                call.from,
                call.to,
                sql::ts(&call.started_at),
                call.answered_at.as_ref().map(sql::ts),
                call.ended_at.as_ref().map(sql::ts),
                call.duration_secs,
                disposition,
                recording,
                call.notes,
            ])?;
        let change = serde_json::to_value(call).map_err(|e| StoreError::decode("call", e))?;
        let op = if existed {
            OutboxOp::Update
        } else {
            OutboxOp::Insert
        };
        self.record("calls", &id, op, &change)?;
        if let (false, Some(contact_id)) = (existed, call.contact_id) {
            let verb = match call.direction {
                CallDirection::Outbound => format!("Called {}", call.to),
                CallDirection::Inbound => format!("Call from {}", call.from),
            };
            self.add_timeline(contact_id, TimelineKind::Call, Some(&id), &verb)?;
        }
        Ok(())
    }

    /// Appends committed utterances to a call's transcript. Transcripts are immutable:
    /// an utterance id that is already stored is refused.
    pub fn add_utterances(&mut self, call_id: CallId, utterances: &[Utterance]) -> Result<()> {
        let call = call_id.to_string();
        for u in utterances {
            self.tx
                .prepare_cached(
                    "INSERT INTO utterances (id, call_id, channel, speaker, start_ms, end_ms, text, confidence, words)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )?
                .execute(rusqlite::params![
                    u.id.to_string(),
                    call,
                    sql::enum_name(&u.channel)?,
                    u.speaker,
                    u.start_ms,
                    u.end_ms,
                    u.text,
                    u.confidence,
                    sql::to_json(&u.words)?,
                ])?;
            let change = serde_json::to_value(u).map_err(|e| StoreError::decode("utterance", e))?;
            let mut change = change;
            change["call_id"] = serde_json::Value::String(call.clone());
            self.record("utterances", &u.id.to_string(), OutboxOp::Insert, &change)?;
        }
        Ok(())
    }
}

impl Store {
    pub fn call(&self, id: CallId) -> Result<Option<Call>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("SELECT {COLUMNS} FROM calls WHERE id = ?1"))?;
        sql::optional(stmt.query_row([id.to_string()], read_row))?
            .map(decode)
            .transpose()
    }

    /// A contact's calls, newest first.
    pub fn calls_for_contact(&self, contact_id: ContactId) -> Result<Vec<Call>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM calls WHERE contact_id = ?1 ORDER BY started_at DESC"
        ))?;
        let rows = stmt.query_map([contact_id.to_string()], read_row)?;
        rows.map(|r| decode(r?)).collect()
    }

    /// The call log: the newest `limit` calls, any contact or none.
    pub fn recent_calls(&self, limit: u32) -> Result<Vec<Call>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {COLUMNS} FROM calls ORDER BY started_at DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit], read_row)?;
        rows.map(|r| decode(r?)).collect()
    }

    /// A call's transcript in time order.
    pub fn transcript(&self, call_id: CallId) -> Result<Vec<Utterance>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, channel, speaker, start_ms, end_ms, text, confidence, words
             FROM utterances WHERE call_id = ?1 ORDER BY start_ms, rowid",
        )?;
        let rows = stmt.query_map([call_id.to_string()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, u32>(3)?,
                row.get::<_, u32>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, Option<f32>>(6)?,
                row.get::<_, String>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, channel, speaker, start_ms, end_ms, text, confidence, words) = row?;
            out.push(Utterance {
                id: sql::parse_id("utterance id", &id)?,
                channel: sql::parse_enum("channel", &channel)?,
                speaker,
                start_ms,
                end_ms,
                text,
                confidence,
                words: sql::from_json("word timings", &words)?,
            });
        }
        Ok(out)
    }
}

type RawCall = (
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    u32,
    Option<String>,
    Option<String>,
    String,
);

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawCall> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
        row.get(12)?,
    ))
}

fn decode(raw: RawCall) -> Result<Call> {
    let (
        id,
        contact_id,
        direction,
        status,
        from,
        to,
        started,
        answered,
        ended,
        duration,
        disposition,
        recording,
        notes,
    ) = raw;
    Ok(Call {
        id: sql::parse_id("call id", &id)?,
        contact_id: contact_id
            .map(|c| sql::parse_id("contact id", &c))
            .transpose()?,
        direction: sql::parse_enum("call direction", &direction)?,
        status: sql::parse_enum("call status", &status)?,
        from,
        to,
        started_at: sql::parse_ts("started_at", &started)?,
        answered_at: sql::parse_opt_ts("answered_at", answered)?,
        ended_at: sql::parse_opt_ts("ended_at", ended)?,
        duration_secs: duration,
        disposition: disposition
            .map(|d| sql::from_json("disposition", &d))
            .transpose()?,
        recording: recording
            .map(|r| sql::from_json("recording", &r))
            .transpose()?,
        notes,
    })
}
