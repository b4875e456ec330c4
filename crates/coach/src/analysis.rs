//! After the call: what happened, in figures and in a few plain sentences — talk ratio,
//! the longest monologue and the longest customer story, how interactive the call was,
//! questions, fillers, pace and patience, the customer's mood over time, each objection
//! and whether it was answered, competitors, the stages the call went through, and the
//! next steps with how clear they were. Every item points at the utterances behind it.
//!
//! Built by [`crate::scorecard::review`] from the same pass of the live engine the
//! scorecard uses, so the analysis, the cards and the score never disagree.

use crate::live::CoachOutput;
use crate::metrics::{CompetitorMention, LiveMetrics};
use crate::nextsteps::{NextStep, Owner};
use crate::playbook::{CardKind, ObjectionType};
use crate::scorecard::Said;
use crate::sentiment::Trend;
use crate::stage::Stage;
use crate::text::{normalize, words};
use cuecard_core::Channel;
use serde::Serialize;

/// A pause shorter than this does not end the customer's story, ms.
const STORY_GAP_MS: u32 = 1_500;

/// How soon after an objection the rep's answer must start to count, ms.
pub const ANSWER_WITHIN_MS: u32 = 30_000;

/// The customer's mood after one of their utterances.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, specta::Type)]
pub struct SentimentPoint {
    pub at_ms: u32,
    /// Smoothed, −1…+1.
    pub level: f32,
    pub utterance: usize,
}

/// An objection the customer raised.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct ObjectionRaised {
    pub card_id: String,
    pub title: String,
    pub objection: Option<ObjectionType>,
    pub utterance: usize,
    /// The rep's answer, when one came in time.
    pub answered_in: Option<usize>,
}

/// A stretch of the call in one stage.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, specta::Type)]
pub struct StageSpan {
    pub stage: Stage,
    pub from_ms: u32,
    pub to_ms: u32,
}

/// The post-call analysis.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct CallAnalysis {
    pub duration_ms: u32,
    pub talk_ratio: Option<f32>,
    pub longest_monologue_ms: u32,
    /// The longest stretch of the customer talking without the rep, ms.
    pub longest_customer_story_ms: u32,
    /// Speaker switches per minute.
    pub interactivity: f32,
    pub questions: u32,
    /// The rep's questions per ten minutes of call.
    pub question_rate: f32,
    /// Fillers per 100 of the rep's words.
    pub filler_rate: Option<f32>,
    pub words_per_minute: Option<f32>,
    pub patience_ms: Option<u32>,
    pub sentiment: Vec<SentimentPoint>,
    pub sentiment_trend: Trend,
    pub objections: Vec<ObjectionRaised>,
    pub competitors: Vec<CompetitorMention>,
    pub stages: Vec<StageSpan>,
    pub next_steps: Vec<NextStep>,
    /// A few sentences for the call log and the follow-up.
    pub summary: Vec<String>,
}

