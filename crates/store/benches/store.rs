//! Store benchmarks (bench binary): contact search over 100,000 contacts and single
//! contact writes with their outbox entry, on a file-backed WAL database.
//!
//! Run: `cargo bench -p cuecard-store --bench store` (release). Prints p50/p90/p99.

use cuecard_core::{ContactFields, DealStage, Email, Phone};
use cuecard_store::{ContactQuery, KeyKind, Provenance, Store};
use std::time::{Duration, Instant};

const CONTACTS: usize = 100_000;
const FIRST: &[&str] = &[
    "Asha", "Ben", "Chen", "Dee", "Eve", "Farah", "Gopal", "Hana", "Ivan", "Jaya", "Kiran", "Liam",
    "Maya", "Nikhil", "Olga", "Priya", "Quinn", "Ravi", "Sara", "Tariq",
];
const LAST: &[&str] = &[
    "Rao", "Carter", "Wei", "Dupe", "Iyer", "Khan", "Mehta", "Sato", "Petrov", "Singh", "Nair",
    "Smith", "Garcia", "Kumar", "Ivanova", "Shah", "Brown", "Das", "Lopez", "Ali",
];
const COMPANY: &[&str] = &[
    "Acme Logistics",
    "Globex",
    "Initech",
    "Umbrella Freight",
    "Stark Retail",
    "Wayne Foods",
    "Tyrell Pharma",
    "Cyberdyne",
    "Soylent",
    "Hooli",
];

