//! The store against real SQLite files: upgrades, bad files, the outbox, search, timeline.

use cuecard_core::*;
use cuecard_store::*;
use rusqlite::Connection;
use std::path::Path;

fn fields(name: &str, phone: &str, email: &str) -> ContactFields {
    ContactFields {
        name: name.into(),
        phones: vec![Phone {
            e164: phone.into(),
            label: None,
        }],
        emails: vec![Email {
            address: email.into(),
            label: None,
        }],
        tags: vec!["q3".into()],
        company: Some("Acme Logistics".into()),
        ..Default::default()
    }
}

fn query(text: &str) -> ContactQuery {
    ContactQuery {
        text: Some(text.into()),
        ..Default::default()
    }
}

#[test]
fn a_version_1_database_upgrades_without_loss() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("cuecard.db");
    // Written by "an older Cuecard": schema v1 only, rows as v1's code wrote them.
    let id = ContactId::new();
    {
        let (old, report) = Store::open_at_version(&path, 1).expect("v1");
        assert_eq!(report.applied, vec![1]);
        assert_eq!(old.schema_version().expect("version"), 1);
        old.conn()
            .execute_batch(&format!(
                "INSERT INTO contacts (id, name, company, phones, emails, tags, created_at, updated_at)
                 VALUES ('{id}', 'Asha Rao', 'Acme Logistics', '[{{\"e164\":\"+919812345678\",\"label\":null}}]',
                         '[{{\"address\":\"asha@acme.in\",\"label\":null}}]', '[\"q3\"]',
                         '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z');
                 INSERT INTO contact_keys (kind, value, contact_id) VALUES ('phone', '+919812345678', '{id}');
                 INSERT INTO contact_keys (kind, value, contact_id) VALUES ('tag', 'q3', '{id}');
                 INSERT INTO outbox (mutation_id, entity, row_id, op, changed, hlc, created_at)
                 VALUES ('{m}', 'contacts', '{id}', 'insert', '{{}}', '001767323045000-00000-00000001', '2026-01-02T03:04:05.000Z');",
                m = MutationId::new()
            ))
            .expect("v1 rows");
    }
    let raw = Connection::open(&path).expect("raw");
    let v1_tables: i64 = raw
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('calls', 'contacts_fts')",
            [],
            |r| r.get(0),
        )
        .expect("tables");
    assert_eq!(v1_tables, 0, "v1 has neither calls nor search");
    drop(raw);

    let (store, report) = Store::open_with_report(&path).expect("upgrade");
    assert_eq!(report.from_version, 1);
    assert_eq!(report.applied, (2..=LATEST_VERSION).collect::<Vec<_>>());
    let snapshot = report.snapshot.expect("snapshot kept");
    assert!(snapshot.exists());
    assert_eq!(store.schema_version().expect("version"), LATEST_VERSION);

    let contact = store.contact(id).expect("read").expect("still there");
    assert_eq!(contact.fields.name, "Asha Rao");
    // The search back-fill indexed the old row: by name, company, e-mail and number.
    for text in ["asha", "acme log", "asha@acme", "98123", "+91 98123 45678"] {
        let page = store.query_contacts(&query(text)).expect("search");
        assert_eq!(page.total, 1, "searching {text:?}");
    }
    assert_eq!(store.outbox_pending_count().expect("outbox"), 1);
    // Tag keys became counts, the key table is gone, and lookups by tag and by number
    // find the old contact through the search index.
    assert_eq!(
        store.tag_counts().expect("tags"),
        vec![TagCount {
            tag: "q3".into(),
            count: 1
        }]
    );
    let tagged = store
        .query_contacts(&ContactQuery {
            tag: Some("Q3".into()),
            ..Default::default()
        })
        .expect("tag filter");
    assert_eq!(tagged.total, 1);
    assert_eq!(
        store
            .contacts_with_key(KeyKind::Phone, "+919812345678")
            .expect("keys"),
        vec![id]
    );
    let tables: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'contact_keys'",
            [],
            |r| r.get(0),
        )
        .expect("tables");
    assert_eq!(tables, 0);

    // The snapshot is the old database, intact.
    let old = Connection::open(&snapshot).expect("snapshot");
    let version: u32 = old
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("version");
    assert_eq!(version, 1);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("cuecard.db");
    let garbage = b"this is not sqlite, just some bytes that happen to be here....".repeat(100);
    std::fs::write(&path, &garbage).expect("write");
    let error = Store::open(&path).err().expect("refused");
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert!(error.to_string().contains(&path.display().to_string()));
    assert_eq!(
        std::fs::read(&path).expect("read"),
        garbage,
        "file unchanged"
    );
    assert!(!Path::new(&format!("{}-wal", path.display())).exists());

    let moved = move_aside(&path).expect("move aside");
    assert_eq!(std::fs::read(&moved).expect("moved file"), garbage);
    let store = Store::open(&path).expect("fresh database");
    assert_eq!(store.contact_count().expect("count"), 0);
}

