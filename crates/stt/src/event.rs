//! What engines send: partial and final transcript segments, end-of-utterance marks and
//! notices (errors, fall-backs).

use cuecard_core::{Channel, WordTiming};
use serde::{Deserialize, Serialize};
use std::sync::mpsc::Sender;

/// Where a session sends its events. A closed receiver is not an error: the session keeps
/// transcribing and drops the events.
pub type EventSink = Sender<TranscriptEvent>;

/// A stretch of transcript on one channel. Times are milliseconds from the start of the
/// session's audio on that channel.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Segment {
    pub channel: Channel,
    /// Speaker label where an engine diarises a channel.
    pub speaker: Option<String>,
    pub start_ms: u32,
    pub end_ms: u32,
    pub text: String,
    /// 0.0–1.0: the mean of the words' confidences, when the engine reports them.
    pub confidence: Option<f32>,
    pub words: Vec<WordTiming>,
}

impl Segment {
    /// A segment made of `words` (at least one), its text their join.
    pub fn from_words(channel: Channel, words: Vec<WordTiming>) -> Option<Self> {
        let first = words.first()?;
        let last = words.last()?;
        let text = words
            .iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let confidences: Vec<f32> = words.iter().filter_map(|w| w.confidence).collect();
        let confidence = (!confidences.is_empty())
            .then(|| confidences.iter().sum::<f32>() / confidences.len() as f32);
        Some(Self {
            channel,
            speaker: None,
            start_ms: first.start_ms,
            end_ms: last.end_ms,
            text,
            confidence,
            words,
        })
    }
}

/// One event from a streaming session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TranscriptEvent {
    /// The current guess at the words after the last final on this channel. Each partial
    /// replaces the previous one; it may change until it is committed.
    Partial { segment: Segment },
    /// Committed words: never revised, never repeated. The next partial on the channel
    /// starts after them.
    Final { segment: Segment },
    /// The speaker on `channel` stopped talking at `at_ms`; every word before it is final.
    EndOfUtterance { channel: Channel, at_ms: u32 },
    /// Something the user should know about: an error, a reconnect, a hand-over.
    Notice { notice: Notice },
}

impl TranscriptEvent {
    pub fn channel(&self) -> Option<Channel> {
        match self {
            Self::Partial { segment } | Self::Final { segment } => Some(segment.channel),
            Self::EndOfUtterance { channel, .. } => Some(*channel),
            Self::Notice { .. } => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLevel {
    Info,
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Notice {
    pub level: NoticeLevel,
    /// The engine the notice is about: `local`, `deepgram`, `openai`.
    pub engine: String,
    pub message: String,
}

/// Sends an error notice about `source` (an engine, the microphone, the recorder) to
/// `events`; a closed receiver is ignored like any other event.
pub fn send_error(events: &EventSink, source: &str, message: String) {
    let _ = events.send(TranscriptEvent::Notice {
        notice: Notice {
            level: NoticeLevel::Error,
            engine: source.into(),
            message,
        },
    });
}

/// Collects a session's events into finished segments: what a batch caller or a test
/// wants once the stream is over.
#[derive(Default, Debug)]
pub struct Collected {
    /// Finals merged per utterance, in the order utterances ended.
    pub utterances: Vec<Segment>,
    pub partials: usize,
    pub notices: Vec<Notice>,
    open: Vec<Segment>,
}

impl Collected {
    pub fn push(&mut self, event: TranscriptEvent) {
        match event {
            TranscriptEvent::Partial { .. } => self.partials += 1,
            TranscriptEvent::Final { segment } => {
                match self.open.iter_mut().find(|s| s.channel == segment.channel) {
                    Some(open) => {
                        open.end_ms = segment.end_ms;
                        open.text.push(' ');
                        open.text.push_str(&segment.text);
                        open.words.extend(segment.words);
                        open.confidence = mean_confidence(&open.words);
                    }
                    None => self.open.push(segment),
                }
            }
            TranscriptEvent::EndOfUtterance { channel, .. } => self.close(channel),
            TranscriptEvent::Notice { notice } => self.notices.push(notice),
        }
    }

    fn close(&mut self, channel: Channel) {
        if let Some(i) = self.open.iter().position(|s| s.channel == channel) {
            let segment = self.open.remove(i);
            self.utterances.push(segment);
        }
    }

    /// Closes what is still open and returns the utterances sorted by start time.
    pub fn finish(mut self) -> Vec<Segment> {
        let open = std::mem::take(&mut self.open);
        self.utterances.extend(open);
        self.utterances.sort_by_key(|s| (s.start_ms, s.end_ms));
        self.utterances
    }
}

fn mean_confidence(words: &[WordTiming]) -> Option<f32> {
    let c: Vec<f32> = words.iter().filter_map(|w| w.confidence).collect();
    (!c.is_empty()).then(|| c.iter().sum::<f32>() / c.len() as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str, start_ms: u32, end_ms: u32) -> WordTiming {
        WordTiming {
            word: w.into(),
            start_ms,
            end_ms,
            confidence: Some(0.5),
        }
    }

    #[test]
    fn collected_merges_finals_per_channel_until_end_of_utterance() {
        let mut c = Collected::default();
        let final_of = |channel, words| TranscriptEvent::Final {
            segment: Segment::from_words(channel, words).expect("words"),
        };
        c.push(final_of(Channel::Rep, vec![word("hello", 0, 300)]));
        c.push(final_of(Channel::FarEnd, vec![word("hi", 100, 200)]));
        c.push(final_of(Channel::Rep, vec![word("there", 300, 600)]));
        c.push(TranscriptEvent::EndOfUtterance {
            channel: Channel::Rep,
            at_ms: 700,
        });
        let all = c.finish();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].text, "hello there");
        assert_eq!((all[0].start_ms, all[0].end_ms), (0, 600));
        assert_eq!(all[1].text, "hi");
    }

    #[test]
    fn events_serialise_with_a_kind_tag() {
        let json = serde_json::to_value(TranscriptEvent::EndOfUtterance {
            channel: Channel::FarEnd,
            at_ms: 5,
        })
        .expect("json");
        assert_eq!(
            json,
            serde_json::json!({"kind": "end_of_utterance", "channel": "far_end", "at_ms": 5})
        );
    }
}
