//! CSV import: read the file, map its columns, turn each row into a contact (numbers to
//! E.164, time zone from the number), merge rows that share a phone or e-mail with an
//! existing contact or an earlier row, flag numbers on the do-not-call list, and report
//! every row that could not be imported with its row number and the reason.
//!
//! Problems with the file as a whole (encoding, no phone or e-mail column) stop the
//! import before anything is written. Problems with a row skip that row only. All rows
//! are written in one transaction, so an import lands whole or not at all; a preview
//! runs the very same code in a transaction that is rolled back.

use crate::mapping::{ColumnMapping, FieldTarget, detect_table_mapping, has_contact_point};
use crate::phone::{self, PhoneError};
use crate::table::{Table, TableError, read_table};
use crate::timezone;
use cuecard_core::{ContactFields, ContactId, DealStage, Email, Money, Phone, is_plausible_email};
use cuecard_store::{NewContact, Provenance, Store, StoreError, Writer};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::Instant;

/// How to read and map a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImportOptions {
    /// Shown in the report and on each contact's timeline.
    pub file_name: String,
    /// ISO 3166 region for numbers written without a country code.
    pub default_region: String,
    /// Currency for deal values without one (ISO 4217); by default the region's.
    pub default_currency: Option<String>,
    /// Encoding label when the file is not UTF-8 (`windows-1252`, `utf-16le`…).
    pub encoding: Option<String>,
    /// Column mapping; detected when `None`.
    pub mapping: Option<Vec<ColumnMapping>>,
}

impl ImportOptions {
    pub fn new(file_name: impl Into<String>, default_region: impl Into<String>) -> Self {
        Self {
            file_name: file_name.into(),
            default_region: default_region.into(),
            default_currency: None,
            encoding: None,
            mapping: None,
        }
    }
}

/// Why an import could not start. Nothing has been written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {source}")]
    File {
        file: String,
        #[source]
        source: TableError,
    },
    #[error(
        "{file}: no column holds phone numbers or e-mail addresses (columns: {columns}); map one to Phone or Email"
    )]
    NoContactColumn { file: String, columns: String },
    #[error("{file}: the mapping names column {column}, but the file has {count} columns")]
    BadMapping {
        file: String,
        column: u32,
        count: usize,
    },
    #[error(transparent)]
    Region(#[from] PhoneError),
    #[error("currency {0:?} is not a three-letter ISO 4217 code")]
    Currency(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What happened to one row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RowOutcome {
    Created {
        contact_id: ContactId,
    },
    /// Shared a phone or e-mail with a contact: merged into it. `first_row` is set when
    /// that contact came from an earlier row of the same file.
    Merged {
        contact_id: ContactId,
        first_row: Option<u64>,
    },
    /// A duplicate that added nothing new.
    Unchanged {
        contact_id: ContactId,
        first_row: Option<u64>,
    },
    Failed {
        reason: String,
    },
    Blank,
}

/// A row number and a message about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RowIssue {
    /// The row's line in the file: the header is row 1, the first data row is row 2.
    pub row: u64,
    pub message: String,
}

/// One row as it will be (or was) imported — for the preview table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PreviewRow {
    pub row: u64,
    pub outcome: RowOutcome,
    /// The contact built from the row (before merging), when it could be built.
    pub fields: Option<ContactFields>,
}

/// The outcome of an import or a preview.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImportReport {
    pub file_name: String,
    pub encoding: String,
    /// The delimiter found: `,`, `;`, tab or `|`.
    pub delimiter: String,
    pub mapping: Vec<ColumnMapping>,
    pub headers: Vec<String>,
    pub total_rows: u32,
    pub created: u32,
    pub merged: u32,
    pub unchanged: u32,
    pub failed: u32,
    pub blank: u32,
    /// Rows whose numbers are on the do-not-call list: imported, flagged do-not-call.
    pub dnc_flagged: u32,
    /// Every row that was not imported, with the reason.
    pub errors: Vec<RowIssue>,
    /// Merges and do-not-call flags, row by row.
    pub notes: Vec<RowIssue>,
    /// The first rows in detail (preview only).
    pub preview: Vec<PreviewRow>,
    /// False for a preview: nothing was written.
    pub committed: bool,
    pub elapsed_ms: u32,
}

