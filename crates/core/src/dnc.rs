//! The do-not-call list: numbers that must never be dialled, and why.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DncEntry {
    /// The number, E.164.
    pub e164: String,
    pub reason: Option<String>,
    pub source: DncSource,
    pub added_at: Timestamp,
}

/// How a number got onto the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum DncSource {
    /// Added by hand in the app or CLI.
    Manual,
    /// Loaded from a list file (e.g. a national registry extract).
    Import,
    /// The contact asked not to be called.
    OptOut,
}
