//! `cuecard contacts import|list|show|export`.

use crate::output::Output;
use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use cuecard_contacts::{
    ColumnMapping, FieldTarget, ImportOptions, ImportReport, detect_table_mapping, read_table,
};
use cuecard_core::{Contact, ContactId, DealStage};
use cuecard_store::{ContactQuery, ContactSort, KeyKind, Store};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ContactsCommand {
    /// Import contacts from a CSV file (columns detected; override with --map).
    Import {
        file: PathBuf,
        /// Region for numbers written without a country code (ISO 3166).
        #[arg(long, default_value = "IN", env = "CUECARD_REGION")]
        region: String,
        /// The file's encoding when it is not UTF-8 (e.g. windows-1252, utf-16le).
        #[arg(long)]
        encoding: Option<String>,
        /// Currency for deal values without one (default: the region's).
        #[arg(long)]
        currency: Option<String>,
        /// Map a column: HEADER=FIELD, e.g. "Mobile=phone", "Notes=ignore", "Shoe=custom:Shoe size".
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        maps: Vec<String>,
        /// Show what would happen without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// List contacts.
    List {
        /// Search names, companies, numbers, e-mails, tags.
        #[arg(long, short)]
        search: Option<String>,
        #[arg(long)]
        tag: Option<String>,
        #[arg(long)]
        stage: Option<DealStage>,
        /// Only do-not-call contacts.
        #[arg(long, conflicts_with = "callable")]
        dnc: bool,
        /// Only contacts that may be called.
        #[arg(long)]
        callable: bool,
        #[arg(long, value_enum)]
        sort: Option<SortArg>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// Include deleted contacts.
        #[arg(long)]
        deleted: bool,
    },
    /// Show one contact (by id, phone number or e-mail) with its timeline.
    Show {
        who: String,
        #[arg(long, default_value = "IN", env = "CUECARD_REGION")]
        region: String,
    },
    /// Export live contacts as CSV (to a file, or stdout with "-" or nothing).
    Export { out: Option<PathBuf> },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SortArg {
    Relevance,
    Name,
    NameDesc,
    Company,
    Updated,
    Created,
}

impl From<SortArg> for ContactSort {
    fn from(sort: SortArg) -> Self {
        match sort {
            SortArg::Relevance => ContactSort::Relevance,
            SortArg::Name => ContactSort::NameAsc,
            SortArg::NameDesc => ContactSort::NameDesc,
            SortArg::Company => ContactSort::CompanyAsc,
            SortArg::Updated => ContactSort::UpdatedDesc,
            SortArg::Created => ContactSort::CreatedDesc,
        }
    }
}

pub fn run(cmd: ContactsCommand, db: &Path, out: &Output) -> Result<()> {
    match cmd {
        ContactsCommand::Import {
            file,
            region,
            encoding,
            currency,
            maps,
            dry_run,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.display().to_string());
            let mut options = ImportOptions::new(file_name, region);
            options.encoding = encoding;
            options.default_currency = currency;
            if !maps.is_empty() {
                let table = read_table(&bytes, options.encoding.as_deref())
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let mut mapping = detect_table_mapping(&table);
                for spec in &maps {
                    apply_map(&mut mapping, spec)?;
                }
                options.mapping = Some(mapping);
            }
            let mut store = Store::open(db)?;
            let report = if dry_run {
                cuecard_contacts::preview(&mut store, &bytes, &options, 0)?
            } else {
                cuecard_contacts::import(&mut store, &bytes, &options)?
            };
            out.print(&report, print_report)
        }
        ContactsCommand::List {
            search,
            tag,
            stage,
            dnc,
            callable,
            sort,
            limit,
            offset,
            deleted,
        } => {
            let store = Store::open(db)?;
            let query = ContactQuery {
                text: search,
                tag,
                stage,
                do_not_call: if dnc {
                    Some(true)
                } else if callable {
                    Some(false)
                } else {
                    None
                },
                include_deleted: deleted,
                sort: sort.map(Into::into),
                limit: Some(limit),
                offset: Some(offset),
            };
            let page = store.query_contacts(&query)?;
            out.print(&page, |page| {
                for c in &page.contacts {
                    println!("{}", list_line(c));
                }
                println!("{} of {} contact(s)", page.contacts.len(), page.total);
            })
        }
        ContactsCommand::Show { who, region } => {
            let store = Store::open(db)?;
            let contact = find(&store, &who, &region)?;
            let timeline = store.timeline(contact.id, 50)?;
            let notes = store.notes_for_contact(contact.id)?;
            let value =
                serde_json::json!({ "contact": contact, "timeline": timeline, "notes": notes });
            out.print(&value, |_| print_contact(&contact, &timeline))
        }
        ContactsCommand::Export { out: target } => {
            let store = Store::open(db)?;
            let contacts = store.all_contacts()?;
            match target.filter(|p| p.as_os_str() != "-") {
                Some(path) => {
                    let file = std::fs::File::create(&path)
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    cuecard_contacts::export_csv(&contacts, std::io::BufWriter::new(file))?;
                    if !out.json {
                        eprintln!(
                            "exported {} contact(s) to {}",
                            contacts.len(),
                            path.display()
                        );
                    } else {
                        println!(
                            "{}",
                            serde_json::json!({ "exported": contacts.len(), "path": path })
                        );
                    }
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut lock = stdout.lock();
                    cuecard_contacts::export_csv(&contacts, &mut lock)?;
                    lock.flush()?;
                }
            }
            Ok(())
        }
    }
}

/// Applies one `HEADER=FIELD` override to a detected mapping.
fn apply_map(mapping: &mut [ColumnMapping], spec: &str) -> Result<()> {
    let Some((header, field)) = spec.split_once('=') else {
        bail!("--map {spec:?}: expected HEADER=FIELD, e.g. \"Mobile=phone\"");
    };
    let headers: Vec<String> = mapping.iter().map(|m| m.header.clone()).collect();
    let column = mapping
        .iter_mut()
        .find(|m| m.header.trim().eq_ignore_ascii_case(header.trim()))
        .with_context(|| {
            format!(
                "--map {spec:?}: the file has no column {header:?} (columns: {})",
                headers.join(", ")
            )
        })?;
    let field = field.trim();
    column.target = match field.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
        "name" => FieldTarget::Name,
        "first_name" => FieldTarget::FirstName,
        "last_name" => FieldTarget::LastName,
        "company" => FieldTarget::Company,
        "title" => FieldTarget::Title,
        "phone" => FieldTarget::Phone,
        "email" => FieldTarget::Email,
        "tags" => FieldTarget::Tags,
        "deal_stage" | "stage" => FieldTarget::DealStage,
        "deal_value" | "value" => FieldTarget::DealValue,
        "currency" => FieldTarget::Currency,
        "time_zone" | "timezone" => FieldTarget::TimeZone,
        "owner" => FieldTarget::Owner,
        "do_not_call" | "dnc" => FieldTarget::DoNotCall,
        "do_not_email" => FieldTarget::DoNotEmail,
        "ignore" | "skip" => FieldTarget::Ignore,
        other if other.starts_with("custom") => {
            let key = field
                .split_once(':')
                .map(|(_, k)| k.trim())
                .filter(|k| !k.is_empty());
            FieldTarget::Custom(key.unwrap_or(header.trim()).to_owned())
        }
        _ => bail!(
            "--map {spec:?}: unknown field {field:?}; use name, first_name, last_name, company, title, phone, email, tags, deal_stage, deal_value, currency, time_zone, owner, do_not_call, do_not_email, custom[:KEY] or ignore"
        ),
    };
    Ok(())
}

