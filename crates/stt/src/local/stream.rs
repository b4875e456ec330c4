//! Live transcription with the local engine: one worker thread per channel.
//!
//! Per channel, the voice detector opens an utterance (with its pre-roll) and closes it
//! after the hang-over. While it is open, every `step` of new audio the worker decodes
//! the utterance so far; [`Agreement`] commits the words two successive decodes share
//! (sent as finals) and the rest goes out as the partial. When the utterance closes, one
//! last decode of the whole of it commits the remainder and an end-of-utterance follows.
//! A monologue longer than `max_window` has its committed audio cut off the front, so
//! decodes stay short.
//!
//! When decoding falls behind real time, a worker skips partial decodes until it has
//! caught up (finals are never skipped); a paced session (a file) decodes every step.

use super::decode::{DecodeOptions, Decoder};
use super::{LocalConfig, WhisperModel};
use crate::agreement::Agreement;
use crate::engine::{StreamConfig, StreamSession};
use crate::event::{EventSink, Notice, NoticeLevel, Segment, TranscriptEvent};
use crate::{Channel, Result, SAMPLE_RATE, SttError, WordTiming, samples_to_ms};
use cuecard_audio::vad::{VadEvent, VoiceActivity};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

/// Audio kept before the current position, for the detector's pre-roll.
const HISTORY_SAMPLES: usize = SAMPLE_RATE as usize;

/// Words ending this close to the end of a partial window are never committed: the
/// last word may be cut off mid-way.
const SETTLE_MS: u32 = 500;

/// No partial decode of less audio than this: whisper guesses wildly on fragments.
const MIN_PARTIAL_SAMPLES: usize = SAMPLE_RATE as usize;

/// A live session of the local engine.
pub struct LocalSession {
    inputs: Vec<(Channel, Sender<Vec<f32>>)>,
    workers: Vec<JoinHandle<()>>,
}

impl LocalSession {
    pub(crate) fn start(
        model: &WhisperModel,
        local: &LocalConfig,
        config: StreamConfig,
        events: EventSink,
    ) -> Result<Self> {
        let mut inputs = Vec::new();
        let mut workers = Vec::new();
        for channel in config.channels.iter().copied() {
            let decoder = model.decoder(local.threads, &config.language)?;
            let (tx, rx) = mpsc::channel::<Vec<f32>>();
            let streamer = ChannelStreamer::new(channel, decoder, local.clone(), events.clone());
            let paced = config.paced;
            let handle = std::thread::Builder::new()
                .name(format!("stt-local-{}", channel_name(channel)))
                .spawn(move || run_worker(streamer, rx, paced))
                .map_err(|e| SttError::Whisper(format!("cannot start a decoder thread: {e}")))?;
            inputs.push((channel, tx));
            workers.push(handle);
        }
        Ok(Self { inputs, workers })
    }
}

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Rep => "rep",
        Channel::FarEnd => "far",
    }
}

impl StreamSession for LocalSession {
    fn push(&mut self, channel: Channel, samples: &[f32]) -> Result<()> {
        let (_, tx) = self
            .inputs
            .iter()
            .find(|(c, _)| *c == channel)
            .ok_or(SttError::UnknownChannel(channel))?;
        tx.send(samples.to_vec())
            .map_err(|_| SttError::SessionEnded)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let Self { inputs, workers } = *self;
        drop(inputs);
        for worker in workers {
            worker
                .join()
                .map_err(|_| SttError::Whisper("a decoder thread panicked".into()))?;
        }
        Ok(())
    }
}

fn run_worker(mut streamer: ChannelStreamer, rx: Receiver<Vec<f32>>, paced: bool) {
    let step = streamer.step_samples();
    let mut pending: Vec<f32> = Vec::new();
    while let Ok(first) = rx.recv() {
        pending.extend_from_slice(&first);
        pending.extend(rx.try_iter().flatten());
        while pending.len() >= step {
            // Behind real time: more than a step still waiting after this one.
            let behind = !paced && pending.len() >= 2 * step;
            let rest = pending.split_off(step);
            let chunk = std::mem::replace(&mut pending, rest);
            streamer.feed(&chunk, !behind);
        }
    }
    if !pending.is_empty() {
        streamer.feed(&pending, false);
    }
    streamer.finish();
}

/// An utterance being transcribed.
struct Open {
    /// Absolute sample index where the decoded window starts.
    start: usize,
    agreement: Agreement,
    /// Committed words still inside the window.
    inside: Vec<WordTiming>,
    /// Where the last partial decode ended.
    decoded_to: usize,
    /// Whether any word of this utterance was sent.
    spoke: bool,
}