#[test]
fn a_database_with_corrupt_pages_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("cuecard.db");
    {
        let mut store = Store::open(&path).expect("create");
        store
            .write(|w| {
                w.create_contact(fields("A", "+919812345678", "a@x.in"), &Provenance::Manual)
            })
            .expect("write");
        let conn = store.conn();
        conn.pragma_update(None, "journal_mode", "DELETE")
            .expect("leave WAL");
    }
    // Keep the header, scribble over the schema page.
    let mut bytes = std::fs::read(&path).expect("read");
    for b in &mut bytes[100..1024] {
        *b = 0xAB;
    }
    std::fs::write(&path, &bytes).expect("write");
    let error = Store::open(&path).err().expect("refused");
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    assert_eq!(std::fs::read(&path).expect("read"), bytes, "file unchanged");
}

#[test]
fn a_database_from_a_newer_cuecard_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("cuecard.db");
    drop(Store::open(&path).expect("create"));
    let raw = Connection::open(&path).expect("raw");
    raw.pragma_update(None, "user_version", LATEST_VERSION + 5)
        .expect("bump");
    drop(raw);
    let error = Store::open(&path).err().expect("refused");
    assert!(
        matches!(error, StoreError::TooNew { found, .. } if found == LATEST_VERSION + 5),
        "{error:?}"
    );
}

#[test]
fn every_change_is_in_the_outbox_and_a_failed_transaction_leaves_nothing() {
    let mut store = Store::open_in_memory().expect("store");
    let contact = store
        .write(|w| {
            w.create_contact(
                fields("Asha", "+919812345678", "asha@acme.in"),
                &Provenance::Manual,
            )
        })
        .expect("create");
    let mut edited = contact.fields.clone();
    edited.deal_stage = DealStage::Qualified;
    edited.tags.push("vip".into());
    store
        .write(|w| w.update_contact(contact.id, edited.clone(), &Provenance::Manual))
        .expect("update");
    // An edit that changes nothing records nothing.
    store
        .write(|w| w.update_contact(contact.id, edited.clone(), &Provenance::Manual))
        .expect("no-op");
    store
        .write(|w| w.delete_contact(contact.id))
        .expect("delete");

    let entries = store.outbox_pending(100).expect("outbox");
    let ops: Vec<(OutboxOp, &str)> = entries.iter().map(|e| (e.op, e.entity.as_str())).collect();
    assert_eq!(
        ops,
        vec![
            (OutboxOp::Insert, "contacts"),
            (OutboxOp::Update, "contacts"),
            (OutboxOp::Delete, "contacts")
        ]
    );
    let changed: Vec<&String> = entries[1]
        .changed
        .as_object()
        .expect("object")
        .keys()
        .collect();
    assert_eq!(changed, vec!["deal_stage", "tags", "updated_at"]);
    assert_eq!(entries[1].changed["deal_stage"], "qualified");
    // The insert carries every field and the creation time, the row's own.
    let inserted = &entries[0].changed;
    assert_eq!(inserted["name"], contact.fields.name.as_str());
    let created_at: Timestamp =
        serde_json::from_value(inserted["created_at"].clone()).expect("created_at is a time");
    assert_eq!(created_at, contact.created_at);
    assert!(
        entries.windows(2).all(|w| w[0].hlc < w[1].hlc),
        "stamps increase"
    );
    assert!(entries.iter().all(|e| e.row_id == contact.id.to_string()));

    // A transaction that fails half-way leaves neither the row nor its outbox entry.
    let result = store.write(|w| {
        w.create_contact(
            fields("Ben", "+14155552671", "ben@globex.com"),
            &Provenance::Manual,
        )?;
        w.create_contact(ContactFields::default(), &Provenance::Manual)
    });
    assert!(matches!(
        result,
        Err(StoreError::Invalid(ContactInvalid::Empty))
    ));
    assert_eq!(store.outbox_pending_count().expect("count"), 3);
    assert!(
        store
            .contacts_with_key(KeyKind::Phone, "+14155552671")
            .expect("lookup")
            .is_empty()
    );

    let acked = store.outbox_ack_through(entries[1].seq).expect("ack");
    assert_eq!(acked, 2);
    assert_eq!(store.outbox_pending_count().expect("count"), 1);
}

