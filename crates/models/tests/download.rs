//! Model downloads against a local HTTP stand-in that can honour or ignore `Range`, drop
//! the connection part-way, stall, serve corrupt bytes, or 404.

use cuecard_models::catalog::CatalogEntry;
use cuecard_models::download::{CancelToken, DownloadOptions, Progress, download};
use cuecard_models::error::ModelError;
use cuecard_models::store::ModelStore;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    DropAfter(usize),
    IgnoreRange,
    Stall,
    Corrupt,
}

struct Server {
    url: String,
    mode: Arc<Mutex<Mode>>,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
}

/// A ggml-looking file: a valid tiny.en header, then 3 MB of pseudo-random bytes.
fn model_bytes() -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&0x6767_6d6cu32.to_le_bytes());
    for v in [51864i32, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1] {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    let mut state = 1u32;
    bytes.extend((0..3_000_000).map(|_| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 24) as u8
    }));
    bytes
}

fn serve(body: Vec<u8>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/{{file}}", listener.local_addr().expect("addr"));
    let mode = Arc::new(Mutex::new(Mode::Normal));
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let (m, r) = (mode.clone(), ranges.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (m, r, body) = (m.clone(), r.clone(), body.clone());
            // One thread per connection, so a stalled response does not block the next.
            std::thread::spawn(move || handle(stream, &m, &r, &body));
        }
    });
    Server { url, mode, ranges }
}

fn handle(
    mut stream: std::net::TcpStream,
    m: &Mutex<Mode>,
    r: &Mutex<Vec<Option<String>>>,
    body: &[u8],
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
            range = Some(v.trim().trim_end_matches('-').to_owned());
        }
    }
    r.lock().expect("lock").push(range.clone());
    let mode = *m.lock().expect("lock");
    if !request_line.contains("/ggml-test.bin ") {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        return;
    }
    let mut data = body.to_vec();
    if mode == Mode::Corrupt {
        data[100_000] ^= 0xFF;
    }
    let start = match (range.and_then(|s| s.parse::<usize>().ok()), mode) {
        (Some(start), m) if m != Mode::IgnoreRange => start,
        _ => 0,
    };
    let head = if start > 0 {
        format!(
            "HTTP/1.1 206 Partial Content\r\ncontent-length: {}\r\ncontent-range: bytes {start}-{}/{}\r\nconnection: close\r\n\r\n",
            data.len() - start,
            data.len() - 1,
            data.len()
        )
    } else {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            data.len()
        )
    };
    let _ = stream.write_all(head.as_bytes());
    match mode {
        Mode::DropAfter(n) => {
            let _ = stream.write_all(&data[start..(start + n).min(data.len())]);
        }
        Mode::Stall => std::thread::sleep(Duration::from_secs(3)),
        _ => {
            let _ = stream.write_all(&data[start..]);
        }
    }
}

fn entry(body: &[u8]) -> CatalogEntry {
    CatalogEntry {
        id: "test",
        english_only: true,
        approx_mib: 3,
        sha256: Box::leak(format!("{:x}", Sha256::digest(body)).into_boxed_str()),
        parameters: "none",
    }
}

fn options(server: &Server) -> DownloadOptions {
    DownloadOptions {
        url_template: server.url.clone(),
        read_timeout: Duration::from_millis(800),
        ..DownloadOptions::default()
    }
}

