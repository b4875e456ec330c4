//! The live rule engine: transcript events in, cue cards and talk-track warnings out.
//!
//! Each [`Heard`] event (a partial or a final, from either side) is scanned once for
//! every playbook phrase ([`crate::matcher`]). A card fires when one of its triggers is
//! said by the right speaker, none of its negative phrases is in the same utterance,
//! its cooldown has passed and its per-call limits allow; cards firing together come
//! out by priority. A partial fires a card as soon as the words appear; the final of
//! the same utterance does not fire it again. Forbidden phrases raise a warning when
//! said; a required disclosure raises one when its deadline passes unsaid
//! ([`LiveCoach::tick`] or any later event).
//!
//! Times are milliseconds from the start of the call, the transcript's own clock, so
//! replaying a transcript gives the same cards as the live call did.

use crate::matcher::{Matcher, Target};
use crate::metrics::{CompetitorMention, LiveMetrics, MetricsTracker};
use crate::playbook::{CardKind, ObjectionType, Playbook, RuleKind, Severity, Speaker};
use crate::stage::{StageChange, StageTracker};
use cuecard_core::Channel;
use serde::Serialize;
use std::collections::HashSet;

/// One transcript event, as the coach needs it.
#[derive(Clone, Copy, Debug)]
pub struct Heard<'a> {
    pub channel: Channel,
    pub text: &'a str,
    pub start_ms: u32,
    pub end_ms: u32,
    /// A final (committed) text rather than a partial.
    pub is_final: bool,
}

/// A card to show.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct CardFired {
    pub card_id: String,
    /// Named `card_kind` on the wire: [`CoachOutput`]'s own tag is `kind`.
    #[serde(rename = "card_kind")]
    pub kind: CardKind,
    /// For objection cards: which family.
    pub objection: Option<ObjectionType>,
    pub title: String,
    pub body: String,
    pub points: Vec<String>,
    pub priority: u8,
    /// When the words that raised it ended (call time, ms).
    pub at_ms: u32,
    pub channel: Channel,
    /// The trigger phrase heard.
    pub trigger: String,
}

/// A talk-track rule broken.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct RuleWarning {
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub message: String,
    pub at_ms: u32,
    /// The forbidden phrase said; `None` for a missed disclosure.
    pub said: Option<String>,
}

/// What the coach shows.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoachOutput {
    Card(CardFired),
    Warning(RuleWarning),
    /// The conversation moved to another stage; what to do next.
    Stage(StageChange),
}

#[derive(Clone, Default)]
struct CardState {
    fired: u32,
    last_ms: Option<u32>,
}

/// The coach for one call.
pub struct LiveCoach {
    playbook: Playbook,
    matcher: Matcher,
    cards: Vec<CardState>,
    /// (card, channel, utterance start): fired by a partial, not again by its final.
    fired_in: HashSet<(usize, Channel, u32)>,
    /// Forbidden rules already warned about per utterance.
    warned_in: HashSet<(usize, Channel, u32)>,
    /// Required rules: satisfied, or already warned.
    settled: Vec<bool>,
    now_ms: u32,
    metrics: MetricsTracker,
    /// Competitor name → mentions (finals only).
    mentions: Vec<CompetitorMention>,
    /// When the last objection not yet answered ended.
    objection_open_ms: Option<u32>,
    objection_gaps: Vec<u32>,
    /// The customer utterance (channel, start) that last raised an objection card, by a
    /// partial or its final.
    objection_in: Option<(Channel, u32)>,
    stage: StageTracker,
}

fn speaks(speaker: Speaker, channel: Channel) -> bool {
    match speaker {
        Speaker::Any => true,
        Speaker::Rep => channel == Channel::Rep,
        Speaker::Prospect => channel == Channel::FarEnd,
    }
}

