//! Hostile and mangled files: the importer must never panic, must account for every row
//! it read, and must leave the store as it was when it refuses a file. Inputs are the
//! messy fixture mutated at random (seeded, so failures reproduce) plus raw random bytes.

use cuecard_contacts::{ImportOptions, import};
use cuecard_store::Store;

const MESSY: &[u8] = include_bytes!("fixtures/messy.csv");

/// xorshift64*: a tiny deterministic generator, enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    const SPICE: &[u8] = b"\",;\t\r\n\0\xff\xfe\xef\xbb\xbf+0123456789@. ";
    for _ in 0..1 + rng.below(12) {
        if bytes.is_empty() {
            bytes.push(SPICE[rng.below(SPICE.len())]);
            continue;
        }
        let at = rng.below(bytes.len());
        match rng.below(5) {
            0 => bytes[at] = SPICE[rng.below(SPICE.len())],
            1 => bytes.insert(at, SPICE[rng.below(SPICE.len())]),
            2 => {
                bytes.remove(at);
            }
            3 => bytes.truncate(at),
            _ => {
                let end = (at + rng.below(40)).min(bytes.len());
                let chunk = bytes[at..end].to_vec();
                let to = rng.below(bytes.len());
                bytes.splice(to..to, chunk);
            }
        }
    }
    bytes
}

fn check(store: &mut Store, bytes: &[u8], case: usize) {
    let before = store.outbox_pending_count().expect("outbox");
    match import(store, bytes, &ImportOptions::new("fuzz.csv", "IN")) {
        Ok(report) => {
            let accounted =
                report.created + report.merged + report.unchanged + report.failed + report.blank;
            assert_eq!(
                accounted, report.total_rows,
                "case {case}: every row is accounted for"
            );
            assert_eq!(
                report.failed as usize,
                report.errors.len(),
                "case {case}: every failure is listed"
            );
        }
        Err(error) => {
            assert!(!error.to_string().is_empty(), "case {case}");
            assert_eq!(
                store.outbox_pending_count().expect("outbox"),
                before,
                "case {case}: a refused file writes nothing"
            );
        }
    }
}

#[test]
fn mutated_csv_files_never_panic_and_every_row_is_accounted_for() {
    let mut rng = Rng(0x5EED_CAFE_F00D_0001);
    let mut store = Store::open_in_memory().expect("store");
    for case in 0..1500 {
        let bytes = mutate(&mut rng, MESSY);
        check(&mut store, &bytes, case);
    }
    store
        .check_integrity()
        .expect("the database is sound after it all");
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x0BAD_5EED_0000_0002);
    let mut store = Store::open_in_memory().expect("store");
    for case in 0..500 {
        let len = rng.below(400);
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() >> 56) as u8).collect();
        check(&mut store, &bytes, case);
    }
}
