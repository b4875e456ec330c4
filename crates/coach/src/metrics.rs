//! Live conversation metrics, updated from final transcript events: talk time and the
//! rep's share of it, the current and longest monologue, patience (how long the rep
//! waits after the prospect stops before speaking), questions the rep asks, the rep's
//! pace, and filler words.
//!
//! Time is call time (ms) from the events. Only finals count: partials are revised.

use crate::sentiment::{SentimentTracker, Trend};
use crate::text::{normalize, words};
use cuecard_core::Channel;
use serde::Serialize;

/// A pause shorter than this does not end a monologue, ms.
const MONOLOGUE_GAP_MS: u32 = 1_500;

/// Words that open a question when the engine left out the question mark, padded as
/// [`normalize`] pads.
const QUESTION_OPENERS: &[&str] = &[
    " what ",
    " how ",
    " why ",
    " when ",
    " where ",
    " who ",
    " which ",
    " could you ",
    " can you ",
    " would you ",
    " do you ",
    " does ",
    " did you ",
    " is it ",
    " is there ",
    " are you ",
    " are there ",
    " have you ",
    " will you ",
    " should we ",
    " shall we ",
];

/// Filler words and phrases counted in the rep's speech, padded likewise.
const FILLERS: &[&str] = &[
    " um ",
    " uh ",
    " erm ",
    " er ",
    " hmm ",
    " you know ",
    " i mean ",
    " sort of ",
    " kind of ",
    " basically ",
    " like i said ",
    " literally ",
];

/// A snapshot for the metrics bar.
#[derive(Clone, Debug, Default, PartialEq, Serialize, specta::Type)]
pub struct LiveMetrics {
    pub rep_talk_ms: u32,
    pub prospect_talk_ms: u32,
    /// The rep's share of talk time, 0.0–1.0 (`None` before anyone spoke).
    pub talk_ratio: Option<f32>,
    /// How long the rep has been talking without the prospect, ms (0 when the
    /// prospect spoke last).
    pub current_monologue_ms: u32,
    pub longest_monologue_ms: u32,
    /// Median gap between the prospect finishing and the rep starting, ms.
    pub patience_ms: Option<u32>,
    pub questions: u32,
    /// The rep's words per minute of their own talk time.
    pub words_per_minute: Option<f32>,
    pub fillers: u32,
    /// Filler words per 100 of the rep's words.
    pub filler_rate: Option<f32>,
    /// The prospect's smoothed sentiment, −1…+1.
    pub prospect_sentiment: Option<f32>,
    pub sentiment_trend: Trend,
    /// Median gap between the prospect raising an objection and the rep answering, ms.
    pub objection_patience_ms: Option<u32>,
    /// Competitors named in the call (battlecard triggers), most mentioned first.
    pub competitor_mentions: Vec<CompetitorMention>,
}

/// How often a competitor came up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, specta::Type)]
pub struct CompetitorMention {
    pub competitor: String,
    pub count: u32,
}

/// Running state behind [`LiveMetrics`].
#[derive(Default)]
pub struct MetricsTracker {
    m: LiveMetrics,
    rep_words: u32,
    monologue_start: Option<u32>,
    last_rep_end: Option<u32>,
    last_prospect_end: Option<u32>,
    /// The prospect spoke after the rep's last words.
    prospect_since_rep: bool,
    patience: Vec<u32>,
    sentiment: SentimentTracker,
}

/// How many questions `text` asks: its sentences that end in `?` or open with a
/// question word.
pub fn count_questions(text: &str) -> u32 {
    let mut n = 0;
    for sentence in text.split_inclusive(['.', '?', '!']) {
        let normalized = normalize(sentence);
        let asks = sentence.trim_end().ends_with('?')
            || QUESTION_OPENERS.iter().any(|q| normalized.starts_with(q));
        if asks && words(&normalized).next().is_some() {
            n += 1;
        }
    }
    n
}

/// How many filler words `text` holds.
pub fn count_fillers(text: &str) -> u32 {
    let normalized = normalize(text);
    FILLERS
        .iter()
        .map(|f| normalized.matches(f).count() as u32)
        .sum()
}