/// Imports `bytes` (a CSV file) into the store.
pub fn import(
    store: &mut Store,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let prepared = Prepared::new(bytes, options)?;
    let started = Instant::now();
    let mut report = store.write(|w| prepared.run(w, 0).map_err(unwrap_store))?;
    report.committed = true;
    report.elapsed_ms = elapsed_ms(started);
    tracing::info!(
        file = %options.file_name,
        created = report.created,
        merged = report.merged,
        failed = report.failed,
        "imported contacts"
    );
    Ok(report)
}

/// Runs the import without keeping it: the report says what [`import`] would do, and the
/// first `detail_rows` rows are shown in full.
pub fn preview(
    store: &mut Store,
    bytes: &[u8],
    options: &ImportOptions,
    detail_rows: usize,
) -> Result<ImportReport, ImportError> {
    let prepared = Prepared::new(bytes, options)?;
    let started = Instant::now();
    let mut report = store.dry_run(|w| prepared.run(w, detail_rows).map_err(unwrap_store))?;
    report.elapsed_ms = elapsed_ms(started);
    Ok(report)
}

fn elapsed_ms(started: Instant) -> u32 {
    u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX)
}

fn unwrap_store(error: ImportError) -> StoreError {
    match error {
        ImportError::Store(e) => e,
        other => StoreError::Decode {
            what: "import",
            detail: other.to_string(),
        },
    }
}

/// A file read and mapped, ready to run.
struct Prepared {
    table: Table,
    mapping: Vec<ColumnMapping>,
    region: phone::Region,
    currency: String,
    file_name: String,
}

