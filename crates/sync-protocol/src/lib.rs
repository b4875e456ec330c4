//! The sync protocol between the Cuecard app and `cuecard-server`.
//!
//! - [`wire`]: what crosses HTTP: pushes of outbox mutations and their acknowledgements,
//!   pulls and bootstrap pages of changes, sessions and errors.
//! - [`entity`]: the entities that sync, who may see and write each, and its conflict policy.
//! - [`merge`]: the conflict rules themselves, as pure functions over a row's state. The
//!   server applies them to every pushed mutation; the model-based tests check them against
//!   an ideal model.
//!
//! This crate does no I/O, so the app, the server and the tests all speak exactly one
//! protocol.

pub mod entity;
pub mod merge;
pub mod wire;

pub use entity::{Entity, Policy, Visibility};
pub use merge::{MergeOutcome, Rejection, RowState};
pub use wire::*;

/// The newest sync schema this build speaks.
///
/// - 1: the foundation's outbox: contacts, calls, utterances, notes, scorecards, follow-ups,
///   personas, practice sessions, do-not-call entries.
/// - 2: adds managers' call reviews (`reviews`) and recording upload state on calls.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest sync schema the server still accepts pushes and serves pulls for.
pub const MIN_SCHEMA_VERSION: u32 = 1;
