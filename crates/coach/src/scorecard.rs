//! The post-call scorecard: a 0–100 score from a rubric of checks with partial credit,
//! each check explained and linked to the utterances behind it.
//!
//! A rubric (TOML; the default is `assets/playbooks/rubric-default.toml`) has weighted
//! categories (discovery, rapport, objection handling, closing, next steps) and checks,
//! each in one category with its own weight. A check gives 0–1 credit; a category
//! scores the weighted mean of its checks; the total is the weighted mean of the
//! categories × 100. The rubric's id and version go into every score, so an old score
//! stays explainable after the rubric is edited.

use crate::analysis::{CallAnalysis, SentimentPoint, analyse, answer_to};
use crate::live::{CoachOutput, Heard, LiveCoach};
use crate::metrics::{LiveMetrics, count_questions};
use crate::nextsteps::{NextStep, find_next_steps};
use crate::playbook::{CardKind, Playbook, PlaybookError, RuleKind, parse_toml, read_toml};
use cuecard_core::Channel;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a check measures, with its target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Full credit at this many questions by the rep; proportional below.
    QuestionsAtLeast(u32),
    /// Full credit at or under this share of talk time; none at 0.25 over it.
    TalkRatioAtMost(f32),
    /// Full credit at or under this many seconds; none at twice it.
    LongestMonologueAtMostS(u32),
    /// Full credit at this median pause before answering; proportional below.
    PatienceAtLeastMs(u32),
    /// Full credit when the customer's smoothed sentiment ends at least here; linear
    /// from −1.
    FinalSentimentAtLeast(f32),
    /// The share of objections the rep answered (spoke within this many seconds after).
    ObjectionsAnsweredWithinS(u32),
    /// No forbidden claim was made.
    NoForbiddenClaims,
    /// The share of required disclosures made in time.
    DisclosuresMade,
    /// Full credit when the card with this id fired during the call.
    CardFired(String),
    /// The clearest next step's clarity: a quarter each for the action, a time, an
    /// owner and the customer's yes; none without a next step.
    NextStepClarity,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct RubricCheck {
    pub id: String,
    pub category: String,
    pub label: String,
    pub kind: CheckKind,
    #[serde(default = "one")]
    pub weight: f32,
}

fn one() -> f32 {
    1.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct RubricCategory {
    pub key: String,
    pub label: String,
    pub weight: f32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct RubricInfo {
    pub id: String,
    pub version: u32,
}

/// A scoring rubric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    pub rubric: RubricInfo,
    pub categories: Vec<RubricCategory>,
    pub checks: Vec<RubricCheck>,
}

impl Rubric {
    /// Parses and validates rubric TOML; `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PlaybookError> {
        let rubric: Rubric = parse_toml(text, path)?;
        rubric.validate(path)?;
        Ok(rubric)
    }

    /// Reads and validates a rubric file.
    pub fn load(path: &Path) -> Result<Self, PlaybookError> {
        let rubric: Rubric = read_toml(path)?;
        rubric.validate(path)?;
        Ok(rubric)
    }

    pub fn default_rubric() -> Self {
        let text = include_str!("../../../assets/playbooks/rubric-default.toml");
        Self::parse(text, Path::new("assets/playbooks/rubric-default.toml"))
            .unwrap_or_else(|e| panic!("the shipped rubric is invalid: {e}"))
    }

    fn validate(&self, path: &Path) -> Result<(), PlaybookError> {
        let invalid = |item: String, field: &'static str, message: String| PlaybookError::Invalid {
            path: PathBuf::from(path),
            item,
            field,
            message,
        };
        if self.categories.is_empty() {
            return Err(invalid(
                "rubric".into(),
                "categories",
                "needs at least one".into(),
            ));
        }
        for c in &self.categories {
            if !(c.weight.is_finite() && c.weight > 0.0) {
                return Err(invalid(
                    format!("category {:?}", c.key),
                    "weight",
                    format!("{} is not a positive number", c.weight),
                ));
            }
        }
        for check in &self.checks {
            let item = format!("check {:?}", check.id);
            if !self.categories.iter().any(|c| c.key == check.category) {
                return Err(invalid(
                    item,
                    "category",
                    format!("{:?} is not one of the rubric's categories", check.category),
                ));
            }
            if !(check.weight.is_finite() && check.weight > 0.0) {
                return Err(invalid(
                    item,
                    "weight",
                    format!("{} is not a positive number", check.weight),
                ));
            }
        }
        Ok(())
    }
}

