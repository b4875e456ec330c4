//! Errors from the store, each naming what went wrong and where.

use std::path::PathBuf;

/// Anything that can go wrong opening or using the local database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file exists but is not a readable SQLite database. It has not been modified.
    #[error(
        "the database at {path} is not a readable Cuecard database ({detail}); it was left untouched — move it aside to start fresh"
    )]
    Corrupt { path: PathBuf, detail: String },

    /// The file was written by a newer Cuecard than this one. It has not been modified.
    #[error(
        "the database at {path} has schema version {found}, newer than this Cuecard understands ({supported}); update Cuecard"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// The database could not be opened or created (permissions, missing directory, full disk…).
    #[error("cannot open the database at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    /// A file-system step around the database failed.
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Upgrading the schema failed; the upgrade was rolled back and the data is as it was.
    #[error(
        "upgrading the database to schema version {version} failed (nothing was changed): {source}"
    )]
    Migration {
        version: u32,
        #[source]
        source: Box<StoreError>,
    },

    #[error("{entity} {id} does not exist")]
    NotFound { entity: &'static str, id: String },

    #[error(transparent)]
    Invalid(#[from] cuecard_core::ContactInvalid),

    #[error("stored {what} could not be read: {detail}")]
    Decode { what: &'static str, detail: String },

    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    pub(crate) fn decode(what: &'static str, detail: impl std::fmt::Display) -> Self {
        StoreError::Decode {
            what,
            detail: detail.to_string(),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
