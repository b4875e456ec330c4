//! Sync errors, each saying what failed in words a rep can act on.

use cuecard_secrets::SecretsError;
use cuecard_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The server could not be reached; local work carries on and syncs later.
    #[error("the sync server at {url} cannot be reached ({detail})")]
    Offline { url: String, detail: String },

    /// The server refused the device's credentials: sign in again.
    #[error("signed out of the sync server: {0}")]
    Unauthorized(String),

    #[error("this device is not signed in to a sync server")]
    NotSignedIn,

    /// This data already syncs as another user.
    #[error(
        "this Cuecard's data belongs to another account on the sync server; sign in as that account, or use a separate data folder (CUECARD_DATA_DIR) for {email}"
    )]
    WrongAccount { email: String },

    /// An invitation was offered to a store that already syncs as an account.
    #[error(
        "this Cuecard's data already syncs as another account; sign in as that account, or accept the invitation in a separate data folder (CUECARD_DATA_DIR)"
    )]
    AlreadyOwned,

    /// The app's database is not open, so there is nothing to sync.
    #[error("the local database is not open: {0}")]
    LocalStoreUnavailable(String),

    #[error("the sync server needs a newer Cuecard: {0}")]
    UpgradeRequired(String),

    /// The server lost changes this device no longer has (its database was restored
    /// from an older copy than the server's backup).
    #[error(
        "the sync server expects change {expected} from this device, which only has changes up to {last}"
    )]
    OutboxBehind { expected: i64, last: i64 },

    /// Any other refusal, with the server's own message.
    #[error("the sync server answered {status}: {message}")]
    Server {
        status: u16,
        code: String,
        message: String,
        expected_seq: Option<i64>,
        /// With `offset_mismatch`: where the server's copy of an upload stands.
        offset: Option<u64>,
    },

    /// A recording file could not be read for its upload.
    #[error("the recording {path} could not be read: {detail}")]
    Recording {
        path: std::path::PathBuf,
        detail: String,
    },

    #[error("the sync server's answer could not be read: {0}")]
    Decode(String),

    #[error("the sync server address {url:?} is not valid: {detail}")]
    BadUrl { url: String, detail: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Keychain(#[from] SecretsError),
}

impl SyncError {
    /// Worth retrying later unchanged (network trouble, an overloaded server).
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline { .. } => true,
            SyncError::Server { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}
