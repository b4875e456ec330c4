//! Errors of the speech-to-text engines.

use std::path::PathBuf;

pub type Result<T, E = SttError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum SttError {
    #[error("cannot load the whisper model {path}: {message}")]
    Model { path: PathBuf, message: String },
    #[error("whisper failed: {0}")]
    Whisper(String),
    #[error("cannot read audio file {path}: {message}")]
    AudioFile { path: PathBuf, message: String },
    #[error("{engine}: authentication failed: {message}")]
    Auth {
        engine: &'static str,
        message: String,
    },
    #[error("{engine}: {message}")]
    Engine {
        engine: &'static str,
        message: String,
    },
    #[error("{engine}: the connection failed: {message}")]
    Connection {
        engine: &'static str,
        message: String,
    },
    #[error("{engine} does not support {what}")]
    Unsupported {
        engine: &'static str,
        what: &'static str,
    },
    #[error("channel {0:?} is not part of this session")]
    UnknownChannel(cuecard_core::Channel),
    #[error("speech settings{}: {message}", path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    Settings {
        path: Option<PathBuf>,
        message: String,
    },
    #[error("the session has ended")]
    SessionEnded,
}
