//! Fall-back between engines: a session on a primary engine (a cloud one) that hands
//! over to a secondary (the local one) when the primary fails, without losing words.
//!
//! The wrapper keeps, per channel, the audio the primary has not yet committed (since
//! its last final or end of utterance). When the primary fails — it cannot start, a push
//! errors, or it sends an error notice — a secondary session starts, that audio is
//! replayed into it, and its events are shifted in time so the transcript continues
//! where the primary's finals stopped. A warning notice tells the user.

use crate::engine::{EngineKind, SpeechEngine, StreamConfig, StreamSession};
use crate::event::{EventSink, Notice, NoticeLevel, TranscriptEvent};
use crate::{Channel, Result, SAMPLE_RATE, SttError};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// At most this much unacknowledged audio is kept per channel for a hand-over.
const MAX_REPLAY_SAMPLES: usize = SAMPLE_RATE as usize * 60;

/// An engine that runs `primary` and falls back to `secondary`.
pub struct FallbackEngine {
    primary: Arc<dyn SpeechEngine>,
    secondary: Arc<dyn SpeechEngine>,
}

impl FallbackEngine {
    pub fn new(primary: Arc<dyn SpeechEngine>, secondary: Arc<dyn SpeechEngine>) -> Self {
        Self { primary, secondary }
    }
}

impl SpeechEngine for FallbackEngine {
    fn kind(&self) -> EngineKind {
        self.primary.kind()
    }

    fn start(&self, config: StreamConfig, events: EventSink) -> Result<Box<dyn StreamSession>> {
        FallbackSession::start(
            Arc::clone(&self.primary),
            Arc::clone(&self.secondary),
            config,
            events,
        )
        .map(|s| Box::new(s) as Box<dyn StreamSession>)
    }

    fn transcribe(
        &self,
        clip: &crate::audio_file::Clip,
        language: &str,
    ) -> Result<Vec<crate::Segment>> {
        match self.primary.transcribe(clip, language) {
            Ok(segments) => Ok(segments),
            Err(e) => {
                tracing::warn!(error = %e, engine = self.primary.kind().as_str(), "batch transcription failed; using the fall-back engine");
                self.secondary.transcribe(clip, language)
            }
        }
    }
}

/// Per-channel audio the primary has not committed yet.
struct Pending {
    channel: Channel,
    /// Samples pushed so far.
    pushed: usize,
    /// Absolute index of `audio[0]`.
    start: usize,
    audio: Vec<f32>,
}

#[derive(Default)]
struct Shared {
    /// The primary sent an error notice (the message).
    failed: Option<String>,
    /// Per channel: samples the primary has committed (its last final's end).
    acked: Vec<(Channel, usize)>,
}

struct Secondary {
    session: Box<dyn StreamSession>,
    forwarder: JoinHandle<()>,
}

pub struct FallbackSession {
    primary: Option<Box<dyn StreamSession>>,
    primary_forwarder: Option<JoinHandle<()>>,
    primary_kind: EngineKind,
    secondary_engine: Arc<dyn SpeechEngine>,
    secondary: Option<Secondary>,
    config: StreamConfig,
    events: EventSink,
    pending: Vec<Pending>,
    shared: Arc<Mutex<Shared>>,
}

fn ms_to_samples(ms: u32) -> usize {
    (u64::from(ms) * u64::from(SAMPLE_RATE) / 1000) as usize
}

impl FallbackSession {
    fn start(
        primary: Arc<dyn SpeechEngine>,
        secondary: Arc<dyn SpeechEngine>,
        config: StreamConfig,
        events: EventSink,
    ) -> Result<Self> {
        let shared = Arc::new(Mutex::new(Shared {
            failed: None,
            acked: config.channels.iter().map(|c| (*c, 0)).collect(),
        }));
        let pending = config
            .channels
            .iter()
            .map(|c| Pending {
                channel: *c,
                pushed: 0,
                start: 0,
                audio: Vec::new(),
            })
            .collect();
        let mut session = Self {
            primary: None,
            primary_forwarder: None,
            primary_kind: primary.kind(),
            secondary_engine: secondary,
            secondary: None,
            config: config.clone(),
            events: events.clone(),
            pending,
            shared: Arc::clone(&shared),
        };
        let (tx, rx) = mpsc::channel();
        match primary.start(config, tx) {
            Ok(s) => {
                session.primary = Some(s);
                session.primary_forwarder = Some(std::thread::spawn(move || {
                    forward_primary(rx, events, shared);
                }));
            }
            Err(e) => session.hand_over(&e.to_string())?,
        }
        Ok(session)
    }

