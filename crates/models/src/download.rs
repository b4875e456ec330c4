//! Downloading a catalog model: progress, resume after an interruption (HTTP `Range`),
//! cancel, and a SHA-256 check before the file is installed.
//!
//! Bytes go to `ggml-<id>.bin.part` next to the final file. A later download of the same
//! model continues from the part's length when the server honours the range (206 with a
//! matching `Content-Range`), and starts over when it does not (200). Only a file whose
//! SHA-256 matches the catalog is renamed into place; a mismatch deletes the part, so a
//! corrupt download is never resumed.

use crate::catalog::CatalogEntry;
use crate::error::{ModelError, Result};
use crate::store::{InstalledModel, ModelStore};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How far a download has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct Progress {
    pub downloaded: u64,
    /// From `Content-Length` (plus what was already there), when the server sends it.
    pub total: Option<u64>,
    /// Bytes that were already on disk from an interrupted download.
    pub resumed_from: u64,
}

/// Where and how to download.
#[derive(Clone, Debug)]
pub struct DownloadOptions {
    /// `{file}` is replaced by the model's file name.
    pub url_template: String,
    pub connect_timeout: Duration,
    /// A read that stalls this long fails the download (it can be resumed).
    pub read_timeout: Duration,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            url_template: crate::catalog::DEFAULT_URL_TEMPLATE.to_owned(),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// Cancels a running download from another thread.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Downloads `entry` into `store`, calling `progress` as bytes arrive (at most every
/// 256 KiB). Returns the installed model.
pub fn download(
    store: &ModelStore,
    entry: &CatalogEntry,
    options: &DownloadOptions,
    cancel: &CancelToken,
    mut progress: impl FnMut(Progress),
) -> Result<InstalledModel> {
    let target = store.path_of(entry.id);
    if target.exists() {
        return store.get(entry.id);
    }
    let url = options.url_template.replace("{file}", &entry.file_name());
    let part = target.with_extension("bin.part");
    std::fs::create_dir_all(store.dir()).map_err(|source| ModelError::Io {
        path: store.dir().to_owned(),
        source,
    })?;
    let net = |message: String| ModelError::Download {
        url: url.clone(),
        message,
    };
    let io = |source| ModelError::Io {
        path: part.clone(),
        source,
    };

    // Hash what an earlier attempt left, to continue the hash and the file.
    let mut hasher = Sha256::new();
    let mut have = 0u64;
    if let Ok(mut existing) = std::fs::File::open(&part) {
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = existing.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            have += n as u64;
        }
    }

    let client = reqwest::blocking::Client::builder()
        .connect_timeout(options.connect_timeout)
        // In the blocking client this bounds each read (and the wait for headers), not
        // the whole transfer: a stalled server fails, a slow one does not.
        .timeout(options.read_timeout)
        .user_agent(concat!("cuecard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| net(e.to_string()))?;
    let mut request = client.get(&url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let mut response = request.send().map_err(|e| net(describe(&e)))?;
    let status = response.status();
    let resumed_from = match status.as_u16() {
        206 => {
            // The range must start where our file ends.
            let range = response
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let start = range
                .strip_prefix("bytes ")
                .and_then(|r| r.split('-').next())
                .and_then(|s| s.parse::<u64>().ok());
            if start != Some(have) {
                return Err(net(format!(
                    "the server resumed at {range:?}, not at byte {have}"
                )));
            }
            have
        }
        200 => {
            // No resume: start over.
            hasher = Sha256::new();
            have = 0;
            0
        }
        416 if have > 0 => {
            // Our part already holds everything the server has: check it below.
            have
        }
        code => {
            return Err(net(format!(
                "HTTP {code} {}",
                status.canonical_reason().unwrap_or("")
            )));
        }
    };
    let total = response.content_length().map(|len| len + resumed_from);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(resumed_from > 0)
        .truncate(resumed_from == 0)
        .open(&part)
        .map_err(io)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut since_report = 0u64;
    progress(Progress {
        downloaded: have,
        total,
        resumed_from,
    });
    if status.as_u16() != 416 {
        loop {
            if cancel.is_cancelled() {
                file.flush().map_err(io)?;
                return Err(ModelError::Cancelled(entry.id.to_owned()));
            }
            let n = match response.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    file.flush().map_err(io)?;
                    return Err(net(format!(
                        "interrupted after {have} bytes ({e}); run the download again to resume"
                    )));
                }
            };
            file.write_all(&buf[..n]).map_err(io)?;
            hasher.update(&buf[..n]);
            have += n as u64;
            since_report += n as u64;
            if since_report >= 256 * 1024 {
                since_report = 0;
                progress(Progress {
                    downloaded: have,
                    total,
                    resumed_from,
                });
            }
        }
    }
    file.flush().map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    if let Some(total) = total
        && have < total
    {
        return Err(net(format!(
            "the connection closed after {have} of {total} bytes; run the download again to resume"
        )));
    }
    progress(Progress {
        downloaded: have,
        total,
        resumed_from,
    });
    let hash = format!("{:x}", hasher.finalize());
    if hash != entry.sha256 {
        let _ = std::fs::remove_file(&part);
        return Err(ModelError::Checksum {
            id: entry.id.to_owned(),
            expected: entry.sha256.to_owned(),
            actual: hash,
        });
    }
    crate::ggml::read_header(&part)?;
    std::fs::rename(&part, &target).map_err(|source| ModelError::Io {
        path: target.clone(),
        source,
    })?;
    store.get(entry.id)
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_connect() {
        format!("cannot connect: {e}")
    } else if e.is_timeout() {
        format!("timed out: {e}")
    } else {
        e.to_string()
    }
}
