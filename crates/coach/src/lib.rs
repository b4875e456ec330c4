//! Cuecard's live coach: what the rep sees during a call.
//!
//! - [`playbook`]: the team's playbook — cue cards with trigger phrases, objections with
//!   answers, competitor battlecards, talk-track rules (forbidden claims, required
//!   disclosures) — read from TOML files under `assets/playbooks/`, validated with
//!   errors that name the file, the item and the field.
//! - [`text`]: the one normalisation both phrases and transcripts go through.
//! - [`matcher`]: every trigger phrase of a playbook in one Aho-Corasick automaton, so an
//!   utterance is scanned once however many cards there are.
//! - [`live`]: the rule engine. Transcript events in (per speaker, partial or final),
//!   cards out, with speaker filters, negative phrases, priority, cooldowns and
//!   per-call limits, and talk-track warnings.
//! - [`metrics`]: talk ratio, monologues, patience, questions, pace and fillers, from
//!   the finals; [`sentiment`]: the prospect's mood (VADER with a sales overlay) and its
//!   trend.
//! - [`stage`]: where the conversation is (opening, discovery, pitch, objection, close),
//!   so the coach suggests the next step that fits; [`nextsteps`]: the commitments made
//!   and how clear they are (action, time, owner, the customer's yes).
//! - [`analysis`]: after the call, the figures and a short summary, each pointing at the
//!   utterances behind it.
//! - [`documents`]: the team's playbook and rubric as files the app edits, with the
//!   built-in defaults until the team saves its own.
//! - [`assist`]: optional suggestions from a language model, asked in the background
//!   after the customer speaks and dropped when late; the rules never wait for them.
//! - [`scorecard`]: after the call, a 0–100 score from an editable, versioned rubric of
//!   checks with partial credit, each linked to the utterances behind it.
//!
//! Deterministic: the same events give the same cards. Nothing here depends on how the
//! transcript was made; the speech-to-text crate's events map onto [`live::Heard`].

pub mod analysis;
pub mod assist;
pub mod documents;
pub mod live;
pub mod matcher;
pub mod metrics;
pub mod nextsteps;
pub mod playbook;
pub mod scorecard;
pub mod sentiment;
pub mod settings;
pub mod stage;
pub mod text;

pub use live::{CardFired, Heard, LiveCoach};
pub use playbook::{Playbook, PlaybookError};
