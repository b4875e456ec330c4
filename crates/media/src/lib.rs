//! Cuecard's call media engine: everything between a SIP call's negotiated media
//! description and the audio engine's 8 kHz sample rings.
//!
//! One [`MediaStream`] per call runs a real-time thread that owns the call's UDP
//! socket(s). Every 20 ms it takes a frame from the microphone ring, encodes it as
//! G.711 ([`Codec`]), sends it as RTP (SRTP when [`SdesKey`]s were negotiated), and
//! plays one frame out of the adaptive [`JitterBuffer`] (with packet-loss concealment)
//! into the far-end ring. RTCP reports ([`stats`]) give loss, jitter and round-trip
//! time, from which the [`emodel`] estimates a live MOS. DTMF travels as RFC 4733
//! telephone events ([`dtmf`]).
//!
//! The SIP signalling (offer/answer, which decides codec, addresses and keys) lives in
//! `cuecard-sip`; this crate only moves media.

pub mod codec;
pub mod dtmf;
pub mod emodel;
pub mod g711;
pub mod jitter;
pub mod packet;
pub mod plc;
pub mod sdes;
#[cfg(feature = "test-support")]
pub mod sim;
pub mod srtp;
pub mod stats;
pub mod stream;

pub use codec::Codec;
pub use dtmf::{DtmfDigit, DtmfReceiver};
pub use emodel::{EModel, LossPattern};
pub use jitter::{Frame, JitterBuffer, JitterConfig, JitterStats};
pub use sdes::{SdesError, SdesKey, SrtpSuite};
pub use srtp::{SrtpError, SrtpSession};
pub use stream::{MediaConfig, MediaError, MediaIo, MediaStats, MediaStream};