impl Prepared {
    fn new(bytes: &[u8], options: &ImportOptions) -> Result<Prepared, ImportError> {
        let file = options.file_name.clone();
        let region = phone::region(&options.default_region)?;
        let currency = match &options.default_currency {
            Some(c) => c.trim().to_ascii_uppercase(),
            None => currency_for_region(&options.default_region).to_owned(),
        };
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(ImportError::Currency(currency));
        }
        let table =
            read_table(bytes, options.encoding.as_deref()).map_err(|source| ImportError::File {
                file: file.clone(),
                source,
            })?;
        let mapping = match &options.mapping {
            Some(mapping) => {
                if let Some(bad) = mapping
                    .iter()
                    .find(|m| m.column as usize >= table.headers.len())
                {
                    return Err(ImportError::BadMapping {
                        file,
                        column: bad.column,
                        count: table.headers.len(),
                    });
                }
                mapping.clone()
            }
            None => detect_table_mapping(&table),
        };
        if !has_contact_point(&mapping) {
            return Err(ImportError::NoContactColumn {
                file,
                columns: table.headers.join(", "),
            });
        }
        Ok(Prepared {
            table,
            mapping,
            region,
            currency,
            file_name: options.file_name.clone(),
        })
    }

    fn run(&self, w: &mut Writer<'_>, detail_rows: usize) -> Result<ImportReport, ImportError> {
        let report = ImportReport {
            file_name: self.file_name.clone(),
            encoding: self.table.encoding.to_owned(),
            delimiter: match self.table.delimiter {
                b'\t' => "tab".to_owned(),
                other => char::from(other).to_string(),
            },
            mapping: self.mapping.clone(),
            headers: self.table.headers.clone(),
            total_rows: self.table.rows.len() as u32,
            created: 0,
            merged: 0,
            unchanged: 0,
            failed: 0,
            blank: 0,
            dnc_flagged: 0,
            errors: Vec::new(),
            notes: Vec::new(),
            preview: Vec::new(),
            committed: false,
            elapsed_ms: 0,
        };
        let dnc = w.dnc_numbers()?;
        let now = w.now();
        let mut state = RunState {
            keys: w.contact_key_index()?,
            first_row_of: FxHashMap::default(),
            pending: Vec::with_capacity(PENDING),
            spent: None,
            report,
            detail_rows,
        };

        // Rows are built on a second thread while this one writes the previous ones:
        // parsing, normalising, the do-not-call scrub and everything a new contact's
        // insert needs that is not the database (its row's values, search text, outbox
        // entry, timeline event). The writer only dedupes and inserts, new contacts in
        // batches, and hands the inserted batches to a third thread to free. Rows travel
        // in batches too, so the threads rarely wait on each other.
        const BATCH: usize = 256;
        std::thread::scope(|scope| {
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<(u64, Built)>>(8);
            let dnc = &dnc;
            scope.spawn(move || {
                for (chunk, rows) in self.table.rows.chunks(BATCH).enumerate() {
                    let built = rows
                        .iter()
                        .enumerate()
                        .map(|(i, (row, cells))| {
                            let in_preview = chunk * BATCH + i < detail_rows;
                            (*row, self.build_row(*row, cells, dnc, now, in_preview))
                        })
                        .collect();
                    if sender.send(built).is_err() {
                        return; // the writer stopped on an error
                    }
                }
            });
            let (spent, spent_batches) = std::sync::mpsc::channel::<Vec<NewContact>>();
            scope.spawn(move || spent_batches.into_iter().for_each(drop));
            state.spent = Some(spent);
            let written = receiver
                .into_iter()
                .flatten()
                .try_for_each(|(row, built)| self.write_row(w, &mut state, row, built))
                .and_then(|()| Ok(state.flush(w)?));
            // Whatever happened, the freeing thread must end for the scope to end.
            state.spent = None;
            written
        })?;
        Ok(state.report)
    }

    /// Writes one built row: scrub, dedupe, create or merge, and account for it.
    fn write_row(
        &self,
        w: &mut Writer<'_>,
        state: &mut RunState,
        row: u64,
        built: Built,
    ) -> Result<(), ImportError> {
        if matches!(&built, Built::Contact(_)) && state.pending.len() >= PENDING {
            state.flush(w)?;
        }
        let RunState {
            keys,
            first_row_of,
            pending,
            spent,
            report,
            detail_rows,
        } = state;
        let preview = |report: &mut ImportReport, outcome, fields| {
            if report.preview.len() < *detail_rows {
                report.preview.push(PreviewRow {
                    row,
                    outcome,
                    fields,
                });
            }
        };
        {
            let (outcome, fields) = match built {
                Built::Blank => {
                    report.blank += 1;
                    (RowOutcome::Blank, None)
                }
                Built::Failed(reason) => {
                    report.failed += 1;
                    report.errors.push(RowIssue {
                        row,
                        message: reason.clone(),
                    });
                    (RowOutcome::Failed { reason }, None)
                }
                Built::Contact(built) => {
                    let BuiltContact {
                        fields,
                        newly_dnc,
                        keys: row_keys,
                        insert,
                    } = *built;
                    // A row the store would refuse fails whether or not it repeats a
                    // contact: merging it would carry the bad value into that contact.
                    let new = match insert {
                        Ok(new) => new,
                        Err(StoreError::Invalid(reason)) => {
                            report.failed += 1;
                            report.errors.push(RowIssue {
                                row,
                                message: reason.to_string(),
                            });
                            let outcome = RowOutcome::Failed {
                                reason: reason.to_string(),
                            };
                            preview(report, outcome, fields);
                            return Ok(());
                        }
                        Err(e) => return Err(e.into()),
                    };
                    if let Some(listed) = newly_dnc {
                        report.dnc_flagged += 1;
                        report.notes.push(RowIssue {
                            row,
                            message: format!(
                                "{listed} is on the do-not-call list: imported as do-not-call"
                            ),
                        });
                    }
                    // Phones first, then e-mails: the first key already known decides.
                    let existing = row_keys.iter().find_map(|k| keys.get(k)).copied();
                    if existing.is_some() && !pending.is_empty() {
                        // The merge reads the contact, which may still be pending.
                        insert_pending(w, pending, spent.as_ref())?;
                    }
                    let provenance = || Provenance::Import {
                        file: self.file_name.clone(),
                        row,
                    };
                    let outcome = match existing {
                        None => {
                            let contact_id = new.id();
                            pending.push(new);
                            for k in row_keys {
                                keys.insert(k, contact_id);
                            }
                            first_row_of.insert(contact_id, row);
                            report.created += 1;
                            RowOutcome::Created { contact_id }
                        }
                        Some(id) => {
                            let current = w.contact(id)?.ok_or_else(|| StoreError::NotFound {
                                entity: "contact",
                                id: id.to_string(),
                            })?;
                            let merged = merge(&current.fields, new.fields());
                            let first_row = first_row_of.get(&id).copied();
                            let target = match first_row {
                                Some(r) => format!("row {r}"),
                                None => {
                                    format!("existing contact {}", current.fields.display_name())
                                }
                            };
                            if merged == current.fields {
                                report.unchanged += 1;
                                report.notes.push(RowIssue {
                                    row,
                                    message: format!("duplicate of {target}: nothing new"),
                                });
                                RowOutcome::Unchanged {
                                    contact_id: id,
                                    first_row,
                                }
                            } else {
                                let updated = w.update_contact(id, merged, &provenance())?;
                                for k in contact_keys(&updated.fields) {
                                    keys.insert(k, id);
                                }
                                report.merged += 1;
                                report.notes.push(RowIssue {
                                    row,
                                    message: format!("merged into {target}"),
                                });
                                RowOutcome::Merged {
                                    contact_id: id,
                                    first_row,
                                }
                            }
                        }
                    };
                    (outcome, fields)
                }
            };
            preview(report, outcome, fields);
        }
        Ok(())
    }

    /// Builds a row and readies it for the writer: the do-not-call scrub, its lookup
    /// keys, and the new contact's insert in case it is not a duplicate.
    /// `at` is the writing transaction's time; `in_preview` keeps a copy of the fields
    /// as read, for the report's preview.
    fn build_row(
        &self,
        row: u64,
        cells: &[String],
        dnc: &HashSet<String>,
        at: cuecard_core::Timestamp,
        in_preview: bool,
    ) -> Built {
        let mut fields = match self.build(cells) {
            Ok(Some(fields)) => fields,
            Ok(None) => return Built::Blank,
            Err(reason) => return Built::Failed(reason),
        };
        let mut newly_dnc = None;
        if let Some(listed) = fields.phones.iter().find(|p| dnc.contains(&p.e164)) {
            if !fields.do_not_call {
                newly_dnc = Some(listed.e164.clone());
            }
            fields.do_not_call = true;
        }
        let keys = contact_keys(&fields).collect();
        let provenance = Provenance::Import {
            file: self.file_name.clone(),
            row,
        };
        let preview = in_preview.then(|| fields.clone());
        let insert = NewContact::prepare(fields, &provenance, at);
        Built::Contact(Box::new(BuiltContact {
            fields: preview,
            newly_dnc,
            keys,
            insert,
        }))
    }

    /// Turns one row into contact fields (`None` for a blank row), or says why it cannot.
    fn build(&self, cells: &[String]) -> Result<Option<ContactFields>, String> {
        let cell = |m: &ColumnMapping| cells.get(m.column as usize).map(|s| s.trim()).unwrap_or("");
        if self
            .mapping
            .iter()
            .all(|m| matches!(m.target, FieldTarget::Ignore) || cell(m).is_empty())
        {
            return Ok(None);
        }
        let mut fields = ContactFields::default();
        let (mut first, mut last) = (String::new(), String::new());
        let mut value: Option<&str> = None;
        let mut currency: Option<String> = None;
        let mut first_region: Option<phone::Region> = None;
        for m in &self.mapping {
            let text = cell(m);
            if text.is_empty() {
                continue;
            }
            let column = &m.header;
            match &m.target {
                FieldTarget::Name => fields.name = text.to_owned(),
                FieldTarget::FirstName => first = text.to_owned(),
                FieldTarget::LastName => last = text.to_owned(),
                FieldTarget::Company => fields.company = Some(text.to_owned()),
                FieldTarget::Title => fields.title = Some(text.to_owned()),
                FieldTarget::Phone => {
                    for raw in phone::split_numbers(text) {
                        match phone::normalize_phone_with_region(raw, self.region) {
                            Ok((e164, region)) => {
                                if fields.phones.is_empty() {
                                    first_region = region;
                                }
                                fields.phones.push(Phone {
                                    e164,
                                    label: phone_label(column),
                                });
                            }
                            Err(_) => {
                                return Err(format!(
                                    "invalid phone number {raw:?} in column {column:?}"
                                ));
                            }
                        }
                    }
                }
                FieldTarget::Email => {
                    for raw in text
                        .split([';', ',', ' ', '\n'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                    {
                        let address = raw.trim_start_matches("mailto:").to_lowercase();
                        if !is_plausible_email(&address) {
                            return Err(format!(
                                "invalid e-mail address {raw:?} in column {column:?}"
                            ));
                        }
                        fields.emails.push(Email {
                            address,
                            label: None,
                        });
                    }
                }
                FieldTarget::Tags => fields.tags.extend(
                    text.split([';', ',', '|'])
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                ),
                FieldTarget::DealStage => match text.parse::<DealStage>() {
                    Ok(stage) => fields.deal_stage = stage,
                    Err(e) => return Err(format!("{e} (column {column:?})")),
                },
                FieldTarget::DealValue => value = Some(text),
                FieldTarget::Currency => currency = Some(text.to_ascii_uppercase()),
                FieldTarget::TimeZone => {
                    if !timezone::is_known_zone(text) {
                        return Err(format!(
                            "unknown time zone {text:?} in column {column:?}: use an IANA name such as Asia/Kolkata"
                        ));
                    }
                    fields.time_zone = Some(text.to_owned());
                }
                FieldTarget::Owner => fields.owner = Some(text.to_owned()),
                FieldTarget::DoNotCall | FieldTarget::DoNotEmail => {
                    let Some(flag) = parse_flag(text) else {
                        return Err(format!("{text:?} in column {column:?} is not yes/no"));
                    };
                    if m.target == FieldTarget::DoNotCall {
                        fields.do_not_call = flag;
                    } else {
                        fields.do_not_email = flag;
                    }
                }
                FieldTarget::Custom(key) => {
                    fields.custom_fields.insert(key.clone(), text.to_owned());
                }
                FieldTarget::Ignore => {}
            }
        }
        if fields.name.is_empty() {
            fields.name = format!("{first} {last}").trim().to_owned();
        }
        if let Some(text) = value {
            match parse_money(text, currency.as_deref(), &self.currency) {
                Some(money) => fields.deal_value = Some(money),
                None => return Err(format!("deal value {text:?} is not an amount")),
            }
        }
        if fields.phones.is_empty() && fields.emails.is_empty() {
            return Err("no phone number or e-mail address".to_owned());
        }
        if fields.time_zone.is_none() {
            fields.time_zone = first_region.and_then(|r| timezone::zone_for_region(&r.to_string()));
        }
        fields.normalized().map(Some).map_err(|e| e.to_string())
    }
}

/// What an import run carries from row to row.
struct RunState {
    /// Phone and e-mail keys of live contacts, including those this run created. Hashed
    /// with FxHash: a bulk import looks up and inserts hundreds of thousands of keys, and
    /// SipHash's resistance to flooding buys nothing for the user's own file.
    keys: FxHashMap<(String, String), ContactId>,
    /// The row each contact created by this run came from.
    first_row_of: FxHashMap<ContactId, u64>,
    /// New contacts not yet inserted: they go in together (see [`PENDING`]).
    pending: Vec<NewContact>,
    /// Where inserted batches go to be freed, off the writer's thread.
    spent: Option<std::sync::mpsc::Sender<Vec<NewContact>>>,
    report: ImportReport,
    /// How many rows the report shows in full.
    detail_rows: usize,
}

/// How many new contacts are inserted together: one multi-row statement per table does
/// the work of dozens of single-row ones.
const PENDING: usize = 256;

impl RunState {
    /// Inserts the pending new contacts.
    fn flush(&mut self, w: &mut Writer<'_>) -> Result<(), StoreError> {
        insert_pending(w, &mut self.pending, self.spent.as_ref())
    }
}

/// Inserts the pending new contacts and hands them to `spent` to be freed.
fn insert_pending(
    w: &mut Writer<'_>,
    pending: &mut Vec<NewContact>,
    spent: Option<&std::sync::mpsc::Sender<Vec<NewContact>>>,
) -> Result<(), StoreError> {
    if pending.is_empty() {
        return Ok(());
    }
    w.insert_contacts(pending)?;
    let batch = std::mem::replace(pending, Vec::with_capacity(PENDING));
    if let Some(spent) = spent {
        // Fails only once the freeing thread has gone; the batch is freed here then.
        let _ = spent.send(batch);
    }
    Ok(())
}

enum Built {
    Blank,
    Failed(String),
    Contact(Box<BuiltContact>),
}

/// A row that makes a contact, readied on the builder thread.
struct BuiltContact {
    /// The fields as read (do-not-call set when the scrub found a listed number), kept
    /// for rows the report previews.
    fields: Option<ContactFields>,
    /// The listed number, when the scrub (not the row itself) made the contact DNC.
    newly_dnc: Option<String>,
    /// Phone and e-mail lookup keys, phones first: how duplicates are found.
    keys: Vec<(String, String)>,
    /// The insert, should the row turn out not to be a duplicate.
    insert: Result<NewContact, StoreError>,
}

fn key(kind: &str, value: &str) -> (String, String) {
    (kind.to_owned(), value.to_lowercase())
}

fn contact_keys(fields: &ContactFields) -> impl Iterator<Item = (String, String)> + '_ {
    fields
        .phones
        .iter()
        .map(|p| key("phone", &p.e164))
        .chain(fields.emails.iter().map(|e| key("email", &e.address)))
}

