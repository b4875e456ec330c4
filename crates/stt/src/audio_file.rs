//! Loads audio files for transcription: WAV of any sample format, rate and channel count,
//! and Cuecard's own call recordings (Ogg Opus or WAV, the rep left, the far end right).
//! Everything comes out as 16 kHz mono f32 per channel.

use crate::{Channel, Result, SAMPLE_RATE, SttError};
use cuecard_audio::resample::resample_clip;
use std::path::Path;

/// Audio ready for an engine: one 16 kHz mono track per channel.
#[derive(Clone, Debug, Default)]
pub struct Clip {
    pub channels: Vec<(Channel, Vec<f32>)>,
}

impl Clip {
    /// One channel.
    pub fn mono(channel: Channel, samples: Vec<f32>) -> Self {
        Self {
            channels: vec![(channel, samples)],
        }
    }

    /// Samples in the longest channel.
    pub fn frames(&self) -> usize {
        self.channels
            .iter()
            .map(|(_, s)| s.len())
            .max()
            .unwrap_or(0)
    }

    /// Seconds of audio in the longest channel.
    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / f64::from(SAMPLE_RATE)
    }
}

/// How to read a file's channels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChannelLayout {
    /// Stereo files are calls: left is the rep, right the far end. Mono is the rep.
    #[default]
    Call,
    /// Mix every channel down to one, transcribed as the rep.
    Mixed,
}

/// Reads `path` and converts it to 16 kHz.
pub fn load(path: &Path, layout: ChannelLayout) -> Result<Clip> {
    let error = |message: String| SttError::AudioFile {
        path: path.to_owned(),
        message,
    };
    let mut head = [0u8; 4];
    {
        use std::io::Read;
        let mut file = std::fs::File::open(path).map_err(|e| error(e.to_string()))?;
        file.read_exact(&mut head)
            .map_err(|_| error("the file is empty or shorter than any audio header".into()))?;
    }
    let (rate, tracks) = match &head {
        b"RIFF" => read_wav(path).map_err(error)?,
        b"OggS" => {
            let recording =
                cuecard_audio::recorder::read_recording(path).map_err(|e| error(e.to_string()))?;
            (recording.sample_rate, vec![recording.rep, recording.far])
        }
        _ => {
            return Err(error(
                "unsupported format: expected WAV or a Cuecard Ogg Opus recording".into(),
            ));
        }
    };
    if rate == 0 {
        return Err(error("the header gives a sample rate of 0".into()));
    }
    let tracks: Vec<Vec<f32>> = match (layout, tracks.len()) {
        (_, 0) => return Err(error("the file has no channels".into())),
        (ChannelLayout::Call, 1 | 2) | (ChannelLayout::Mixed, 1) => tracks,
        _ => {
            let frames = tracks.iter().map(Vec::len).min().unwrap_or(0);
            let n = tracks.len() as f32;
            vec![
                (0..frames)
                    .map(|i| tracks.iter().map(|t| t[i]).sum::<f32>() / n)
                    .collect(),
            ]
        }
    };
    let order = [Channel::Rep, Channel::FarEnd];
    let mut clip = Clip::default();
    for (channel, track) in order.into_iter().zip(tracks) {
        let samples = if rate == SAMPLE_RATE {
            track
        } else {
            resample_clip(&track, rate, SAMPLE_RATE).map_err(|e| error(e.to_string()))?
        };
        clip.channels.push((channel, samples));
    }
    Ok(clip)
}

/// Reads a WAV file into per-channel tracks, whatever its sample format.
fn read_wav(path: &Path) -> std::result::Result<(u32, Vec<Vec<f32>>), String> {
    let mut reader = hound::WavReader::open(path).map_err(|e| e.to_string())?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 {
        return Err("the header gives 0 channels".into());
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| format!("bad sample data: {e}"))?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| format!("bad sample data: {e}"))?
        }
    };
    let tracks = (0..channels)
        .map(|c| {
            interleaved
                .iter()
                .skip(c)
                .step_by(channels)
                .copied()
                .collect()
        })
        .collect();
    Ok((spec.sample_rate, tracks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_wav(path: &Path, rate: u32, channels: u16, frames: &[Vec<i16>]) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create");
        for frame in frames {
            for s in frame {
                w.write_sample(*s).expect("write");
            }
        }
        w.finalize().expect("finalize");
    }

    #[test]
    fn stereo_44k1_becomes_two_16k_channels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("call.wav");
        let frames: Vec<Vec<i16>> = (0..44_100i32)
            .map(|i| vec![1000, -((i % 7) as i16)])
            .collect();
        write_wav(&path, 44_100, 2, &frames);
        let clip = load(&path, ChannelLayout::Call).expect("load");
        assert_eq!(clip.channels.len(), 2);
        assert_eq!(clip.channels[0].0, Channel::Rep);
        assert_eq!(clip.channels[1].0, Channel::FarEnd);
        let n = clip.channels[0].1.len();
        assert!((15_900..=16_100).contains(&n), "{n} samples");
        let mid = clip.channels[0].1[n / 2];
        assert!((mid - 1000.0 / 32768.0).abs() < 1e-3, "{mid}");
    }

    #[test]
    fn mixed_layout_downmixes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mix.wav");
        write_wav(&path, 16_000, 2, &vec![vec![1000, 3000]; 1600]);
        let clip = load(&path, ChannelLayout::Mixed).expect("load");
        assert_eq!(clip.channels.len(), 1);
        assert!((clip.channels[0].1[10] - 2000.0 / 32768.0).abs() < 1e-4);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.wav");
        std::fs::write(&empty, b"").expect("write");
        let err = load(&empty, ChannelLayout::Call)
            .expect_err("empty")
            .to_string();
        assert!(err.contains("empty.wav") && err.contains("empty"), "{err}");

        let mp3 = dir.path().join("song.mp3");
        std::fs::write(&mp3, b"ID3\x03junkjunk").expect("write");
        let err = load(&mp3, ChannelLayout::Call)
            .expect_err("mp3")
            .to_string();
        assert!(err.contains("unsupported format"), "{err}");

        let cut = dir.path().join("cut.wav");
        write_wav(&cut, 16_000, 1, &vec![vec![5]; 100]);
        let bytes = std::fs::read(&cut).expect("read");
        std::fs::write(&cut, &bytes[..30]).expect("truncate");
        let err = load(&cut, ChannelLayout::Call)
            .expect_err("cut")
            .to_string();
        assert!(err.contains("cut.wav"), "{err}");
    }
}
