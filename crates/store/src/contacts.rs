//! The contacts repository: create, edit, soft-delete and restore contacts; look them up
//! by id, phone or e-mail; list, filter by tag and search them. Every write keeps the
//! search index and the tag counts in step and records the change in the outbox and the
//! timeline. Lookups by phone, e-mail or tag go through the search index, which holds
//! those words already, and are confirmed on the contact's row.

use crate::error::{Result, StoreError};
use crate::outbox::OutboxOp;
use crate::search::fts_query;
use crate::sql;
use crate::{Store, Writer};
use cuecard_core::{
    Contact, ContactFields, ContactId, DealStage, Email, Money, MutationId, Phone, TimelineEventId,
    TimelineKind,
};
use rusqlite::types::ToSql;
use rusqlite::{Connection, Row, Transaction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const COLUMNS: &str = "c.rowid, c.id, c.name, c.company, c.title, c.phones, c.emails, c.tags, \
    c.deal_stage, c.deal_value, c.deal_currency, c.custom_fields, c.time_zone, c.do_not_call, \
    c.do_not_email, c.owner, c.created_at, c.updated_at, c.deleted_at";

/// How a change to a contact came about, for its timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// Typed by the user in the app or CLI.
    Manual,
    /// From a CSV import: the file's name and the data row (1 = first row after the header).
    Import { file: String, row: u64 },
}

/// Filters, sort and page for listing contacts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ContactQuery {
    /// Free text: matches names, companies, titles, numbers (any format), e-mails, tags.
    pub text: Option<String>,
    pub tag: Option<String>,
    pub stage: Option<DealStage>,
    /// `Some(true)`: only do-not-call contacts; `Some(false)`: only callable ones.
    pub do_not_call: Option<bool>,
    pub include_deleted: bool,
    pub sort: Option<ContactSort>,
    /// At most this many (default 100, capped at 1000).
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Orders for contact lists. Without a choice: relevance when searching, else name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ContactSort {
    Relevance,
    NameAsc,
    NameDesc,
    CompanyAsc,
    UpdatedDesc,
    CreatedDesc,
}

/// One page of contacts and how many match in all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ContactPage {
    pub contacts: Vec<Contact>,
    /// How many contacts match; for a search, at most [`SEARCH_COUNT_CAP`].
    pub total: u32,
    /// True when a search matched more than [`SEARCH_COUNT_CAP`] contacts: `total` is the
    /// cap and the page holds the newest matches (unless another sort was asked for).
    pub total_capped: bool,
}

/// A tag (lower-cased) and how many live contacts carry it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TagCount {
    pub tag: String,
    pub count: u32,
}

/// A new contact validated and serialised ahead of its insert: everything about the
/// insert that needs no database (the row's values, tags, search text, the outbox
/// entry's id and body, the timeline event). A bulk import prepares these on a second
/// thread while the writer inserts the previous ones, and frees them there too;
/// [`Writer::create_contact`] is prepare-then-insert.
#[derive(Debug)]
pub struct NewContact {
    contact: Contact,
    row: ContactRow,
    tags: Vec<String>,
    search: SearchText,
    mutation_id: String,
    /// The outbox body: the fields and `created_at`.
    changed: String,
    /// The timeline event's kind and line.
    timeline: (&'static str, String),
    event_id: String,
    /// Keep `created_at` as prepared (a contact arriving by sync) instead of stamping it
    /// with the inserting transaction's time.
    keep_stamp: bool,
}

impl NewContact {
    /// Validates and normalises `fields` and serialises them; fails as
    /// [`Writer::create_contact`] would on bad fields. `at` is the time the insert will
    /// stamp, the writing transaction's [`Writer::now`]; prepared for another time, the
    /// insert stamps it again.
    pub fn prepare(
        fields: ContactFields,
        provenance: &Provenance,
        at: cuecard_core::Timestamp,
    ) -> Result<NewContact> {
        let fields = fields.normalized()?;
        let contact = Contact {
            id: ContactId::new(),
            fields,
            created_at: at,
            updated_at: at,
            deleted_at: None,
        };
        let row = ContactRow::from(&contact)?;
        let changed = outbox_body(&contact.fields, &row.created_at)?;
        let tags = tags_of(&contact.fields);
        let search = SearchText::of(&contact.fields);
        let timeline = match provenance {
            Provenance::Manual => (TimelineKind::Created.as_str(), "Contact created".to_owned()),
            Provenance::Import { file, row } => (
                TimelineKind::Imported.as_str(),
                format!("Imported from {file} (row {row})"),
            ),
        };
        Ok(NewContact {
            contact,
            row,
            tags,
            search,
            mutation_id: MutationId::new().to_string(),
            changed,
            timeline,
            event_id: TimelineEventId::new().to_string(),
            keep_stamp: false,
        })
    }