    fn failed(&self) -> Option<String> {
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed
            .clone()
    }

    /// Starts the secondary engine and replays the audio the primary did not commit.
    fn hand_over(&mut self, reason: &str) -> Result<()> {
        if self.secondary.is_some() {
            return Ok(());
        }
        let from = self.primary_kind.as_str();
        let to = self.secondary_engine.kind().as_str();
        tracing::warn!(%reason, from, to, "speech engine failed; handing over");
        let _ = self.events.send(TranscriptEvent::Notice {
            notice: Notice {
                level: NoticeLevel::Warning,
                engine: from.into(),
                message: format!("{from} failed ({reason}); continuing with the {to} engine"),
            },
        });
        // The primary is finished with: drop it without waiting on a dead connection, but
        // let its forwarder note the finals it sent before failing (up to a second).
        drop(self.primary.take());
        if let Some(forwarder) = self.primary_forwarder.take() {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
            while !forwarder.is_finished()
                && self.failed().is_none()
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        let acked = self
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .acked
            .clone();
        let offsets: Vec<(Channel, u32)> = self
            .pending
            .iter()
            .map(|p| {
                let ack = acked
                    .iter()
                    .find(|(c, _)| *c == p.channel)
                    .map_or(0, |(_, a)| *a)
                    .clamp(p.start, p.pushed);
                (p.channel, crate::samples_to_ms(ack))
            })
            .collect();
        let (tx, rx) = mpsc::channel();
        let mut session = self.secondary_engine.start(self.config.clone(), tx)?;
        let events = self.events.clone();
        let shifts = offsets.clone();
        let forwarder = std::thread::spawn(move || {
            for mut event in rx {
                shift(&mut event, &shifts);
                if events.send(event).is_err() {
                    break;
                }
            }
        });
        for p in &self.pending {
            let ack = offsets
                .iter()
                .find(|(c, _)| *c == p.channel)
                .map_or(0, |(_, ms)| ms_to_samples(*ms))
                .max(p.start);
            let from = (ack - p.start).min(p.audio.len());
            session.push(p.channel, &p.audio[from..])?;
        }
        self.secondary = Some(Secondary { session, forwarder });
        Ok(())
    }

    fn remember(&mut self, channel: Channel, samples: &[f32]) -> Result<()> {
        let acked = self
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .acked
            .iter()
            .find(|(c, _)| *c == channel)
            .map(|(_, a)| *a);
        let p = self
            .pending
            .iter_mut()
            .find(|p| p.channel == channel)
            .ok_or(SttError::UnknownChannel(channel))?;
        p.pushed += samples.len();
        p.audio.extend_from_slice(samples);
        let mut cut = acked
            .unwrap_or(0)
            .saturating_sub(p.start)
            .min(p.audio.len());
        let over = p.audio.len().saturating_sub(MAX_REPLAY_SAMPLES);
        cut = cut.max(over);
        if cut > 0 {
            p.audio.drain(..cut);
            p.start += cut;
        }
        Ok(())
    }
}

/// Shifts a secondary event's times by its channel's hand-over point.
fn shift(event: &mut TranscriptEvent, offsets: &[(Channel, u32)]) {
    let offset = |c: Channel| offsets.iter().find(|(x, _)| *x == c).map_or(0, |(_, o)| *o);
    match event {
        TranscriptEvent::Partial { segment } | TranscriptEvent::Final { segment } => {
            let o = offset(segment.channel);
            segment.start_ms += o;
            segment.end_ms += o;
            for w in &mut segment.words {
                w.start_ms += o;
                w.end_ms += o;
            }
        }
        TranscriptEvent::EndOfUtterance { channel, at_ms } => *at_ms += offset(*channel),
        TranscriptEvent::Notice { .. } => {}
    }
}

/// Forwards the primary's events, noting what it committed and whether it failed. Its
/// error notice is held back: the hand-over notice replaces it.
fn forward_primary(
    rx: mpsc::Receiver<TranscriptEvent>,
    events: EventSink,
    shared: Arc<Mutex<Shared>>,
) {
    for event in rx {
        let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
        if state.failed.is_some() {
            continue;
        }
        let ack = match &event {
            TranscriptEvent::Final { segment } => Some((segment.channel, segment.end_ms)),
            TranscriptEvent::EndOfUtterance { channel, at_ms } => Some((*channel, *at_ms)),
            TranscriptEvent::Notice { notice } if notice.level == NoticeLevel::Error => {
                state.failed = Some(notice.message.clone());
                continue;
            }
            _ => None,
        };
        if let Some((channel, ms)) = ack
            && let Some(slot) = state.acked.iter_mut().find(|(c, _)| *c == channel)
        {
            slot.1 = slot.1.max(ms_to_samples(ms));
        }
        drop(state);
        let _ = events.send(event);
    }
}

impl StreamSession for FallbackSession {
    fn push(&mut self, channel: Channel, samples: &[f32]) -> Result<()> {
        self.remember(channel, samples)?;
        if let Some(secondary) = &mut self.secondary {
            return secondary.session.push(channel, samples);
        }
        if let Some(reason) = self.failed() {
            // The samples just pushed are in `pending`, so the hand-over replays them.
            return self.hand_over(&reason);
        }
        let result = match &mut self.primary {
            Some(primary) => primary.push(channel, samples),
            None => Err(SttError::SessionEnded),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => self.hand_over(&e.to_string()),
        }
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if self.secondary.is_none() {
            if let Some(primary) = self.primary.take() {
                let result = primary.finish();
                if let Some(f) = self.primary_forwarder.take() {
                    let _ = f.join();
                }
                match (result, self.failed()) {
                    (Ok(()), None) => return Ok(()),
                    (Err(e), _) => self.hand_over(&e.to_string())?,
                    (Ok(()), Some(reason)) => self.hand_over(&reason)?,
                }
            } else {
                self.hand_over("the primary engine is gone")?;
            }
        }
        if let Some(secondary) = self.secondary.take() {
            secondary.session.finish()?;
            let _ = secondary.forwarder.join();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Collected, Segment};
    use crate::{WordTiming, samples_to_ms};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fake engine: every 100 ms pushed is one final word named after the engine and
    /// the position; fails (error notice, then push errors) after `fail_after` pushes.
    struct Fake {
        name: &'static str,
        kind: EngineKind,
        fail_after: Option<usize>,
        starts: AtomicUsize,
    }

    struct FakeSession {
        name: &'static str,
        events: EventSink,
        pushed: Vec<(Channel, usize)>,
        calls: usize,
        fail_after: Option<usize>,
    }

    impl SpeechEngine for Fake {
        fn kind(&self) -> EngineKind {
            self.kind
        }
        fn start(&self, config: StreamConfig, events: EventSink) -> Result<Box<dyn StreamSession>> {
            self.starts.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(FakeSession {
                name: self.name,
                events,
                pushed: config.channels.iter().map(|c| (*c, 0)).collect(),
                calls: 0,
                fail_after: self.fail_after,
            }))
        }
    }

