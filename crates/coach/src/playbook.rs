//! Playbooks: what the coach knows. One TOML file per playbook (`assets/playbooks/`
//! ships the default for a generic B2B team): cue cards with their trigger phrases,
//! objections with suggested answers, competitor battlecards, and talk-track rules —
//! claims a rep must never make and disclosures they must make early.
//!
//! Loading validates everything and names the file, the item and the field of any
//! problem, so a hand-edited playbook fails with a message a person can act on.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Who has to say a phrase for it to count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The customer (the far end of the call, the persona in practice).
    #[default]
    Prospect,
    Rep,
    Any,
}

/// What a card is for; the overlay groups and colours by it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// An objection and how to answer it.
    Objection,
    /// A competitor battlecard.
    Competitor,
    /// A prompt for a discovery question.
    Discovery,
    /// A way to move to a next step.
    NextStep,
    #[default]
    Tip,
}

/// The objection families the library covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionType {
    Price,
    Timing,
    Authority,
    Need,
    Competitor,
    StatusQuo,
    Trust,
}

/// A link on a card (a one-pager, a calculator).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// A cue card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// Unique in the playbook; evidence and dismissals refer to it.
    pub id: String,
    #[serde(default)]
    pub kind: CardKind,
    /// For objection cards: which family.
    #[serde(default)]
    pub objection: Option<ObjectionType>,
    /// For competitor cards: the competitor's name.
    #[serde(default)]
    pub competitor: Option<String>,
    pub title: String,
    /// Phrases (and their synonyms) that raise the card, matched on whole words.
    pub triggers: Vec<String>,
    /// Phrases that, in the same utterance, mean the card does not apply ("price is
    /// not the issue").
    #[serde(default)]
    pub negatives: Vec<String>,
    #[serde(default)]
    pub speaker: Speaker,
    /// 0–100: which card wins when several fire at once.
    #[serde(default = "default_priority")]
    pub priority: u8,
    /// Seconds before the card can fire again.
    #[serde(default)]
    pub cooldown_s: Option<u32>,
    #[serde(default)]
    pub once_per_call: bool,
    #[serde(default)]
    pub max_per_call: Option<u32>,
    /// What to say.
    pub body: String,
    /// Talking points (battlecards: where we win, traps to set).
    #[serde(default)]
    pub points: Vec<String>,
    #[serde(default)]
    pub links: Vec<Link>,
}

fn default_priority() -> u8 {
    50
}

/// How bad breaking a talk-track rule is.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    #[default]
    Warning,
    Critical,
}

/// A talk-track rule's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Saying any of the phrases breaks the rule (a claim never to make).
    Forbidden,
    /// One of the phrases must be said within `within_s` of the call's start (a
    /// recording or AI disclosure).
    Required,
}

/// A talk-track compliance rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    pub title: String,
    pub phrases: Vec<String>,
    /// Whose words the rule is about (almost always the rep's).
    #[serde(default = "rep")]
    pub speaker: Speaker,
    #[serde(default)]
    pub severity: Severity,
    /// Required rules: the deadline, seconds from the start of the call.
    #[serde(default)]
    pub within_s: Option<u32>,
    /// What the warning tells the rep.
    pub message: String,
}

fn rep() -> Speaker {
    Speaker::Rep
}

/// What to suggest in one stage of the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct StageGuide {
    pub stage: crate::stage::Stage,
    /// Next steps to suggest when the call enters the stage, most useful first.
    pub suggestions: Vec<String>,
}

/// A playbook's name and version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct PlaybookInfo {
    pub id: String,
    pub name: String,
    /// Bumped on every edit, so a call records which playbook coached it.
    pub version: u32,
    /// Cooldown for cards that name none, seconds.
    #[serde(default = "default_cooldown")]
    pub default_cooldown_s: u32,
}

fn default_cooldown() -> u32 {
    45
}

/// A whole playbook.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub playbook: PlaybookInfo,
    #[serde(default)]
    pub cards: Vec<Card>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Suggestions per stage of the conversation.
    #[serde(default)]
    pub stages: Vec<StageGuide>,
}

/// Why a playbook could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("cannot read the playbook {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: {item}: {field}: {message}")]
    Invalid {
        path: PathBuf,
        /// `card "price"`, `rule "recording-consent"`, `playbook`.
        item: String,
        field: &'static str,
        message: String,
    },
}

impl Playbook {
    /// Reads and validates a playbook file.
    pub fn load(path: &Path) -> Result<Self, PlaybookError> {
        let playbook: Playbook = read_toml(path)?;
        playbook.validate(path)?;
        Ok(playbook)
    }

