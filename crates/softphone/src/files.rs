//! Call audio from and to WAV files, for the command line (`cuecard call --play
//! --record`) and the tests: the file is read, turned to 8 kHz mono and fed to the call
//! in real time; what the far end says is written to a WAV as it comes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cuecard_media::MediaIo;

use crate::{Result, SoftphoneError};

const RATE: u32 = 8000;
/// Feed the call this far ahead of real time, so the media thread never runs dry.
const LEAD: Duration = Duration::from_millis(60);

/// Reads a WAV (any rate, any channel count, 16-bit or float) as 8 kHz mono.
pub fn read_wav_8k(path: &Path) -> Result<Vec<f32>> {
    let bad = |reason: String| SoftphoneError::Audio {
        path: path.to_path_buf(),
        reason,
    };
    let mut reader = hound::WavReader::open(path).map_err(|e| bad(e.to_string()))?;
    let spec = reader.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample.saturating_sub(1).min(31))) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 / scale))
                .collect::<std::result::Result<_, _>>()
        }
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<std::result::Result<_, _>>(),
    }
    .map_err(|e| bad(e.to_string()))?;
    let mut mono = Vec::with_capacity(samples.len() / usize::from(spec.channels.max(1)));
    cuecard_audio::resample::downmix_into(&samples, usize::from(spec.channels.max(1)), &mut mono);
    if spec.sample_rate == RATE {
        return Ok(mono);
    }
    cuecard_audio::resample::resample_clip(&mono, spec.sample_rate, RATE)
        .map_err(|e| bad(e.to_string()))
}

/// A call's audio running to and from files on a thread of its own.
pub struct FileAudio {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl FileAudio {
    /// Plays `play` into the call (then silence) and records the far end into `record`.
    pub fn start(
        io: MediaIo,
        play: Option<Vec<f32>>,
        record: Option<PathBuf>,
    ) -> Result<FileAudio> {
        let writer = match &record {
            Some(path) => {
                let spec = hound::WavSpec {
                    channels: 1,
                    sample_rate: RATE,
                    bits_per_sample: 16,
                    sample_format: hound::SampleFormat::Int,
                };
                Some(
                    hound::WavWriter::create(path, spec).map_err(|e| SoftphoneError::Audio {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?,
                )
            }
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("call-files".into())
            .spawn(move || run(io, play.unwrap_or_default(), writer, record, &flag))
            .map_err(|e| {
                SoftphoneError::Media(format!("cannot start the file audio thread: {e}"))
            })?;
        Ok(FileAudio {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops and finishes the recording.
    pub fn finish(mut self) -> Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(SoftphoneError::Media(
                "the file audio thread panicked".into(),
            )),
            None => Ok(()),
        }
    }
}

impl Drop for FileAudio {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(
    mut io: MediaIo,
    play: Vec<f32>,
    mut writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
    path: Option<PathBuf>,
    stop: &AtomicBool,
) -> Result<()> {
    let started = Instant::now();
    let mut fed = 0usize;
    let write_error = |e: hound::Error| SoftphoneError::Audio {
        path: path.clone().unwrap_or_default(),
        reason: e.to_string(),
    };
    while !stop.load(Ordering::Relaxed) {
        // Keep the microphone ring a little ahead of real time.
        let due = ((started.elapsed() + LEAD).as_secs_f64() * f64::from(RATE)) as usize;
        while fed < due && io.mic.slots() > 0 {
            let sample = play.get(fed).copied().unwrap_or(0.0);
            if io.mic.push(sample).is_err() {
                break;
            }
            fed += 1;
        }
        while let Ok(sample) = io.far_end.pop() {
            if let Some(w) = writer.as_mut() {
                w.write_sample((sample.clamp(-1.0, 1.0) * 32767.0) as i16)
                    .map_err(write_error)?;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if let Some(w) = writer {
        w.finalize().map_err(write_error)?;
    }
    Ok(())
}
