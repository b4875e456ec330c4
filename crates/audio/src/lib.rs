//! Cuecard's audio engine: the ear of the product.
//!
//! Everything live — calls, coaching, practice — reads audio through this crate, and the
//! rep and the far end stay separate channels from the device to the transcript:
//!
//! ```text
//! device callback ──► ring (lock-free SPSC) ──► downmix ──► resample 16 kHz ──► AEC (rep only)
//!                                                                   └──► meter · VAD · recorder
//! ```
//!
//! Audio callbacks only copy samples into a pre-allocated ring ([`ring`]); everything that
//! allocates or takes time runs on the consumer side. Device streams are opened with cpal
//! ([`device`], [`capture`], [`playback`]); the far end comes either from the call media
//! (fed in by the phone) or from the system's output loopback ([`loopback`]).

pub mod aec;
pub mod align;
pub mod capture;
pub mod check;
pub mod device;
pub mod dual;
pub mod error;
pub mod level;
pub mod loopback;
pub mod metrics;
pub mod pipeline;
pub mod playback;
pub mod recorder;
pub mod resample;
pub mod ring;
pub mod vad;
mod worker;

#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{AudioError, Result};

/// The rate every speech consumer (VAD, speech-to-text, AEC, the recorder) works at.
pub const SPEECH_RATE: u32 = 16_000;

/// The rate of G.711 telephony codecs.
pub const TELEPHONY_RATE: u32 = 8_000;

/// Which side of the conversation a channel carries.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The rep's microphone.
    Rep,
    /// The prospect: the call media, or the system's output loopback.
    FarEnd,
}
