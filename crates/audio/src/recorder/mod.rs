//! The call recorder: one dual-channel file per call, the rep on the left and the far end
//! on the right, streamed to disk while the call runs.
//!
//! - **Ogg Opus** (default): 20 ms packets at 32 kbit/s stereo, an Ogg page every second.
//!   Each page is handed to the OS as it completes, so a crash of the app or a full
//!   disk loses at most the last second; everything before is a playable file. About 4 KB/s — an hour-long call is 14 MB.
//! - **WAV** (16-bit PCM): for tools that want raw audio. The header is rewritten every
//!   second; [`read_recording`] repairs the lengths of a file cut short.
//!
//! Writers are generic over [`std::io::Write`], so encryption at rest can be added as a
//! layer between the encoder and the file without touching either format.

mod ogg_opus;
mod wav;

use crate::error::{AudioError, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

pub use ogg_opus::OggOpusWriter;
pub use wav::WavWriter;

/// The container and codec of a recording.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum RecordingFormat {
    #[default]
    OggOpus,
    Wav,
}

impl RecordingFormat {
    /// The format a file name asks for: `.wav` is WAV, anything else Ogg Opus.
    pub fn for_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("wav") => Self::Wav,
            _ => Self::OggOpus,
        }
    }
}

/// Writes stereo frames: `rep` left, `far` right, both mono at the recorder's rate.
pub trait StereoSink {
    fn write(&mut self, rep: &[f32], far: &[f32]) -> Result<()>;
    /// Completes the file (final page or header) and flushes it.
    fn finish(self: Box<Self>) -> Result<()>;
    /// Frames written so far.
    fn frames(&self) -> u64;
}

/// A recording being written to a file.
pub struct Recorder {
    path: PathBuf,
    sink: Box<dyn StereoSink + Send>,
    sample_rate: u32,
}

impl Recorder {
    /// Creates `path` (it must not exist: a recording is never overwritten).
    pub fn create(path: &Path, format: RecordingFormat, sample_rate: u32) -> Result<Self> {
        let io = |source| AudioError::RecordingIo {
            path: path.to_owned(),
            source,
        };
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(io)?;
        let out = BufWriter::with_capacity(64 * 1024, file);
        let sink: Box<dyn StereoSink + Send> = match format {
            RecordingFormat::OggOpus => Box::new(OggOpusWriter::new(out, sample_rate, path)?),
            RecordingFormat::Wav => Box::new(WavWriter::new(out, sample_rate, path)?),
        };
        Ok(Self {
            path: path.to_owned(),
            sink,
            sample_rate,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends frames; the two channels must be the same length.
    pub fn write(&mut self, rep: &[f32], far: &[f32]) -> Result<()> {
        if rep.len() != far.len() {
            return Err(AudioError::Recording {
                path: self.path.clone(),
                message: format!(
                    "channels out of step: {} rep samples, {} far-end samples",
                    rep.len(),
                    far.len()
                ),
            });
        }
        self.sink.write(rep, far)
    }

    pub fn seconds(&self) -> f64 {
        self.sink.frames() as f64 / f64::from(self.sample_rate)
    }

    pub fn finish(self) -> Result<()> {
        self.sink.finish()
    }
}

/// A recording read back: both channels, and whether the file was cut short.
#[derive(Clone, Debug)]
pub struct Recording {
    pub sample_rate: u32,
    pub rep: Vec<f32>,
    pub far: Vec<f32>,
    /// The file ended mid-way (a crash or a full disk); what came before is intact.
    pub truncated: bool,
}

/// Reads a recording of either format, recovering what a truncated file holds.
pub fn read_recording(path: &Path) -> Result<Recording> {
    let bytes = std::fs::read(path).map_err(|source| AudioError::RecordingIo {
        path: path.to_owned(),
        source,
    })?;
    if bytes.starts_with(b"OggS") {
        ogg_opus::read(&bytes, path)
    } else if bytes.starts_with(b"RIFF") {
        wav::read(&bytes, path)
    } else {
        Err(AudioError::Recording {
            path: path.to_owned(),
            message: "not a recording: neither Ogg nor WAV".into(),
        })
    }
}

pub(crate) fn to_i16(s: f32) -> i16 {
    (s.clamp(-1.0, 1.0) * 32767.0).round() as i16
}
