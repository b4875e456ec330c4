//! Scorecards: a 0–100 score for a call or practice session with its breakdown and evidence.

use crate::{CallId, PracticeSessionId, ScorecardId, Timestamp, UtteranceId};
use serde::{Deserialize, Serialize};

/// The score of one conversation, explained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Scorecard {
    pub id: ScorecardId,
    pub subject: ScoreSubject,
    /// 0–100.
    pub total: u8,
    /// The rubric version that produced the score, so old scores stay explainable.
    pub rubric_version: String,
    pub categories: Vec<CategoryScore>,
    pub checks: Vec<CheckResult>,
    pub status: ScorecardStatus,
    pub created_at: Timestamp,
}

/// What was scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum ScoreSubject {
    Call(CallId),
    PracticeSession(PracticeSessionId),
}

/// One category of the breakdown (discovery, rapport, objection handling, closing, next steps).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CategoryScore {
    pub key: String,
    pub label: String,
    /// Points earned, out of `max`.
    pub score: f32,
    pub max: f32,
    pub weight: f32,
}

/// One rubric check and how well the conversation met it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CheckResult {
    pub check_id: String,
    pub category: String,
    /// 0.0–1.0: partial credit, not all-or-nothing.
    pub credit: f32,
    pub explanation: String,
    /// The utterances behind the result.
    pub evidence: Vec<UtteranceId>,
}

/// A scorecard only moves forward: draft → final → reviewed.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum ScorecardStatus {
    Draft,
    Final,
    Reviewed,
}