/// One utterance of the call.
#[derive(Clone, Copy, Debug)]
pub struct Said<'a> {
    pub channel: Channel,
    pub text: &'a str,
    pub start_ms: u32,
    pub end_ms: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct CheckScore {
    pub id: String,
    pub category: String,
    pub label: String,
    /// 0.0–1.0.
    pub credit: f32,
    pub explanation: String,
    /// Indexes of the utterances behind the result.
    pub evidence: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct CategoryScore {
    pub key: String,
    pub label: String,
    /// 0–100.
    pub score: u8,
    pub weight: f32,
}

/// A call's score, explained.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct Score {
    pub rubric_id: String,
    pub rubric_version: u32,
    /// 0–100.
    pub total: u8,
    pub categories: Vec<CategoryScore>,
    pub checks: Vec<CheckScore>,
}

impl Score {
    /// The score as the store keeps it, for `subject`: utterance indexes become the
    /// ids of the stored utterances (`ids[i]` for utterance `i`), and the rubric's id and
    /// version are kept so the score stays explainable after the rubric changes.
    pub fn to_scorecard(
        &self,
        subject: cuecard_core::ScoreSubject,
        ids: &[cuecard_core::UtteranceId],
        created_at: cuecard_core::Timestamp,
    ) -> cuecard_core::Scorecard {
        cuecard_core::Scorecard {
            id: cuecard_core::ScorecardId::new(),
            subject,
            total: self.total,
            rubric_version: format!("{} v{}", self.rubric_id, self.rubric_version),
            categories: self
                .categories
                .iter()
                .map(|c| cuecard_core::CategoryScore {
                    key: c.key.clone(),
                    label: c.label.clone(),
                    score: f32::from(c.score),
                    max: 100.0,
                    weight: c.weight,
                })
                .collect(),
            checks: self
                .checks
                .iter()
                .map(|c| cuecard_core::CheckResult {
                    check_id: c.id.clone(),
                    category: c.category.clone(),
                    credit: c.credit,
                    explanation: c.explanation.clone(),
                    evidence: c
                        .evidence
                        .iter()
                        .filter_map(|&i| ids.get(i).copied())
                        .collect(),
                })
                .collect(),
            status: cuecard_core::ScorecardStatus::Final,
            created_at,
        }
    }
}

/// What the coach made of a whole call.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct Review {
    /// Cards, warnings and stage changes, with the index of the utterance that raised
    /// each.
    pub shown: Vec<(usize, CoachOutput)>,
    pub metrics: LiveMetrics,
    pub analysis: CallAnalysis,
    pub score: Score,
}

