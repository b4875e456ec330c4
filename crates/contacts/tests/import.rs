//! Import of a messy real-world CSV, bad files, export round trips — against a real
//! SQLite store.

use cuecard_contacts::{
    ImportError, ImportOptions, RowOutcome, TableError, export_csv, import, preview,
};
use cuecard_core::{DealStage, DncSource};
use cuecard_store::{ContactQuery, KeyKind, Store};

const MESSY: &[u8] = include_bytes!("fixtures/messy.csv");

fn store_with_dnc() -> Store {
    let mut store = Store::open_in_memory().expect("store");
    store
        .write(|w| w.add_dnc("+919999900000", Some("asked"), DncSource::Manual))
        .expect("dnc");
    store
}

fn options() -> ImportOptions {
    ImportOptions::new("messy.csv", "IN")
}

fn error_rows(report: &cuecard_contacts::ImportReport) -> Vec<(u64, String)> {
    report
        .errors
        .iter()
        .map(|e| (e.row, e.message.clone()))
        .collect()
}

#[test]
fn messy_file_imports_good_rows_and_reports_bad_ones() {
    let mut store = store_with_dnc();
    let report = import(&mut store, MESSY, &options()).expect("import");

    assert_eq!(report.total_rows, 13);
    assert_eq!(report.created, 6, "{report:#?}");
    assert_eq!(report.merged, 1, "second Asha row merges into the first");
    assert_eq!(report.unchanged, 1, "second Dee row is an exact duplicate");
    assert_eq!(report.blank, 1);
    assert_eq!(report.failed, 4);
    assert_eq!(report.dnc_flagged, 1);
    let errors = error_rows(&report);
    let rows: Vec<u64> = errors.iter().map(|(r, _)| *r).collect();
    assert_eq!(rows, vec![7, 11, 13, 14]);
    assert!(
        errors[0].1.contains("invalid phone number \"12345\""),
        "{}",
        errors[0].1
    );
    assert!(
        errors[1].1.contains("no phone number or e-mail"),
        "{}",
        errors[1].1
    );
    assert!(errors[2].1.contains("not-an-email"), "{}", errors[2].1);
    assert!(errors[3].1.contains("sideways"), "{}", errors[3].1);

    // What landed in the store.
    assert_eq!(store.contact_count().expect("count"), 6);
    let asha_ids = store
        .contacts_with_key(KeyKind::Phone, "+919812345678")
        .expect("lookup");
    assert_eq!(asha_ids.len(), 1);
    let asha = store.contact(asha_ids[0]).expect("get").expect("exists");
    assert_eq!(asha.fields.name, "Rao, Asha");
    assert_eq!(asha.fields.deal_stage, DealStage::Qualified);
    assert_eq!(asha.fields.time_zone.as_deref(), Some("Asia/Kolkata"));
    let emails: Vec<&str> = asha
        .fields
        .emails
        .iter()
        .map(|e| e.address.as_str())
        .collect();
    assert_eq!(emails, vec!["asha@acme.in", "a.rao@acme.in"]);
    assert_eq!(asha.fields.tags, vec!["vip", "q3", "renewal"]);
    assert_eq!(
        asha.fields
            .deal_value
            .as_ref()
            .map(|m| (m.minor_units, m.currency.as_str())),
        Some((12_000_000, "INR"))
    );
    assert_eq!(
        asha.fields
            .custom_fields
            .get("Shoe size")
            .map(String::as_str),
        Some("7")
    );
    let timeline: Vec<String> = store
        .timeline(asha.id, 10)
        .expect("timeline")
        .into_iter()
        .map(|e| e.summary)
        .collect();
    assert!(
        timeline
            .iter()
            .any(|s| s == "Imported from messy.csv (row 2)"),
        "{timeline:?}"
    );
    assert!(
        timeline
            .iter()
            .any(|s| s.starts_with("Merged from messy.csv (row 6)")),
        "{timeline:?}"
    );

    let ben = store
        .contacts_with_key(KeyKind::Email, "ben@globex.com")
        .expect("lookup");
    let ben = store.contact(ben[0]).expect("get").expect("exists");
    assert_eq!(ben.fields.company.as_deref(), Some("Globex, Inc."));
    let phones: Vec<(&str, Option<&str>)> = ben
        .fields
        .phones
        .iter()
        .map(|p| (p.e164.as_str(), p.label.as_deref()))
        .collect();
    assert_eq!(
        phones,
        vec![
            ("+14155552671", Some("mobile")),
            ("+16502530000", Some("work"))
        ]
    );
    assert_eq!(ben.fields.time_zone, None, "US numbers span zones");
    assert_eq!(ben.fields.deal_stage, DealStage::Proposal);

    let listed = store
        .contacts_with_key(KeyKind::Phone, "+919999900000")
        .expect("lookup");
    assert!(
        store
            .contact(listed[0])
            .expect("get")
            .expect("exists")
            .fields
            .do_not_call
    );

    // Every imported contact produced exactly one outbox entry; the merge one more.
    assert_eq!(store.outbox_pending_count().expect("outbox"), 1 + 6 + 1);
}

