//! The prospect's sentiment: VADER (the `vader-parity` crate, exact parity with Python's
//! vaderSentiment 3.3.2) with a small sales overlay, smoothed over the call into a level
//! and a trend.
//!
//! VADER's general lexicon misses how buyers talk: "too expensive", "not a priority"
//! and "we already pay for" carry no negative words, "works for me" and "makes sense"
//! little positive. The overlay adds a valence (VADER's −4…+4 scale) for such phrases
//! and folds it into the compound with VADER's own normalisation, x / √(x² + 15).

use crate::text::normalize;
use serde::Serialize;
use vader_parity::SentimentIntensityAnalyzer;

/// Sales phrases and their valence, padded as [`normalize`] pads.
const OVERLAY: &[(&str, f64)] = &[
    (" too expensive ", -2.0),
    (" expensive ", -1.0),
    (" main concern ", -1.5),
    (" concern ", -1.0),
    (" not a priority ", -1.5),
    (" no budget ", -2.0),
    (" can't afford ", -2.0),
    (" not interested ", -2.5),
    (" already pay for ", -1.0),
    (" not a good time ", -1.5),
    (" waste of time ", -2.5),
    (" makes sense ", 1.5),
    (" works for me ", 1.5),
    (" sounds useful ", 1.5),
    (" sounds good ", 1.5),
    (" interesting ", 1.0),
    (" send me ", 1.0),
    (" let's do it ", 2.5),
    (" next step ", 1.0),
];

/// Where the prospect's mood is heading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Rising,
    Falling,
    #[default]
    Steady,
}

/// How much a change of the smoothed level over the last three utterances counts as a
/// trend.
const TREND_DELTA: f32 = 0.15;
/// Weight of the newest utterance in the smoothed level.
const SMOOTHING: f32 = 0.4;

/// Scores utterances and keeps the smoothed level.
pub struct SentimentTracker {
    analyzer: SentimentIntensityAnalyzer,
    levels: Vec<f32>,
}

impl Default for SentimentTracker {
    fn default() -> Self {
        Self {
            analyzer: SentimentIntensityAnalyzer::new(),
            levels: Vec::new(),
        }
    }
}

impl SentimentTracker {
    /// One utterance's sentiment, −1…+1: VADER's compound with the sales overlay.
    pub fn score(&self, text: &str) -> f32 {
        let compound = self.analyzer.polarity_scores(text).compound;
        let normalized = normalize(text);
        let overlay: f64 = OVERLAY
            .iter()
            .map(|(phrase, v)| normalized.matches(phrase).count() as f64 * v)
            .sum();
        let folded = overlay / (overlay * overlay + 15.0).sqrt();
        (compound + folded).clamp(-1.0, 1.0) as f32
    }

    /// Adds one of the prospect's finals; returns its score.
    pub fn add(&mut self, text: &str) -> f32 {
        let score = self.score(text);
        let level = match self.levels.last() {
            Some(prev) => prev + SMOOTHING * (score - prev),
            None => score,
        };
        self.levels.push(level);
        score
    }

    /// The smoothed level, −1…+1, once the prospect has spoken.
    pub fn level(&self) -> Option<f32> {
        self.levels.last().copied()
    }

    pub fn trend(&self) -> Trend {
        let n = self.levels.len();
        if n < 2 {
            return Trend::Steady;
        }
        let delta = self.levels[n - 1] - self.levels[n.saturating_sub(4)];
        if delta > TREND_DELTA {
            Trend::Rising
        } else if delta < -TREND_DELTA {
            Trend::Falling
        } else {
            Trend::Steady
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sales_phrases_move_the_score_the_way_a_rep_would_read_them() {
        let s = SentimentTracker::default();
        assert!(s.score("It's too expensive and the price is my main concern.") < -0.3);
        assert!(s.score("Tuesday morning works for me, thanks for calling.") > 0.4);
        assert!(s.score("We have twelve reps.").abs() < 0.05);
        // VADER's own rules still apply: negation flips.
        assert!(s.score("This is not great.") < 0.0);
    }

    #[test]
    fn the_level_is_smoothed_and_the_trend_follows_it() {
        let mut s = SentimentTracker::default();
        assert_eq!(s.trend(), Trend::Steady);
        s.add("Honestly it's too expensive, not interested.");
        s.add("We already pay for a dialer.");
        assert_eq!(s.trend(), Trend::Steady, "{:?}", s.levels);
        for _ in 0..3 {
            s.add("That makes sense, it sounds good, send me the details.");
        }
        assert_eq!(s.trend(), Trend::Rising, "{:?}", s.levels);
        assert!(s.level().unwrap() > 0.0);
        for _ in 0..3 {
            s.add("This is a waste of time, I'm not interested.");
        }
        assert_eq!(s.trend(), Trend::Falling, "{:?}", s.levels);
    }
}
