//! Errors of the model manager. Each names the file or URL it concerns.

use std::path::PathBuf;

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("no model named {0:?}; installed: {1}")]
    Unknown(String, String),
    #[error("downloading {url}: {message}")]
    Download { url: String, message: String },
    #[error(
        "the download of {id} is corrupt (SHA-256 {actual}, expected {expected}); it was deleted"
    )]
    Checksum {
        id: String,
        expected: String,
        actual: String,
    },
    #[error("the download of {0} was cancelled; run it again to resume")]
    Cancelled(String),
}
