//! A call's audio on the computer's own devices: the microphone into the call, the far
//! end out of the speaker or headset and, when the live coach runs, into its far-end
//! feed (which the coach records and transcribes as the other side).
//!
//! One thread pumps both ways every [`PUMP`]. The microphone is captured at the device's
//! rate, mixed to mono and resampled to 8 kHz for the media stream (which sends one 20 ms
//! frame per tick and trims a backlog itself). The far end arrives from the media stream
//! already jitter-buffered and concealed, 20 ms at a time on the network's clock; the
//! speaker plays on its own clock, so its queue is held under [`MAX_SPEAKER_QUEUE_MS`]:
//! when the speaker runs slower than the network, a few samples are dropped rather than
//! letting the delay grow. The device threads themselves belong to `cuecard-audio`
//! (watchdog, restarts, default-device following).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use cuecard_audio::capture::{Capture, CaptureOptions, StreamFormat};
use cuecard_audio::dual::FarEndFeeder;
use cuecard_audio::playback::Playback;
use cuecard_audio::resample::{StreamResampler, downmix_into};
use cuecard_media::MediaIo;

use crate::{Result, SoftphoneError};

/// The media stream's rate.
const RATE: u32 = 8000;
/// How often the pump runs.
pub const PUMP: Duration = Duration::from_millis(10);
/// The most far-end audio allowed to wait for the speaker.
pub const MAX_SPEAKER_QUEUE_MS: u64 = 80;
/// The speaker's queue capacity (more than the limit above, so writes never block).
const SPEAKER_BUFFER_MS: u32 = 250;

/// Which devices a call uses.
#[derive(Default)]
pub struct DeviceOptions {
    /// Input device id or name; `None` follows the default input.
    pub mic: Option<String>,
    /// Output device id or name; `None` is the default output.
    pub speaker: Option<String>,
    /// Where the far end also goes (the live coach's far-end channel).
    pub far_feed: Option<FarEndFeeder>,
}

impl std::fmt::Debug for DeviceOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceOptions")
            .field("mic", &self.mic)
            .field("speaker", &self.speaker)
            .field("far_feed", &self.far_feed.is_some())
            .finish()
    }
}

/// Counters of a running [`DeviceAudio`].
#[derive(Debug, Default)]
pub struct DeviceCounters {
    /// Samples (8 kHz) of microphone audio handed to the call.
    pub mic_samples: AtomicU64,
    /// Samples (8 kHz) of far-end audio queued for the speaker.
    pub speaker_samples: AtomicU64,
    /// Far-end samples dropped to keep the speaker's delay bounded.
    pub speaker_dropped: AtomicU64,
}

/// A call's audio running on the devices. Dropping it stops it.
pub struct DeviceAudio {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    mic_device: String,
    speaker_device: String,
    counters: Arc<DeviceCounters>,
}