#[test]
fn the_clock_continues_after_reopening() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("cuecard.db");
    let last = {
        let mut store = Store::open(&path).expect("open");
        store
            .write(|w| {
                w.create_contact(fields("A", "+919812345678", "a@x.in"), &Provenance::Manual)
            })
            .expect("write");
        store.outbox_pending(10).expect("outbox")[0].hlc
    };
    let mut store = Store::open(&path).expect("reopen");
    store
        .write(|w| w.create_contact(fields("B", "+919812345679", "b@x.in"), &Provenance::Manual))
        .expect("write");
    let entries = store.outbox_pending(10).expect("outbox");
    assert!(entries[1].hlc > last);
    assert_eq!(entries[1].hlc.node, last.node, "same device, same node id");
}

#[test]
fn soft_deleted_contacts_leave_lists_and_search_and_come_back() {
    let mut store = Store::open_in_memory().expect("store");
    let contact = store
        .write(|w| {
            w.create_contact(
                fields("Asha", "+919812345678", "asha@acme.in"),
                &Provenance::Manual,
            )
        })
        .expect("create");
    store
        .write(|w| w.delete_contact(contact.id))
        .expect("delete");
    assert_eq!(
        store.query_contacts(&query("asha")).expect("search").total,
        0
    );
    assert_eq!(
        store
            .query_contacts(&ContactQuery::default())
            .expect("list")
            .total,
        0
    );
    assert!(
        store
            .contacts_with_key(KeyKind::Phone, "+919812345678")
            .expect("keys")
            .is_empty()
    );
    let deleted = ContactQuery {
        include_deleted: true,
        ..Default::default()
    };
    assert_eq!(store.query_contacts(&deleted).expect("list").total, 1);
    assert!(
        store
            .contact(contact.id)
            .expect("get")
            .expect("row kept")
            .deleted_at
            .is_some()
    );
    let edit = store.write(|w| {
        w.update_contact(
            contact.id,
            fields("X", "+919812345678", "x@x.in"),
            &Provenance::Manual,
        )
    });
    assert!(
        matches!(edit, Err(StoreError::NotFound { .. })),
        "deleted contacts cannot be edited"
    );

    store
        .write(|w| w.restore_contact(contact.id))
        .expect("restore");
    assert_eq!(
        store.query_contacts(&query("asha")).expect("search").total,
        1
    );
    let kinds: Vec<TimelineKind> = store
        .timeline(contact.id, 10)
        .expect("timeline")
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            TimelineKind::Restored,
            TimelineKind::Deleted,
            TimelineKind::Created
        ]
    );
}