    /// Gives the contact the id it already has elsewhere (a contact arriving by sync).
    pub(crate) fn with_id(mut self, id: ContactId) -> Self {
        self.contact.id = id;
        self.row.id = id.to_string();
        self
    }

    /// Keeps the time the contact was created on its first device (a contact arriving by
    /// sync) rather than the time it is inserted here.
    pub(crate) fn keeping_created_at(mut self) -> Self {
        self.keep_stamp = true;
        self
    }

    /// The contact's id (assigned when prepared).
    pub fn id(&self) -> ContactId {
        self.contact.id
    }

    /// The validated, normalised fields that will be stored.
    pub fn fields(&self) -> &ContactFields {
        &self.contact.fields
    }

    /// Moves the stamps to `at`.
    fn stamp(&mut self, at: cuecard_core::Timestamp) -> Result<()> {
        self.contact.created_at = at;
        self.contact.updated_at = at;
        self.row.created_at = sql::ts(&at);
        self.row.updated_at.clone_from(&self.row.created_at);
        self.changed = outbox_body(&self.contact.fields, &self.row.created_at)?;
        Ok(())
    }
}

/// An inserted contact's outbox body: its fields and `created_at`.
fn outbox_body(fields: &ContactFields, created_at: &str) -> Result<String> {
    with_member(&sql::to_json(fields)?, "created_at", created_at)
}

impl Writer<'_> {
    /// Creates a contact.
    pub fn create_contact(
        &mut self,
        fields: ContactFields,
        provenance: &Provenance,
    ) -> Result<Contact> {
        let new = NewContact::prepare(fields, provenance, self.now)?;
        self.insert_contact(new)
    }

    /// Inserts a prepared contact with its search row, tag counts, outbox entry and
    /// timeline event, stamped with this transaction's time.
    pub fn insert_contact(&mut self, mut new: NewContact) -> Result<Contact> {
        self.insert_contacts(std::slice::from_mut(&mut new))?;
        Ok(new.contact)
    }

    /// Inserts prepared contacts as [`Writer::insert_contact`] does, each table's rows
    /// in multi-row statements: a bulk import's inserts cost a fraction of one-by-one.
    /// The batch stays the caller's, to free where it likes (an import frees it on its
    /// builder thread: freeing another thread's allocations was a tenth of the writer's
    /// time).
    pub fn insert_contacts(&mut self, batch: &mut [NewContact]) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        for new in batch.iter_mut() {
            if !new.keep_stamp && new.contact.created_at != self.now {
                new.stamp(self.now)?;
            }
        }
        // SQLite gives a new row max(rowid) + 1 (the table has no AUTOINCREMENT) and
        // the writer holds the only write transaction, so the batch gets first_rowid..
        // in order; checked after the insert, as the search rows name these rowids.
        let first_rowid: i64 = self.tx.query_row(
            "SELECT coalesce(max(rowid), 0) + 1 FROM contacts",
            [],
            |row| row.get(0),
        )?;
        let now = &sql::ts(&self.now);
        let mut params: Vec<&dyn ToSql> = Vec::with_capacity(batch.len() * 17);
        for new in batch.iter() {
            params.extend(new.row.params());
        }
        insert_rows(&self.tx, CONTACT_INSERT, 17, &params)?;
        let last_rowid = first_rowid + batch.len() as i64 - 1;
        if self.tx.last_insert_rowid() != last_rowid {
            return Err(StoreError::decode(
                "contact rowid",
                format!(
                    "expected the batch to end at rowid {last_rowid}, SQLite gave {}",
                    self.tx.last_insert_rowid()
                ),
            ));
        }

        for (rowid, new) in (first_rowid..).zip(batch.iter()) {
            new.search.insert(&self.tx, rowid, false)?;
        }
        self.search_rows += batch.len();

        let insert_op = sql::enum_name(&OutboxOp::Insert)?;
        let hlcs: Vec<String> = if self.replaying {
            Vec::new()
        } else {
            batch.iter().map(|_| self.next_hlc().to_string()).collect()
        };
        params.clear();
        for (new, hlc) in batch.iter().zip(&hlcs) {
            params.extend([
                &new.mutation_id as &dyn ToSql,
                &"contacts",
                &new.row.id,
                &insert_op,
                &new.changed,
                hlc,
                now,
            ]);
        }
        if !params.is_empty() {
            insert_rows(
                &self.tx,
                "INSERT OR FAIL INTO outbox (mutation_id, entity, row_id, op, changed, hlc, created_at)",
                7,
                &params,
            )?;
        }