/// Fills what the existing contact lacks from the incoming row; never overwrites.
/// Numbers, addresses and tags are united; do-not-call and do-not-email stick once set.
fn merge(existing: &ContactFields, incoming: &ContactFields) -> ContactFields {
    let mut out = existing.clone();
    if out.name.is_empty() {
        out.name = incoming.name.clone();
    }
    for (mine, theirs) in [
        (&mut out.company, &incoming.company),
        (&mut out.title, &incoming.title),
        (&mut out.time_zone, &incoming.time_zone),
        (&mut out.owner, &incoming.owner),
    ] {
        if mine.is_none() {
            mine.clone_from(theirs);
        }
    }
    if out.deal_value.is_none() {
        out.deal_value.clone_from(&incoming.deal_value);
    }
    if out.deal_stage == DealStage::Lead {
        out.deal_stage = incoming.deal_stage;
    }
    for phone in &incoming.phones {
        if !out.phones.iter().any(|p| p.e164 == phone.e164) {
            out.phones.push(phone.clone());
        }
    }
    for email in &incoming.emails {
        if !out.emails.iter().any(|e| e.address == email.address) {
            out.emails.push(email.clone());
        }
    }
    for tag in &incoming.tags {
        if !out.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            out.tags.push(tag.clone());
        }
    }
    for (k, v) in &incoming.custom_fields {
        out.custom_fields
            .entry(k.clone())
            .or_insert_with(|| v.clone());
    }
    out.do_not_call |= incoming.do_not_call;
    out.do_not_email |= incoming.do_not_email;
    out
}

