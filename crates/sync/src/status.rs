//! The sync status the app shows: signed in as whom, when it last synced, how many
//! changes wait, and what went wrong.

use serde::Serialize;

/// Where sync stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    SignedOut,
    /// Up to date, waiting for changes.
    Idle,
    Syncing,
    /// The server cannot be reached; retrying with backoff.
    Offline,
    /// A problem that needs the rep (signed out by the server, app too old, …).
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct SyncStatus {
    pub state: SyncState,
    pub server_url: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub org_name: Option<String>,
    /// RFC 3339, when the last full round (push and pull) finished.
    pub last_synced_at: Option<String>,
    /// Local changes not yet acknowledged by the server.
    pub pending: u32,
    /// Changes the server refused for good (with reasons in the log).
    pub rejected: u32,
    /// Pulled rows waiting for a row they refer to.
    pub waiting: u32,
    /// Call recordings on this device not yet uploaded (as of the last upload pass).
    pub recordings_waiting: u32,
    /// The team keeps recordings on reps' devices, so none are uploaded.
    pub recordings_kept_on_device: bool,
    pub error: Option<String>,
    /// Seconds until the next try, while offline or after an error.
    pub retry_in_secs: Option<u64>,
}

impl Default for SyncStatus {
    fn default() -> Self {
        SyncStatus {
            state: SyncState::SignedOut,
            server_url: None,
            email: None,
            name: None,
            org_name: None,
            last_synced_at: None,
            pending: 0,
            rejected: 0,
            waiting: 0,
            recordings_waiting: 0,
            recordings_kept_on_device: false,
            error: None,
            retry_in_secs: None,
        }
    }
}