impl MetricsTracker {
    /// Takes a final: `channel` spoke `text` from `start_ms` to `end_ms`.
    pub fn final_heard(&mut self, channel: Channel, text: &str, start_ms: u32, end_ms: u32) {
        let span = end_ms.saturating_sub(start_ms);
        match channel {
            Channel::Rep => {
                self.m.rep_talk_ms += span;
                let n_words = words(&normalize(text)).count() as u32;
                self.rep_words += n_words;
                self.m.questions += count_questions(text);
                self.m.fillers += count_fillers(text);
                if let Some(prospect_end) = self.last_prospect_end
                    && self.prospect_since_rep
                    && start_ms >= prospect_end
                {
                    self.patience.push(start_ms - prospect_end);
                }
                let continues = !self.prospect_since_rep
                    && self
                        .last_rep_end
                        .is_some_and(|last| start_ms <= last.saturating_add(MONOLOGUE_GAP_MS));
                if !continues {
                    self.monologue_start = Some(start_ms);
                }
                self.prospect_since_rep = false;
                self.last_rep_end = Some(end_ms);
                let run = end_ms.saturating_sub(self.monologue_start.unwrap_or(start_ms));
                self.m.current_monologue_ms = run;
                self.m.longest_monologue_ms = self.m.longest_monologue_ms.max(run);
            }
            Channel::FarEnd => {
                self.sentiment.add(text);
                self.m.prospect_sentiment = self.sentiment.level();
                self.m.sentiment_trend = self.sentiment.trend();
                self.m.prospect_talk_ms += span;
                self.last_prospect_end = Some(end_ms);
                self.prospect_since_rep = true;
                self.m.current_monologue_ms = 0;
                self.monologue_start = None;
            }
        }
        let total = self.m.rep_talk_ms + self.m.prospect_talk_ms;
        self.m.talk_ratio = (total > 0).then(|| self.m.rep_talk_ms as f32 / total as f32);
        self.m.words_per_minute = (self.m.rep_talk_ms >= 1_000)
            .then(|| self.rep_words as f32 * 60_000.0 / self.m.rep_talk_ms as f32);
        self.m.filler_rate =
            (self.rep_words > 0).then(|| self.m.fillers as f32 * 100.0 / self.rep_words as f32);
        if !self.patience.is_empty() {
            let mut sorted = self.patience.clone();
            sorted.sort_unstable();
            self.m.patience_ms = Some(sorted[sorted.len() / 2]);
        }
    }

    pub fn snapshot(&self) -> LiveMetrics {
        self.m.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_counted_by_mark_or_opener() {
        assert_eq!(
            count_questions("How does your team handle coaching today?"),
            1
        );
        assert_eq!(
            count_questions("Great. What happens next. Tell me more."),
            1
        );
        assert_eq!(count_questions("Could you send it? And when? Thanks."), 2);
        assert_eq!(count_questions("That makes sense."), 0);
    }

    #[test]
    fn fillers_are_whole_words() {
        assert_eq!(count_fillers("Um, so, you know, it's basically ready."), 3);
        assert_eq!(count_fillers("The umbrella is kind of blue."), 1);
    }

    #[test]
    fn talk_ratio_monologue_patience_and_pace() {
        let mut t = MetricsTracker::default();
        t.final_heard(
            Channel::Rep,
            "Hi Dana, this is Sam. Do you have a few minutes?",
            0,
            4_000,
        );
        t.final_heard(Channel::FarEnd, "Sure.", 5_000, 6_000);
        // The rep waits 2 s, then talks in two finals 1 s apart: one 9 s monologue.
        t.final_heard(
            Channel::Rep,
            "Great. Let me tell you what we do.",
            8_000,
            12_000,
        );
        t.final_heard(
            Channel::Rep,
            "We coach reps live, um, on every call.",
            13_000,
            17_000,
        );
        let m = t.snapshot();
        assert_eq!((m.rep_talk_ms, m.prospect_talk_ms), (12_000, 1_000));
        assert!((m.talk_ratio.unwrap() - 12.0 / 13.0).abs() < 1e-6);
        assert_eq!(m.current_monologue_ms, 9_000);
        assert_eq!(m.longest_monologue_ms, 9_000);
        assert_eq!(m.patience_ms, Some(2_000));
        assert_eq!(m.questions, 1);
        assert_eq!(m.fillers, 1);
        // 27 words in 12 s of talk.
        assert!((m.words_per_minute.unwrap() - 135.0).abs() < 0.1, "{m:?}");
        t.final_heard(Channel::FarEnd, "Interesting.", 18_000, 19_000);
        assert_eq!(t.snapshot().current_monologue_ms, 0);
        assert_eq!(t.snapshot().longest_monologue_ms, 9_000);
    }
}
