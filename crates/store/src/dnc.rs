//! The do-not-call list. Adding a number also flags every live contact holding it.

use crate::contacts::{KeyKind, Provenance};
use crate::error::Result;
use crate::outbox::OutboxOp;
use crate::sql;
use crate::{Store, Writer};
use cuecard_core::{DncEntry, DncSource, TimelineKind, is_e164};

impl Writer<'_> {
    /// Puts a number (E.164) on the list and flags contacts that hold it. Returns how
    /// many contacts were newly flagged. Adding a listed number again updates its reason.
    pub fn add_dnc(&mut self, e164: &str, reason: Option<&str>, source: DncSource) -> Result<u32> {
        if !is_e164(e164) {
            return Err(cuecard_core::ContactInvalid::PhoneNotE164(e164.to_owned()).into());
        }
        let now = sql::ts(&self.now);
        let source_name = sql::enum_name(&source)?;
        self.tx.execute(
            "INSERT INTO dnc (e164, reason, source, added_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (e164) DO UPDATE SET reason = coalesce(excluded.reason, dnc.reason)",
            (e164, reason, &source_name, &now),
        )?;
        let change =
            serde_json::json!({ "reason": reason, "source": source_name, "added_at": now });
        self.record("dnc", e164, OutboxOp::Insert, &change)?;
        let mut flagged = 0;
        for id in self.contacts_with_key(KeyKind::Phone, e164)? {
            if let Some(contact) = self.contact(id)?
                && !contact.fields.do_not_call
            {
                let mut fields = contact.fields;
                fields.do_not_call = true;
                self.update_contact(id, fields, &Provenance::Manual)?;
                self.add_timeline(
                    id,
                    TimelineKind::DoNotCall,
                    Some(e164),
                    &format!("{e164} is on the do-not-call list"),
                )?;
                flagged += 1;
            }
        }
        Ok(flagged)
    }

    /// Takes a number off the list. Contacts keep their do-not-call flag (it may have been
    /// set for another reason); clear it on the contact. Returns whether it was listed.
    pub fn remove_dnc(&mut self, e164: &str) -> Result<bool> {
        let removed = self.tx.execute("DELETE FROM dnc WHERE e164 = ?1", [e164])? > 0;
        if removed {
            self.record("dnc", e164, OutboxOp::Delete, &serde_json::json!({}))?;
        }
        Ok(removed)
    }

    /// Every listed number, for bulk scrubbing.
    pub fn dnc_numbers(&self) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self.tx.prepare("SELECT e164 FROM dnc")?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The list entry for a number, inside this transaction.
    pub fn dnc_entry(&self, e164: &str) -> Result<Option<DncEntry>> {
        dnc_entry(&self.tx, e164)
    }
}

impl Store {
    /// The list entry for a number (E.164), if it is listed.
    pub fn dnc_entry(&self, e164: &str) -> Result<Option<DncEntry>> {
        dnc_entry(self.conn(), e164)
    }

    /// The whole list, by number.
    pub fn dnc_list(&self) -> Result<Vec<DncEntry>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT e164, reason, source, added_at FROM dnc ORDER BY e164")?;
        let rows = stmt.query_map([], read_row)?;
        rows.map(|r| decode(r?)).collect()
    }
}

type RawDnc = (String, Option<String>, String, String);

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawDnc> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
}

fn decode((e164, reason, source, added_at): RawDnc) -> Result<DncEntry> {
    Ok(DncEntry {
        e164,
        reason,
        source: sql::parse_enum("dnc source", &source)?,
        added_at: sql::parse_ts("dnc added_at", &added_at)?,
    })
}

fn dnc_entry(conn: &rusqlite::Connection, e164: &str) -> Result<Option<DncEntry>> {
    let mut stmt =
        conn.prepare_cached("SELECT e164, reason, source, added_at FROM dnc WHERE e164 = ?1")?;
    sql::optional(stmt.query_row([e164], read_row))?
        .map(decode)
        .transpose()
}
