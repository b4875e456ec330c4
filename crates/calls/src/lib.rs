//! A call outside the phone's signalling.
//!
//! - [`session`]: the live pipeline while a call runs — both sides captured, recorded,
//!   transcribed and coached as they speak. Calls in other apps feed the far end from
//!   the speakers' loopback; calls Cuecard places will feed it from the call media.
//! - [`coaching`]: transcript events to what the coaching overlay shows.
//! - [`filing`]: a finished call filed under its contact — recording, transcript,
//!   scorecard and timeline line together.

pub mod coaching;
pub mod filing;
pub mod session;

pub use coaching::{CoachLoop, LiveEvent};
pub use filing::{CallRecord, Filed, RecordingSource, file_call, review_call};
pub use session::{Finished, LiveSession, SessionOptions};

use std::path::{Path, PathBuf};

pub type Result<T, E = CallError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Audio(#[from] cuecard_audio::AudioError),
    #[error(transparent)]
    Speech(#[from] cuecard_stt::SttError),
    #[error(transparent)]
    Store(#[from] cuecard_store::StoreError),
    #[error("the coach could not start: {0}")]
    Coach(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("live call: {0}")]
    Thread(String),
}

impl CallError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
