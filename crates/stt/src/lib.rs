//! Cuecard's speech-to-text: the words behind coaching, practice and scoring.
//!
//! One streaming interface ([`engine::SpeechEngine`], [`engine::StreamSession`]) takes
//! 16 kHz mono audio per [`Channel`] and sends [`TranscriptEvent`]s: partials (the
//! unstable tail of what is being said), finals (committed words, never revised) and
//! end-of-utterance marks. Batch transcription of a file goes through the same engines.
//!
//! - [`local`]: whisper.cpp (whisper-rs) on this machine, streamed over a sliding window
//!   with voice-activity segmentation and a LocalAgreement commit policy.
//! - [`deepgram`]: Deepgram's live WebSocket API.
//! - [`openai`]: OpenAI-compatible batch transcription.
//! - [`fallback`]: a session that hands over to the local engine when a cloud one fails.
//! - [`settings`] says which engine each use (live call, practice, post-call) runs on;
//!   [`select`] builds that engine.
//!
//! [`live_mic`] transcribes the microphone live (the settings test, practice).
//!
//! Supporting pieces: [`audio_file`] loads and converts audio files, [`guards`] drops
//! whisper's hallucinations, [`agreement`] is the commit policy, [`wer`] scores results.

pub mod agreement;
pub mod audio_file;
pub mod deepgram;
pub mod engine;
pub mod error;
pub mod event;
pub mod fallback;
pub mod guards;
pub mod live_mic;
pub mod local;
pub mod openai;
pub mod select;
pub mod settings;
pub mod wer;

#[cfg(feature = "test-support")]
pub mod standin;
#[cfg(feature = "test-support")]
pub mod testing;

pub use cuecard_core::{Channel, WordTiming};
pub use engine::{EngineKind, SpeechEngine, StreamConfig, StreamSession};
pub use error::{Result, SttError};
pub use event::{EventSink, Notice, NoticeLevel, Segment, TranscriptEvent};

/// The sample rate every engine takes: 16 kHz mono f32.
pub const SAMPLE_RATE: u32 = cuecard_audio::SPEECH_RATE;

/// Milliseconds spanned by `samples` at [`SAMPLE_RATE`].
pub fn samples_to_ms(samples: usize) -> u32 {
    u32::try_from(samples as u64 * 1000 / u64::from(SAMPLE_RATE)).unwrap_or(u32::MAX)
}