    impl StreamSession for FakeSession {
        fn push(&mut self, channel: Channel, samples: &[f32]) -> Result<()> {
            self.calls += 1;
            if self.fail_after.is_some_and(|n| self.calls > n) {
                if self.calls == self.fail_after.unwrap_or(0) + 1 {
                    let _ = self.events.send(TranscriptEvent::Notice {
                        notice: Notice {
                            level: NoticeLevel::Error,
                            engine: self.name.into(),
                            message: "connection lost".into(),
                        },
                    });
                }
                return Err(SttError::Connection {
                    engine: "fake",
                    message: "gone".into(),
                });
            }
            let slot = self
                .pushed
                .iter_mut()
                .find(|(c, _)| *c == channel)
                .ok_or(SttError::UnknownChannel(channel))?;
            let start = slot.1;
            slot.1 += samples.len();
            let word = WordTiming {
                word: format!("{}{}", self.name, samples_to_ms(start) / 100),
                start_ms: samples_to_ms(start),
                end_ms: samples_to_ms(slot.1),
                confidence: None,
            };
            let _ = self.events.send(TranscriptEvent::Final {
                segment: Segment::from_words(channel, vec![word]).ok_or(SttError::SessionEnded)?,
            });
            Ok(())
        }
        fn finish(self: Box<Self>) -> Result<()> {
            Ok(())
        }
    }