#[test]
fn lists_filter_sort_and_page() {
    let mut store = Store::open_in_memory().expect("store");
    store
        .write(|w| {
            for (i, name) in ["Chen Wei", "asha rao", "Ben Carter", "Dee Dupe"]
                .iter()
                .enumerate()
            {
                let mut f = fields(name, &format!("+91981234567{i}"), &format!("p{i}@x.in"));
                f.deal_stage = if i % 2 == 0 {
                    DealStage::Qualified
                } else {
                    DealStage::Lead
                };
                f.tags = if i == 3 { vec!["VIP".into()] } else { vec![] };
                f.do_not_call = i == 2;
                w.create_contact(f, &Provenance::Manual)?;
            }
            Ok(())
        })
        .expect("seed");
    let names = |q: ContactQuery| -> Vec<String> {
        store
            .query_contacts(&q)
            .expect("query")
            .contacts
            .into_iter()
            .map(|c| c.fields.name)
            .collect()
    };
    assert_eq!(
        names(ContactQuery::default()),
        vec!["asha rao", "Ben Carter", "Chen Wei", "Dee Dupe"]
    );
    assert_eq!(
        names(ContactQuery {
            sort: Some(ContactSort::NameDesc),
            ..Default::default()
        }),
        vec!["Dee Dupe", "Chen Wei", "Ben Carter", "asha rao"]
    );
    assert_eq!(
        names(ContactQuery {
            stage: Some(DealStage::Qualified),
            ..Default::default()
        }),
        vec!["Ben Carter", "Chen Wei"]
    );
    assert_eq!(
        names(ContactQuery {
            tag: Some("vip".into()),
            ..Default::default()
        }),
        vec!["Dee Dupe"]
    );
    assert_eq!(
        names(ContactQuery {
            do_not_call: Some(true),
            ..Default::default()
        }),
        vec!["Ben Carter"]
    );
    let page = store
        .query_contacts(&ContactQuery {
            limit: Some(2),
            offset: Some(2),
            ..Default::default()
        })
        .expect("page");
    assert_eq!(page.total, 4);
    assert_eq!(page.contacts.len(), 2);
    assert_eq!(
        store.tag_counts().expect("tags"),
        vec![TagCount {
            tag: "vip".into(),
            count: 1
        }],
        "tags are matched and counted in lower case"
    );
    // Hostile search text is just text.
    assert_eq!(
        store
            .query_contacts(&query("\"AND OR NEAR("))
            .expect("search")
            .total,
        0
    );
}

#[test]
fn do_not_call_entries_flag_contacts() {
    let mut store = Store::open_in_memory().expect("store");
    let contact = store
        .write(|w| {
            w.create_contact(
                fields("Asha", "+919812345678", "asha@acme.in"),
                &Provenance::Manual,
            )
        })
        .expect("create");
    let flagged = store
        .write(|w| w.add_dnc("+919812345678", Some("asked"), DncSource::OptOut))
        .expect("add");
    assert_eq!(flagged, 1);
    assert!(
        store
            .contact(contact.id)
            .expect("get")
            .expect("exists")
            .fields
            .do_not_call
    );
    assert_eq!(
        store
            .dnc_entry("+919812345678")
            .expect("entry")
            .map(|e| e.source),
        Some(DncSource::OptOut)
    );
    assert!(
        store
            .write(|w| w.add_dnc("12345", None, DncSource::Manual))
            .is_err()
    );
    assert!(
        store
            .write(|w| w.remove_dnc("+919812345678"))
            .expect("remove")
    );
    assert!(
        !store
            .write(|w| w.remove_dnc("+919812345678"))
            .expect("remove again")
    );
    assert!(store.dnc_list().expect("list").is_empty());
}