impl DeviceAudio {
    /// Opens the devices and starts pumping. Fails with the audio engine's message (which
    /// names the device) when either cannot be opened.
    pub fn start(io: MediaIo, options: DeviceOptions) -> Result<DeviceAudio> {
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(DeviceCounters::default());
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let thread = {
            let (stop, counters) = (stop.clone(), counters.clone());
            std::thread::Builder::new()
                .name("call-devices".into())
                .spawn(move || {
                    // cpal streams are not Send everywhere: the playback is opened on the
                    // thread that keeps it.
                    let opened = open(&options);
                    match opened {
                        Ok((capture, playback)) => {
                            let _ = ready_tx.send(Ok((
                                capture.device().to_string(),
                                playback.device().to_string(),
                            )));
                            pump(io, capture, playback, options.far_feed, &stop, &counters);
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                })
                .map_err(|e| {
                    SoftphoneError::Media(format!("cannot start the call audio thread: {e}"))
                })?
        };
        let (mic_device, speaker_device) = ready_rx
            .recv()
            .map_err(|_| SoftphoneError::Media("the call audio thread stopped".into()))??;
        tracing::info!(mic = %mic_device, speaker = %speaker_device, "call audio on the devices");
        Ok(DeviceAudio {
            stop,
            thread: Some(thread),
            mic_device,
            speaker_device,
            counters,
        })
    }

    /// The input device the call is using.
    pub fn mic_device(&self) -> &str {
        &self.mic_device
    }

    /// The output device the call is using.
    pub fn speaker_device(&self) -> &str {
        &self.speaker_device
    }

    pub fn counters(&self) -> &Arc<DeviceCounters> {
        &self.counters
    }

    /// Stops the pump and closes the devices.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for DeviceAudio {
    fn drop(&mut self) {
        self.halt();
    }
}

fn device_error(e: cuecard_audio::error::AudioError) -> SoftphoneError {
    SoftphoneError::Media(e.to_string())
}

fn open(options: &DeviceOptions) -> Result<(Capture, Playback)> {
    let capture = Capture::start(CaptureOptions {
        device: options.mic.clone(),
        ..CaptureOptions::default()
    })
    .map_err(device_error)?;
    let playback = Playback::start(options.speaker.as_deref(), RATE, SPEAKER_BUFFER_MS)
        .map_err(device_error)?;
    Ok((capture, playback))
}

fn pump(
    mut io: MediaIo,
    mut capture: Capture,
    mut playback: Playback,
    mut far_feed: Option<FarEndFeeder>,
    stop: &AtomicBool,
    counters: &DeviceCounters,
) {
    let mut captured = Vec::new();
    let mut mono = Vec::new();
    let mut mic_8k = Vec::new();
    let mut far = Vec::new();
    let mut resampler: Option<(StreamFormat, StreamResampler)> = None;
    while !stop.load(Ordering::Relaxed) {
        // Microphone → call.
        captured.clear();
        if let Some(format) = capture.read(&mut captured)
            && !captured.is_empty()
        {
            if resampler.as_ref().is_none_or(|(f, _)| *f != format) {
                match StreamResampler::new(format.sample_rate, RATE) {
                    Ok(r) => resampler = Some((format, r)),
                    Err(e) => {
                        tracing::error!("call microphone: {e}");
                        resampler = None;
                    }
                }
            }
            if let Some((_, r)) = resampler.as_mut() {
                mono.clear();
                downmix_into(&captured, usize::from(format.channels.max(1)), &mut mono);
                mic_8k.clear();
                if let Err(e) = r.process(&mono, &mut mic_8k) {
                    tracing::warn!("call microphone: {e}");
                }
                let n = io.mic.slots().min(mic_8k.len());
                if let Ok(chunk) = io.mic.write_chunk_uninit(n) {
                    chunk.fill_from_iter(mic_8k[..n].iter().copied());
                }
                counters.mic_samples.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        while let Some(event) = capture.try_event() {
            tracing::info!(?event, "call microphone");
        }

        // Call → speaker and the coach.
        far.clear();
        let available = io.far_end.slots();
        if let Ok(chunk) = io.far_end.read_chunk(available) {
            let (first, second) = chunk.as_slices();
            far.extend_from_slice(first);
            far.extend_from_slice(second);
            chunk.commit_all();
        }
        if !far.is_empty() {
            if let Some(feed) = far_feed.as_mut() {
                feed.push(&far);
            }
            if playback.queued_ms() > MAX_SPEAKER_QUEUE_MS {
                counters
                    .speaker_dropped
                    .fetch_add(far.len() as u64, Ordering::Relaxed);
            } else if let Err(e) = playback.write(&far) {
                tracing::warn!("call speaker: {e}");
            } else {
                counters
                    .speaker_samples
                    .fetch_add(far.len() as u64, Ordering::Relaxed);
            }
        }
        std::thread::sleep(PUMP);
    }
    let _ = playback.end_of_stream();
}
