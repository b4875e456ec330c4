//! Next steps: what the rep and the customer agreed to do after the call, and how
//! clearly. A next step is an utterance that commits someone to an action — "I'll send
//! the proposal on Thursday", "let's book a demo", "can you loop in your CFO?". Its
//! clarity is how many of the four things a good next step names it has: the action,
//! when it happens, who does it, and the customer's yes.
//!
//! Rules, not a model: the phrases below are how next steps are said on sales calls, and
//! every result points at the utterances it came from.

use crate::scorecard::Said;
use crate::text::{normalize, words};
use cuecard_core::Channel;
use serde::Serialize;

/// Phrases that frame a commitment, padded as [`normalize`] pads, with who they commit
/// (relative to the speaker).
const FRAMES: &[(&str, Committed)] = &[
    (" i'll ", Committed::Speaker),
    (" i will ", Committed::Speaker),
    (" i can ", Committed::Speaker),
    (" let me ", Committed::Speaker),
    (" i'm going to ", Committed::Speaker),
    (" we'll ", Committed::Both),
    (" we will ", Committed::Both),
    (" let's ", Committed::Both),
    (" we can ", Committed::Both),
    (" shall we ", Committed::Both),
    (" should we ", Committed::Both),
    (" could we ", Committed::Both),
    (" can we ", Committed::Both),
    (" how about ", Committed::Both),
    (" next step ", Committed::Both),
    (" next steps ", Committed::Both),
    (" you'll ", Committed::Other),
    (" you will ", Committed::Other),
    (" can you ", Committed::Other),
    (" could you ", Committed::Other),
    (" would you ", Committed::Other),
];

/// Actions a next step is made of.
const ACTIONS: &[&str] = &[
    " send ",
    " email ",
    " schedule ",
    " book ",
    " set up ",
    " follow up ",
    " demo ",
    " pilot ",
    " trial ",
    " proposal ",
    " quote ",
    " contract ",
    " meeting ",
    " meet ",
    " call you ",
    " call back ",
    " introduce ",
    " loop in ",
    " bring in ",
    " share ",
    " walk through ",
    " sign ",
    " invite ",
    " review ",
    " check with ",
    " talk to ",
    " get back to ",
];

/// Words that name when.
const WHEN_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "tomorrow",
    "today",
    "tonight",
    "noon",
    "morning",
    "afternoon",
    "evening",
    "january",
    "february",
    "march",
    "april",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Phrases that name when.
const WHEN_PHRASES: &[&str] = &[
    " next week ",
    " this week ",
    " end of the week ",
    " end of day ",
    " next month ",
    " end of the month ",
    " in two weeks ",
    " in a week ",
    " in a couple of weeks ",
];

/// A customer's yes, padded.
const AGREEMENT: &[&str] = &[
    " yes ",
    " yeah ",
    " yep ",
    " sure ",
    " sounds good ",
    " sounds great ",
    " works for me ",
    " that works ",
    " perfect ",
    " great ",
    " okay ",
    " ok ",
    " let's do it ",
    " deal ",
    " absolutely ",
    " definitely ",
    " of course ",
    " happy to ",
];

/// Words that turn a yes into a no.
const REFUSAL: &[&str] = &[
    " no ", " not ", " can't ", " cannot ", " won't ", " don't ", " busy ",
];

/// Who a phrase commits, relative to whoever says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Committed {
    Speaker,
    Other,
    Both,
}

/// Who owns a next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Rep,
    Customer,
    Both,
}

/// A next step found in the call.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct NextStep {
    /// The utterance that states it.
    pub utterance: usize,
    /// The action named ("send", "demo", …).
    pub action: String,
    /// When, as said ("thursday", "next week", "3 pm").
    pub when: Option<String>,
    pub owner: Owner,
    /// The customer's yes, when it came (the same utterance when the customer made the
    /// commitment themselves).
    pub agreed_in: Option<usize>,
    /// 0.0–1.0: action, time, owner and agreement, a quarter each.
    pub clarity: f32,
    /// What it lacks, in words ("a time", "the customer's yes").
    pub missing: Vec<String>,
}

/// The first `phrases` entry inside `normalized` (padded).
fn first_in<'a>(normalized: &str, phrases: &[&'a str]) -> Option<&'a str> {
    phrases.iter().copied().find(|p| normalized.contains(p))
}

/// When a normalised utterance says something happens: a day, a date, a time of day.
pub fn when_of(normalized: &str) -> Option<String> {
    if let Some(p) = first_in(normalized, WHEN_PHRASES) {
        return Some(p.trim().to_owned());
    }
    let tokens: Vec<&str> = words(normalized).collect();
    for (i, w) in tokens.iter().enumerate() {
        if WHEN_WORDS.contains(w) {
            return Some((*w).to_owned());
        }
        // "3 pm", "10 30 am", "9 o'clock", "at 4".
        if w.chars().all(|c| c.is_ascii_digit()) && w.len() <= 2 {
            let next = tokens.get(i + 1).copied().unwrap_or("");
            let after = tokens.get(i + 2).copied().unwrap_or("");
            if matches!(next, "am" | "pm" | "o'clock") {
                return Some(format!("{w} {next}"));
            }
            if next.chars().all(|c| c.is_ascii_digit()) && matches!(after, "am" | "pm") {
                return Some(format!("{w}:{next} {after}"));
            }
            if i > 0 && tokens[i - 1] == "at" {
                return Some(format!("at {w}"));
            }
        }
        // "the 5th", "21st".
        if w.len() <= 4
            && w.chars().next().is_some_and(|c| c.is_ascii_digit())
            && ["st", "nd", "rd", "th"].iter().any(|s| w.ends_with(s))
        {
            return Some((*w).to_owned());
        }
    }
    None
}