/// The label for a phone column: its header unless it is just "phone".
fn phone_label(header: &str) -> Option<String> {
    let label = header.trim().to_lowercase();
    let generic = [
        "phone",
        "phones",
        "phone number",
        "telephone",
        "tel",
        "number",
        "contact number",
    ];
    (!generic.contains(&label.as_str()) && !label.is_empty())
        .then(|| label.replace(" phone", "").replace("phone ", ""))
}

fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "1" | "y" | "yes" | "true" | "x" | "t" | "dnc" => Some(true),
        "0" | "n" | "no" | "false" | "f" | "-" => Some(false),
        _ => None,
    }
}

/// Parses "₹1,20,000", "$12,500.50", "12000", "EUR 900" into minor units.
fn parse_money(text: &str, currency: Option<&str>, default_currency: &str) -> Option<Money> {
    let symbol_currency = [
        ("₹", "INR"),
        ("$", "USD"),
        ("€", "EUR"),
        ("£", "GBP"),
        ("¥", "JPY"),
    ]
    .iter()
    .find(|(symbol, _)| text.contains(symbol))
    .map(|(_, code)| *code);
    let code_in_text: Option<String> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .find(|w| w.len() == 3 && w.chars().all(|c| c.is_ascii_uppercase()))
        .map(str::to_owned);
    let number: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    if number.is_empty() {
        return None;
    }
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number.as_str(), ""),
    };
    if fraction.len() > 2
        || fraction.contains(['.', '-'])
        || whole.is_empty() && fraction.is_empty()
    {
        return None;
    }
    let negative = whole.starts_with('-');
    let whole: i64 = whole.trim_start_matches('-').parse().unwrap_or(0);
    let cents: i64 = format!("{fraction:0<2}").parse().ok()?;
    let minor = whole.checked_mul(100)?.checked_add(cents)?;
    let currency = currency
        .map(str::to_owned)
        .or(code_in_text)
        .or(symbol_currency.map(str::to_owned))
        .unwrap_or_else(|| default_currency.to_owned());
    Some(Money {
        minor_units: if negative { -minor } else { minor },
        currency,
    })
}

