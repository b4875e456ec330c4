//! Buyer personas and the practice sessions a rep runs against them.

use crate::{PersonaId, PracticeSessionId, ScorecardId, Timestamp, Utterance};
use serde::{Deserialize, Serialize};

/// A buyer the rep can practise against ("a skeptical CFO at a logistics firm").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Persona {
    pub id: PersonaId,
    pub name: String,
    pub role: String,
    pub company: String,
    pub industry: String,
    pub description: String,
    /// Personality traits that steer the persona engine ("impatient", "numbers-driven").
    pub traits: Vec<String>,
    /// Objections the persona tends to raise.
    pub objections: Vec<String>,
    /// Voice name for speech synthesis.
    pub voice: Option<String>,
    pub difficulty: Difficulty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Difficulty {
    Easy,
    Medium,
    Hard,
}

/// One roleplay: the rep against a persona in a scenario, with its transcript and score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PracticeSession {
    pub id: PracticeSessionId,
    pub persona_id: PersonaId,
    pub scenario: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub transcript: Vec<Utterance>,
    pub scorecard_id: Option<ScorecardId>,
}