#[test]
fn preview_reports_the_same_as_import_and_writes_nothing() {
    let mut store = store_with_dnc();
    let before = store.outbox_pending_count().expect("outbox");
    let preview = preview(&mut store, MESSY, &options(), 5).expect("preview");
    assert!(!preview.committed);
    assert_eq!(store.contact_count().expect("count"), 0);
    assert_eq!(store.outbox_pending_count().expect("outbox"), before);
    assert_eq!(preview.preview.len(), 5);
    assert!(matches!(
        preview.preview[0].outcome,
        RowOutcome::Created { .. }
    ));
    assert!(matches!(preview.preview[2].outcome, RowOutcome::Blank));

    let report = import(&mut store, MESSY, &options()).expect("import");
    assert_eq!(
        (
            preview.created,
            preview.merged,
            preview.unchanged,
            preview.failed,
            preview.blank
        ),
        (
            report.created,
            report.merged,
            report.unchanged,
            report.failed,
            report.blank
        )
    );
    assert_eq!(preview.errors, report.errors);
}

#[test]
fn importing_the_same_file_twice_duplicates_nothing() {
    let mut store = store_with_dnc();
    import(&mut store, MESSY, &options()).expect("first");
    let second = import(&mut store, MESSY, &options()).expect("second");
    assert_eq!(second.created, 0);
    assert_eq!(store.contact_count().expect("count"), 6);
}

#[test]
fn a_bad_row_that_repeats_a_contact_is_reported_not_merged() {
    // Line 3 repeats line 2's number with a tag too long to keep: the row fails on its
    // own, the contact stays as line 2 made it, and the rest of the file imports.
    let csv = format!(
        "Name,Phone,Tags\r\nAsha Rao,+91 98123 45678,q3\r\nAsha R,+91 98123 45678,{}\r\nBen,+91 98123 45679,\r\n",
        "x".repeat(70)
    );
    let mut store = Store::open_in_memory().expect("store");
    let report = import(&mut store, csv.as_bytes(), &options()).expect("import");
    assert_eq!((report.created, report.merged, report.failed), (2, 0, 1));
    assert_eq!(error_rows(&report)[0].0, 3);
    assert!(error_rows(&report)[0].1.contains("tag"), "{report:?}");
    let asha = store
        .contacts_with_key(KeyKind::Phone, "+919812345678")
        .expect("lookup");
    let asha = store.contact(asha[0]).expect("read").expect("there");
    assert_eq!(asha.fields.tags, vec!["q3".to_string()]);
    assert_eq!(store.contact_count().expect("count"), 2);
}

#[test]
fn wrong_encoding_is_refused_before_anything_is_written() {
    let mut store = Store::open_in_memory().expect("store");
    let bytes = include_bytes!("fixtures/latin1.csv");
    let error =
        import(&mut store, bytes, &ImportOptions::new("latin1.csv", "IN")).expect_err("refused");
    assert!(
        matches!(
            &error,
            ImportError::File {
                source: TableError::NotUtf8 {
                    line: 2,
                    byte: 0xE9
                },
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with("latin1.csv: the file is not UTF-8"),
        "{message}"
    );
    assert_eq!(store.contact_count().expect("count"), 0);
    assert_eq!(store.outbox_pending_count().expect("outbox"), 0);

    let mut options = ImportOptions::new("latin1.csv", "IN");
    options.encoding = Some("windows-1252".into());
    let report = import(&mut store, bytes, &options).expect("with the right encoding");
    assert_eq!(report.created, 2);
    let page = store
        .query_contacts(&ContactQuery {
            text: Some("jose".into()),
            ..Default::default()
        })
        .expect("search");
    assert_eq!(page.contacts[0].fields.name, "José Álvarez");
}

#[test]
fn a_file_without_phone_or_email_columns_is_refused() {
    let mut store = Store::open_in_memory().expect("store");
    let bytes = include_bytes!("fixtures/no_contact_column.csv");
    let error =
        import(&mut store, bytes, &ImportOptions::new("cities.csv", "IN")).expect_err("refused");
    assert!(
        matches!(error, ImportError::NoContactColumn { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("columns: Name, Company, City"));
    assert_eq!(store.outbox_pending_count().expect("outbox"), 0);
}

#[test]
fn an_unknown_region_is_refused() {
    let mut store = Store::open_in_memory().expect("store");
    let error = import(&mut store, MESSY, &ImportOptions::new("x.csv", "ZZ")).expect_err("refused");
    assert!(
        error.to_string().contains("unknown default region"),
        "{error}"
    );
}

#[test]
fn export_then_import_into_a_fresh_store_round_trips() {
    let mut store = store_with_dnc();
    import(&mut store, MESSY, &options()).expect("import");
    let contacts = store.all_contacts().expect("all");
    let mut csv = Vec::new();
    export_csv(&contacts, &mut csv).expect("export");

    let mut fresh = Store::open_in_memory().expect("fresh");
    let report =
        import(&mut fresh, &csv, &ImportOptions::new("export.csv", "US")).expect("re-import");
    assert_eq!(report.failed, 0, "{:?}", report.errors);
    assert_eq!(report.created as usize, contacts.len());
    let again = fresh.all_contacts().expect("all");
    for (a, b) in contacts.iter().zip(&again) {
        let mut expected = a.fields.clone();
        let mut actual = b.fields.clone();
        // Labels live in column headers, which a single "phones" column cannot carry.
        expected.phones.iter_mut().for_each(|p| p.label = None);
        actual.phones.iter_mut().for_each(|p| p.label = None);
        assert_eq!(actual, expected);
    }
}
