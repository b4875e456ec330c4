//! Import benchmark (bench binary): a generated 100,000-row CSV with mixed phone formats,
//! quoted fields, duplicates (2%) and invalid numbers (1%) — parse, normalise, dedupe,
//! DNC-scrub, insert with outbox, search index and timeline — into a fresh file-backed
//! database. Also times the 100,000-row preview.
//!
//! Run: `cargo bench -p cuecard-contacts --bench import` (release). `RUNS=N` sets the
//! number of imports; `ROWS=N` a smaller file and `PREVIEW=0` no preview, for counting
//! instructions under callgrind (see BENCHMARKS.md), which this noisy machine needs to
//! tell a 10% change from the noise.

use cuecard_contacts::{ImportOptions, import, preview};
use cuecard_core::DncSource;
use cuecard_store::Store;
use std::fmt::Write as _;
use std::time::Instant;

/// The allocator the app and the CLI use (see their `main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rows in the generated file, unless `ROWS` says otherwise.
fn rows() -> usize {
    env_number("ROWS").unwrap_or(100_000)
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A CSV like a real export: several phone spellings, quoted commas, some duplicates
/// and some broken numbers.
fn generate(rows: usize) -> Vec<u8> {
    let mut csv = String::from("Full Name,Company,Title,Mobile,Email,Tags,Stage,Deal Value\r\n");
    for i in 0..rows {
        // 2% of rows repeat an earlier row's number (a duplicate to merge).
        let n = if i % 50 == 49 { i - 7 } else { i };
        let phone = match i % 4 {
            0 => format!("+91 98{:03} {:05}", n / 100_000, n % 100_000),
            1 => format!("098{:03}{:05}", n / 100_000, n % 100_000),
            2 => format!("+91-98{:03}-{:05}", n / 100_000, n % 100_000),
            _ => format!("(98{:03}) {:05}", n / 100_000, n % 100_000),
        };
        let phone = if i % 100 == 37 {
            "12345".to_owned()
        } else {
            phone
        };
        let _ = write!(
            csv,
            "\"Person {n}, Jr.\",Company {} Pvt Ltd,Manager,{phone},person{n}@example.com,\"q3; vip\",{},\"₹{},000\"\r\n",
            n % 1000,
            ["new", "qualified", "proposal", "won"][n % 4],
            n % 90 + 10
        );
    }
    csv.into_bytes()
}

fn main() {
    let rows = rows();
    let csv = generate(rows);
    println!("{} rows, {:.1} MB", rows, csv.len() as f64 / 1e6);
    let options = ImportOptions::new("bench.csv", "IN");
    let region = cuecard_contacts::phone::region("IN").expect("region");
    let started = Instant::now();
    for i in 0..rows {
        let _ = std::hint::black_box(cuecard_contacts::normalize_phone(
            &format!("098{:03}{:05}", i / 100_000, i % 100_000),
            region,
        ));
    }
    println!(
        "normalise {rows} numbers alone: {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let started = Instant::now();
    let table = cuecard_contacts::read_table(&csv, None).expect("table");
    println!(
        "decode + parse CSV alone: {:.0} ms ({} rows)",
        started.elapsed().as_secs_f64() * 1000.0,
        table.rows.len()
    );
    let mut timings = Vec::new();
    for run in 0..env_number("RUNS").unwrap_or(3) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = Store::open(dir.path().join("bench.db")).expect("open");
        store
            .write(|w| w.add_dnc("+919800000100", None, DncSource::Manual))
            .expect("dnc");
        let started = Instant::now();
        let report = import(&mut store, &csv, &options).expect("import");
        let elapsed = started.elapsed();
        timings.push(elapsed);
        println!(
            "run {run}: import {:.0} ms — {} created, {} merged, {} unchanged, {} failed, {} DNC",
            elapsed.as_secs_f64() * 1000.0,
            report.created,
            report.merged,
            report.unchanged,
            report.failed,
            report.dnc_flagged
        );
        if run == 0 && env_number("PREVIEW") != Some(0) {
            let mut fresh = Store::open(dir.path().join("preview.db")).expect("open");
            let started = Instant::now();
            preview(&mut fresh, &csv, &options, 20).expect("preview");
            println!(
                "preview of the whole file: {:.0} ms",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
    timings.sort();
    println!(
        "import {rows} rows: median {:.0} ms, best {:.0} ms",
        timings[timings.len() / 2].as_secs_f64() * 1000.0,
        timings[0].as_secs_f64() * 1000.0
    );
}