/// Runs a call's utterances (in time order) through the coach and scores it.
pub fn review(
    playbook: &Playbook,
    rubric: &Rubric,
    said: &[Said<'_>],
) -> Result<Review, aho_corasick::BuildError> {
    let mut coach = LiveCoach::new(playbook.clone())?;
    let mut shown = Vec::new();
    let mut sentiment = Vec::new();
    for (i, s) in said.iter().enumerate() {
        for o in coach.hear(Heard {
            channel: s.channel,
            text: s.text,
            start_ms: s.start_ms,
            end_ms: s.end_ms,
            is_final: true,
        }) {
            shown.push((i, o));
        }
        if s.channel == Channel::FarEnd
            && let Some(level) = coach.metrics().prospect_sentiment
        {
            sentiment.push(SentimentPoint {
                at_ms: s.end_ms,
                level,
                utterance: i,
            });
        }
    }
    // The call is over: a disclosure never made is missed, even when the call ended
    // before its deadline.
    if let Some(last) = said.last() {
        let deadlines = playbook
            .rules
            .iter()
            .filter_map(|r| r.within_s)
            .max()
            .unwrap_or(0);
        for o in coach.tick(last.end_ms.max(deadlines.saturating_mul(1000))) {
            shown.push((said.len() - 1, o));
        }
    }
    let metrics = coach.metrics();
    let next_steps = find_next_steps(said);
    let score = score(playbook, rubric, said, &shown, &metrics, &next_steps);
    let analysis = analyse(said, &shown, &metrics, sentiment, next_steps);
    Ok(Review {
        shown,
        metrics,
        analysis,
        score,
    })
}

fn falloff(value: f32, limit: f32, zero_at: f32) -> f32 {
    if value <= limit {
        1.0
    } else {
        (1.0 - (value - limit) / (zero_at - limit)).clamp(0.0, 1.0)
    }
}

fn score(
    playbook: &Playbook,
    rubric: &Rubric,
    said: &[Said<'_>],
    shown: &[(usize, CoachOutput)],
    m: &LiveMetrics,
    next_steps: &[NextStep],
) -> Score {
    let checks: Vec<CheckScore> = rubric
        .checks
        .iter()
        .map(|check| {
            let (credit, explanation, mut evidence) =
                evaluate(&check.kind, playbook, said, shown, m, next_steps);
            // Each utterance once, in call order.
            evidence.sort_unstable();
            evidence.dedup();
            CheckScore {
                id: check.id.clone(),
                category: check.category.clone(),
                label: check.label.clone(),
                credit,
                explanation,
                evidence,
            }
        })
        .collect();
    let mut categories = Vec::new();
    let (mut total, mut weights) = (0.0f32, 0.0f32);
    for c in &rubric.categories {
        let (mut sum, mut w) = (0.0f32, 0.0f32);
        for (check, result) in rubric.checks.iter().zip(&checks) {
            if check.category == c.key {
                sum += check.weight * result.credit;
                w += check.weight;
            }
        }
        // A category without checks does not count.
        if w == 0.0 {
            continue;
        }
        let value = sum / w;
        total += c.weight * value;
        weights += c.weight;
        categories.push(CategoryScore {
            key: c.key.clone(),
            label: c.label.clone(),
            score: (value * 100.0).round() as u8,
            weight: c.weight,
        });
    }
    Score {
        rubric_id: rubric.rubric.id.clone(),
        rubric_version: rubric.rubric.version,
        total: if weights > 0.0 {
            (total / weights * 100.0).round() as u8
        } else {
            0
        },
        categories,
        checks,
    }
}

fn evaluate(
    kind: &CheckKind,
    playbook: &Playbook,
    said: &[Said<'_>],
    shown: &[(usize, CoachOutput)],
    m: &LiveMetrics,
    next_steps: &[NextStep],
) -> (f32, String, Vec<usize>) {
    let rep = |i: &usize| said[*i].channel == Channel::Rep;
    match kind {
        CheckKind::QuestionsAtLeast(n) => {
            let evidence: Vec<usize> = (0..said.len())
                .filter(|i| rep(i) && count_questions(said[*i].text) > 0)
                .collect();
            let credit = (m.questions as f32 / (*n).max(1) as f32).min(1.0);
            (
                credit,
                format!("{} questions asked (target {n})", m.questions),
                evidence,
            )
        }
        CheckKind::TalkRatioAtMost(max) => match m.talk_ratio {
            Some(r) => (
                falloff(r, *max, max + 0.25),
                format!(
                    "the rep talked {:.0}% of the time (target at most {:.0}%)",
                    r * 100.0,
                    max * 100.0
                ),
                Vec::new(),
            ),
            None => (0.0, "nobody spoke".into(), Vec::new()),
        },
        CheckKind::LongestMonologueAtMostS(s) => {
            let secs = m.longest_monologue_ms as f32 / 1000.0;
            (
                falloff(secs, *s as f32, 2.0 * *s as f32),
                format!("longest monologue {secs:.0} s (target at most {s} s)"),
                Vec::new(),
            )
        }
        CheckKind::PatienceAtLeastMs(ms) => match m.patience_ms {
            Some(p) => (
                (p as f32 / (*ms).max(1) as f32).min(1.0),
                format!(
                    "waited {:.1} s before answering (target {:.1} s)",
                    p as f32 / 1000.0,
                    *ms as f32 / 1000.0
                ),
                Vec::new(),
            ),
            None => (
                0.0,
                "the rep never answered the customer".into(),
                Vec::new(),
            ),
        },
        CheckKind::FinalSentimentAtLeast(target) => match m.prospect_sentiment {
            Some(s) => {
                let credit = if s >= *target {
                    1.0
                } else {
                    ((s + 1.0) / (target + 1.0)).clamp(0.0, 1.0)
                };
                let last = (0..said.len()).rev().find(|i| !rep(i));
                (
                    credit,
                    format!("the customer's mood ended at {s:+.2} (target {target:+.2})"),
                    last.into_iter().collect(),
                )
            }
            None => (0.0, "the customer never spoke".into(), Vec::new()),
        },
        CheckKind::ObjectionsAnsweredWithinS(within) => {
            let mut raised = 0;
            let mut answered = 0;
            let mut evidence = Vec::new();
            for (i, o) in shown {
                let CoachOutput::Card(card) = o else { continue };
                if card.kind != CardKind::Objection {
                    continue;
                }
                raised += 1;
                evidence.push(*i);
                if let Some(j) = answer_to(said, *i, within.saturating_mul(1000)) {
                    answered += 1;
                    evidence.push(j);
                }
            }
            if raised == 0 {
                (1.0, "no objections came up".into(), evidence)
            } else {
                (
                    answered as f32 / raised as f32,
                    format!("answered {answered} of {raised} objections"),
                    evidence,
                )
            }
        }
        CheckKind::NoForbiddenClaims => {
            let evidence: Vec<usize> = shown
                .iter()
                .filter(|(_, o)| matches!(o, CoachOutput::Warning(w) if w.said.is_some()))
                .map(|(i, _)| *i)
                .collect();
            if evidence.is_empty() {
                (1.0, "no forbidden claims".into(), evidence)
            } else {
                (
                    0.0,
                    format!("{} forbidden claim(s)", evidence.len()),
                    evidence,
                )
            }
        }
        CheckKind::DisclosuresMade => {
            let required = playbook
                .rules
                .iter()
                .filter(|r| r.kind == RuleKind::Required)
                .count();
            let missed: Vec<&str> = shown
                .iter()
                .filter_map(|(_, o)| match o {
                    CoachOutput::Warning(w) if w.said.is_none() => Some(w.title.as_str()),
                    _ => None,
                })
                .collect();
            if required == 0 {
                return (
                    1.0,
                    "the playbook requires no disclosures".into(),
                    Vec::new(),
                );
            }
            let made = required.saturating_sub(missed.len());
            let explanation = if missed.is_empty() {
                format!("all {required} disclosures made in time")
            } else {
                format!("missed: {}", missed.join(", "))
            };
            (made as f32 / required as f32, explanation, Vec::new())
        }
        CheckKind::CardFired(id) => {
            let at: Vec<usize> = shown
                .iter()
                .filter(|(_, o)| matches!(o, CoachOutput::Card(c) if &c.card_id == id))
                .map(|(i, _)| *i)
                .collect();
            let title = playbook.card(id).map_or(id.as_str(), |c| c.title.as_str());
            if at.is_empty() {
                (0.0, format!("“{title}” never came up"), at)
            } else {
                (1.0, format!("“{title}” came up"), at)
            }
        }
        CheckKind::NextStepClarity => {
            // The clearest; of equals, the last said.
            let best = next_steps
                .iter()
                .max_by(|a, b| a.clarity.total_cmp(&b.clarity));
            match best {
                None => (0.0, "no next step was set".into(), Vec::new()),
                Some(step) => {
                    let evidence = std::iter::once(step.utterance)
                        .chain(step.agreed_in.filter(|&j| j != step.utterance))
                        .collect();
                    let explanation = if step.missing.is_empty() {
                        format!(
                            "a clear next step ({}, {})",
                            step.action,
                            step.when.as_deref().unwrap_or("")
                        )
                    } else {
                        format!(
                            "next step ({}) lacks {}",
                            step.action,
                            step.missing.join(", ")
                        )
                    };
                    (step.clarity, explanation, evidence)
                }
            }
        }
    }
}