        params.clear();
        for new in batch.iter() {
            let (kind, summary) = &new.timeline;
            params.extend([
                &new.event_id as &dyn ToSql,
                &new.row.id,
                now,
                kind,
                &rusqlite::types::Null,
                summary,
            ]);
        }
        insert_rows(
            &self.tx,
            "INSERT OR FAIL INTO timeline_events (id, contact_id, at, kind, ref_id, summary)",
            6,
            &params,
        )?;

        let mut tag_deltas = BTreeMap::new();
        for tag in batch.iter().flat_map(|n| &n.tags) {
            *tag_deltas.entry(tag.clone()).or_insert(0) += 1;
        }
        adjust_tag_counts(&self.tx, &tag_deltas)
    }

    /// Replaces a contact's editable fields. Only fields that differ are recorded.
    pub fn update_contact(
        &mut self,
        id: ContactId,
        fields: ContactFields,
        provenance: &Provenance,
    ) -> Result<Contact> {
        let Some((rowid, before)) = get_with_rowid(&self.tx, id)? else {
            return Err(not_found(id));
        };
        if before.deleted_at.is_some() {
            return Err(StoreError::NotFound {
                entity: "live contact",
                id: id.to_string(),
            });
        }
        let fields = fields.normalized()?;
        let old = fields_json(&before.fields)?;
        let new = fields_json(&fields)?;
        let changed = diff_objects(&old, &new);
        if changed.is_empty() {
            return Ok(before);
        }
        let after = Contact {
            fields,
            updated_at: self.now,
            ..before.clone()
        };
        let row = ContactRow::from(&after)?;
        self.tx
            .prepare_cached(
                "UPDATE contacts SET name = ?2, company = ?3, title = ?4, phones = ?5, emails = ?6,
                    tags = ?7, deal_stage = ?8, deal_value = ?9, deal_currency = ?10,
                    custom_fields = ?11, time_zone = ?12, do_not_call = ?13, do_not_email = ?14,
                    owner = ?15, updated_at = ?17
                 WHERE id = ?1",
            )?
            .execute(row.params())?;
        let mut tag_deltas = BTreeMap::new();
        for tag in tags_of(&before.fields) {
            *tag_deltas.entry(tag).or_insert(0) -= 1;
        }
        for tag in tags_of(&after.fields) {
            *tag_deltas.entry(tag).or_insert(0) += 1;
        }
        adjust_tag_counts(&self.tx, &tag_deltas)?;
        SearchText::of(&after.fields).insert(&self.tx, rowid, true)?;
        let mut change = serde_json::Map::new();
        for key in &changed {
            change.insert(key.clone(), new[key.as_str()].clone());
        }
        change.insert(
            "updated_at".into(),
            serde_json::Value::String(row.updated_at.clone()),
        );
        self.record(
            "contacts",
            &row.id,
            OutboxOp::Update,
            &serde_json::Value::Object(change),
        )?;
        let summary = describe_changes(&before.fields, &after.fields, &changed);
        let (kind, summary) = match provenance {
            Provenance::Manual => (TimelineKind::Updated, summary),
            Provenance::Import { file, row } => (
                TimelineKind::Merged,
                format!("Merged from {file} (row {row}): {summary}"),
            ),
        };
        self.add_timeline(id, kind, None, &summary)?;
        Ok(after)
    }

    /// Soft-deletes a contact: it leaves lists and search, its row and history stay.
    pub fn delete_contact(&mut self, id: ContactId) -> Result<()> {
        self.set_deleted(id, true)
    }

    /// Brings back a soft-deleted contact.
    pub fn restore_contact(&mut self, id: ContactId) -> Result<Contact> {
        self.set_deleted(id, false)?;
        get(&self.tx, id)?.ok_or_else(|| not_found(id))
    }

    fn set_deleted(&mut self, id: ContactId, deleted: bool) -> Result<()> {
        let Some((rowid, contact)) = get_with_rowid(&self.tx, id)? else {
            return Err(not_found(id));
        };
        if contact.deleted_at.is_some() == deleted {
            return Ok(());
        }
        let now = sql::ts(&self.now);
        let id_text = id.to_string();
        let deleted_at = deleted.then(|| now.clone());
        self.tx.execute(
            "UPDATE contacts SET deleted_at = ?2, updated_at = ?3 WHERE id = ?1",
            (&id_text, &deleted_at, &now),
        )?;
        let step = if deleted { -1 } else { 1 };
        let tag_deltas = tags_of(&contact.fields)
            .into_iter()
            .map(|tag| (tag, step))
            .collect();
        adjust_tag_counts(&self.tx, &tag_deltas)?;
        if deleted {
            self.tx
                .execute("DELETE FROM contacts_fts WHERE rowid = ?1", [rowid])?;
        } else {
            SearchText::of(&contact.fields).insert(&self.tx, rowid, true)?;
        }
        let op = if deleted {
            OutboxOp::Delete
        } else {
            OutboxOp::Update
        };
        let change = serde_json::json!({ "deleted_at": deleted_at, "updated_at": now });
        self.record("contacts", &id_text, op, &change)?;
        let (kind, summary) = if deleted {
            (TimelineKind::Deleted, "Contact deleted")
        } else {
            (TimelineKind::Restored, "Contact restored")
        };
        self.add_timeline(id, kind, None, summary)?;
        Ok(())
    }

    /// Reads a contact inside this transaction (sees its uncommitted writes).
    pub fn contact(&self, id: ContactId) -> Result<Option<Contact>> {
        get(&self.tx, id)
    }

    /// Every phone (E.164) and e-mail (lower-cased) of live contacts, each with the
    /// oldest contact holding it, for bulk dedupe: keys `("phone", …)` and `("email", …)`.
    pub fn contact_key_index<S: std::hash::BuildHasher + Default>(
        &self,
    ) -> Result<std::collections::HashMap<(String, String), ContactId, S>> {
        let mut stmt = self.tx.prepare(
            "SELECT id, phones, emails FROM contacts WHERE deleted_at IS NULL ORDER BY rowid",
        )?;
        let mut rows = stmt.query([])?;
        let mut index = std::collections::HashMap::default();
        while let Some(row) = rows.next()? {
            let id = sql::parse_id("contact id", &row.get::<_, String>(0)?)?;
            let phones: Vec<Phone> = sql::from_json("contact phones", &row.get::<_, String>(1)?)?;
            let emails: Vec<Email> = sql::from_json("contact e-mails", &row.get::<_, String>(2)?)?;
            for phone in phones {
                index.entry(("phone".to_owned(), phone.e164)).or_insert(id);
            }
            for email in emails {
                index
                    .entry(("email".to_owned(), email.address.to_lowercase()))
                    .or_insert(id);
            }
        }
        Ok(index)
    }

    /// Live contacts holding this phone (E.164) or e-mail, inside this transaction.
    pub fn contacts_with_key(&self, kind: KeyKind, value: &str) -> Result<Vec<ContactId>> {
        with_key(&self.tx, kind, value)
    }
}