/// Whether a normalised utterance commits someone to an action.
pub fn commits(normalized: &str) -> bool {
    FRAMES.iter().any(|(p, _)| normalized.contains(p)) && first_in(normalized, ACTIONS).is_some()
}

/// Whether a normalised utterance says yes (and not no).
pub fn agrees(normalized: &str) -> bool {
    first_in(normalized, AGREEMENT).is_some() && first_in(normalized, REFUSAL).is_none()
}

/// The next steps stated in a call's utterances (in time order).
pub fn find_next_steps(said: &[Said<'_>]) -> Vec<NextStep> {
    let normalized: Vec<String> = said.iter().map(|s| normalize(s.text)).collect();
    let mut steps = Vec::new();
    for (i, s) in said.iter().enumerate() {
        let text = &normalized[i];
        let (Some(frame), Some(action)) = (
            FRAMES.iter().find(|(p, _)| text.contains(p)),
            first_in(text, ACTIONS),
        ) else {
            continue;
        };
        let owner = match (frame.1, s.channel) {
            (Committed::Both, _) => Owner::Both,
            (Committed::Speaker, Channel::Rep) | (Committed::Other, Channel::FarEnd) => Owner::Rep,
            (Committed::Speaker, Channel::FarEnd) | (Committed::Other, Channel::Rep) => {
                Owner::Customer
            }
        };
        // Said by the customer, it is their own yes; said by the rep, look for the
        // customer's answer in their next two turns.
        let agreed_in = if s.channel == Channel::FarEnd && owner != Owner::Rep {
            Some(i)
        } else {
            (i + 1..said.len())
                .filter(|j| said[*j].channel == Channel::FarEnd)
                .take(2)
                .find(|j| agrees(&normalized[*j]))
        };
        // The time may come in the answer ("Thursday works").
        let when = when_of(text).or_else(|| agreed_in.and_then(|j| when_of(&normalized[j])));
        let mut missing = Vec::new();
        if when.is_none() {
            missing.push("a time".to_owned());
        }
        if owner == Owner::Both {
            missing.push("who does it".to_owned());
        }
        if agreed_in.is_none() {
            missing.push("the customer's yes".to_owned());
        }
        let clarity = (4 - missing.len()) as f32 / 4.0;
        steps.push(NextStep {
            utterance: i,
            action: action.trim().to_owned(),
            when,
            owner,
            agreed_in,
            clarity,
            missing,
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said<'a>(lines: &[(Channel, &'a str)]) -> Vec<Said<'a>> {
        lines
            .iter()
            .enumerate()
            .map(|(i, (channel, text))| Said {
                channel: *channel,
                text,
                start_ms: i as u32 * 5_000,
                end_ms: i as u32 * 5_000 + 4_000,
            })
            .collect()
    }

    #[test]
    fn a_clear_next_step_names_action_time_owner_and_gets_a_yes() {
        let call = said(&[
            (Channel::Rep, "I'll send the proposal on Thursday at 3 pm."),
            (Channel::FarEnd, "Sounds good, thanks."),
        ]);
        let steps = find_next_steps(&call);
        assert_eq!(steps.len(), 1, "{steps:?}");
        let step = &steps[0];
        assert_eq!(step.action, "send");
        assert_eq!(step.when.as_deref(), Some("thursday"));
        assert_eq!(step.owner, Owner::Rep);
        assert_eq!(step.agreed_in, Some(1));
        assert_eq!(step.clarity, 1.0);
        assert!(step.missing.is_empty());
    }

    #[test]
    fn a_vague_next_step_gets_partial_clarity_and_says_what_is_missing() {
        let call = said(&[
            (Channel::Rep, "Let's set up a demo sometime."),
            (Channel::FarEnd, "Maybe, I'm not sure yet."),
        ]);
        let steps = find_next_steps(&call);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].clarity, 0.25);
        assert_eq!(
            steps[0].missing,
            vec!["a time", "who does it", "the customer's yes"]
        );
    }

    #[test]
    fn the_time_can_come_in_the_customers_answer() {
        let call = said(&[
            (Channel::Rep, "Can we book thirty minutes with your CFO?"),
            (Channel::FarEnd, "Yes, next week works."),
        ]);
        let steps = find_next_steps(&call);
        assert_eq!(steps[0].when.as_deref(), Some("next week"));
        assert_eq!(steps[0].agreed_in, Some(1));
        assert_eq!(steps[0].clarity, 0.75);
    }

    #[test]
    fn the_customer_can_commit_themselves() {
        let call = said(&[(Channel::FarEnd, "I'll check with my manager tomorrow.")]);
        let steps = find_next_steps(&call);
        assert_eq!(steps[0].owner, Owner::Customer);
        assert_eq!(steps[0].agreed_in, Some(0));
        assert_eq!(steps[0].when.as_deref(), Some("tomorrow"));
    }

    #[test]
    fn talk_without_a_commitment_is_not_a_next_step() {
        let call = said(&[
            (Channel::Rep, "We send reports every week."),
            (Channel::FarEnd, "The demo last year was fine."),
        ]);
        assert!(find_next_steps(&call).is_empty());
    }

    #[test]
    fn times_and_dates_are_read() {
        for (text, when) in [
            ("at 4 then", "at 4"),
            ("10 30 am works", "10:30 am"),
            ("on the 21st", "21st"),
            ("by end of the week", "end of the week"),
        ] {
            assert_eq!(when_of(&normalize(text)).as_deref(), Some(when), "{text}");
        }
        assert_eq!(when_of(&normalize("we have 40 reps")), None);
    }

    #[test]
    fn a_yes_with_a_no_is_not_agreement() {
        assert!(agrees(&normalize("Yes, that works.")));
        assert!(!agrees(&normalize("Okay, but I can't do Thursday.")));
    }
}
