//! A live call's pipeline while it runs: both sides captured ([`DualCapture`]: the rep's
//! mic and the far end — the speakers' loopback for calls in other apps, the phone's
//! media for calls Cuecard places), written to the recording, streamed to the
//! speech-to-text engine, and the transcript coached as it arrives ([`CoachLoop`]).
//!
//! Two threads: the capture thread polls the devices every [`POLL`] and feeds the
//! recorder and the engine; the coach thread takes the engine's events as they come
//! (cards leave within microseconds of the final that raised them, see BENCHMARKS.md)
//! and ticks the call clock when nobody speaks. [`LiveSession::stop`] ends the audio,
//! waits for the last finals and returns the transcript and the recording.

use crate::coaching::{CoachLoop, LiveEvent};
use crate::{CallError, Result};
use cuecard_audio::SPEECH_RATE;
use cuecard_audio::dual::{DualCapture, DualOptions};
use cuecard_audio::recorder::{Recorder, RecordingFormat};
use cuecard_coach::Playbook;
use cuecard_coach::assist::{Assist, AssistStats};
use cuecard_core::Channel;
use cuecard_stt::event::send_error;
use cuecard_stt::{EventSink, Segment, SpeechEngine, StreamConfig, StreamSession, TranscriptEvent};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the capture thread hands audio on.
pub const POLL: Duration = Duration::from_millis(40);

/// How often the coach moves the call clock when no transcript arrives.
const TICK: Duration = Duration::from_millis(250);

/// What a live call needs.
pub struct SessionOptions {
    pub capture: DualOptions,
    /// BCP-47 language for the engine.
    pub language: String,
    pub playbook: Playbook,
    /// Language-model suggestions, when configured.
    pub assist: Option<Assist>,
    /// Where to record both sides (it must not exist); `None`: no recording.
    pub recording: Option<PathBuf>,
}

/// A call that has ended.
#[derive(Debug)]
pub struct Finished {
    /// The finals, sorted as the coach heard them.
    pub segments: Vec<Segment>,
    pub recording: Option<PathBuf>,
    /// Audio captured, ms.
    pub duration_ms: u32,
    pub assist: Option<AssistStats>,
}

/// What the capture thread leaves: frames captured and the finished recording.
type Captured = (u64, Option<PathBuf>);

/// A running live call.
pub struct LiveSession {
    stop: Arc<AtomicBool>,
    capture: Option<JoinHandle<Result<Captured>>>,
    coach: Option<JoinHandle<CoachLoop>>,
    rep_device: String,
    far_device: Option<String>,
}

impl LiveSession {
    /// Opens the devices and the engine session and starts both threads. What to show
    /// goes to `events`; a device or engine failure mid-call arrives there as a notice
    /// and ends the audio (the call can still be stopped and filed).
    pub fn start(
        engine: Arc<dyn SpeechEngine>,
        options: SessionOptions,
        events: Sender<LiveEvent>,
    ) -> Result<Self> {
        let SessionOptions {
            capture,
            language,
            playbook,
            assist,
            recording,
        } = options;
        let coach = CoachLoop::new(playbook, assist)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (transcript_tx, transcript_rx) = mpsc::channel::<TranscriptEvent>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(String, Option<String>)>>();
        let capture_thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("live-capture".into())
                .spawn(move || {
                    capture_loop(
                        engine,
                        capture,
                        language,
                        recording,
                        transcript_tx,
                        ready_tx,
                        &stop,
                    )
                })
                .map_err(|e| CallError::Thread(e.to_string()))?
        };
        let (rep_device, far_device) = match ready_rx.recv() {
            Ok(Ok(devices)) => devices,
            Ok(Err(e)) => {
                let _ = capture_thread.join();
                return Err(e);
            }
            Err(_) => {
                let outcome = capture_thread.join();
                return Err(match outcome {
                    Ok(Err(e)) => e,
                    _ => CallError::Thread("the capture thread ended before starting".into()),
                });
            }
        };
        // The call clock starts with the audio.
        let started = Instant::now();
        let coach_thread = match spawn_coach(coach, transcript_rx, events, started) {
            Ok(thread) => thread,
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                let _ = capture_thread.join();
                return Err(e);
            }
        };
        Ok(Self {
            stop,
            capture: Some(capture_thread),
            coach: Some(coach_thread),
            rep_device,
            far_device,
        })
    }

    /// The rep's input device.
    pub fn rep_device(&self) -> &str {
        &self.rep_device
    }

    /// The far end's input device, when the far end is a device.
    pub fn far_device(&self) -> Option<&str> {
        self.far_device.as_deref()
    }

    /// Ends the call: the audio stops, the engine's last finals are coached, the
    /// recording is completed.
    pub fn stop(mut self) -> Result<Finished> {
        self.stop.store(true, Ordering::Relaxed);
        let captured = match self.capture.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(CallError::Thread("the capture thread panicked".into())),
            None => Err(CallError::Thread("the call was already stopped".into())),
        };
        // The engine's senders are gone once the capture thread has finished the
        // session, so the coach thread drains what is left and ends.
        let coach = match self.coach.take().map(JoinHandle::join) {
            Some(Ok(coach)) => coach,
            _ => return Err(CallError::Thread("the coach thread panicked".into())),
        };
        let (frames, recording) = captured?;
        let assist = coach.assist_stats();
        let mut segments = coach.into_finals();
        crate::filing::sort_transcript(&mut segments);
        Ok(Finished {
            segments,
            recording,
            duration_ms: u32::try_from(frames * 1000 / u64::from(SPEECH_RATE)).unwrap_or(u32::MAX),
            assist,
        })
    }
}