/// The rep's answer to an objection raised in utterance `i`: their first substantial
/// utterance (four words or more) starting within [`ANSWER_WITHIN_MS`] of its end.
pub fn answer_to(said: &[Said<'_>], i: usize, within_ms: u32) -> Option<usize> {
    let end = said.get(i)?.end_ms;
    (i + 1..said.len()).find(|&j| {
        said[j].channel == Channel::Rep
            && said[j].start_ms <= end.saturating_add(within_ms)
            && words(&normalize(said[j].text)).count() >= 4
    })
}

/// The longest run of customer utterances with no rep words between and no pause over
/// [`STORY_GAP_MS`], ms.
fn longest_customer_story(said: &[Said<'_>]) -> u32 {
    let (mut longest, mut run_start, mut last_end) = (0u32, None::<u32>, 0u32);
    for s in said {
        if s.channel == Channel::Rep {
            run_start = None;
            continue;
        }
        let start = match run_start {
            Some(start) if s.start_ms <= last_end.saturating_add(STORY_GAP_MS) => start,
            _ => s.start_ms,
        };
        run_start = Some(start);
        last_end = s.end_ms;
        longest = longest.max(s.end_ms.saturating_sub(start));
    }
    longest
}

/// Builds the analysis. `shown` is what the live engine raised (with the utterance
/// that raised it), `sentiment` the customer's level after each of their finals.
pub(crate) fn analyse(
    said: &[Said<'_>],
    shown: &[(usize, CoachOutput)],
    metrics: &LiveMetrics,
    sentiment: Vec<SentimentPoint>,
    next_steps: Vec<NextStep>,
) -> CallAnalysis {
    let first = said.first().map_or(0, |s| s.start_ms);
    let end = said.iter().map(|s| s.end_ms).max().unwrap_or(0);
    let duration_ms = end.saturating_sub(first);
    let minutes = duration_ms as f32 / 60_000.0;
    let switches = said
        .windows(2)
        .filter(|w| w[0].channel != w[1].channel)
        .count();
    let per_minute = |n: f32| if minutes > 0.0 { n / minutes } else { 0.0 };

    let objections: Vec<ObjectionRaised> = shown
        .iter()
        .filter_map(|(i, o)| match o {
            CoachOutput::Card(c) if c.kind == CardKind::Objection => Some(ObjectionRaised {
                card_id: c.card_id.clone(),
                title: c.title.clone(),
                objection: c.objection,
                utterance: *i,
                answered_in: answer_to(said, *i, ANSWER_WITHIN_MS),
            }),
            _ => None,
        })
        .collect();

    let mut stages = vec![StageSpan {
        stage: Stage::Opening,
        from_ms: first,
        to_ms: end,
    }];
    for (_, o) in shown {
        if let CoachOutput::Stage(change) = o
            && let Some(last) = stages.last_mut()
        {
            last.to_ms = change.at_ms;
            stages.push(StageSpan {
                stage: change.stage,
                from_ms: change.at_ms,
                to_ms: end,
            });
        }
    }
    stages.retain(|s| s.to_ms > s.from_ms || s.from_ms == end);

    let mut analysis = CallAnalysis {
        duration_ms,
        talk_ratio: metrics.talk_ratio,
        longest_monologue_ms: metrics.longest_monologue_ms,
        longest_customer_story_ms: longest_customer_story(said),
        interactivity: per_minute(switches as f32),
        questions: metrics.questions,
        question_rate: per_minute(metrics.questions as f32) * 10.0,
        filler_rate: metrics.filler_rate,
        words_per_minute: metrics.words_per_minute,
        patience_ms: metrics.patience_ms,
        sentiment,
        sentiment_trend: metrics.sentiment_trend,
        objections,
        competitors: metrics.competitor_mentions.clone(),
        stages,
        next_steps,
        summary: Vec::new(),
    };
    analysis.summary = summarise(&analysis, said);
    analysis
}

fn summarise(a: &CallAnalysis, said: &[Said<'_>]) -> Vec<String> {
    let mut lines = Vec::new();
    let minutes = (a.duration_ms as f32 / 60_000.0).round().max(1.0) as u32;
    let plural = |n: u32, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let talk = a.talk_ratio.map_or(String::new(), |r| {
        format!("; the rep talked {:.0}% of the time", r * 100.0)
    });
    lines.push(format!(
        "A {minutes}-minute call{talk} and asked {}.",
        plural(a.questions, "question", "questions")
    ));
    if a.objections.is_empty() {
        lines.push("The customer raised no objections.".to_owned());
    } else {
        let each: Vec<String> = a
            .objections
            .iter()
            .map(|o| {
                let status = if o.answered_in.is_some() {
                    "answered"
                } else {
                    "not answered"
                };
                format!("{} ({status})", o.title.to_lowercase())
            })
            .collect();
        lines.push(format!(
            "The customer raised {}: {}.",
            plural(a.objections.len() as u32, "objection", "objections"),
            each.join(", ")
        ));
    }
    if !a.competitors.is_empty() {
        let named: Vec<String> = a
            .competitors
            .iter()
            .map(|c| format!("{} ({})", c.competitor, c.count))
            .collect();
        lines.push(format!("Competitors named: {}.", named.join(", ")));
    }
    // The clearest; of equals, the last said.
    let best = a
        .next_steps
        .iter()
        .max_by(|x, y| x.clarity.total_cmp(&y.clarity));
    match best {
        Some(step) => {
            let quote = said.get(step.utterance).map_or("", |s| s.text.trim());
            let who = match step.owner {
                Owner::Rep => "the rep",
                Owner::Customer => "the customer",
                Owner::Both => "both sides",
            };
            let when = step
                .when
                .as_deref()
                .map_or(String::new(), |w| format!(", {w}"));
            let agreed = if step.agreed_in.is_some() {
                "agreed"
            } else {
                "not confirmed"
            };
            let missing = if step.missing.is_empty() {
                String::new()
            } else {
                format!("; missing {}", step.missing.join(", "))
            };
            lines.push(format!(
                "Next step: “{quote}” ({who}{when}, {agreed}{missing})."
            ));
        }
        None => lines.push("No next step was agreed.".to_owned()),
    }
    if let Some(last) = a.sentiment.last() {
        let mood = if last.level >= 0.05 {
            "positive"
        } else if last.level <= -0.05 {
            "negative"
        } else {
            "neutral"
        };
        let trend = match a.sentiment_trend {
            Trend::Rising => ", rising",
            Trend::Falling => ", falling",
            Trend::Steady => "",
        };
        lines.push(format!("The customer ended {mood}{trend}."));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said<'a>(lines: &[(Channel, &'a str, u32, u32)]) -> Vec<Said<'a>> {
        lines
            .iter()
            .map(|(channel, text, start_ms, end_ms)| Said {
                channel: *channel,
                text,
                start_ms: *start_ms,
                end_ms: *end_ms,
            })
            .collect()
    }

    #[test]
    fn the_customers_longest_story_spans_short_pauses_only() {
        let call = said(&[
            (Channel::Rep, "Tell me about it.", 0, 2_000),
            (Channel::FarEnd, "Well, last quarter", 3_000, 6_000),
            (Channel::FarEnd, "we lost three deals", 7_000, 12_000),
            (Channel::FarEnd, "after a long pause", 15_000, 17_000),
            (Channel::Rep, "Ouch.", 18_000, 19_000),
        ]);
        assert_eq!(longest_customer_story(&call), 9_000);
    }

    #[test]
    fn an_answer_needs_words_and_must_come_in_time() {
        let call = said(&[
            (Channel::FarEnd, "It is too expensive.", 0, 2_000),
            (Channel::Rep, "Right.", 2_500, 3_000),
            (
                Channel::Rep,
                "Compared with what it costs you today?",
                4_000,
                7_000,
            ),
        ]);
        assert_eq!(answer_to(&call, 0, ANSWER_WITHIN_MS), Some(2));
        assert_eq!(answer_to(&call, 0, 1_000), None);
    }
}
