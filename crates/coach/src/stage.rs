//! The stage of the conversation — opening, discovery, pitch, objection, close — read
//! from the finals as they come, so the coach can suggest the next step that fits: more
//! questions while discovering, a check-in during a long pitch, a concrete next step
//! once the call turns to closing.
//!
//! Signals, strongest first: an objection the customer raises (the stage until the rep
//! answers it); talk of next steps, contracts or pilots (close); the rep describing the
//! product or talking for a long stretch (pitch); the rep's first question once the
//! customer has spoken (discovery).
//! A call does not leave the close for the pitch or discovery.

use crate::metrics::count_questions;
use crate::nextsteps;
use crate::text::{normalize, words};
use cuecard_core::Channel;
use serde::{Deserialize, Serialize};

/// Where the conversation is.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    #[default]
    Opening,
    Discovery,
    Pitch,
    Objection,
    Close,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Opening => "Opening",
            Stage::Discovery => "Discovery",
            Stage::Pitch => "Pitch",
            Stage::Objection => "Objection",
            Stage::Close => "Close",
        }
    }
}

/// The rep describing the product, padded as [`normalize`] pads.
const PITCH_CUES: &[&str] = &[
    " our platform ",
    " we show ",
    " our product ",
    " our tool ",
    " what we do ",
    " we help ",
    " let me show ",
    " the way it works ",
    " how it works ",
    " it lets you ",
    " you can use ",
    " we built ",
    " our customers ",
];

/// Talk of closing, padded.
const CLOSE_CUES: &[&str] = &[
    " next step ",
    " next steps ",
    " move forward ",
    " moving forward ",
    " get started ",
    " sign ",
    " contract ",
    " paperwork ",
    " start date ",
    " proposal ",
    " pilot ",
    " purchase order ",
];

/// A question from the rep starts discovery once the customer has spoken (the first
/// "do you have a minute?" is still the opening), or after this long, ms.
const OPENING_MS: u32 = 20_000;

/// A pause longer than this ends the rep's run of talk, ms.
const RUN_GAP_MS: u32 = 1_500;

/// A rep talking this long without the customer is pitching, ms.
const PITCH_MONOLOGUE_MS: u32 = 30_000;

/// A stage change, with the playbook's suggestions for the new stage.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct StageChange {
    pub stage: Stage,
    pub previous: Stage,
    /// Call time of the final that moved the stage, ms.
    pub at_ms: u32,
    /// What to do now (from the playbook's guide for the stage).
    pub suggestions: Vec<String>,
}

/// Follows the stage through a call.
#[derive(Debug, Default)]
pub struct StageTracker {
    stage: Stage,
    /// The stage to return to once an objection is answered.
    before_objection: Stage,
    /// When the rep's current run of talk began (no customer words and no long pause
    /// since), and when their last words ended.
    rep_run_start: Option<u32>,
    rep_last_end: u32,
    /// The customer has said something.
    customer_spoke: bool,
}

impl StageTracker {
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Takes a final; `objection` when it raised an objection card. Returns the new
    /// stage when it changed.
    pub fn heard(
        &mut self,
        channel: Channel,
        text: &str,
        start_ms: u32,
        end_ms: u32,
        objection: bool,
    ) -> Option<Stage> {
        let before = self.stage;
        let normalized = normalize(text);
        match channel {
            Channel::FarEnd => {
                self.rep_run_start = None;
                self.customer_spoke = true;
                if objection {
                    if self.stage != Stage::Objection {
                        self.before_objection = self.stage;
                    }
                    self.stage = Stage::Objection;
                } else if closing(&normalized) {
                    self.stage = Stage::Close;
                }
            }
            Channel::Rep => {
                if start_ms > self.rep_last_end.saturating_add(RUN_GAP_MS) {
                    self.rep_run_start = None;
                }
                let run_start = *self.rep_run_start.get_or_insert(start_ms);
                self.rep_last_end = end_ms;
                if self.stage == Stage::Objection {
                    // A real answer (not "mm-hmm") settles the objection.
                    if words(&normalized).count() >= 4 {
                        self.stage = self.before_objection;
                    }
                } else if closing(&normalized) {
                    self.stage = Stage::Close;
                } else if self.stage != Stage::Close {
                    let pitching = PITCH_CUES.iter().any(|c| normalized.contains(c))
                        || end_ms.saturating_sub(run_start) >= PITCH_MONOLOGUE_MS;
                    if pitching {
                        self.stage = Stage::Pitch;
                    } else if self.stage == Stage::Opening
                        && count_questions(text) > 0
                        && (self.customer_spoke || start_ms >= OPENING_MS)
                    {
                        self.stage = Stage::Discovery;
                    }
                }
            }
        }
        (self.stage != before).then_some(self.stage)
    }
}

/// Talk of closing: a close cue, or a commitment to a next step.
fn closing(normalized: &str) -> bool {
    CLOSE_CUES.iter().any(|c| normalized.contains(c))
        || nextsteps::when_of(normalized).is_some() && nextsteps::commits(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_moves_through_the_stages() {
        let mut t = StageTracker::default();
        let mut at = 0;
        let mut say = |t: &mut StageTracker, channel, text: &str, objection| {
            at += 5_000;
            t.heard(channel, text, at, at + 4_000, objection)
        };
        assert_eq!(
            say(
                &mut t,
                Channel::Rep,
                "Hi Dana, do you have a few minutes?",
                false
            ),
            None
        );
        assert_eq!(say(&mut t, Channel::FarEnd, "Sure, go ahead.", false), None);
        assert_eq!(
            say(
                &mut t,
                Channel::Rep,
                "How do you coach new reps today?",
                false
            ),
            Some(Stage::Discovery)
        );
        assert_eq!(
            say(&mut t, Channel::FarEnd, "Mostly shadowing.", false),
            None
        );
        assert_eq!(
            say(
                &mut t,
                Channel::Rep,
                "Let me show you how it works on a live call.",
                false
            ),
            Some(Stage::Pitch)
        );
        assert_eq!(
            say(
                &mut t,
                Channel::FarEnd,
                "Honestly it sounds too expensive.",
                true
            ),
            Some(Stage::Objection)
        );
        assert_eq!(say(&mut t, Channel::Rep, "Mm-hmm.", false), None);
        assert_eq!(
            say(
                &mut t,
                Channel::Rep,
                "Most teams replace a tool, so the cost goes down.",
                false
            ),
            Some(Stage::Pitch)
        );
        assert_eq!(
            say(
                &mut t,
                Channel::Rep,
                "Shall we start a pilot next week?",
                false
            ),
            Some(Stage::Close)
        );
        // The close does not fall back to the pitch.
        assert_eq!(
            say(
                &mut t,
                Channel::Rep,
                "Our platform works with your CRM.",
                false
            ),
            None
        );
        assert_eq!(t.stage(), Stage::Close);
    }

    #[test]
    fn a_long_run_of_rep_talk_is_a_pitch() {
        let mut t = StageTracker::default();
        assert_eq!(
            t.heard(Channel::Rep, "So about us.", 0, 10_000, false),
            None
        );
        assert_eq!(
            t.heard(
                Channel::Rep,
                "There is a lot to say.",
                10_500,
                31_000,
                false
            ),
            Some(Stage::Pitch)
        );
    }
}