fn contact(i: usize) -> ContactFields {
    ContactFields {
        name: format!(
            "{} {} {i}",
            FIRST[i % FIRST.len()],
            LAST[(i / FIRST.len()) % LAST.len()]
        ),
        company: Some(COMPANY[i % COMPANY.len()].to_owned()),
        title: Some(["CFO", "IT Director", "VP Sales", "Ops Manager"][i % 4].to_owned()),
        phones: vec![Phone {
            e164: format!("+9198{:08}", i),
            label: None,
        }],
        emails: vec![Email {
            address: format!(
                "user{i}@{}.example",
                COMPANY[i % COMPANY.len()]
                    .split(' ')
                    .next()
                    .unwrap_or("x")
                    .to_lowercase()
            ),
            label: None,
        }],
        tags: vec![["q3", "vip", "renewal", "cold"][i % 4].to_owned()],
        deal_stage: DealStage::ALL[i % DealStage::ALL.len()],
        ..Default::default()
    }
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.9), at(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    let mut store = Store::open(&path).expect("open");
    let seeded = Instant::now();
    store
        .write(|w| {
            for i in 0..CONTACTS {
                w.create_contact(contact(i), &Provenance::Manual)?;
            }
            Ok(())
        })
        .expect("seed");
    println!(
        "seeded {CONTACTS} contacts in {:.0} ms",
        ms(seeded.elapsed())
    );

    // Search: what a rep types into the contacts search box, one keystroke at a time.
    let queries = [
        "a",
        "as",
        "ash",
        "asha",
        "asha rao",
        "glob",
        "globex",
        "acme log",
        "cfo",
        "98",
        "9800",
        "980001",
        "+91 98000 12",
        "user123",
        "user12345@",
        "renewal",
        "priya shah",
        "tariq",
        "zzz",
        "umbrella fr",
    ];
    for q in queries {
        // warm the page cache and statement cache once per query
        store
            .query_contacts(&ContactQuery {
                text: Some(q.into()),
                ..Default::default()
            })
            .expect("warm");
    }
    let mut samples = Vec::new();
    let mut per_query: Vec<Vec<Duration>> = vec![Vec::new(); queries.len()];
    let mut totals = vec![0; queries.len()];
    for _ in 0..25 {
        for (i, q) in queries.iter().enumerate() {
            let query = ContactQuery {
                text: Some((*q).into()),
                limit: Some(100),
                ..Default::default()
            };
            let started = Instant::now();
            let page = store.query_contacts(&query).expect("search");
            let elapsed = started.elapsed();
            samples.push(elapsed);
            per_query[i].push(elapsed);
            totals[i] = page.total;
            std::hint::black_box(page);
        }
    }
    for (i, q) in queries.iter().enumerate() {
        let (p50, _, _) = percentiles(per_query[i].clone());
        println!(
            "  {q:>14}: {:>7.2} ms p50, {:>6} matches",
            ms(p50),
            totals[i]
        );
    }
    let (p50, p90, p99) = percentiles(samples);
    println!(
        "search over {CONTACTS} contacts ({} queries x 25, first page of 100 + total): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        queries.len(),
        ms(p50),
        ms(p90),
        ms(p99)
    );

    // Browse: the list with no search text, sorted by name, first page.
    let mut samples = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        std::hint::black_box(
            store
                .query_contacts(&ContactQuery::default())
                .expect("list"),
        );
        samples.push(started.elapsed());
    }
    let (p50, _, p99) = percentiles(samples);
    println!(
        "list first page by name: p50 {:.2} ms, p99 {:.2} ms",
        ms(p50),
        ms(p99)
    );

    // Tag filter: a quarter of the book carries "vip" (first page by name, exact count),
    // and the same tag narrowed by a search.
    for (label, text) in [("tag vip", None), ("tag vip + \"asha\"", Some("asha"))] {
        let mut samples = Vec::new();
        let mut total = 0;
        for _ in 0..50 {
            let started = Instant::now();
            let page = store
                .query_contacts(&ContactQuery {
                    text: text.map(str::to_owned),
                    tag: Some("VIP".into()),
                    ..Default::default()
                })
                .expect("tag filter");
            samples.push(started.elapsed());
            total = page.total;
        }
        let (p50, _, p99) = percentiles(samples);
        println!(
            "{label}: p50 {:.2} ms, p99 {:.2} ms, {total} matches",
            ms(p50),
            ms(p99)
        );
    }

    // Lookup by number (who is calling) and by address, through the search index.
    let mut samples = Vec::new();
    for i in 0..2_000 {
        let (kind, value) = if i % 2 == 0 {
            (KeyKind::Phone, format!("+9198{:08}", i * 37))
        } else {
            (
                KeyKind::Email,
                format!("USER{}@GLOBEX.EXAMPLE", (i * 37 / 10) * 10 + 1),
            )
        };
        let started = Instant::now();
        let found = store.contacts_with_key(kind, &value).expect("lookup");
        samples.push(started.elapsed());
        assert_eq!(found.len(), 1, "{value}");
    }
    let (p50, _, p99) = percentiles(samples);
    println!(
        "lookup by phone or e-mail: p50 {:.3} ms, p99 {:.3} ms",
        ms(p50),
        ms(p99)
    );

    // Writes: one contact per transaction, with its outbox entry, search row, tag counts,
    // timeline.
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    for i in 0..2_000 {
        let started = Instant::now();
        let created = store
            .write(|w| w.create_contact(contact(CONTACTS + i), &Provenance::Manual))
            .expect("create");
        creates.push(started.elapsed());
        let mut fields = created.fields.clone();
        fields.deal_stage = DealStage::Won;
        fields.tags.push("edited".into());
        let started = Instant::now();
        store
            .write(|w| w.update_contact(created.id, fields, &Provenance::Manual))
            .expect("update");
        updates.push(started.elapsed());
    }
    let (c50, _, c99) = percentiles(creates);
    let (u50, _, u99) = percentiles(updates);
    println!(
        "contact create + outbox (own transaction): p50 {:.3} ms, p99 {:.3} ms",
        ms(c50),
        ms(c99)
    );
    println!(
        "contact edit + outbox (own transaction):   p50 {:.3} ms, p99 {:.3} ms",
        ms(u50),
        ms(u99)
    );
}