#[test]
fn a_download_reports_progress_and_installs_a_verified_file() {
    let body = model_bytes();
    let server = serve(body.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ModelStore::new(dir.path());
    let mut reports: Vec<Progress> = Vec::new();
    let model = download(
        &store,
        &entry(&body),
        &options(&server),
        &CancelToken::default(),
        |p| reports.push(p),
    )
    .expect("download");
    assert_eq!(model.id, "test");
    assert_eq!(std::fs::read(&model.path).expect("read"), body);
    assert!(reports.len() > 5, "{} reports", reports.len());
    assert!(
        reports
            .windows(2)
            .all(|w| w[0].downloaded <= w[1].downloaded)
    );
    assert_eq!(
        reports.last().map(|p| (p.downloaded, p.total)),
        Some((body.len() as u64, Some(body.len() as u64)))
    );
    assert!(!store.path_of("test").with_extension("bin.part").exists());
}

#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let body = model_bytes();
    let server = serve(body.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ModelStore::new(dir.path());
    *server.mode.lock().expect("lock") = Mode::DropAfter(1_000_000);
    let err = download(
        &store,
        &entry(&body),
        &options(&server),
        &CancelToken::default(),
        |_| {},
    )
    .expect_err("dropped");
    assert!(err.to_string().contains("resume"), "{err}");
    let part = store.path_of("test").with_extension("bin.part");
    assert_eq!(
        std::fs::metadata(&part).expect("part kept").len(),
        1_000_000
    );

    *server.mode.lock().expect("lock") = Mode::Normal;
    let mut first = None;
    let model = download(
        &store,
        &entry(&body),
        &options(&server),
        &CancelToken::default(),
        |p| {
            first.get_or_insert(p);
        },
    )
    .expect("resumed");
    assert_eq!(first.map(|p| p.resumed_from), Some(1_000_000));
    assert_eq!(
        server
            .ranges
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .flatten()
            .as_deref(),
        Some("1000000")
    );
    assert_eq!(std::fs::read(&model.path).expect("read"), body);
}

#[test]
fn a_server_that_ignores_range_is_downloaded_again_from_the_start() {
    let body = model_bytes();
    let server = serve(body.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ModelStore::new(dir.path());
    std::fs::write(
        store.path_of("test").with_extension("bin.part"),
        &body[..500_000],
    )
    .expect("part");
    *server.mode.lock().expect("lock") = Mode::IgnoreRange;
    let model = download(
        &store,
        &entry(&body),
        &options(&server),
        &CancelToken::default(),
        |_| {},
    )
    .expect("download");
    assert_eq!(std::fs::read(&model.path).expect("read"), body);
}

#[test]
fn a_corrupt_download_is_deleted_and_never_installed() {
    let body = model_bytes();
    let server = serve(body.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ModelStore::new(dir.path());
    *server.mode.lock().expect("lock") = Mode::Corrupt;
    let err = download(
        &store,
        &entry(&body),
        &options(&server),
        &CancelToken::default(),
        |_| {},
    )
    .expect_err("corrupt");
    assert!(matches!(err, ModelError::Checksum { .. }), "{err}");
    assert!(!store.path_of("test").exists());
    assert!(!store.path_of("test").with_extension("bin.part").exists());
}

#[test]
fn cancel_stall_and_missing_files_are_clear_errors() {
    let body = model_bytes();
    let server = serve(body.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ModelStore::new(dir.path());
    let cancel = CancelToken::default();
    let err = download(&store, &entry(&body), &options(&server), &cancel, |p| {
        if p.downloaded > 0 {
            cancel.cancel();
        }
    })
    .expect_err("cancelled");
    assert!(matches!(err, ModelError::Cancelled(_)), "{err}");
    assert!(
        store.path_of("test").with_extension("bin.part").exists(),
        "kept for resuming"
    );

    *server.mode.lock().expect("lock") = Mode::Stall;
    std::fs::remove_file(store.path_of("test").with_extension("bin.part")).expect("rm");
    let err = download(
        &store,
        &entry(&body),
        &options(&server),
        &CancelToken::default(),
        |_| {},
    )
    .expect_err("stall");
    assert!(matches!(err, ModelError::Download { .. }), "{err}");

    *server.mode.lock().expect("lock") = Mode::Normal;
    let missing = CatalogEntry {
        id: "nope",
        ..entry(&body)
    };
    let err = download(
        &store,
        &missing,
        &options(&server),
        &CancelToken::default(),
        |_| {},
    )
    .expect_err("404");
    assert!(err.to_string().contains("HTTP 404"), "{err}");
    assert!(err.to_string().contains("ggml-nope.bin"), "{err}");
}
