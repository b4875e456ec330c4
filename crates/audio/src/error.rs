//! Errors of the audio engine. Each names the device or file it concerns.

use std::path::PathBuf;

pub type Result<T, E = AudioError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("no audio host is available: {0}")]
    HostUnavailable(String),
    #[error("no audio device named {0:?}")]
    DeviceNotFound(String),
    #[error("there is no default {0} device")]
    NoDefaultDevice(&'static str),
    #[error("device {device:?} cannot be used: {reason}")]
    UnsupportedFormat { device: String, reason: String },
    #[error("device {device:?}: {message}")]
    Device { device: String, message: String },
    #[error("resampler from {from} Hz to {to} Hz: {message}")]
    Resampler { from: u32, to: u32, message: String },
    #[error("echo canceller: {0}")]
    Echo(String),
    #[error("recording {path}: {message}")]
    Recording { path: PathBuf, message: String },
    #[error("recording {path}: {source}")]
    RecordingIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Opus codec: {0}")]
    Opus(#[from] opus::Error),
    #[error("{0}")]
    Unsupported(String),
}