/// Which lookup key to search by (tags are filtered with [`ContactQuery::tag`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Phone,
    Email,
}

impl Store {
    /// A contact by id, deleted or not.
    pub fn contact(&self, id: ContactId) -> Result<Option<Contact>> {
        get(self.conn(), id)
    }

    /// Live contacts holding this phone (E.164) or e-mail (any case).
    pub fn contacts_with_key(&self, kind: KeyKind, value: &str) -> Result<Vec<ContactId>> {
        with_key(self.conn(), kind, value)
    }

    /// Lists contacts by the query's filters, sort and page.
    pub fn query_contacts(&self, query: &ContactQuery) -> Result<ContactPage> {
        query_contacts(self.conn(), query)
    }

    /// Every live contact, by name — for export.
    pub fn all_contacts(&self) -> Result<Vec<Contact>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM contacts c WHERE c.deleted_at IS NULL ORDER BY c.name COLLATE NOCASE, c.id"
        );
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map([], ContactRow::read)?;
        rows.map(|r| r?.into_contact().map(|(_, c)| c)).collect()
    }

    /// Number of live contacts.
    pub fn contact_count(&self) -> Result<u32> {
        Ok(self.conn().query_row(
            "SELECT count(*) FROM contacts WHERE deleted_at IS NULL",
            [],
            |row| row.get(0),
        )?)
    }

    /// Tags on live contacts with their counts, most used first.
    pub fn tag_counts(&self) -> Result<Vec<TagCount>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT tag, contacts FROM tag_counts ORDER BY contacts DESC, tag")?;
        let rows = stmt.query_map([], |row| {
            Ok(TagCount {
                tag: row.get(0)?,
                count: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn not_found(id: ContactId) -> StoreError {
    StoreError::NotFound {
        entity: "contact",
        id: id.to_string(),
    }
}

pub(crate) fn get(conn: &Connection, id: ContactId) -> Result<Option<Contact>> {
    Ok(get_with_rowid(conn, id)?.map(|(_, c)| c))
}

fn get_with_rowid(conn: &Connection, id: ContactId) -> Result<Option<(i64, Contact)>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM contacts c WHERE c.id = ?1"))?;
    let row = sql::optional(stmt.query_row([id.to_string()], ContactRow::read))?;
    row.map(ContactRow::into_contact).transpose()
}

/// Live contacts holding a phone or e-mail, by id: the search index finds the contacts
/// whose numbers or addresses hold the value's words, their rows confirm the exact value.
fn with_key(conn: &Connection, kind: KeyKind, value: &str) -> Result<Vec<ContactId>> {
    let (column, wanted) = match kind {
        KeyKind::Phone => ("phones", value.trim().to_owned()),
        KeyKind::Email => ("emails", value.trim().to_lowercase()),
    };
    let narrow = column_phrase(column, &wanted);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.id, c.{column} FROM contacts c WHERE c.deleted_at IS NULL {} ORDER BY c.id",
        if narrow.is_some() {
            "AND c.rowid IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?1)"
        } else {
            ""
        }
    ))?;
    let mut rows = match &narrow {
        Some(phrase) => stmt.query([phrase])?,
        None => stmt.query([])?,
    };
    let mut ids = Vec::new();
    while let Some(row) = rows.next()? {
        let json: String = row.get(1)?;
        let holds = match kind {
            KeyKind::Phone => sql::from_json::<Vec<Phone>>("contact phones", &json)?
                .iter()
                .any(|p| p.e164 == wanted),
            KeyKind::Email => sql::from_json::<Vec<Email>>("contact e-mails", &json)?
                .iter()
                .any(|e| e.address.to_lowercase() == wanted),
        };
        if holds {
            ids.push(sql::parse_id("contact id", &row.get::<_, String>(0)?)?);
        }
    }
    Ok(ids)
}

fn query_contacts(conn: &Connection, query: &ContactQuery) -> Result<ContactPage> {
    let mut from = String::from("contacts c");
    let mut wheres: Vec<String> = Vec::new();
    let mut params: Vec<Box<dyn ToSql>> = Vec::new();
    let text = query.text.as_deref().and_then(fts_query);
    if let Some(fts) = &text {
        from = "contacts_fts JOIN contacts c ON c.rowid = contacts_fts.rowid".into();
        params.push(Box::new(fts.clone()));
        wheres.push(format!("contacts_fts MATCH ?{}", params.len()));
    }
    if !query.include_deleted {
        wheres.push("c.deleted_at IS NULL".into());
    }
    if let Some(tag) = query
        .tag
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        // The search index narrows to contacts whose tags hold the tag's words; the row
        // confirms the whole tag. A tag with no words (only symbols) is checked row by row.
        let tag = tag.to_lowercase();
        if let Some(phrase) = column_phrase("tags", &tag) {
            params.push(Box::new(phrase));
            wheres.push(format!(
                "c.rowid IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?{})",
                params.len()
            ));
        }
        params.push(Box::new(tag));
        wheres.push(format!("{HAS_TAG}(c.tags, ?{})", params.len()));
    }
    if let Some(stage) = query.stage {
        params.push(Box::new(stage.as_str()));
        wheres.push(format!("c.deal_stage = ?{}", params.len()));
    }
    if let Some(dnc) = query.do_not_call {
        params.push(Box::new(dnc));
        wheres.push(format!("c.do_not_call = ?{}", params.len()));
    }
    let where_sql = if wheres.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", wheres.join(" AND "))
    };
    let sort = match (query.sort, &text) {
        (Some(ContactSort::Relevance), Some(_)) | (None, Some(_)) => {
            "contacts_fts.rank, c.name COLLATE NOCASE"
        }
        (Some(ContactSort::Relevance), None) | (None, None) | (Some(ContactSort::NameAsc), _) => {
            "c.name COLLATE NOCASE, c.id"
        }
        (Some(ContactSort::NameDesc), _) => "c.name COLLATE NOCASE DESC, c.id DESC",
        (Some(ContactSort::CompanyAsc), _) => {
            "c.company IS NULL, c.company COLLATE NOCASE, c.name COLLATE NOCASE"
        }
        (Some(ContactSort::UpdatedDesc), _) => "c.updated_at DESC, c.id DESC",
        (Some(ContactSort::CreatedDesc), _) => "c.id DESC",
    };
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let offset = query.offset.unwrap_or(0);
    let param_refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();

    // A search that matches more than SEARCH_COUNT_CAP contacts is too broad to rank:
    // counting and scoring every match costs time proportional to the matches. Such a
    // search counts up to the cap, and (unless another order was asked for) lists the
    // newest matches, which FTS5 yields in rowid order without looking at the rest.
    let (total, total_capped, sort) = if text.is_some() {
        let counted: u32 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM (SELECT 1 FROM {from} {where_sql} LIMIT {})",
                SEARCH_COUNT_CAP + 1
            ))?
            .query_row(param_refs.as_slice(), |row| row.get(0))?;
        if counted > SEARCH_COUNT_CAP {
            let sort = match query.sort {
                None | Some(ContactSort::Relevance) => "contacts_fts.rowid DESC",
                Some(_) => sort,
            };
            (SEARCH_COUNT_CAP, true, sort)
        } else {
            (counted, false, sort)
        }
    } else {
        let total: u32 = conn
            .prepare_cached(&format!("SELECT count(*) FROM {from} {where_sql}"))?
            .query_row(param_refs.as_slice(), |row| row.get(0))?;
        (total, false, sort)
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {from} {where_sql} ORDER BY {sort} LIMIT {limit} OFFSET {offset}"
    ))?;
    let rows = stmt.query_map(param_refs.as_slice(), ContactRow::read)?;
    let contacts = rows
        .map(|r| r?.into_contact().map(|(_, c)| c))
        .collect::<Result<Vec<_>>>()?;
    Ok(ContactPage {
        contacts,
        total,
        total_capped,
    })
}