/// Keeps times monotonic: words from different decodes disagree by tens of ms, and a
/// final must not start before the one it follows ended.
fn order(last_final_ms: &mut u32, words: &mut [WordTiming], final_words: bool) {
    for w in words.iter_mut() {
        w.start_ms = w.start_ms.max(*last_final_ms);
        w.end_ms = w.end_ms.max(w.start_ms);
    }
    if final_words && let Some(last) = words.last() {
        *last_final_ms = last.end_ms;
    }
}

/// The per-channel state machine; owned by the channel's worker thread.
pub(crate) struct ChannelStreamer {
    channel: Channel,
    decoder: Decoder,
    config: LocalConfig,
    vad: VoiceActivity,
    events: EventSink,
    /// Audio from `history_start` to `received`.
    history: Vec<f32>,
    history_start: usize,
    received: usize,
    open: Option<Open>,
    /// Text before the window, the decoder's prompt.
    context: String,
    failed: bool,
    /// End of the last final word sent: later words never start before it.
    last_final_ms: u32,
}

fn ms_to_sample(ms: u64) -> usize {
    (ms * u64::from(SAMPLE_RATE) / 1000) as usize
}

impl ChannelStreamer {
    pub(crate) fn new(
        channel: Channel,
        decoder: Decoder,
        config: LocalConfig,
        events: EventSink,
    ) -> Self {
        Self {
            channel,
            decoder,
            vad: VoiceActivity::new(config.vad),
            config,
            events,
            history: Vec::new(),
            history_start: 0,
            received: 0,
            open: None,
            context: String::new(),
            failed: false,
            last_final_ms: 0,
        }
    }

    fn step_samples(&self) -> usize {
        (self.config.step.as_millis() as usize * SAMPLE_RATE as usize / 1000).max(160)
    }

    fn send(&self, event: TranscriptEvent) {
        let _ = self.events.send(event);
    }

    /// Takes the next piece of audio; `partials` allows a partial decode.
    pub(crate) fn feed(&mut self, chunk: &[f32], partials: bool) {
        let vad_events: Vec<VadEvent> = self.vad.push(chunk).collect();
        self.history.extend_from_slice(chunk);
        self.received += chunk.len();
        for event in vad_events {
            self.on_vad(event);
        }
        if partials
            && let Some(open) = &self.open
            && self.received - open.decoded_to >= self.step_samples()
            && self.received - open.start >= MIN_PARTIAL_SAMPLES
        {
            self.decode_partial();
        }
        self.trim_history();
    }

    pub(crate) fn finish(&mut self) {
        let vad_events: Vec<VadEvent> = self.vad.finish().collect();
        for event in vad_events {
            self.on_vad(event);
        }
        if self.open.is_some() {
            let end = self.received;
            self.close(end);
        }
    }

    fn on_vad(&mut self, event: VadEvent) {
        match event {
            VadEvent::SpeechStarted { start_ms } => {
                let start = ms_to_sample(start_ms).max(self.history_start);
                self.open = Some(Open {
                    start,
                    agreement: Agreement::default(),
                    inside: Vec::new(),
                    decoded_to: start,
                    spoke: false,
                });
            }
            VadEvent::SpeechEnded { segment } => {
                let end = ms_to_sample(segment.end_ms).min(self.received);
                self.close(end);
            }
        }
    }

    fn decode(
        &mut self,
        start: usize,
        end: usize,
        options: DecodeOptions,
    ) -> Option<Vec<WordTiming>> {
        if self.failed {
            return None;
        }
        let from = start
            .saturating_sub(self.history_start)
            .min(self.history.len());
        let to = end
            .saturating_sub(self.history_start)
            .min(self.history.len())
            .max(from);
        let prompt = if self.config.use_context {
            self.context.as_str()
        } else {
            ""
        };
        match self.decoder.decode(
            &self.history[from..to],
            samples_to_ms(start),
            prompt,
            options,
        ) {
            Ok(words) => Some(words),
            Err(e) => {
                self.failed = true;
                tracing::error!(error = %e, "local decoding failed");
                self.send(TranscriptEvent::Notice {
                    notice: Notice {
                        level: NoticeLevel::Error,
                        engine: "local".into(),
                        message: e.to_string(),
                    },
                });
                None
            }
        }
    }

