//! The sync outbox: one row per change, written in the change's own transaction.

use crate::error::Result;
use crate::sql;
use crate::{Store, Writer};
use cuecard_core::{Hlc, MutationId, Timestamp};
use serde::{Deserialize, Serialize};

/// Kind of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxOp {
    Insert,
    Update,
    Delete,
}

/// One recorded change, as sync will send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Local order of the change on this device.
    pub seq: i64,
    pub mutation_id: MutationId,
    /// The table the change is to (`contacts`, `calls`, `dnc`, …).
    pub entity: String,
    pub row_id: String,
    pub op: OutboxOp,
    /// The fields that changed, with their new values.
    pub changed: serde_json::Value,
    pub hlc: Hlc,
    pub created_at: Timestamp,
}

impl Writer<'_> {
    /// Records a change in the outbox, inside this transaction.
    pub fn record(
        &mut self,
        entity: &str,
        row_id: &str,
        op: OutboxOp,
        changed: &serde_json::Value,
    ) -> Result<()> {
        self.record_json(entity, row_id, op, &changed.to_string())
    }

    /// As [`Writer::record`], with the changed fields already serialised as a JSON object.
    pub fn record_json(
        &mut self,
        entity: &str,
        row_id: &str,
        op: OutboxOp,
        changed: &str,
    ) -> Result<()> {
        if self.replaying {
            return Ok(());
        }
        let hlc = self.next_hlc();
        let op = sql::enum_name(&op)?;
        self.tx
            .prepare_cached(
                "INSERT INTO outbox (mutation_id, entity, row_id, op, changed, hlc, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute((
                MutationId::new().to_string(),
                entity,
                row_id,
                op,
                changed,
                hlc.to_string(),
                sql::ts(&self.now),
            ))?;
        self.recorded = true;
        Ok(())
    }
}

impl Store {
    /// Changes not yet acknowledged by the server, oldest first.
    pub fn outbox_pending(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, mutation_id, entity, row_id, op, changed, hlc, created_at
             FROM outbox WHERE seq > ?2 ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map((limit, acked_seq(self.conn())?), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
            ))
        })?;
        let mut entries = Vec::new();
        for row in rows {
            let (seq, mutation_id, entity, row_id, op, changed, hlc, created_at) = row?;
            entries.push(OutboxEntry {
                seq,
                mutation_id: sql::parse_id("mutation id", &mutation_id)?,
                entity,
                row_id,
                op: sql::parse_enum("outbox op", &op)?,
                changed: sql::from_json("outbox change", &changed)?,
                hlc: sql::parse_id("hlc", &hlc)?,
                created_at: sql::parse_ts("outbox time", &created_at)?,
            });
        }
        Ok(entries)
    }

    /// The highest outbox sequence number the server has acknowledged (0 when none).
    pub fn outbox_acked_seq(&self) -> Result<i64> {
        acked_seq(self.conn())
    }

    /// The newest outbox sequence number written (0 when none).
    pub fn outbox_last_seq(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |row| {
                row.get(0)
            })?)
    }

    /// How many changes wait to be synced.
    pub fn outbox_pending_count(&self) -> Result<u32> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM outbox WHERE seq > ?1",
            [acked_seq(self.conn())?],
            |row| row.get(0),
        )?)
    }

    /// Marks changes up to and including `seq` as acknowledged by the server.
    pub fn outbox_ack_through(&mut self, seq: i64) -> Result<u64> {
        let before = acked_seq(self.conn())?;
        if seq <= before {
            return Ok(0);
        }
        let newly: i64 = self.conn().query_row(
            "SELECT count(*) FROM outbox WHERE seq > ?1 AND seq <= ?2",
            (before, seq),
            |row| row.get(0),
        )?;
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES ('outbox_acked_seq', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [seq.to_string()],
        )?;
        Ok(newly.unsigned_abs())
    }
}

/// The highest acknowledged outbox sequence number (0 when none).
fn acked_seq(conn: &rusqlite::Connection) -> Result<i64> {
    let text: Option<String> = sql::optional(conn.query_row(
        "SELECT value FROM meta WHERE key = 'outbox_acked_seq'",
        [],
        |row| row.get(0),
    ))?;
    text.map(|t| {
        t.parse()
            .map_err(|e| crate::StoreError::decode("outbox watermark", e))
    })
    .transpose()
    .map(|v| v.unwrap_or(0))
}