/// Searches matching more contacts than this report "more than N" instead of a count.
pub const SEARCH_COUNT_CAP: u32 = 1000;

/// The raw text of a contacts row.
#[derive(Debug)]
struct ContactRow {
    rowid: i64,
    id: String,
    name: String,
    company: Option<String>,
    title: Option<String>,
    phones: String,
    emails: String,
    tags: String,
    deal_stage: String,
    deal_value: Option<i64>,
    deal_currency: Option<String>,
    custom_fields: String,
    time_zone: Option<String>,
    do_not_call: bool,
    do_not_email: bool,
    owner: Option<String>,
    created_at: String,
    updated_at: String,
    deleted_at: Option<String>,
}

impl ContactRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<ContactRow> {
        Ok(ContactRow {
            rowid: row.get(0)?,
            id: row.get(1)?,
            name: row.get(2)?,
            company: row.get(3)?,
            title: row.get(4)?,
            phones: row.get(5)?,
            emails: row.get(6)?,
            tags: row.get(7)?,
            deal_stage: row.get(8)?,
            deal_value: row.get(9)?,
            deal_currency: row.get(10)?,
            custom_fields: row.get(11)?,
            time_zone: row.get(12)?,
            do_not_call: row.get(13)?,
            do_not_email: row.get(14)?,
            owner: row.get(15)?,
            created_at: row.get(16)?,
            updated_at: row.get(17)?,
            deleted_at: row.get(18)?,
        })
    }

    fn from(contact: &Contact) -> Result<ContactRow> {
        let f = &contact.fields;
        Ok(ContactRow {
            rowid: 0,
            id: contact.id.to_string(),
            name: f.name.clone(),
            company: f.company.clone(),
            title: f.title.clone(),
            phones: sql::to_json(&f.phones)?,
            emails: sql::to_json(&f.emails)?,
            tags: sql::to_json(&f.tags)?,
            deal_stage: f.deal_stage.as_str().to_owned(),
            deal_value: f.deal_value.as_ref().map(|m| m.minor_units),
            deal_currency: f.deal_value.as_ref().map(|m| m.currency.clone()),
            custom_fields: sql::to_json(&f.custom_fields)?,
            time_zone: f.time_zone.clone(),
            do_not_call: f.do_not_call,
            do_not_email: f.do_not_email,
            owner: f.owner.clone(),
            created_at: sql::ts(&contact.created_at),
            updated_at: sql::ts(&contact.updated_at),
            deleted_at: contact.deleted_at.as_ref().map(sql::ts),
        })
    }

    /// The row's values in column order: ?1 id … ?15 owner, ?16 created_at, ?17 updated_at.
    fn params(&self) -> [&dyn ToSql; 17] {
        [
            &self.id,
            &self.name,
            &self.company,
            &self.title,
            &self.phones,
            &self.emails,
            &self.tags,
            &self.deal_stage,
            &self.deal_value,
            &self.deal_currency,
            &self.custom_fields,
            &self.time_zone,
            &self.do_not_call,
            &self.do_not_email,
            &self.owner,
            &self.created_at,
            &self.updated_at,
        ]
    }

    fn into_contact(self) -> Result<(i64, Contact)> {
        let deal_value = match (self.deal_value, self.deal_currency) {
            (Some(minor_units), Some(currency)) => Some(Money {
                minor_units,
                currency,
            }),
            _ => None,
        };
        let contact = Contact {
            id: sql::parse_id("contact id", &self.id)?,
            fields: ContactFields {
                name: self.name,
                company: self.company,
                title: self.title,
                phones: sql::from_json::<Vec<Phone>>("contact phones", &self.phones)?,
                emails: sql::from_json::<Vec<Email>>("contact e-mails", &self.emails)?,
                tags: sql::from_json("contact tags", &self.tags)?,
                deal_stage: self
                    .deal_stage
                    .parse()
                    .map_err(|e| StoreError::decode("deal stage", e))?,
                deal_value,
                custom_fields: sql::from_json::<BTreeMap<String, String>>(
                    "custom fields",
                    &self.custom_fields,
                )?,
                time_zone: self.time_zone,
                do_not_call: self.do_not_call,
                do_not_email: self.do_not_email,
                owner: self.owner,
            },
            created_at: sql::parse_ts("created_at", &self.created_at)?,
            updated_at: sql::parse_ts("updated_at", &self.updated_at)?,
            deleted_at: sql::parse_opt_ts("deleted_at", self.deleted_at)?,
        };
        Ok((self.rowid, contact))
    }
}