/// The usual currency of a region, for deal values given without one.
fn currency_for_region(region: &str) -> &'static str {
    match region.trim().to_ascii_uppercase().as_str() {
        "IN" => "INR",
        "GB" => "GBP",
        "DE" | "FR" | "ES" | "IT" | "NL" | "IE" | "PT" | "BE" | "AT" | "FI" => "EUR",
        "AU" => "AUD",
        "CA" => "CAD",
        "SG" => "SGD",
        "AE" => "AED",
        "JP" => "JPY",
        _ => "USD",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_common_spellings() {
        assert_eq!(
            parse_money("₹1,20,000", None, "USD"),
            Some(Money {
                minor_units: 12_000_000,
                currency: "INR".into()
            })
        );
        assert_eq!(
            parse_money("$12,500.5", None, "INR"),
            Some(Money {
                minor_units: 1_250_050,
                currency: "USD".into()
            })
        );
        assert_eq!(
            parse_money("900 EUR", None, "INR").map(|m| m.currency),
            Some("EUR".into())
        );
        assert_eq!(parse_money("lots", None, "INR"), None);
        assert_eq!(parse_money("1.234", None, "INR"), None);
    }

    #[test]
    fn merging_fills_gaps_and_unites_lists() {
        let existing = ContactFields {
            name: "Asha".into(),
            phones: vec![Phone {
                e164: "+919812345678".into(),
                label: None,
            }],
            tags: vec!["vip".into()],
            ..Default::default()
        };
        let incoming = ContactFields {
            name: "Asha R".into(),
            company: Some("Acme".into()),
            emails: vec![Email {
                address: "asha@acme.in".into(),
                label: None,
            }],
            tags: vec!["VIP".into(), "q3".into()],
            do_not_call: true,
            ..Default::default()
        };
        let merged = merge(&existing, &incoming);
        assert_eq!(merged.name, "Asha");
        assert_eq!(merged.company.as_deref(), Some("Acme"));
        assert_eq!(merged.emails.len(), 1);
        assert_eq!(merged.tags, vec!["vip".to_string(), "q3".to_string()]);
        assert!(merged.do_not_call);
    }
}
