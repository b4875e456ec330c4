//! Cuecard's domain model: the types every other crate speaks.
//!
//! Contacts, calls with their transcripts, scorecards, follow-ups, personas and practice
//! sessions, do-not-call entries, notes and timeline events; typed UUIDv7 ids; UTC
//! timestamps; and the hybrid logical clock that orders changes for sync. This crate does
//! no I/O: storage lives in `cuecard-store`, workflows in their own crates.

pub mod call;
pub mod contact;
pub mod dnc;
pub mod followup;
pub mod hlc;
pub mod ids;
pub mod note;
pub mod persona;
pub mod scorecard;
pub mod timeline;

pub use call::*;
pub use contact::*;
pub use dnc::*;
pub use followup::*;
pub use hlc::{Hlc, HlcClock, HlcParseError};
pub use ids::*;
pub use note::*;
pub use persona::*;
pub use scorecard::*;
pub use timeline::*;

/// A point in time. Always UTC; converted to a contact's or the user's zone only for display.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current time, truncated to milliseconds so values survive a round trip through
/// the database and JSON unchanged.
pub fn now() -> Timestamp {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}
