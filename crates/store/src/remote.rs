//! Rows that arrive from the sync server (other devices' changes, organisation-wide
//! lists, managers' reviews): applied through the same repository code as local writes,
//! so search, tag counts and timelines stay in step, but with nothing recorded in the
//! outbox (the server has these changes already). Also the sync bookkeeping kept in the
//! database: the pull cursor, the server epoch and the signed-in account.
//!
//! A pulled row may hang off one that has not arrived yet (the change log is compacted,
//! so a contact edited after its call was logged comes after the call). Such a row is
//! parked and applied again after every later pull, until its parent is there.

use crate::error::{Result, StoreError};
use crate::sql;
use crate::{Store, Writer};
use cuecard_core::{
    Call, CallId, ContactFields, ContactId, DncSource, FollowUp, Hlc, Persona, PracticeSession,
    Scorecard, Utterance,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One row as the server sends it: its entity, id, merged fields and whether it is a
/// tombstone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemoteRow {
    pub entity: String,
    pub row_id: String,
    pub data: Map<String, Value>,
    pub deleted: bool,
    pub hlc: Hlc,
}

/// What applying a batch of pulled rows did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteReport {
    pub applied: usize,
    /// Rows waiting for a parent row (kept, retried after the next pull).
    pub parked: usize,
    /// Rows of entities this app does not know (a newer app's), skipped.
    pub skipped: usize,
}

/// A manager's review of one of this rep's calls.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Review {
    pub id: String,
    pub call_id: String,
    pub author_name: String,
    pub body: String,
    pub created_at: String,
}

/// The sync state kept with the data it describes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncMarks {
    /// The server change number pulled up to.
    pub cursor: i64,
    /// The server epoch the cursor belongs to.
    pub epoch: Option<String>,
    /// The server user this database syncs as; once set, only that user may sign in
    /// with this data.
    pub user_id: Option<String>,
    /// The signed-in account, while signed in (the refresh token is in the keychain).
    pub account: Option<SyncAccount>,
}

/// The account this device is signed in to the sync server with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncAccount {
    pub server_url: String,
    pub device_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub org_name: String,
}

/// The order rows are applied in within a batch: parents before children.
fn rank(entity: &str) -> u8 {
    match entity {
        "dnc" | "personas" => 0,
        "contacts" => 1,
        "calls" | "practice_sessions" => 2,
        _ => 3,
    }
}