#[test]
fn calls_transcripts_and_notes_are_searchable_and_on_the_timeline() {
    let mut store = Store::open_in_memory().expect("store");
    let contact = store
        .write(|w| {
            w.create_contact(
                fields("Asha", "+919812345678", "asha@acme.in"),
                &Provenance::Manual,
            )
        })
        .expect("create");
    let call = Call {
        id: CallId::new(),
        contact_id: Some(contact.id),
        direction: CallDirection::Outbound,
        status: CallStatus::Completed,
        from: "+14155550000".into(),
        to: "+919812345678".into(),
        started_at: now(),
        answered_at: Some(now()),
        ended_at: Some(now()),
        duration_secs: 312,
        disposition: Some(Disposition::MeetingBooked),
        recording: None,
        notes: String::new(),
    };
    let utterance = Utterance {
        id: UtteranceId::new(),
        channel: Channel::FarEnd,
        speaker: None,
        start_ms: 1200,
        end_ms: 4100,
        text: "Honestly the price is too high compared to Freightify".into(),
        confidence: Some(0.92),
        words: vec![WordTiming {
            word: "Honestly".into(),
            start_ms: 1200,
            end_ms: 1600,
            confidence: None,
        }],
    };
    store
        .write(|w| {
            w.save_call(&call)?;
            w.add_utterances(call.id, std::slice::from_ref(&utterance))?;
            w.add_note(
                contact.id,
                Some(call.id),
                "Send the logistics case study by Friday",
            )?;
            Ok(())
        })
        .expect("write");
    assert_eq!(store.call(call.id).expect("call"), Some(call.clone()));
    assert_eq!(
        store.recent_calls(10).expect("call log"),
        vec![call.clone()]
    );
    assert_eq!(
        store.transcript(call.id).expect("transcript"),
        vec![utterance.clone()]
    );
    let hits = store.search("freightify", 5).expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].kind, SearchHitKind::Transcript);
    assert_eq!(hits[0].contact_id, Some(contact.id));
    assert!(
        hits[0].snippet.contains("[Freightify]"),
        "{}",
        hits[0].snippet
    );
    let hits = store.search("case stud", 5).expect("search");
    assert_eq!(hits[0].kind, SearchHitKind::Note);
    let kinds: Vec<TimelineKind> = store
        .timeline(contact.id, 10)
        .expect("timeline")
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            TimelineKind::Note,
            TimelineKind::Call,
            TimelineKind::Created
        ]
    );
    // Transcripts are immutable.
    assert!(
        store
            .write(|w| w.add_utterances(call.id, std::slice::from_ref(&utterance)))
            .is_err()
    );
}

#[test]
fn scorecard_status_never_moves_back() {
    let mut store = Store::open_in_memory().expect("store");
    let mut card = Scorecard {
        id: ScorecardId::new(),
        subject: ScoreSubject::Call(CallId::new()),
        total: 72,
        rubric_version: "default-1".into(),
        categories: vec![],
        checks: vec![],
        status: ScorecardStatus::Final,
        created_at: now(),
    };
    store.write(|w| w.save_scorecard(&card)).expect("final");
    card.status = ScorecardStatus::Draft;
    assert!(store.write(|w| w.save_scorecard(&card)).is_err());
    card.status = ScorecardStatus::Reviewed;
    store.write(|w| w.save_scorecard(&card)).expect("reviewed");
    let ScoreSubject::Call(call_id) = card.subject else {
        unreachable!()
    };
    assert_eq!(
        store.scorecards_for(&call_id.to_string()).expect("read")[0].status,
        ScorecardStatus::Reviewed
    );
}

/// Distinct segments in the contact search index (FTS5 keeps one `_idx` row per leaf).
fn search_segments(conn: &Connection) -> i64 {
    conn.query_row(
        "SELECT count(DISTINCT segid) FROM contacts_fts_idx",
        [],
        |r| r.get(0),
    )
    .expect("segments")
}