/// A contact's tags as they are counted and filtered: lower-cased, each once.
fn tags_of(f: &ContactFields) -> Vec<String> {
    let mut tags: Vec<String> = Vec::with_capacity(f.tags.len());
    for tag in &f.tags {
        let tag = tag.to_lowercase();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

/// Adds `delta` live contacts to each tag's count and forgets tags no contact carries.
/// In tag order, so a batch's counters are visited left to right. `OR FAIL`, for the
/// reason given at [`CONTACT_INSERT`].
fn adjust_tag_counts(conn: &Connection, deltas: &BTreeMap<String, i64>) -> Result<()> {
    for (tag, delta) in deltas.iter().filter(|(_, d)| **d != 0) {
        conn.prepare_cached(
            "INSERT OR FAIL INTO tag_counts (tag, contacts) VALUES (?1, ?2)
             ON CONFLICT (tag) DO UPDATE SET contacts = contacts + excluded.contacts",
        )?
        .execute((tag, delta))?;
        if *delta < 0 {
            conn.prepare_cached("DELETE FROM tag_counts WHERE tag = ?1 AND contacts <= 0")?
                .execute([tag])?;
        }
    }
    Ok(())
}

/// The SQL function `cuecard_has_tag(tags_json, tag)`: whether a contact's tags (its
/// `tags` column) hold `tag`, already lower-cased, in any case. Registered on every
/// connection the store opens.
const HAS_TAG: &str = "cuecard_has_tag";

pub(crate) fn register_sql_functions(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        HAS_TAG,
        2,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| {
            let tags: String = ctx.get(0)?;
            let tag: String = ctx.get(1)?;
            let tags: Vec<String> = serde_json::from_str(&tags).map_err(|e| {
                rusqlite::Error::UserFunctionError(
                    format!("a contact's tags are not a JSON list of text: {e}").into(),
                )
            })?;
            Ok(tags.iter().any(|t| t.to_lowercase() == tag))
        },
    )
}

/// The search-index query for contacts whose `column` holds `text`'s words in order, or
/// `None` when the text has no words the index would keep. Candidates only: the caller
/// confirms the exact value on the row.
fn column_phrase(column: &str, text: &str) -> Option<String> {
    text.chars()
        .any(char::is_alphanumeric)
        .then(|| format!("{column} : \"{}\"", text.replace('"', "\"\"")))
}

/// The search index's insert: `rowid` then [`SearchText::params`].
const SEARCH_INSERT: &str =
    "INSERT INTO contacts_fts (rowid, name, company, title, phones, emails, tags, custom)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// A contact's row in the search index. Each number is indexed twice: all its digits
/// and its national significant number (the digits after the country code), so
/// "98123…", "+91 98123…" and "(415) 555…" all match as prefixes.
#[derive(Debug)]
struct SearchText {
    name: String,
    company: String,
    title: String,
    phones: String,
    emails: String,
    tags: String,
    custom: String,
}

impl SearchText {
    fn of(fields: &ContactFields) -> SearchText {
        let mut phones = String::new();
        for phone in &fields.phones {
            let digits = phone.e164.trim_start_matches('+');
            phones.push_str(digits);
            if let Some(national) = digits.get(country_code_len(digits)..) {
                phones.push(' ');
                phones.push_str(national);
            }
            phones.push(' ');
        }
        let emails: Vec<&str> = fields.emails.iter().map(|e| e.address.as_str()).collect();
        let custom: Vec<&str> = fields.custom_fields.values().map(String::as_str).collect();
        SearchText {
            name: fields.name.clone(),
            company: fields.company.clone().unwrap_or_default(),
            title: fields.title.clone().unwrap_or_default(),
            phones,
            emails: emails.join(" "),
            tags: fields.tags.join(" "),
            custom: custom.join(" "),
        }
    }

    /// The columns after `rowid`, in table order.
    fn params(&self) -> [&dyn ToSql; 7] {
        [
            &self.name,
            &self.company,
            &self.title,
            &self.phones,
            &self.emails,
            &self.tags,
            &self.custom,
        ]
    }

    /// Writes the row for `rowid`, replacing the old one when `replace`.
    fn insert(&self, conn: &Connection, rowid: i64, replace: bool) -> Result<()> {
        if replace {
            conn.prepare_cached("DELETE FROM contacts_fts WHERE rowid = ?1")?
                .execute([rowid])?;
        }
        let mut params: Vec<&dyn ToSql> = vec![&rowid];
        params.extend(self.params());
        conn.prepare_cached(SEARCH_INSERT)?
            .execute(params.as_slice())?;
        Ok(())
    }
}

/// The contacts insert: [`ContactRow::params`]. Bulk inserts use `OR FAIL` (and leave the
/// rowid to SQLite) so a multi-row statement needs no statement journal: opening one makes
/// FTS5 write out its buffered terms, and doing that per statement left an import with
/// hundreds of small search segments to merge. A failure still aborts the whole
/// transaction, which is what the writer does with any error.
const CONTACT_INSERT: &str = "INSERT OR FAIL INTO contacts (id, name, company, title, phones, emails, \
    tags, deal_stage, deal_value, deal_currency, custom_fields, time_zone, do_not_call, \
    do_not_email, owner, created_at, updated_at)";

/// Inserts rows of `columns` values each (`params` holds them row after row) with
/// `head` (`INSERT INTO t (a, b, …)`), as few multi-row statements as SQLite's limit on
/// bound values allows; each statement size is prepared once and cached.
fn insert_rows(conn: &Connection, head: &str, columns: usize, params: &[&dyn ToSql]) -> Result<()> {
    /// Rows per statement: large enough to amortise a statement's start, well under
    /// SQLite's 32,766 bound values.
    const ROWS: usize = 64;
    for chunk in params.chunks(ROWS * columns) {
        let rows = chunk.len() / columns;
        let sql = multi_row_sql(head, columns, rows);
        conn.prepare_cached(&sql)?.execute(chunk)?;
    }
    Ok(())
}

/// `head VALUES (?, ?, …), …` for `rows` rows of `columns` values.
fn multi_row_sql(head: &str, columns: usize, rows: usize) -> String {
    let one = format!("({})", vec!["?"; columns].join(", "));
    format!("{head} VALUES {}", vec![one.as_str(); rows].join(", "))
}

/// `object` (a JSON object's text) with one more string member at the end.
fn with_member(object: &str, key: &str, value: &str) -> Result<String> {
    let body = object
        .strip_suffix('}')
        .ok_or_else(|| StoreError::decode("contact JSON", object))?;
    let separator = if body.trim_end().ends_with('{') {
        ""
    } else {
        ","
    };
    Ok(format!(
        "{body}{separator}{}:{}}}",
        sql::to_json(&key)?,
        sql::to_json(&value)?
    ))
}

/// How many leading digits of an E.164 number (without `+`) are its country calling
/// code: ITU-T E.164 assigns 1 and 7 as one-digit codes, the two-digit codes below, and
/// three digits to everything else.
fn country_code_len(digits: &str) -> usize {
    const TWO_DIGIT: [&str; 44] = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    if digits.starts_with('1') || digits.starts_with('7') {
        1
    } else if TWO_DIGIT.iter().any(|cc| digits.starts_with(cc)) {
        2
    } else {
        3
    }
}

/// Rebuilds the contacts search index from the table (migration back-fill).
pub(crate) fn reindex_all(tx: &Transaction<'_>) -> Result<()> {
    tx.execute("DELETE FROM contacts_fts", [])?;
    let mut stmt = tx.prepare(&format!(
        "SELECT {COLUMNS} FROM contacts c WHERE c.deleted_at IS NULL"
    ))?;
    let rows = stmt.query_map([], ContactRow::read)?;
    for row in rows {
        let (rowid, contact) = row?.into_contact()?;
        SearchText::of(&contact.fields).insert(tx, rowid, false)?;
    }
    Ok(())
}

fn fields_json(fields: &ContactFields) -> Result<serde_json::Value> {
    serde_json::to_value(fields).map_err(|e| StoreError::decode("contact", e))
}

/// Keys whose values differ between two JSON objects.
fn diff_objects(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        return Vec::new();
    };
    new.iter()
        .filter(|(key, value)| old.get(key.as_str()) != Some(value))
        .map(|(key, _)| key.clone())
        .collect()
}

/// One line for the timeline: "Stage lead → qualified; tags, phones changed".
fn describe_changes(before: &ContactFields, after: &ContactFields, changed: &[String]) -> String {
    let mut parts = Vec::new();
    let mut others = Vec::new();
    for key in changed {
        match key.as_str() {
            "deal_stage" => parts.push(format!(
                "Stage {} → {}",
                before.deal_stage, after.deal_stage
            )),
            "do_not_call" => parts.push(
                if after.do_not_call {
                    "Marked do-not-call"
                } else {
                    "Do-not-call cleared"
                }
                .to_owned(),
            ),
            "name" => parts.push(format!("Renamed to {}", after.name)),
            other => others.push(other.replace('_', " ")),
        }
    }
    if !others.is_empty() {
        parts.push(format!("Changed {}", others.join(", ")));
    }
    parts.join("; ")
}
