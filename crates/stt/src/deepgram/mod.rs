//! Deepgram's live streaming API as a [`SpeechEngine`]: one WebSocket per session, every
//! session channel a Deepgram channel (`multichannel=true`), interim results as
//! partials, finals as finals, `speech_final` / `UtteranceEnd` as end-of-utterance.
//!
//! The session survives a dropped connection: it reconnects with backoff, resends the
//! audio after the last final result (backfill) and shifts the new connection's times so
//! they stay continuous, never repeating a final. When it cannot recover it sends one
//! error [`Notice`](crate::Notice) and refuses further audio — what the fall-back to the
//! local engine waits for.
//!
//! - [`protocol`]: the wire format (URL, control messages, server messages).
//! - `outgoing`: interleaving, padding and the backfill buffer.
//! - `session`: the connection's background task.

pub mod protocol;

mod outgoing;
mod session;

use crate::engine::{EngineKind, SpeechEngine, StreamConfig, StreamSession};
use crate::event::EventSink;
use crate::{Result, SttError};
use std::fmt;
use std::time::Duration;

pub use session::DeepgramSession;

const ENGINE: &str = "deepgram";

/// Deepgram's hosted API.
pub const DEFAULT_BASE_URL: &str = "wss://api.deepgram.com";
/// The model used unless the settings name another.
pub const DEFAULT_MODEL: &str = "nova-3";

/// How a session reconnects after losing its connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Connection attempts after a drop before the session gives up. A connection that
    /// drops again before any result counts as a failed attempt.
    pub attempts: u32,
    /// The wait before the first attempt; it doubles for each further one.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
        }
    }
}

impl ReconnectPolicy {
    /// The wait before attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Settings of [`DeepgramEngine`].
#[derive(Clone)]
pub struct DeepgramConfig {
    /// `wss://api.deepgram.com`, or a compatible server (`ws://` only for local ones).
    pub base_url: String,
    pub api_key: String,
    pub model: String,
    /// Silence (ms) after speech that ends an utterance (`speech_final`).
    pub endpointing_ms: u32,
    /// Gap (ms) after the last word that makes Deepgram send `UtteranceEnd`.
    pub utterance_end_ms: u32,
    /// A `KeepAlive` goes out when no audio has been sent for this long (Deepgram closes
    /// an idle stream after 10 s).
    pub keep_alive: Duration,
    pub reconnect: ReconnectPolicy,
    /// Limit on the TCP/TLS/WebSocket handshake.
    pub connect_timeout: Duration,
    /// No message from the server for this long while audio flows (or a send blocked
    /// this long) counts as a dropped connection.
    pub stall_timeout: Duration,
    /// How long `finish` waits for the results of `Finalize` before `CloseStream`.
    pub finalize_timeout: Duration,
    /// How long `finish` waits for the server to close after `CloseStream`.
    pub close_timeout: Duration,
    /// The most unacknowledged audio kept for backfill.
    pub max_backfill: Duration,
    /// How far one channel may fall behind another before it is padded with silence.
    pub max_channel_skew: Duration,
    /// The longest binary frame sent.
    pub max_frame: Duration,
}

impl DeepgramConfig {
    /// Deepgram's hosted API with the documented defaults.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            api_key: api_key.into(),
            model: DEFAULT_MODEL.into(),
            endpointing_ms: 300,
            utterance_end_ms: 1000,
            keep_alive: Duration::from_secs(5),
            reconnect: ReconnectPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(10),
            finalize_timeout: Duration::from_secs(3),
            close_timeout: Duration::from_secs(3),
            max_backfill: Duration::from_secs(60),
            max_channel_skew: Duration::from_millis(200),
            max_frame: Duration::from_millis(100),
        }
    }

    /// The same settings against another server (a proxy, or a local stand-in).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }
}

impl fmt::Debug for DeepgramConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeepgramConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("model", &self.model)
            .field("endpointing_ms", &self.endpointing_ms)
            .field("utterance_end_ms", &self.utterance_end_ms)
            .field("keep_alive", &self.keep_alive)
            .field("reconnect", &self.reconnect)
            .field("connect_timeout", &self.connect_timeout)
            .field("stall_timeout", &self.stall_timeout)
            .field("finalize_timeout", &self.finalize_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("max_backfill", &self.max_backfill)
            .field("max_channel_skew", &self.max_channel_skew)
            .field("max_frame", &self.max_frame)
            .finish()
    }
}

/// Deepgram live streaming. `transcribe` streams the clip through a session.
#[derive(Clone, Debug)]
pub struct DeepgramEngine {
    config: DeepgramConfig,
}

impl DeepgramEngine {
    pub fn new(config: DeepgramConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &DeepgramConfig {
        &self.config
    }
}

impl SpeechEngine for DeepgramEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Deepgram
    }

    /// Connects (an error here is the handshake's: [`SttError::Auth`] for a refused
    /// key) and returns the running session.
    fn start(&self, config: StreamConfig, events: EventSink) -> Result<Box<dyn StreamSession>> {
        if config.channels.is_empty() {
            return Err(SttError::Engine {
                engine: ENGINE,
                message: "a session needs at least one channel".into(),
            });
        }
        let session = DeepgramSession::start(self.config.clone(), config, events)?;
        Ok(Box::new(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let config = DeepgramConfig::new("dg-secret-key-123");
        let shown = format!("{config:?} {:?}", DeepgramEngine::new(config.clone()));
        assert!(!shown.contains("dg-secret-key-123"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = ReconnectPolicy {
            attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        assert_eq!(policy.backoff(1), Duration::from_millis(100));
        assert_eq!(policy.backoff(2), Duration::from_millis(200));
        assert_eq!(policy.backoff(3), Duration::from_millis(350));
        assert_eq!(policy.backoff(40), Duration::from_millis(350));
    }
}
