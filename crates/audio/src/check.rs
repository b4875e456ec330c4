//! The audio checks a rep runs from Settings → Audio: a live level meter, a mic test
//! (record a few seconds, hear it back, get a verdict), and an echo test (play a known
//! clip on the speakers, listen for it in the mic, and measure what the echo canceller
//! removes). The desktop shell and the CLI call these; they hold no UI logic.

use crate::SPEECH_RATE;
use crate::aec::{EchoCanceller, EchoConfig, erle_db};
use crate::align::best_correlation;
use crate::capture::CaptureEvent;
use crate::dual::{DualCapture, DualOptions, POLL_INTERVAL};
use crate::error::{AudioError, Result};
use crate::level::{Level, to_db};
use crate::playback::Playback;
use crate::resample::resample_clip;
use crate::vad::VadEvent;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One meter update for the UI.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct MeterReading {
    pub device: String,
    pub level: Level,
    pub speaking: bool,
}

/// A running level meter on an input. Dropping it (or [`stop`](Self::stop)) ends it.
pub struct MeterSession {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    device: String,
}

impl MeterSession {
    /// Meters `device` (the default input when `None`), calling `on_reading` about ten
    /// times a second and `on_event` when the device fails or restarts.
    pub fn start(
        device: Option<String>,
        on_reading: impl Fn(MeterReading) + Send + 'static,
        on_event: impl Fn(CaptureEvent) + Send + 'static,
    ) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        // The capture is built on the meter's own thread: the echo canceller inside a
        // speech channel is not `Send`.
        let (thread, device) = {
            let stop = stop.clone();
            crate::worker::spawn_ready("meter", move |ready| {
                let mut dual = match DualCapture::start(DualOptions::mic(device)) {
                    Ok(dual) => dual,
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let device = dual.rep_capture().device().to_owned();
                let _ = ready.send(Ok(device.clone()));
                let (mut rep, mut far) = (Vec::new(), Vec::new());
                let mut speaking = false;
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(POLL_INTERVAL);
                    let update = match dual.poll(&mut rep, &mut far) {
                        Ok(update) => update,
                        Err(e) => {
                            on_event(CaptureEvent::Stopped {
                                reason: e.to_string(),
                            });
                            return;
                        }
                    };
                    rep.clear();
                    far.clear();
                    for event in &update.rep.vad {
                        speaking = matches!(event, VadEvent::SpeechStarted { .. });
                    }
                    for (_, event) in dual.events() {
                        on_event(event);
                    }
                    if let Some(level) = update.rep.level {
                        on_reading(MeterReading {
                            device: device.clone(),
                            level,
                            speaking,
                        });
                    }
                }
            })?
        };
        Ok(Self {
            stop,
            thread: Some(thread),
            device,
        })
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn stop(mut self) {
        self.end();
    }

    fn end(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MeterSession {
    fn drop(&mut self) {
        self.end();
    }
}

/// How a recording sounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MicVerdict {
    Good,
    /// Speech was heard but quietly: move closer or raise the input gain.
    TooQuiet,
    /// The signal hit full scale: lower the input gain.
    Clipping,
    /// Nothing that sounds like speech: wrong device, muted, or nobody spoke.
    NoSpeech,
}

/// The result of a mic test.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct MicTestResult {
    pub device: String,
    pub seconds: f64,
    pub peak_db: f32,
    /// RMS level while speaking (the whole clip when no speech was found).
    pub speech_rms_db: f32,
    pub speech_ms: u64,
    pub clipped: bool,
    pub verdict: MicVerdict,
    /// The recording, 16 kHz mono, for playback.
    #[serde(skip)]
    pub samples: Vec<f32>,
}

/// Records `seconds` from the mic (the default input when `None`) and judges it.
pub fn mic_test(device: Option<String>, seconds: f64) -> Result<MicTestResult> {
    let mut dual = DualCapture::start(DualOptions::mic(device))?;
    let name = dual.rep_capture().device().to_owned();
    let wanted = (seconds * f64::from(SPEECH_RATE)) as usize;
    let (mut samples, mut far) = (Vec::with_capacity(wanted), Vec::new());
    let mut segments = Vec::new();
    let deadline = Instant::now() + Duration::from_secs_f64(seconds * 2.0 + 3.0);
    while samples.len() < wanted {
        if Instant::now() > deadline {
            return Err(AudioError::Device {
                device: name,
                message: "the microphone delivered too little audio".into(),
            });
        }
        std::thread::sleep(POLL_INTERVAL);
        let update = dual.poll(&mut samples, &mut far)?;
        far.clear();
        segments.extend(update.rep.vad);
    }
    samples.truncate(wanted);
    segments.extend(dual.finish().rep.vad);
    let speech: Vec<(u64, u64)> = segments
        .iter()
        .filter_map(|e| match e {
            VadEvent::SpeechEnded { segment } => Some((segment.start_ms, segment.end_ms)),
            _ => None,
        })
        .collect();
    Ok(judge(name, samples, &speech))
}