/// A contact by id, phone number or e-mail.
pub(crate) fn find(store: &Store, who: &str, region: &str) -> Result<Contact> {
    if let Ok(id) = who.parse::<ContactId>() {
        return store
            .contact(id)?
            .with_context(|| format!("no contact with id {id}"));
    }
    let ids = if who.contains('@') {
        store.contacts_with_key(KeyKind::Email, &who.trim().to_lowercase())?
    } else {
        let region = cuecard_contacts::phone::region(region)?;
        let e164 = cuecard_contacts::normalize_phone(who, region)
            .with_context(|| format!("{who:?} is not a contact id, phone number or e-mail"))?;
        store.contacts_with_key(KeyKind::Phone, &e164)?
    };
    let id = ids
        .first()
        .with_context(|| format!("no contact has {who:?}"))?;
    store
        .contact(*id)?
        .with_context(|| format!("contact {id} vanished"))
}

fn list_line(c: &Contact) -> String {
    let f = &c.fields;
    let mut line = format!("{}  {}", c.id, f.display_name());
    if let Some(company) = &f.company {
        line.push_str(&format!(" ({company})"));
    }
    if let Some(phone) = f.phones.first() {
        line.push_str(&format!("  {}", phone.e164));
    }
    if let Some(email) = f.emails.first() {
        line.push_str(&format!("  {}", email.address));
    }
    line.push_str(&format!("  [{}]", f.deal_stage));
    if f.do_not_call {
        line.push_str("  DO-NOT-CALL");
    }
    if c.deleted_at.is_some() {
        line.push_str("  (deleted)");
    }
    line
}

fn print_contact(c: &Contact, timeline: &[cuecard_core::TimelineEvent]) {
    let f = &c.fields;
    println!("{}", f.display_name());
    let rows: [(&str, String); 9] = [
        ("id", c.id.to_string()),
        ("company", f.company.clone().unwrap_or_default()),
        ("title", f.title.clone().unwrap_or_default()),
        (
            "phones",
            f.phones
                .iter()
                .map(|p| p.e164.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "e-mails",
            f.emails
                .iter()
                .map(|e| e.address.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("tags", f.tags.join(", ")),
        ("stage", f.deal_stage.to_string()),
        ("time zone", f.time_zone.clone().unwrap_or_default()),
        (
            "flags",
            [
                (f.do_not_call, "do-not-call"),
                (f.do_not_email, "do-not-email"),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(", "),
        ),
    ];
    for (label, value) in rows.iter().filter(|(_, v)| !v.is_empty()) {
        println!("  {label:<10} {value}");
    }
    if let Some(value) = &f.deal_value {
        println!(
            "  {:<10} {} {}.{:02}",
            "deal",
            value.currency,
            value.minor_units / 100,
            (value.minor_units % 100).abs()
        );
    }
    for (key, value) in &f.custom_fields {
        println!("  {key:<10} {value}");
    }
    if !timeline.is_empty() {
        println!("timeline:");
        for event in timeline {
            println!("  {}  {}", event.at.format("%Y-%m-%d %H:%M"), event.summary);
        }
    }
}

fn print_report(report: &ImportReport) {
    let verb = if report.committed {
        "imported"
    } else {
        "would import (dry run, nothing written)"
    };
    println!(
        "{}: {verb}: {} created, {} merged, {} unchanged, {} failed, {} blank, {} flagged do-not-call ({} rows, {} ms)",
        report.file_name,
        report.created,
        report.merged,
        report.unchanged,
        report.failed,
        report.blank,
        report.dnc_flagged,
        report.total_rows,
        report.elapsed_ms
    );
    for issue in &report.errors {
        println!("  row {}: {}", issue.row, issue.message);
    }
}
