//! The fuzz corpus on stable Rust: every file under `fuzz/corpus/<target>/` goes through
//! the same target body the cargo-fuzz binaries run (`fuzz/targets.rs`), and then through
//! a fixed-seed mutation loop (bit flips, byte changes, inserts, deletes, truncation,
//! dictionary tokens from `fuzz/sip.dict`, splices of other corpus files), so CI without
//! nightly still checks the seeds, every crash kept as a regression file, and more.
//!
//! `CUECARD_FUZZ_MUTATIONS` sets the mutations per corpus file (default 600: a few
//! seconds for all targets in a debug build); `CUECARD_FUZZ_SEED` changes the seed. An
//! input that fails is written to `$CARGO_TARGET_TMPDIR/fuzz-failures/` and named in the
//! failure, ready to be copied into the corpus (see `fuzz/README.md`).

#[path = "../fuzz/targets.rs"]
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// A fuzz target's body.
type Target = fn(&[u8]);

/// The fuzz targets, by corpus directory name.
const TARGETS: &[(&str, Target)] = &[
    ("sip_message", targets::sip_message),
    ("sdp", targets::sdp),
    ("sip_headers", targets::sip_headers),
];

const DEFAULT_MUTATIONS: usize = 600;
const DEFAULT_SEED: u64 = 0x5eed_c0de_f00d_cafe;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The corpus files of one target, sorted by name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join("corpus").join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                bytes,
            )
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no corpus files", dir.display());
    files
}

/// The tokens of the libFuzzer dictionary. Panics on a line libFuzzer would not take.
fn dictionary() -> Vec<Vec<u8>> {
    let path = fuzz_dir().join("sip.dict");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut tokens = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match dictionary_token(line) {
            Some(token) if !token.is_empty() => tokens.push(token),
            _ => panic!("sip.dict line {}: {line:?} is not a \"token\"", number + 1),
        }
    }
    tokens
}

/// One `"…"` dictionary line, with its `\\`, `\"` and `\xNN` escapes.
fn dictionary_token(line: &str) -> Option<Vec<u8>> {
    let inner = line.strip_prefix('"')?.strip_suffix('"')?;
    let mut token = Vec::new();
    let mut bytes = inner.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => match bytes.next()? {
                b'\\' => token.push(b'\\'),
                b'"' => token.push(b'"'),
                b'x' => {
                    let hex = [bytes.next()?, bytes.next()?];
                    token.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
                }
                _ => return None,
            },
            b'"' => return None,
            b => token.push(b),
        }
    }
    Some(token)
}

/// xorshift64*: a fixed-seed generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// FNV-1a, to give each corpus file its own stream of mutations whatever the file order.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Bytes that matter to the grammars: separators, line ends, quotes, digits.
const INTERESTING: &[u8] = b"\r\n \t:;,=<>\"\\@/?[]%0179+-.\x00\x7f\xff\xc3";

/// One to four stacked mutations of `input`.
fn mutate(
    rng: &mut Rng,
    input: &[u8],
    dictionary: &[Vec<u8>],
    others: &[(String, Vec<u8>)],
) -> Vec<u8> {
    let mut data = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(9) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => data.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 if at < data.len() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            4 => data.truncate(at),
            5 => {
                let token = &dictionary[rng.below(dictionary.len())];
                data.splice(at..at, token.iter().copied());
            }
            6 if at < data.len() => {
                // Repeat a chunk: doubled headers, doubled lines, long values.
                let end = (at + 1 + rng.below(64)).min(data.len());
                let chunk = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, chunk);
            }
            7 => {
                // Splice in part of another corpus file of the same target.
                let other = &others[rng.below(others.len())].1;
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(128)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => {
                let i = rng.below(data.len() + 1);
                data.insert(i, rng.next() as u8);
            }
        }
    }
    data
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Runs one input through a target; a panic is saved under the test's temporary
/// directory and reported with the path.
fn run_one(target: &str, body: Target, origin: &str, input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| body(input))).is_ok() {
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{target}-{:016x}", fnv(input)));
    std::fs::write(&path, input).unwrap();
    panic!(
        "target {target} failed on {origin} (panic message above); the input is saved as {}\n\
         add it to the corpus as a regression: cp {} crates/sip/fuzz/corpus/{target}/crash-<what>",
        path.display(),
        path.display()
    );
}

/// Replays a target's corpus, then mutates each file.
fn replay_and_mutate(target: &str) {
    let body = TARGETS.iter().find(|(name, _)| *name == target).unwrap().1;
    let files = corpus(target);
    for (name, bytes) in &files {
        run_one(target, body, &format!("corpus file {name}"), bytes);
    }
    let dictionary = dictionary();
    let mutations = env_number("CUECARD_FUZZ_MUTATIONS").map_or(DEFAULT_MUTATIONS, |n| n as usize);
    let seed = env_number("CUECARD_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    for (name, bytes) in &files {
        let mut rng = Rng::new(seed ^ fnv(name.as_bytes()));
        for i in 0..mutations {
            let input = mutate(&mut rng, bytes, &dictionary, &files);
            run_one(
                target,
                body,
                &format!("mutation {i} of {name} (seed {seed:#x})"),
                &input,
            );
        }
    }
}

#[test]
fn every_corpus_directory_is_a_fuzz_target() {
    let dir = fuzz_dir().join("corpus");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            TARGETS.iter().any(|(target, _)| *target == name),
            "corpus/{name} is not a fuzz target"
        );
    }
    for (target, _) in TARGETS {
        let source = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        assert!(source.is_file(), "{} is missing", source.display());
    }
    assert!(dictionary().len() > 50);
}

/// Whether a corpus file is a hand-written seed (not a fuzzer find or a crash input).
fn is_seed(name: &str) -> bool {
    !name.starts_with("found-") && !name.starts_with("crash-")
}

#[test]
fn the_seeds_parse() {
    // The hand-written seeds are only worth keeping while they reach the code behind the
    // parsers: all but the one broken on purpose must parse whole.
    use cuecard_sip::parse::parse_message;
    use cuecard_sip::sdp::SessionDescription;
    for (name, bytes) in corpus("sip_message").iter().filter(|(n, _)| is_seed(n)) {
        if name != "request_bad_length.sip" {
            assert!(
                parse_message(bytes).is_ok(),
                "seed message {name} does not parse"
            );
        }
    }
    for (name, bytes) in corpus("sdp").iter().filter(|(n, _)| is_seed(n)) {
        assert!(
            SessionDescription::parse(bytes).is_ok(),
            "seed SDP {name} does not parse"
        );
    }
}

#[test]
fn sip_message_corpus_and_mutations() {
    replay_and_mutate("sip_message");
}

#[test]
fn sdp_corpus_and_mutations() {
    replay_and_mutate("sdp");
}

#[test]
fn sip_headers_corpus_and_mutations() {
    replay_and_mutate("sip_headers");
}