impl Writer<'_> {
    /// Applies pulled rows (parents first), then any parked rows they unblock.
    pub fn apply_remote(&mut self, rows: &[RemoteRow]) -> Result<RemoteReport> {
        let mut ordered: Vec<&RemoteRow> = rows.iter().collect();
        ordered.sort_by_key(|r| rank(&r.entity));
        let mut report = RemoteReport::default();
        for row in ordered {
            self.apply_or_park(row, &mut report)?;
        }
        if report.applied > 0 {
            self.retry_parked(&mut report)?;
        }
        Ok(report)
    }

    /// Removes rows the signed-in user may no longer see. Contacts are soft-deleted (their
    /// history stays with the calls that name them); other rows are deleted.
    pub fn evict(&mut self, entity: &str, row_id: &str) -> Result<()> {
        self.replaying = true;
        let outcome = self.evict_row(entity, row_id);
        self.replaying = false;
        outcome
    }

    /// Saves the sync bookkeeping in this transaction.
    pub fn set_sync_marks(&mut self, marks: &SyncMarks) -> Result<()> {
        let json = sql::to_json(marks)?;
        self.tx.execute(
            "INSERT INTO meta (key, value) VALUES ('sync_marks', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [json],
        )?;
        Ok(())
    }

    /// Moves the outbox's acknowledged watermark back to `seq`, so changes after it are
    /// sent again (the server was restored from a backup older than them).
    pub fn rewind_outbox(&mut self, seq: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO meta (key, value) VALUES ('outbox_acked_seq', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [seq.max(0).to_string()],
        )?;
        Ok(())
    }

    fn apply_or_park(&mut self, row: &RemoteRow, report: &mut RemoteReport) -> Result<()> {
        let now = u64::try_from(self.now.timestamp_millis()).unwrap_or(0);
        self.clock.observe(row.hlc, now);
        self.tx.execute_batch("SAVEPOINT remote_row")?;
        self.replaying = true;
        let outcome = self.apply_row(row);
        self.replaying = false;
        match outcome {
            Ok(true) => {
                self.tx.execute_batch("RELEASE remote_row")?;
                self.tx.execute(
                    "DELETE FROM sync_parked WHERE entity = ?1 AND row_id = ?2",
                    (&row.entity, &row.row_id),
                )?;
                report.applied += 1;
            }
            Ok(false) => {
                self.tx.execute_batch("RELEASE remote_row")?;
                report.skipped += 1;
            }
            Err(e) if is_missing_parent(&e) => {
                self.tx
                    .execute_batch("ROLLBACK TO remote_row; RELEASE remote_row")?;
                self.tx.execute(
                    "INSERT INTO sync_parked (entity, row_id, change) VALUES (?1, ?2, ?3)
                     ON CONFLICT (entity, row_id) DO UPDATE SET change = excluded.change",
                    (&row.entity, &row.row_id, sql::to_json(row)?),
                )?;
                report.parked += 1;
            }
            Err(e @ StoreError::Decode { .. }) => {
                // A row this app cannot read (written by a buggy or much newer app) is
                // skipped, not retried forever: the rest of the pull still applies.
                self.tx
                    .execute_batch("ROLLBACK TO remote_row; RELEASE remote_row")?;
                tracing::warn!(entity = %row.entity, row = %row.row_id, error = %e, "pulled row skipped");
                report.skipped += 1;
            }
            Err(e) => {
                self.tx
                    .execute_batch("ROLLBACK TO remote_row; RELEASE remote_row")?;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Applies parked rows again until a round applies none.
    fn retry_parked(&mut self, report: &mut RemoteReport) -> Result<()> {
        loop {
            let parked: Vec<String> = {
                let mut stmt = self.tx.prepare("SELECT change FROM sync_parked")?;
                let rows = stmt.query_map([], |row| row.get(0))?;
                rows.collect::<std::result::Result<_, _>>()?
            };
            if parked.is_empty() {
                return Ok(());
            }
            let mut round = RemoteReport::default();
            for json in parked {
                let row: RemoteRow = sql::from_json("parked sync row", &json)?;
                self.apply_or_park(&row, &mut round)?;
            }
            report.applied += round.applied;
            report.parked = round.parked;
            if round.applied == 0 {
                return Ok(());
            }
        }
    }

    /// Applies one row; `Ok(false)` for an entity this app does not keep.
    fn apply_row(&mut self, row: &RemoteRow) -> Result<bool> {
        let id = row.row_id.as_str();
        match row.entity.as_str() {
            "contacts" => self.apply_contact(row)?,
            "calls" => {
                let call: Call = typed(row)?;
                self.save_call(&call)?;
            }
            "utterances" => {
                let call_id: CallId = field(row, "call_id")?;
                let exists = self
                    .tx
                    .query_row("SELECT 1 FROM utterances WHERE id = ?1", [id], |_| Ok(()))
                    .is_ok();
                if !exists {
                    let utterance: Utterance = typed(row)?;
                    self.add_utterances(call_id, &[utterance])?;
                }
            }
            "notes" => self.apply_note(row)?,
            "scorecards" => {
                let card: Scorecard = typed(row)?;
                let stored: Option<String> = sql::optional(self.tx.query_row(
                    "SELECT status FROM scorecards WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                ))?;
                let newer_here = stored
                    .map(|s| sql::parse_enum::<cuecard_core::ScorecardStatus>("status", &s))
                    .transpose()?
                    .is_some_and(|s| s > card.status);
                if !newer_here {
                    self.save_scorecard(&card)?;
                }
            }
            "follow_ups" if !row.deleted => self.save_follow_up(&typed::<FollowUp>(row)?)?,
            "personas" if !row.deleted => self.save_persona(&typed::<Persona>(row)?)?,
            "practice_sessions" => {
                let exists = self
                    .tx
                    .query_row(
                        "SELECT 1 FROM practice_sessions WHERE id = ?1",
                        [id],
                        |_| Ok(()),
                    )
                    .is_ok();
                if !exists {
                    self.add_practice_session(&typed::<PracticeSession>(row)?)?;
                }
            }
            "follow_ups" | "personas" | "reviews" if row.deleted => {
                self.evict_row(&row.entity, id)?
            }
            "dnc" => {
                if row.deleted {
                    self.remove_dnc(id)?;
                } else {
                    let reason = row.data.get("reason").and_then(Value::as_str);
                    let source = row
                        .data
                        .get("source")
                        .and_then(Value::as_str)
                        .and_then(|s| sql::parse_enum::<DncSource>("dnc source", s).ok())
                        .unwrap_or(DncSource::Manual);
                    self.add_dnc(id, reason, source)?;
                }
            }
            "reviews" => {
                let text = |key: &str| -> Result<String> { field::<String>(row, key) };
                self.tx.execute(
                    "INSERT INTO reviews (id, call_id, author_id, author_name, body, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET author_name = excluded.author_name,
                        body = excluded.body",
                    (
                        id,
                        text("call_id")?,
                        text("author_id")?,
                        text("author_name")?,
                        text("body")?,
                        text("created_at")?,
                    ),
                )?;
            }
            other => {
                tracing::debug!(
                    entity = other,
                    "pulled row of an entity this app does not keep"
                );
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn apply_contact(&mut self, row: &RemoteRow) -> Result<()> {
        let id: ContactId = parse_id(row)?;
        let deleted = row.deleted || row.data.get("deleted_at").is_some_and(|v| !v.is_null());
        let existing = crate::contacts::get(&self.tx, id)?;
        match existing {
            None if deleted => {}
            None => {
                let fields = contact_fields(row)?;
                // Created when it was created on its first device, not when it got here.
                let created = row
                    .data
                    .get("created_at")
                    .and_then(Value::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    .map_or(self.now, |t| t.with_timezone(&chrono::Utc));
                let new = crate::NewContact::prepare(fields, &crate::Provenance::Manual, created)?
                    .with_id(id)
                    .keeping_created_at();
                self.insert_contact(new)?;
            }
            Some(contact) => {
                if deleted {
                    if contact.deleted_at.is_none() {
                        self.delete_contact(id)?;
                    }
                    return Ok(());
                }
                if contact.deleted_at.is_some() {
                    self.restore_contact(id)?;
                }
                self.update_contact(id, contact_fields(row)?, &crate::Provenance::Manual)?;
            }
        }
        Ok(())
    }

    fn apply_note(&mut self, row: &RemoteRow) -> Result<()> {
        let text = |key: &str| row.data.get(key).and_then(Value::as_str).map(str::to_owned);
        let deleted_at = text("deleted_at").or_else(|| row.deleted.then(|| sql::ts(&self.now)));
        let created = text("created_at").unwrap_or_else(|| sql::ts(&self.now));
        self.tx.execute(
            "INSERT INTO notes (id, contact_id, call_id, body, created_at, updated_at, deleted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at,
                deleted_at = excluded.deleted_at",
            (
                &row.row_id,
                field::<String>(row, "contact_id")?,
                text("call_id"),
                text("body").unwrap_or_default(),
                &created,
                text("updated_at").unwrap_or_else(|| created.clone()),
                deleted_at,
            ),
        )?;
        Ok(())
    }

    fn evict_row(&mut self, entity: &str, row_id: &str) -> Result<()> {
        match entity {
            "contacts" => {
                let id: ContactId = row_id
                    .parse()
                    .map_err(|e| StoreError::decode("evicted contact id", e))?;
                if crate::contacts::get(&self.tx, id)?.is_some_and(|c| c.deleted_at.is_none()) {
                    self.delete_contact(id)?;
                }
            }
            "calls" => {
                for table in ["reviews", "utterances"] {
                    self.tx
                        .execute(&format!("DELETE FROM {table} WHERE call_id = ?1"), [row_id])?;
                }
                self.tx.execute(
                    "UPDATE notes SET call_id = NULL WHERE call_id = ?1",
                    [row_id],
                )?;
                self.tx
                    .execute("DELETE FROM calls WHERE id = ?1", [row_id])?;
            }
            "dnc" => {
                self.tx
                    .execute("DELETE FROM dnc WHERE e164 = ?1", [row_id])?;
            }
            "utterances" | "notes" | "scorecards" | "follow_ups" | "personas"
            | "practice_sessions" | "reviews" => {
                self.tx
                    .execute(&format!("DELETE FROM {entity} WHERE id = ?1"), [row_id])?;
            }
            other => tracing::debug!(
                entity = other,
                "eviction of an entity this app does not keep"
            ),
        }
        self.tx.execute(
            "DELETE FROM sync_parked WHERE entity = ?1 AND row_id = ?2",
            (entity, row_id),
        )?;
        Ok(())
    }
}

impl Store {
    /// The sync bookkeeping (defaults before the first sync).
    pub fn sync_marks(&self) -> Result<SyncMarks> {
        let json: Option<String> = sql::optional(self.conn().query_row(
            "SELECT value FROM meta WHERE key = 'sync_marks'",
            [],
            |row| row.get(0),
        ))?;
        json.map(|j| sql::from_json("sync marks", &j))
            .transpose()
            .map(Option::unwrap_or_default)
    }

    /// Managers' reviews of a call, oldest first.
    pub fn reviews_for_call(&self, call_id: &str) -> Result<Vec<Review>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, call_id, author_name, body, created_at FROM reviews
             WHERE call_id = ?1 ORDER BY created_at, id",
        )?;
        let rows = stmt.query_map([call_id], |row| {
            Ok(Review {
                id: row.get(0)?,
                call_id: row.get(1)?,
                author_name: row.get(2)?,
                body: row.get(3)?,
                created_at: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Pulled rows waiting for their parent.
    pub fn parked_count(&self) -> Result<u32> {
        Ok(self
            .conn()
            .query_row("SELECT count(*) FROM sync_parked", [], |row| row.get(0))?)
    }
}

/// Whether a failed write failed because a row it refers to is missing.
fn is_missing_parent(error: &StoreError) -> bool {
    match error {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
            e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
        }
        StoreError::NotFound { .. } => true,
        _ => false,
    }
}

/// The row's data with its id, as the domain type.
fn typed<T: serde::de::DeserializeOwned>(row: &RemoteRow) -> Result<T> {
    let mut data = row.data.clone();
    data.insert("id".into(), Value::String(row.row_id.clone()));
    serde_json::from_value(Value::Object(data)).map_err(|e| StoreError::Decode {
        what: "pulled row",
        detail: format!("{} {}: {e}", row.entity, row.row_id),
    })
}

fn field<T: serde::de::DeserializeOwned>(row: &RemoteRow, key: &str) -> Result<T> {
    let value = row.data.get(key).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|e| StoreError::Decode {
        what: "pulled row",
        detail: format!("{} {}: `{key}`: {e}", row.entity, row.row_id),
    })
}

fn parse_id<T: std::str::FromStr>(row: &RemoteRow) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    row.row_id.parse().map_err(|e: T::Err| StoreError::Decode {
        what: "pulled row id",
        detail: format!("{} {}: {e}", row.entity, row.row_id),
    })
}

/// A contact's fields from its merged row: the stored fields over the defaults (a row
/// from an older app may lack newer fields).
fn contact_fields(row: &RemoteRow) -> Result<ContactFields> {
    let mut fields = match serde_json::to_value(ContactFields::default()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    for (key, value) in &row.data {
        if fields.contains_key(key) && !value.is_null() {
            fields.insert(key.clone(), value.clone());
        }
    }
    serde_json::from_value(Value::Object(fields)).map_err(|e| StoreError::Decode {
        what: "pulled contact",
        detail: format!("{}: {e}", row.row_id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cuecard_core::{CallId, ContactId};
    use serde_json::json;

    fn row(entity: &str, row_id: &str, data: Value) -> RemoteRow {
        let Value::Object(data) = data else {
            panic!("an object");
        };
        RemoteRow {
            entity: entity.into(),
            row_id: row_id.into(),
            data,
            deleted: false,
            hlc: Hlc {
                wall_ms: 1_800_000_000_000,
                counter: 0,
                node: 9,
            },
        }
    }

    #[test]
    fn a_call_arriving_before_its_contact_waits_for_it_and_nothing_enters_the_outbox() {
        let mut store = Store::open_in_memory().expect("store");
        let (contact, call) = (ContactId::new(), CallId::new());
        let call_row = row(
            "calls",
            &call.to_string(),
            json!({"contact_id": contact, "direction": "outbound", "status": "completed",
                   "from": "+14155550100", "to": "+14155550199",
                   "started_at": "2026-11-20T15:04:00Z", "answered_at": null, "ended_at": null,
                   "duration_secs": 60, "disposition": null, "recording": null, "notes": ""}),
        );
        let report = store
            .write(|w| w.apply_remote(std::slice::from_ref(&call_row)))
            .expect("apply");
        assert_eq!((report.applied, report.parked), (0, 1));
        assert_eq!(store.parked_count().ok(), Some(1));
        assert!(store.call(call).expect("read").is_none());

        let contact_row = row(
            "contacts",
            &contact.to_string(),
            json!({"name": "Priya Shah", "phones": [{"e164": "+14155550199", "label": null}],
                   "created_at": "2026-11-20T15:00:00Z", "a_field_from_a_newer_app": 1}),
        );
        let future_row = row("playlists", "p1", json!({"name": "later"}));
        let report = store
            .write(|w| w.apply_remote(&[contact_row, future_row]))
            .expect("apply");
        assert_eq!((report.applied, report.parked, report.skipped), (2, 0, 1));
        assert!(
            store.call(call).expect("read").is_some(),
            "the parked call applied"
        );
        assert_eq!(store.parked_count().ok(), Some(0));
        assert_eq!(
            store.outbox_pending_count().ok(),
            Some(0),
            "nothing to send back"
        );
        assert_eq!(store.search("Priya", 5).expect("search").len(), 1);
        let priya = store.contact(contact).expect("read").expect("applied");
        assert_eq!(
            priya.created_at.to_rfc3339(),
            "2026-11-20T15:00:00+00:00",
            "keeps the time it was created on its first device"
        );

        store
            .write(|w| w.evict("calls", &call.to_string()))
            .expect("evict");
        assert!(store.call(call).expect("read").is_none());
        assert_eq!(store.outbox_pending_count().ok(), Some(0));
    }

    #[test]
    fn a_malformed_pulled_row_is_skipped_and_the_rest_applies() {
        let mut store = Store::open_in_memory().expect("store");
        let bad = row(
            "calls",
            &CallId::new().to_string(),
            json!({"direction": "sideways"}),
        );
        let good = row(
            "dnc",
            "+14155550123",
            json!({"reason": "asked", "source": "manual"}),
        );
        let report = store
            .write(|w| w.apply_remote(&[bad, good]))
            .expect("applied");
        assert_eq!((report.applied, report.skipped, report.parked), (1, 1, 0));
        assert!(store.dnc_entry("+14155550123").expect("read").is_some());
    }

    #[test]
    fn the_outbox_listener_hears_local_changes_only() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let mut store = Store::open_in_memory().expect("store");
        let heard = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&heard);
        store.on_outbox_write(Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        let pulled = row(
            "dnc",
            "+14155550123",
            json!({"reason": "asked", "source": "manual"}),
        );
        store.write(|w| w.apply_remote(&[pulled])).expect("applied");
        assert_eq!(heard.load(Ordering::SeqCst), 0, "pulled rows are not news");
        store
            .write(|w| w.add_dnc("+14155550124", None, cuecard_core::DncSource::Manual))
            .expect("added");
        assert_eq!(heard.load(Ordering::SeqCst), 1);
        let failed = store.write(|w| {
            w.add_dnc("+14155550125", None, cuecard_core::DncSource::Manual)?;
            Err::<(), _>(StoreError::NotFound {
                entity: "contact",
                id: "gone".into(),
            })
        });
        assert!(failed.is_err());
        assert_eq!(
            heard.load(Ordering::SeqCst),
            1,
            "a rolled-back write is not news"
        );
    }
}