#[test]
fn the_contact_search_index_buffers_bulk_writes() {
    // FTS5 writes its buffered terms out as a new segment whenever any statement in the
    // transaction opens a statement journal; a bulk insert that did so per statement left
    // hundreds of small segments to merge and cost the import figure a third of its time.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cuecard.db");
    let store = Store::open(&path).expect("open");
    let raw = Connection::open(&path).expect("raw");
    let hashsize: i64 = raw
        .query_row(
            "SELECT v FROM contacts_fts_config WHERE k = 'hashsize'",
            [],
            |r| r.get(0),
        )
        .expect("hashsize is set");
    assert_eq!(hashsize, 32 * 1024 * 1024);
    // No background merging, so the segment count shows every flush.
    raw.execute(
        "INSERT INTO contacts_fts (contacts_fts, rank) VALUES ('automerge', 0)",
        [],
    )
    .expect("automerge off");
    drop(raw);

    let mut store = store;
    store
        .write(|w| {
            for batch in 0..8 {
                let mut contacts = (0..256)
                    .map(|i| {
                        let n = batch * 256 + i;
                        let mut f = fields(
                            &format!("Contact {n}"),
                            &format!("+1415555{n:04}"),
                            &format!("c{n}@example.com"),
                        );
                        f.tags.push(format!("batch {batch}"));
                        NewContact::prepare(
                            f,
                            &Provenance::Import {
                                file: "bulk.csv".into(),
                                row: n,
                            },
                            w.now(),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                w.insert_contacts(&mut contacts)?;
            }
            Ok(())
        })
        .expect("bulk insert");
    let segments = search_segments(store.conn());
    assert_eq!(
        segments, 1,
        "2,048 contacts in one transaction: one segment"
    );
    let found = store.query_contacts(&query("c2047")).expect("search");
    assert_eq!(found.total, 1);
}

#[test]
fn tag_filters_match_whole_tags_in_any_case_and_counts_follow_every_change() {
    let mut store = Store::open_in_memory().expect("store");
    let tagged = |store: &Store, tag: &str| -> Vec<String> {
        store
            .query_contacts(&ContactQuery {
                tag: Some(tag.into()),
                ..Default::default()
            })
            .expect("tag filter")
            .contacts
            .into_iter()
            .map(|c| c.fields.name)
            .collect()
    };
    let counts = |store: &Store| -> Vec<(String, u32)> {
        store
            .tag_counts()
            .expect("counts")
            .into_iter()
            .map(|t| (t.tag, t.count))
            .collect()
    };
    let [_, ben, chen] = store
        .write(|w| {
            let mut make = |name: &str, n: u32, tags: &[&str]| {
                let mut f = fields(name, &format!("+91981234560{n}"), &format!("{n}@x.in"));
                f.tags = tags.iter().map(|t| t.to_string()).collect();
                w.create_contact(f, &Provenance::Manual).map(|c| c.id)
            };
            Ok([
                make("Asha", 1, &["Hot Lead", "Élan"])?,
                // The words of "hot lead" in order, across two tags: not the tag.
                make("Ben", 2, &["very hot", "lead gen", "🔥"])?,
                make("Chen", 3, &["hot lead", "q3"])?,
            ])
        })
        .expect("seed");

    assert_eq!(tagged(&store, "hot lead"), vec!["Asha", "Chen"]);
    assert_eq!(tagged(&store, "HOT LEAD"), vec!["Asha", "Chen"]);
    assert_eq!(
        tagged(&store, "hot"),
        Vec::<String>::new(),
        "whole tags only"
    );
    assert_eq!(tagged(&store, "élan"), vec!["Asha"], "non-ASCII case");
    assert_eq!(
        tagged(&store, "elan"),
        Vec::<String>::new(),
        "accents count"
    );
    assert_eq!(tagged(&store, "🔥"), vec!["Ben"], "a tag with no words");
    assert_eq!(
        tagged(&store, "\"q3"),
        Vec::<String>::new(),
        "quotes are text"
    );
    let with_text = store
        .query_contacts(&ContactQuery {
            text: Some("chen".into()),
            tag: Some("hot lead".into()),
            ..Default::default()
        })
        .expect("text and tag");
    assert_eq!(with_text.total, 1);
    assert_eq!(
        counts(&store),
        vec![
            ("hot lead".into(), 2),
            ("lead gen".into(), 1),
            ("q3".into(), 1),
            ("very hot".into(), 1),
            ("élan".into(), 1),
            ("🔥".into(), 1),
        ]
    );

    // An edit moves the counts; the last holder of a tag takes it off the list.
    store
        .write(|w| {
            let mut f = w.contact(chen)?.expect("chen").fields;
            f.tags = vec!["Q3".into(), "won".into()];
            w.update_contact(chen, f, &Provenance::Manual)?;
            w.delete_contact(ben)?;
            Ok(())
        })
        .expect("edit and delete");
    assert_eq!(
        counts(&store),
        vec![
            ("hot lead".into(), 1),
            ("q3".into(), 1),
            ("won".into(), 1),
            ("élan".into(), 1),
        ]
    );
    assert_eq!(tagged(&store, "hot lead"), vec!["Asha"]);
    assert_eq!(
        tagged(&store, "🔥"),
        Vec::<String>::new(),
        "deleted contacts leave"
    );

    store
        .write(|w| w.restore_contact(ben).map(drop))
        .expect("restore");
    assert_eq!(tagged(&store, "very hot"), vec!["Ben"]);
    assert_eq!(counts(&store).len(), 7);
}

#[test]
fn lookups_by_number_and_address_are_exact_and_see_the_open_transaction() {
    let mut store = Store::open_in_memory().expect("store");
    let (asha, seen_inside) = store
        .write(|w| {
            let asha = w
                .create_contact(
                    fields("Asha", "+919812345678", "Asha.Rao@Acme.in"),
                    &Provenance::Manual,
                )?
                .id;
            w.create_contact(
                fields("Ben", "+14155552671", "ben@globex.com"),
                &Provenance::Manual,
            )?;
            // Before the commit: the search index's buffered rows answer too.
            let seen = w.contacts_with_key(KeyKind::Phone, "+919812345678")?;
            Ok((asha, seen))
        })
        .expect("seed");
    assert_eq!(seen_inside, vec![asha]);
    let find =
        |store: &Store, kind, value: &str| store.contacts_with_key(kind, value).expect("lookup");
    assert_eq!(find(&store, KeyKind::Phone, "+919812345678"), vec![asha]);
    assert_eq!(find(&store, KeyKind::Email, "ASHA.RAO@ACME.IN"), vec![asha]);
    // The index holds the national number too ("9812345678"); the row says no.
    assert_eq!(
        find(&store, KeyKind::Phone, "+9812345678"),
        Vec::<ContactId>::new()
    );
    // Same words, different address.
    assert_eq!(
        find(&store, KeyKind::Email, "asha@rao.acme.in"),
        Vec::<ContactId>::new()
    );
    assert_eq!(find(&store, KeyKind::Email, "@"), Vec::<ContactId>::new());
    store.write(|w| w.delete_contact(asha)).expect("delete");
    assert_eq!(
        find(&store, KeyKind::Phone, "+919812345678"),
        Vec::<ContactId>::new()
    );
}

#[test]
fn a_bulk_write_is_followed_by_a_fresh_connection() {
    // FTS5 keeps its term buffer at the size of the largest transaction for the life of
    // the connection and scans all of it on every commit; after a bulk write the store
    // starts a new connection. A temporary table lives and dies with its connection.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path().join("cuecard.db")).expect("open");
    let marked = |store: &Store| {
        store
            .conn()
            .query_row(
                "SELECT count(*) FROM temp.sqlite_master WHERE name = 'marker'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .expect("temp schema")
            == 1
    };
    let bulk = |store: &mut Store, count: u32| {
        store
            .write(|w| {
                let mut batch = (0..count)
                    .map(|n| {
                        NewContact::prepare(
                            fields(
                                &format!("Bulk {n}"),
                                &format!("+1415{:07}", n),
                                &format!("b{n}@example.com"),
                            ),
                            &Provenance::Manual,
                            w.now(),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                w.insert_contacts(&mut batch)
            })
            .expect("bulk write");
    };
    store
        .conn()
        .execute_batch("CREATE TEMP TABLE marker (x)")
        .expect("marker");
    bulk(&mut store, 100);
    assert!(marked(&store), "a small write keeps the connection");
    bulk(&mut store, 5_000);
    assert!(!marked(&store), "a bulk write replaces it");
    assert_eq!(store.contact_count().expect("count"), 5_100);
    let found = store
        .query_contacts(&query("bulk 4999"))
        .expect("search on the new connection");
    assert_eq!(found.total, 1);
}