fn judge(device: String, samples: Vec<f32>, speech: &[(u64, u64)]) -> MicTestResult {
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let at = |ms: u64| ((ms * u64::from(SPEECH_RATE) / 1000) as usize).min(samples.len());
    let (mut sum, mut n) = (0.0f64, 0usize);
    for &(start, end) in speech {
        for &s in &samples[at(start)..at(end)] {
            sum += f64::from(s) * f64::from(s);
            n += 1;
        }
    }
    let speech_ms: u64 = speech.iter().map(|(s, e)| e - s).sum();
    if n == 0 {
        sum = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        n = samples.len().max(1);
    }
    let rms_db = to_db((sum / n as f64).sqrt() as f32);
    let clipped = peak >= 0.999;
    let verdict = if speech_ms < 300 {
        MicVerdict::NoSpeech
    } else if clipped {
        MicVerdict::Clipping
    } else if rms_db < -40.0 {
        MicVerdict::TooQuiet
    } else {
        MicVerdict::Good
    };
    MicTestResult {
        device,
        seconds: samples.len() as f64 / f64::from(SPEECH_RATE),
        peak_db: to_db(peak),
        speech_rms_db: rms_db,
        speech_ms,
        clipped,
        verdict,
        samples,
    }
}

/// Plays 16 kHz mono audio on an output (the default when `None`) and waits for the end.
pub fn play(device: Option<&str>, samples: &[f32]) -> Result<()> {
    let mut playback = Playback::start(device, SPEECH_RATE, 500)?;
    playback.write(samples)?;
    playback.end_of_stream()?;
    playback.drain();
    // The device's own buffer (about 20 ms) after our queue.
    std::thread::sleep(Duration::from_millis(100));
    Ok(())
}

/// The result of an echo test.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct EchoTestResult {
    pub mic: String,
    /// How loud the played clip came back in the mic, relative to what was played (dB;
    /// very negative: no echo, as with a headset).
    pub echo_return_db: f32,
    /// How much the echo canceller removed (echo return loss enhancement), when there
    /// was an echo to remove.
    pub erle_db: Option<f32>,
    /// True when the mic heard the speakers.
    pub echo_heard: bool,
}

/// The clip the echo test plays: speech from `assets/audio/echo-test.wav`, built in.
pub const ECHO_TEST_CLIP: &[u8] = include_bytes!("../../../assets/audio/echo-test.wav");

/// Plays the echo-test clip on `output` while recording `mic`, then measures the echo
/// and runs the echo canceller over it.
pub fn echo_test(mic: Option<String>, output: Option<String>) -> Result<EchoTestResult> {
    let clip = decode_clip(ECHO_TEST_CLIP)?;
    let mut dual = DualCapture::start(DualOptions::mic(mic))?;
    let name = dual.rep_capture().device().to_owned();
    let mut playback = Playback::start(output.as_deref(), SPEECH_RATE, 10_000)?;
    let (mut heard, mut far) = (Vec::new(), Vec::new());
    // Let the capture settle, then play, and keep listening for the echo's tail.
    std::thread::sleep(Duration::from_millis(200));
    dual.poll(&mut Vec::new(), &mut far)?;
    far.clear();
    playback.write(&clip)?;
    playback.end_of_stream()?;
    // Listen until the clip has left the output and its echo has died away. A device
    // slow to start (a busy machine, a Bluetooth headset) delays the clip, so the end is
    // when the queue has drained, not a fixed time after writing it.
    let clip_len = Duration::from_secs_f64(clip.len() as f64 / f64::from(SPEECH_RATE));
    let give_up = Instant::now() + clip_len + ECHO_START_LIMIT;
    let mut drained: Option<Instant> = None;
    loop {
        std::thread::sleep(POLL_INTERVAL);
        dual.poll(&mut heard, &mut far)?;
        far.clear();
        let now = Instant::now();
        if drained.is_none() && playback.queued_ms() == 0 {
            drained = Some(now);
        }
        if drained.is_some_and(|at| now >= at + ECHO_TAIL) || now >= give_up {
            break;
        }
    }
    Ok(measure_echo(name, &clip, &heard))
}

/// How long after the clip drains the echo test keeps listening (device buffers, the
/// room's reverberation).
const ECHO_TAIL: Duration = Duration::from_millis(700);

/// How late the output may start the clip before the echo test stops waiting for it.
const ECHO_START_LIMIT: Duration = Duration::from_secs(4);