    fn decode_partial(&mut self) {
        let Some(start) = self.open.as_ref().map(|o| o.start) else {
            return;
        };
        let end = self.received;
        let Some(words) = self.decode(start, end, self.config.partial_options()) else {
            return;
        };
        let channel = self.channel;
        let Some(open) = self.open.as_mut() else {
            return;
        };
        open.decoded_to = end;
        let early = ms_to_sample(self.config.early_commit_after.as_millis() as u64);
        if end - open.start < early && open.agreement.committed_end_ms().is_none() {
            // A short utterance so far: show it, commit nothing (see early_commit_after).
            let mut tentative = words;
            order(&mut self.last_final_ms, &mut tentative, false);
            if let Some(segment) = Segment::from_words(channel, tentative) {
                self.send(TranscriptEvent::Partial { segment });
            }
            return;
        }
        let settled = samples_to_ms(end).saturating_sub(SETTLE_MS);
        let mut update = open.agreement.update(words, settled);
        open.inside.extend(update.committed.iter().cloned());
        if !update.committed.is_empty() {
            open.spoke = true;
        }
        order(&mut self.last_final_ms, &mut update.committed, true);
        order(&mut self.last_final_ms, &mut update.tentative, false);
        let mut out = Vec::new();
        if let Some(segment) = Segment::from_words(channel, update.committed) {
            out.push(TranscriptEvent::Final { segment });
        }
        if let Some(segment) = Segment::from_words(channel, update.tentative) {
            out.push(TranscriptEvent::Partial { segment });
        }
        for event in out {
            self.send(event);
        }
        self.cut_window();
    }

    /// Keeps the window under `max_window` by cutting committed audio off its front.
    fn cut_window(&mut self) {
        let max = ms_to_sample(self.config.max_window.as_millis() as u64);
        let received = self.received;
        let channel = self.channel;
        let Some(open) = self.open.as_mut() else {
            return;
        };
        if received - open.start <= max {
            return;
        }
        if open
            .agreement
            .committed_end_ms()
            .is_none_or(|end| ms_to_sample(u64::from(end)) <= open.start + ms_to_sample(1000))
        {
            // Nothing committed far enough in: commit all but the last two words.
            let mut forced = open.agreement.force(2);
            open.inside.extend(forced.iter().cloned());
            if !forced.is_empty() {
                open.spoke = true;
            }
            order(&mut self.last_final_ms, &mut forced, true);
            if let Some(segment) = Segment::from_words(channel, forced) {
                let _ = self.events.send(TranscriptEvent::Final { segment });
            }
        }
        let Some(end_ms) = open.agreement.committed_end_ms() else {
            return;
        };
        let cut = ms_to_sample(u64::from(end_ms)).max(open.start);
        let (before, after): (Vec<_>, Vec<_>) = open
            .inside
            .drain(..)
            .partition(|w| ms_to_sample(u64::from(w.end_ms)) <= cut);
        open.inside = after;
        open.agreement.cut(before.len());
        open.start = cut;
        for w in before {
            self.context.push(' ');
            self.context.push_str(&w.word);
        }
        self.trim_context();
    }

    fn close(&mut self, end: usize) {
        let Some(start) = self.open.as_ref().map(|o| o.start) else {
            return;
        };
        let words = if end > start {
            self.decode(start, end, self.config.final_options())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let channel = self.channel;
        let Some(mut open) = self.open.take() else {
            return;
        };
        let mut rest = open.agreement.flush(words);
        open.inside.extend(rest.iter().cloned());
        if !rest.is_empty() {
            open.spoke = true;
        }
        order(&mut self.last_final_ms, &mut rest, true);
        if let Some(segment) = Segment::from_words(channel, rest) {
            self.send(TranscriptEvent::Final { segment });
        }
        for w in &open.inside {
            self.context.push(' ');
            self.context.push_str(&w.word);
        }
        self.trim_context();
        if open.spoke {
            self.send(TranscriptEvent::EndOfUtterance {
                channel,
                at_ms: samples_to_ms(end),
            });
        }
    }

    fn trim_context(&mut self) {
        if self.context.len() > 1000 {
            let mut cut = self.context.len() - 500;
            while !self.context.is_char_boundary(cut) {
                cut += 1;
            }
            self.context.drain(..cut);
        }
    }

    /// Drops audio nothing can need any more: before the open window, or older than the
    /// detector's pre-roll could reach back.
    fn trim_history(&mut self) {
        let keep_from = match &self.open {
            Some(open) => open
                .start
                .min(self.received.saturating_sub(HISTORY_SAMPLES)),
            None => self.received.saturating_sub(HISTORY_SAMPLES),
        };
        if keep_from > self.history_start + SAMPLE_RATE as usize {
            let n = keep_from - self.history_start;
            self.history.drain(..n);
            self.history_start = keep_from;
        }
    }
}