    /// Parses and validates playbook TOML; `path` is only for messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, PlaybookError> {
        let playbook: Playbook = parse_toml(text, path)?;
        playbook.validate(path)?;
        Ok(playbook)
    }

    /// The playbook as TOML (what export writes and load reads back).
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string_pretty(self)
    }

    /// The default playbook for a generic B2B team, from `assets/playbooks/`.
    pub fn default_b2b() -> Self {
        let text = include_str!("../../../assets/playbooks/default-b2b.toml");
        // The shipped file is validated by a test; a broken build would fail there.
        Self::parse(text, Path::new("assets/playbooks/default-b2b.toml"))
            .unwrap_or_else(|e| panic!("the shipped playbook is invalid: {e}"))
    }

    /// Checks ids, phrases, numbers and links.
    pub fn validate(&self, path: &Path) -> Result<(), PlaybookError> {
        let invalid = |item: String, field: &'static str, message: String| PlaybookError::Invalid {
            path: path.to_owned(),
            item,
            field,
            message,
        };
        let info = &self.playbook;
        if info.id.trim().is_empty() {
            return Err(invalid("playbook".into(), "id", "is empty".into()));
        }
        if info.name.trim().is_empty() {
            return Err(invalid("playbook".into(), "name", "is empty".into()));
        }
        let mut ids = HashSet::new();
        for card in &self.cards {
            let item = format!("card {:?}", card.id);
            if card.id.trim().is_empty() {
                return Err(invalid(item, "id", "is empty".into()));
            }
            if !ids.insert(card.id.as_str()) {
                return Err(invalid(
                    item,
                    "id",
                    "is used by another card or rule".into(),
                ));
            }
            if card.title.trim().is_empty() {
                return Err(invalid(item, "title", "is empty".into()));
            }
            check_phrases(&card.triggers, true)
                .map_err(|m| invalid(item.clone(), "triggers", m))?;
            check_phrases(&card.negatives, false)
                .map_err(|m| invalid(item.clone(), "negatives", m))?;
            if card.priority > 100 {
                return Err(invalid(
                    item,
                    "priority",
                    format!("{} is over 100", card.priority),
                ));
            }
            if card.max_per_call == Some(0) {
                return Err(invalid(
                    item,
                    "max_per_call",
                    "0 would never show the card".into(),
                ));
            }
            if card.kind == CardKind::Objection && card.objection.is_none() {
                return Err(invalid(item, "objection", "an objection card needs its type (price, timing, authority, need, competitor, status_quo, trust)".into()));
            }
            if card.kind == CardKind::Competitor
                && card
                    .competitor
                    .as_deref()
                    .is_none_or(|c| c.trim().is_empty())
            {
                return Err(invalid(
                    item,
                    "competitor",
                    "a battlecard needs the competitor's name".into(),
                ));
            }
            for link in &card.links {
                if !(link.url.starts_with("https://") || link.url.starts_with("http://")) {
                    return Err(invalid(
                        item,
                        "links",
                        format!("{:?} is not an http(s) URL", link.url),
                    ));
                }
            }
        }
        for rule in &self.rules {
            let item = format!("rule {:?}", rule.id);
            if rule.id.trim().is_empty() {
                return Err(invalid(item, "id", "is empty".into()));
            }
            if !ids.insert(rule.id.as_str()) {
                return Err(invalid(
                    item,
                    "id",
                    "is used by another card or rule".into(),
                ));
            }
            check_phrases(&rule.phrases, true).map_err(|m| invalid(item.clone(), "phrases", m))?;
            match (rule.kind, rule.within_s) {
                (RuleKind::Required, None | Some(0)) => {
                    return Err(invalid(
                        item,
                        "within_s",
                        "a required disclosure needs its deadline in seconds".into(),
                    ));
                }
                (RuleKind::Forbidden, Some(_)) => {
                    return Err(invalid(
                        item,
                        "within_s",
                        "only required rules have a deadline".into(),
                    ));
                }
                _ => {}
            }
        }
        let mut stages = HashSet::new();
        for guide in &self.stages {
            let item = format!("stage {:?}", guide.stage.label().to_lowercase());
            if !stages.insert(guide.stage) {
                return Err(invalid(item, "stage", "has two guides".into()));
            }
            if guide.suggestions.is_empty() {
                return Err(invalid(
                    item,
                    "suggestions",
                    "needs at least one suggestion".into(),
                ));
            }
            if guide.suggestions.iter().any(|s| s.trim().is_empty()) {
                return Err(invalid(item, "suggestions", "has an empty one".into()));
            }
        }
        Ok(())
    }

    /// The suggestions for a stage (none when the playbook has no guide for it).
    pub fn suggestions(&self, stage: crate::stage::Stage) -> &[String] {
        self.stages
            .iter()
            .find(|g| g.stage == stage)
            .map_or(&[], |g| g.suggestions.as_slice())
    }

    pub fn card(&self, id: &str) -> Option<&Card> {
        self.cards.iter().find(|c| c.id == id)
    }
}

/// Parses TOML into `T`; a syntax or shape error names `path` (only used in messages).
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, PlaybookError> {
    toml::from_str(text).map_err(|e| PlaybookError::Syntax {
        path: path.to_owned(),
        message: e.to_string().trim_end().replace('\n', " "),
    })
}

/// Reads and parses a TOML file into `T`.
pub(crate) fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, PlaybookError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlaybookError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_toml(&text, path)
}

fn check_phrases(phrases: &[String], required: bool) -> Result<(), String> {
    if required && phrases.is_empty() {
        return Err("needs at least one phrase".into());
    }
    for p in phrases {
        if crate::text::words(&crate::text::normalize(p))
            .next()
            .is_none()
        {
            return Err(format!("{p:?} has no words"));
        }
    }
    Ok(())
}