    fn fake(name: &'static str, kind: EngineKind, fail_after: Option<usize>) -> Arc<Fake> {
        Arc::new(Fake {
            name,
            kind,
            fail_after,
            starts: AtomicUsize::new(0),
        })
    }

    #[test]
    fn a_primary_failing_mid_stream_hands_over_without_losing_audio() {
        let primary = fake("p", EngineKind::Deepgram, Some(5));
        let secondary = fake("s", EngineKind::Local, None);
        let engine = FallbackEngine::new(primary, secondary.clone());
        let (tx, rx) = mpsc::channel();
        let config = StreamConfig {
            channels: vec![Channel::Rep],
            ..StreamConfig::default()
        };
        let mut session = engine.start(config, tx).expect("start");
        let piece = vec![0.0f32; SAMPLE_RATE as usize / 10];
        for _ in 0..10 {
            session
                .push(Channel::Rep, &piece)
                .expect("push never fails");
        }
        session.finish().expect("finish");
        assert_eq!(secondary.starts.load(Ordering::SeqCst), 1);
        let events: Vec<TranscriptEvent> = rx.try_iter().collect();
        let notices: Vec<&Notice> = events
            .iter()
            .filter_map(|e| match e {
                TranscriptEvent::Notice { notice } => Some(notice),
                _ => None,
            })
            .collect();
        assert_eq!(notices.len(), 1, "{notices:?}");
        assert_eq!(notices[0].level, NoticeLevel::Warning);
        assert!(
            notices[0].message.contains("deepgram failed"),
            "{notices:?}"
        );
        let mut collected = Collected::default();
        for e in events {
            collected.push(e);
        }
        let words: Vec<String> = collected
            .finish()
            .into_iter()
            .flat_map(|s| s.words)
            .map(|w| format!("{}@{}", w.word, w.start_ms))
            .collect();
        // Five pieces from the primary, then the secondary from 500 ms on, times continuous.
        assert_eq!(
            words,
            [
                "p0@0", "p1@100", "p2@200", "p3@300", "p4@400", "s0@500", "s1@600", "s2@700",
                "s3@800", "s4@900"
            ]
        );
    }

    #[test]
    fn a_primary_that_cannot_start_goes_straight_to_the_secondary() {
        struct Refuses;
        impl SpeechEngine for Refuses {
            fn kind(&self) -> EngineKind {
                EngineKind::Deepgram
            }
            fn start(&self, _: StreamConfig, _: EventSink) -> Result<Box<dyn StreamSession>> {
                Err(SttError::Auth {
                    engine: "deepgram",
                    message: "invalid credentials".into(),
                })
            }
        }
        let secondary = fake("s", EngineKind::Local, None);
        let engine = FallbackEngine::new(Arc::new(Refuses), secondary.clone());
        let (tx, rx) = mpsc::channel();
        let mut session = engine.start(StreamConfig::default(), tx).expect("start");
        session.push(Channel::FarEnd, &[0.0; 1600]).expect("push");
        session.finish().expect("finish");
        let events: Vec<TranscriptEvent> = rx.try_iter().collect();
        assert!(matches!(
            &events[0],
            TranscriptEvent::Notice { notice } if notice.message.contains("invalid credentials")
        ));
        assert!(matches!(&events[1], TranscriptEvent::Final { segment } if segment.text == "s0"));
    }
}