impl LiveCoach {
    pub fn new(playbook: Playbook) -> Result<Self, aho_corasick::BuildError> {
        let matcher = Matcher::new(&playbook)?;
        Ok(Self {
            cards: vec![CardState::default(); playbook.cards.len()],
            settled: vec![false; playbook.rules.len()],
            playbook,
            matcher,
            fired_in: HashSet::new(),
            warned_in: HashSet::new(),
            now_ms: 0,
            metrics: MetricsTracker::default(),
            mentions: Vec::new(),
            objection_open_ms: None,
            objection_gaps: Vec::new(),
            objection_in: None,
            stage: StageTracker::default(),
        })
    }

    pub fn playbook(&self) -> &Playbook {
        &self.playbook
    }

    /// Takes one transcript event; returns what to show, most important first.
    pub fn hear(&mut self, heard: Heard<'_>) -> Vec<CoachOutput> {
        let mut out = self.tick(heard.end_ms);
        if heard.is_final {
            self.metrics
                .final_heard(heard.channel, heard.text, heard.start_ms, heard.end_ms);
            if heard.channel == Channel::Rep
                && let Some(open) = self.objection_open_ms.take()
                && heard.start_ms >= open
            {
                self.objection_gaps.push(heard.start_ms - open);
            }
        }
        let hits = self.matcher.scan(heard.text);
        if hits.is_empty() {
            if heard.is_final {
                out.extend(self.stage_after(heard));
            }
            return out;
        }
        let negated: HashSet<usize> = hits
            .iter()
            .filter_map(|h| match h.target {
                Target::Negative(n) => Some(n),
                _ => None,
            })
            .collect();
        let mut cards = Vec::new();
        let mut seen = HashSet::new();
        if heard.is_final {
            self.count_mentions(&hits);
        }
        for hit in &hits {
            match hit.target {
                Target::Trigger(n) if !negated.contains(&n) && seen.insert(n) => {
                    if let Some(card) = self.fire(n, hit.phrase, heard) {
                        cards.push(card);
                    }
                }
                Target::Rule(n) => {
                    if let Some(w) = self.rule_said(n, hit.phrase, heard) {
                        out.push(CoachOutput::Warning(w));
                    }
                }
                _ => {}
            }
        }
        if heard.channel == Channel::FarEnd && cards.iter().any(|c| c.kind == CardKind::Objection) {
            self.objection_open_ms = Some(heard.end_ms);
            self.objection_in = Some((heard.channel, heard.start_ms));
        }
        cards.sort_by_key(|c| std::cmp::Reverse(c.priority));
        out.extend(cards.into_iter().map(CoachOutput::Card));
        if heard.is_final {
            out.extend(self.stage_after(heard));
        }
        out
    }

    /// Moves the stage on a final; the change, with the playbook's suggestions.
    fn stage_after(&mut self, heard: Heard<'_>) -> Option<CoachOutput> {
        let objection = self.objection_in == Some((heard.channel, heard.start_ms));
        let previous = self.stage.stage();
        let stage = self.stage.heard(
            heard.channel,
            heard.text,
            heard.start_ms,
            heard.end_ms,
            objection,
        )?;
        Some(CoachOutput::Stage(StageChange {
            stage,
            previous,
            at_ms: heard.end_ms,
            suggestions: self.playbook.suggestions(stage).to_vec(),
        }))
    }

    /// The stage the conversation is in.
    pub fn stage(&self) -> crate::stage::Stage {
        self.stage.stage()
    }