/// How far behind the reference the canceller is fed the mic: AEC3 expects the echo to
/// come some milliseconds after the far end it hears, as on a real device.
const AEC_LEAD_MS: usize = 20;

fn measure_echo(mic: String, clip: &[f32], heard: &[f32]) -> EchoTestResult {
    let energy =
        |x: &[f32]| x.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / x.len().max(1) as f64;
    // Where the clip came back: the output may have started it late.
    let max_lag = heard.len().saturating_sub(clip.len() / 2);
    let (_, lag) = best_correlation(clip, heard, max_lag);
    let echo = &heard[lag.min(heard.len())..(lag + clip.len()).min(heard.len())];
    let echo_return_db = (10.0 * (energy(echo) / energy(clip).max(1e-20)).log10()) as f32;
    // Below −50 dB relative to what played, there is nothing worth cancelling.
    let echo_heard = echo_return_db > -50.0;
    let erle = if echo_heard {
        // Feed the canceller the clip as its far end, a little ahead of where the mic
        // heard it, as a call would; it finds the remaining delay itself.
        let lead = AEC_LEAD_MS * SPEECH_RATE as usize / 1000;
        let start = lag.saturating_sub(lead);
        let near = &heard[start..];
        let mut aec = EchoCanceller::new(SPEECH_RATE, EchoConfig::default()).ok();
        aec.as_mut().map(|aec| {
            let step = SPEECH_RATE as usize / 100;
            let silence = vec![0.0f32; step];
            let to = near.len().min(lag - start + clip.len());
            let mut cleaned = Vec::with_capacity(near.len());
            for (i, m) in near.chunks(step).enumerate() {
                let r = clip.get(i * step..(i + 1) * step).unwrap_or(&silence);
                let _ = aec.render(r);
                let _ = aec.process(m, &mut cleaned);
            }
            // Over the whole echo, convergence included.
            let to = to.min(cleaned.len());
            erle_db(&near[..to], &cleaned[..to]) as f32
        })
    } else {
        None
    };
    EchoTestResult {
        mic,
        echo_return_db,
        erle_db: erle,
        echo_heard,
    }
}

fn decode_clip(bytes: &[u8]) -> Result<Vec<f32>> {
    let bad = |e: hound::Error| AudioError::Unsupported(format!("echo-test clip: {e}"));
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(bad)?;
    let spec = reader.spec();
    let samples: Vec<f32> = reader
        .into_samples::<i16>()
        .map(|s| s.map(|v| f32::from(v) / 32768.0))
        .collect::<std::result::Result<_, _>>()
        .map_err(bad)?;
    let mut mono = Vec::with_capacity(samples.len());
    crate::resample::downmix_into(&samples, usize::from(spec.channels), &mut mono);
    resample_clip(&mono, spec.sample_rate, SPEECH_RATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let tone =
            |amp: f32| -> Vec<f32> { (0..16_000).map(|i| amp * (i as f32 * 0.3).sin()).collect() };
        let spoken = [(100, 900)];
        assert_eq!(
            judge("m".into(), tone(0.3), &spoken).verdict,
            MicVerdict::Good
        );
        assert_eq!(
            judge("m".into(), tone(0.005), &spoken).verdict,
            MicVerdict::TooQuiet
        );
        assert_eq!(
            judge("m".into(), tone(1.0), &spoken).verdict,
            MicVerdict::Clipping
        );
        assert_eq!(
            judge("m".into(), tone(0.3), &[]).verdict,
            MicVerdict::NoSpeech
        );
    }

    #[test]
    fn the_built_in_echo_clip_decodes() {
        let clip = decode_clip(ECHO_TEST_CLIP).expect("clip");
        assert!(clip.len() > 3 * SPEECH_RATE as usize);
    }

    #[test]
    fn silence_in_the_mic_means_no_echo() {
        let clip = decode_clip(ECHO_TEST_CLIP).expect("clip");
        let result = measure_echo("m".into(), &clip, &vec![0.0; clip.len()]);
        assert!(!result.echo_heard && result.erle_db.is_none());
    }

    #[test]
    fn a_late_echo_is_found_and_cancelled() {
        // The output started the clip 1.5 s late; the room returns it 12 dB down.
        let clip = decode_clip(ECHO_TEST_CLIP).expect("clip");
        let mut heard = vec![0.0; SPEECH_RATE as usize * 3 / 2];
        heard.extend(clip.iter().map(|s| s * 0.25));
        heard.extend(vec![0.0; SPEECH_RATE as usize / 2]);
        let result = measure_echo("m".into(), &clip, &heard);
        assert!(result.echo_heard);
        assert!((result.echo_return_db + 12.0).abs() < 0.5, "{result:?}");
        let erle = result.erle_db.expect("cancelled");
        assert!(erle > 25.0, "{result:?}");
    }
}