impl Drop for LiveSession {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(capture) = self.capture.take() {
            let _ = capture.join();
        }
        if let Some(coach) = self.coach.take() {
            let _ = coach.join();
        }
    }
}

/// The capture thread: devices → recorder and engine. Returns the frames captured and
/// the finished recording.
fn capture_loop(
    engine: Arc<dyn SpeechEngine>,
    options: DualOptions,
    language: String,
    recording: Option<PathBuf>,
    events: EventSink,
    ready: Sender<Result<(String, Option<String>)>>,
    stop: &AtomicBool,
) -> Result<Captured> {
    // Built on this thread: the echo canceller is not Send.
    let mut capture = match DualCapture::start(options) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return Ok((0, None));
        }
    };
    let config = StreamConfig {
        channels: vec![Channel::Rep, Channel::FarEnd],
        language,
        paced: false,
    };
    let mut session: Box<dyn StreamSession> = match engine.start(config, events.clone()) {
        Ok(s) => s,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return Ok((0, None));
        }
    };
    // Created last, so a refused start leaves no file behind.
    let mut recorder = match recording
        .as_deref()
        .map(|path| Recorder::create(path, RecordingFormat::for_path(path), SPEECH_RATE))
        .transpose()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return Ok((0, None));
        }
    };
    // The file exists from here on: its path is returned whatever happens to it.
    let recorded = recording;
    let devices = (
        capture.rep_capture().device().to_owned(),
        capture.far_capture().map(|c| c.device().to_owned()),
    );
    let _ = ready.send(Ok(devices));
    let (mut rep, mut far) = (Vec::new(), Vec::new());
    let mut frames = 0u64;
    let mut audio_ok = true;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        if !audio_ok {
            continue;
        }
        if let Err(e) = capture.poll(&mut rep, &mut far) {
            send_error(&events, "audio", e.to_string());
            audio_ok = false;
            continue;
        }
        if rep.is_empty() {
            continue;
        }
        frames += rep.len() as u64;
        if let Some(r) = &mut recorder
            && let Err(e) = r.write(&rep, &far)
        {
            // The transcript goes on; what was recorded so far is kept.
            send_error(&events, "recorder", e.to_string());
            if let Some(r) = recorder.take()
                && let Err(e) = r.finish()
            {
                tracing::warn!(error = %e, "live call: closing the recording failed");
            }
        }
        let pushed = session
            .push(Channel::Rep, &rep)
            .and_then(|()| session.push(Channel::FarEnd, &far));
        if let Err(e) = pushed {
            tracing::warn!(error = %e, "live call: the engine refused audio");
            send_error(&events, "speech", e.to_string());
            audio_ok = false;
        }
        rep.clear();
        far.clear();
    }
    let _ = capture.finish();
    if let Err(e) = session.finish() {
        tracing::warn!(error = %e, "live call: finishing the engine session failed");
        send_error(&events, "speech", e.to_string());
    }
    if let Some(r) = recorder
        && let Err(e) = r.finish()
    {
        send_error(&events, "recorder", e.to_string());
    }
    Ok((frames, recorded))
}

/// Starts the coach thread: engine events from `transcript` → what to show on `events`,
/// ticking the call clock (from `started`) in silences. It ends when every sender of
/// `transcript` is gone and returns the coach with the call's finals.
pub fn spawn_coach(
    coach: CoachLoop,
    transcript: mpsc::Receiver<TranscriptEvent>,
    events: Sender<LiveEvent>,
    started: Instant,
) -> Result<JoinHandle<CoachLoop>> {
    std::thread::Builder::new()
        .name("live-coach".into())
        .spawn(move || coach_loop(coach, transcript, events, started))
        .map_err(|e| CallError::Thread(e.to_string()))
}

fn coach_loop(
    mut coach: CoachLoop,
    transcript: mpsc::Receiver<TranscriptEvent>,
    events: Sender<LiveEvent>,
    started: Instant,
) -> CoachLoop {
    let mut out = |e: LiveEvent| {
        let _ = events.send(e);
    };
    loop {
        match transcript.recv_timeout(TICK) {
            Ok(event) => coach.on_event(event, Instant::now(), &mut out),
            Err(RecvTimeoutError::Timeout) => {
                let now_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
                coach.on_tick(now_ms, &mut out);
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    coach
}