    fn fire(&mut self, n: usize, phrase: usize, heard: Heard<'_>) -> Option<CardFired> {
        let card = &self.playbook.cards[n];
        if !speaks(card.speaker, heard.channel) {
            return None;
        }
        let key = (n, heard.channel, heard.start_ms);
        if self.fired_in.contains(&key) {
            return None;
        }
        let state = &mut self.cards[n];
        if card.once_per_call && state.fired > 0 {
            return None;
        }
        if card.max_per_call.is_some_and(|max| state.fired >= max) {
            return None;
        }
        let cooldown_ms = card
            .cooldown_s
            .unwrap_or(self.playbook.playbook.default_cooldown_s)
            .saturating_mul(1000);
        if state
            .last_ms
            .is_some_and(|last| heard.end_ms < last.saturating_add(cooldown_ms))
        {
            return None;
        }
        state.fired += 1;
        state.last_ms = Some(heard.end_ms);
        self.fired_in.insert(key);
        tracing::debug!(card = %card.id, at_ms = heard.end_ms, final_ = heard.is_final, "card fired");
        Some(CardFired {
            card_id: card.id.clone(),
            kind: card.kind,
            objection: card.objection,
            title: card.title.clone(),
            body: card.body.clone(),
            points: card.points.clone(),
            priority: card.priority,
            at_ms: heard.end_ms,
            channel: heard.channel,
            trigger: card.triggers[phrase].clone(),
        })
    }

    fn rule_said(&mut self, n: usize, phrase: usize, heard: Heard<'_>) -> Option<RuleWarning> {
        let rule = &self.playbook.rules[n];
        if !speaks(rule.speaker, heard.channel) {
            return None;
        }
        match rule.kind {
            RuleKind::Required => {
                self.settled[n] = true;
                None
            }
            RuleKind::Forbidden => {
                if !self.warned_in.insert((n, heard.channel, heard.start_ms)) {
                    return None;
                }
                Some(RuleWarning {
                    rule_id: rule.id.clone(),
                    title: rule.title.clone(),
                    severity: rule.severity,
                    message: rule.message.clone(),
                    at_ms: heard.end_ms,
                    said: Some(rule.phrases[phrase].clone()),
                })
            }
        }
    }

    /// Counts each competitor once per final in which any of its battlecard's triggers
    /// is said (by either side), whether or not the card was cooling down.
    fn count_mentions(&mut self, hits: &[crate::matcher::Hit]) {
        let mut seen = HashSet::new();
        for hit in hits {
            let Target::Trigger(n) = hit.target else {
                continue;
            };
            let card = &self.playbook.cards[n];
            let Some(name) = card
                .competitor
                .as_deref()
                .filter(|_| card.kind == CardKind::Competitor)
            else {
                continue;
            };
            if !seen.insert(name.to_owned()) {
                continue;
            }
            match self.mentions.iter_mut().find(|m| m.competitor == name) {
                Some(m) => m.count += 1,
                None => self.mentions.push(CompetitorMention {
                    competitor: name.to_owned(),
                    count: 1,
                }),
            }
        }
    }

    /// The conversation's metrics so far (from the finals heard).
    pub fn metrics(&self) -> LiveMetrics {
        let mut m = self.metrics.snapshot();
        let mut mentions = self.mentions.clone();
        mentions.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.competitor.cmp(&b.competitor))
        });
        m.competitor_mentions = mentions;
        if !self.objection_gaps.is_empty() {
            let mut gaps = self.objection_gaps.clone();
            gaps.sort_unstable();
            m.objection_patience_ms = Some(gaps[gaps.len() / 2]);
        }
        m
    }

    /// Moves the call clock to `now_ms` (call time): required disclosures whose deadline
    /// passed unsaid raise their warning, once.
    pub fn tick(&mut self, now_ms: u32) -> Vec<CoachOutput> {
        self.now_ms = self.now_ms.max(now_ms);
        let mut out = Vec::new();
        for (n, rule) in self.playbook.rules.iter().enumerate() {
            let Some(within_s) = rule.within_s else {
                continue;
            };
            if rule.kind == RuleKind::Required
                && !self.settled[n]
                && self.now_ms >= within_s.saturating_mul(1000)
            {
                self.settled[n] = true;
                out.push(CoachOutput::Warning(RuleWarning {
                    rule_id: rule.id.clone(),
                    title: rule.title.clone(),
                    severity: rule.severity,
                    message: rule.message.clone(),
                    at_ms: within_s.saturating_mul(1000),
                    said: None,
                }));
            }
        }
        out
    }
}
