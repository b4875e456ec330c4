//! The interface every engine implements: streaming sessions and batch transcription.

use crate::audio_file::Clip;
use crate::event::{Collected, EventSink, Segment};
use crate::{Channel, Result};
use serde::{Deserialize, Serialize};
use std::sync::mpsc;

/// Which engine a use (live call, practice, post-call) runs on.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// whisper.cpp on this machine.
    #[default]
    Local,
    /// Deepgram's live streaming API.
    Deepgram,
    /// An OpenAI-compatible `/v1/audio/transcriptions` endpoint (batch only).
    Openai,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Deepgram => "deepgram",
            Self::Openai => "openai",
        }
    }
}

impl std::str::FromStr for EngineKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "local" => Ok(Self::Local),
            "deepgram" => Ok(Self::Deepgram),
            "openai" => Ok(Self::Openai),
            other => Err(format!(
                "unknown speech engine {other:?} (expected local, deepgram or openai)"
            )),
        }
    }
}

/// What a streaming session transcribes.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    /// The channels audio will arrive on; each is transcribed on its own.
    pub channels: Vec<Channel>,
    /// BCP-47 language, e.g. `en`.
    pub language: String,
    /// Whether the audio arrives faster than real time (a file): engines then process
    /// every step instead of skipping partials to keep up.
    pub paced: bool,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            channels: vec![Channel::Rep, Channel::FarEnd],
            language: "en".into(),
            paced: false,
        }
    }
}

/// A running transcription. Audio goes in with [`StreamSession::push`]; events go to the
/// [`EventSink`] given at start.
pub trait StreamSession: Send {
    /// Hands over 16 kHz mono samples for `channel`. Returns quickly: engines queue the
    /// audio and work on their own threads.
    fn push(&mut self, channel: Channel, samples: &[f32]) -> Result<()>;

    /// Ends the audio: what is still open becomes final, each channel gets its
    /// end-of-utterance, and the call returns when every event has been sent.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// A speech-to-text engine.
pub trait SpeechEngine: Send + Sync {
    fn kind(&self) -> EngineKind;

    /// Starts a streaming session.
    fn start(&self, config: StreamConfig, events: EventSink) -> Result<Box<dyn StreamSession>>;

    /// Transcribes a whole clip, every channel, returning utterances sorted by start.
    ///
    /// The default streams the clip through a session as fast as the engine takes it;
    /// engines with a native batch path override it.
    fn transcribe(&self, clip: &Clip, language: &str) -> Result<Vec<Segment>> {
        stream_clip(self, clip, language)
    }
}

/// Pushes every channel of `clip` into `session` in pieces of `piece` samples,
/// interleaving the channels as a live call would, as fast as the session takes them.
pub fn push_clip(session: &mut dyn StreamSession, clip: &Clip, piece: usize) -> Result<()> {
    let piece = piece.max(1);
    for at in (0..clip.frames()).step_by(piece) {
        for (channel, samples) in &clip.channels {
            if at < samples.len() {
                session.push(*channel, &samples[at..(at + piece).min(samples.len())])?;
            }
        }
    }
    Ok(())
}

/// Streams `clip` through a session of `engine` in 100 ms pieces and collects the finals.
pub fn stream_clip<E: SpeechEngine + ?Sized>(
    engine: &E,
    clip: &Clip,
    language: &str,
) -> Result<Vec<Segment>> {
    let (tx, rx) = mpsc::channel();
    let config = StreamConfig {
        channels: clip.channels.iter().map(|(c, _)| *c).collect(),
        language: language.into(),
        paced: true,
    };
    let mut session = engine.start(config, tx)?;
    push_clip(session.as_mut(), clip, crate::SAMPLE_RATE as usize / 10)?;
    session.finish()?;
    let mut collected = Collected::default();
    for event in rx.try_iter() {
        collected.push(event);
    }
    Ok(collected.finish())
}
