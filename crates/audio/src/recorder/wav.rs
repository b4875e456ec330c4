//! 16-bit PCM WAV writing and reading (with repair of a file cut short).

use super::{Recording, StereoSink, to_i16};
use crate::error::{AudioError, Result};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

pub struct WavWriter<W: Write + Seek> {
    path: PathBuf,
    inner: hound::WavWriter<W>,
    sample_rate: u32,
    frames: u64,
    since_flush: u64,
}

impl<W: Write + Seek> WavWriter<W> {
    pub fn new(out: W, sample_rate: u32, path: &Path) -> Result<Self> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let inner = hound::WavWriter::new(out, spec).map_err(|e| hound_error(path, e))?;
        Ok(Self {
            path: path.to_owned(),
            inner,
            sample_rate,
            frames: 0,
            since_flush: 0,
        })
    }
}

fn hound_error(path: &Path, e: hound::Error) -> AudioError {
    match e {
        hound::Error::IoError(source) => AudioError::RecordingIo {
            path: path.to_owned(),
            source,
        },
        other => AudioError::Recording {
            path: path.to_owned(),
            message: other.to_string(),
        },
    }
}

impl<W: Write + Seek + Send> StereoSink for WavWriter<W> {
    fn write(&mut self, rep: &[f32], far: &[f32]) -> Result<()> {
        let mut samples = self.inner.get_i16_writer(rep.len() as u32 * 2);
        for (&l, &r) in rep.iter().zip(far) {
            samples.write_sample(to_i16(l));
            samples.write_sample(to_i16(r));
        }
        samples.flush().map_err(|e| hound_error(&self.path, e))?;
        self.frames += rep.len() as u64;
        self.since_flush += rep.len() as u64;
        if self.since_flush >= u64::from(self.sample_rate) {
            // Rewrites the header's lengths: a crash leaves at most a second unaccounted.
            self.inner.flush().map_err(|e| hound_error(&self.path, e))?;
            self.since_flush = 0;
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let path = self.path.clone();
        self.inner.finalize().map_err(|e| hound_error(&path, e))
    }

    fn frames(&self) -> u64 {
        self.frames
    }
}

/// Reads a 16-bit stereo WAV. When the header's data length disagrees with the bytes
/// present (a crash between header updates), the bytes present win.
pub(super) fn read(bytes: &[u8], path: &Path) -> Result<Recording> {
    let bad = |message: &str| AudioError::Recording {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    if bytes.len() < 12 || &bytes[8..12] != b"WAVE" {
        return Err(bad("not a WAVE file"));
    }
    let mut pos = 12;
    let mut format: Option<(u16, u32, u16)> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes([
            bytes[pos + 4],
            bytes[pos + 5],
            bytes[pos + 6],
            bytes[pos + 7],
        ]) as usize;
        let body = pos + 8;
        if id == b"fmt " {
            if body + 16 > bytes.len() {
                return Err(bad("format chunk cut short"));
            }
            let f = &bytes[body..body + 16];
            let channels = u16::from_le_bytes([f[2], f[3]]);
            let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
            let bits = u16::from_le_bytes([f[14], f[15]]);
            format = Some((channels, rate, bits));
        } else if id == b"data" {
            let (channels, sample_rate, bits) = format.ok_or_else(|| bad("data before format"))?;
            if channels != 2 || bits != 16 {
                return Err(bad("a call recording is 16-bit stereo"));
            }
            let present = bytes.len() - body;
            // Another chunk after the data means the header is final and `len` is right.
            // Otherwise the bytes present win: a crash between header rewrites leaves
            // `len` short of them (or, in a file cut short, past them).
            let next = body + len + (len & 1);
            let chunk_follows = next + 8 <= bytes.len()
                && bytes[next..next + 4].iter().all(u8::is_ascii_alphanumeric);
            let (take, truncated) = if len <= present && (len == present || chunk_follows) {
                (len, false)
            } else {
                (present, true)
            };
            let take = take / 4 * 4;
            let data = &bytes[body..body + take];
            let sample = |i: usize| f32::from(i16::from_le_bytes([data[i], data[i + 1]])) / 32768.0;
            return Ok(Recording {
                sample_rate,
                rep: (0..take).step_by(4).map(sample).collect(),
                far: (2..take).step_by(4).map(sample).collect(),
                truncated,
            });
        }
        pos = body + len + (len & 1);
    }
    Err(bad("no data chunk"))
}
