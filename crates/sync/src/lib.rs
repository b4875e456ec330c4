//! The app's sync client. A device signs in to the team's `cuecard-server` once (its
//! refresh token goes to the OS keychain); from then on [`SyncClient::run`] keeps the
//! local store and the server in step in the background: it pushes the store's outbox,
//! pulls everyone else's changes (long-polling while idle), recovers from a server restored
//! from backup (new epoch: pull again from the start, send again what the server lost), and
//! backs off while offline. The app never waits on it: every local write lands in the
//! store first and syncs when it can.
//!
//! - [`api`]: the HTTP calls of `crates/server/API.md`.
//! - [`client`]: sign-in, sign-out, one sync round, the background loop.
//! - [`status`]: what the app shows (last synced, pending changes, errors).
//! - [`uploads`]: call recordings, uploaded after their calls in resumable chunks.

pub mod api;
pub mod client;
pub mod error;
pub mod status;
pub mod uploads;

pub use client::{LocalStore, SyncClient, SyncRound};
pub use error::SyncError;
pub use status::{SyncState, SyncStatus};
pub use uploads::UploadPass;
