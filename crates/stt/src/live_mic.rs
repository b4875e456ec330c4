//! Transcribes the microphone live: the "say something" test in Settings → Speech, and
//! the rep's side of practice sessions. Captures the mic through the audio engine
//! (16 kHz speech channel), pushes it into a session of any engine, and forwards the
//! transcript events and the mic level.

use crate::engine::{SpeechEngine, StreamConfig, StreamSession};
use crate::event::EventSink;
use crate::{Channel, Result, SttError};
use cuecard_audio::dual::{DualCapture, DualOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often captured audio is handed to the engine.
const POLL: Duration = Duration::from_millis(50);

/// A running transcription of the microphone. [`stop`](Self::stop) (or dropping it) ends
/// the audio: what was said becomes final before it returns.
pub struct LiveMic {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    device: String,
}

impl LiveMic {
    /// Starts capturing `device` (`None`: the default input) into a session of `engine`
    /// in `language`. Events (with the rep's channel) go to `events`; a device or
    /// engine failure ends the session with an error notice.
    pub fn start(
        engine: Arc<dyn SpeechEngine>,
        device: Option<String>,
        language: &str,
        events: EventSink,
    ) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<String>>();
        let config = StreamConfig {
            channels: vec![Channel::Rep],
            language: language.to_owned(),
            paced: false,
        };
        let thread = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("live-mic".into())
                .spawn(move || {
                    // The capture is built on this thread: its echo canceller is not Send.
                    let mut capture = match DualCapture::start(DualOptions::mic(device)) {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = ready_tx.send(Err(SttError::Engine {
                                engine: "microphone",
                                message: e.to_string(),
                            }));
                            return;
                        }
                    };
                    let session = match engine.start(config, events.clone()) {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(capture.rep_capture().device().to_owned()));
                    run(&mut capture, session, &stop, &events);
                })
                .map_err(|e| SttError::Engine {
                    engine: "microphone",
                    message: e.to_string(),
                })?
        };
        let device = ready_rx.recv().map_err(|_| SttError::Engine {
            engine: "microphone",
            message: "the capture thread ended before starting".into(),
        })??;
        Ok(Self {
            stop,
            thread: Some(thread),
            device,
        })
    }

    /// The input device being transcribed.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// Stops capturing and waits for the last finals.
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

impl Drop for LiveMic {
    fn drop(&mut self) {
        self.end();
    }
}

fn run(
    capture: &mut DualCapture,
    mut session: Box<dyn StreamSession>,
    stop: &AtomicBool,
    events: &EventSink,
) {
    let (mut rep, mut far) = (Vec::new(), Vec::new());
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(POLL);
        if let Err(e) = capture.poll(&mut rep, &mut far) {
            crate::event::send_error(events, "microphone", e.to_string());
            break;
        }
        far.clear();
        if rep.is_empty() {
            continue;
        }
        if let Err(e) = session.push(Channel::Rep, &rep) {
            tracing::warn!(error = %e, "live mic: the engine refused audio");
            crate::event::send_error(events, "speech", e.to_string());
            break;
        }
        rep.clear();
    }
    if let Err(e) = session.finish() {
        tracing::warn!(error = %e, "live mic: finishing the session failed");
    }
}
