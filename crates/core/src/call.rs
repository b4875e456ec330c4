//! Calls and their transcripts: direction, status, timing, outcome, recording, utterances.

use crate::{CallId, ContactId, Timestamp, UtteranceId};
use serde::{Deserialize, Serialize};

/// One phone call, placed or received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Call {
    pub id: CallId,
    pub contact_id: Option<ContactId>,
    pub direction: CallDirection,
    pub status: CallStatus,
    /// Our number or SIP identity.
    pub from: String,
    /// The number or SIP URI called (or calling, for inbound).
    pub to: String,
    pub started_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// Talk time in seconds (answer to hang-up); 0 for unanswered calls.
    pub duration_secs: u32,
    pub disposition: Option<Disposition>,
    pub recording: Option<RecordingRef>,
    /// Free-form notes the rep typed during or after the call.
    pub notes: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    Outbound,
    Inbound,
}

/// Where a call is in its life; the terminal states say how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Dialing,
    Ringing,
    InProgress,
    Completed,
    Busy,
    NoAnswer,
    Failed,
    Canceled,
}

impl CallStatus {
    /// Whether the call is over.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            CallStatus::Dialing | CallStatus::Ringing | CallStatus::InProgress
        )
    }
}

/// What came of the call, as the rep records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case", tag = "kind", content = "label")]
pub enum Disposition {
    Connected,
    MeetingBooked,
    CallbackRequested,
    NotInterested,
    LeftVoicemail,
    NoAnswer,
    WrongNumber,
    DoNotCall,
    Other(String),
}

/// Where a call's recording lives on this device (and, once uploaded, on the backend).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RecordingRef {
    /// Path relative to the app's recordings directory.
    pub path: String,
    /// Container and codec, e.g. `ogg/opus`, `flac`, `wav`.
    pub format: String,
    pub duration_ms: u32,
    /// Hex SHA-256 of the file, filled once the recording is closed.
    pub sha256: Option<String>,
}

/// Which side of the conversation an utterance came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
// `SpeakerChannel` in the TypeScript bindings, where tauri-specta owns `Channel`. The
// container name does not appear in JSON: values stay "rep" / "far_end".
#[serde(rename = "SpeakerChannel", rename_all = "snake_case")]
pub enum Channel {
    /// The rep's microphone.
    Rep,
    /// The far end: the prospect on a call, the persona in practice.
    FarEnd,
}

/// One committed stretch of speech in a transcript.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Utterance {
    pub id: UtteranceId,
    pub channel: Channel,
    /// Speaker label when diarisation splits a channel (e.g. two people on the far end).
    pub speaker: Option<String>,
    /// Offset from the start of the call, milliseconds.
    pub start_ms: u32,
    pub end_ms: u32,
    pub text: String,
    /// 0.0–1.0, when the speech-to-text engine reports one.
    pub confidence: Option<f32>,
    pub words: Vec<WordTiming>,
}

/// One word and when it was spoken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct WordTiming {
    pub word: String,
    pub start_ms: u32,
    pub end_ms: u32,
    pub confidence: Option<f32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispositions_serialise_with_a_kind_tag() {
        let json =
            serde_json::to_value(Disposition::Other("gatekeeper".into())).expect("serialise");
        assert_eq!(
            json,
            serde_json::json!({"kind": "other", "label": "gatekeeper"})
        );
        let json = serde_json::to_value(Disposition::MeetingBooked).expect("serialise");
        assert_eq!(json, serde_json::json!({"kind": "meeting_booked"}));
    }

    #[test]
    fn terminal_statuses() {
        assert!(!CallStatus::Ringing.is_terminal());
        assert!(CallStatus::Busy.is_terminal());
    }
}
