//! The rule engine with the default playbook: per-class precision and recall on
//! labelled utterances, the behaviour rules (speaker, negatives, cooldown, limits,
//! partial-then-final), talk-track warnings, determinism, and bad playbooks.

use cuecard_coach::live::{CoachOutput, Heard, LiveCoach};
use cuecard_coach::playbook::{CardKind, Playbook, PlaybookError};
use cuecard_core::Channel;
use std::collections::BTreeMap;
use std::path::Path;

fn heard(channel: Channel, text: &str, start_ms: u32, end_ms: u32, is_final: bool) -> Heard<'_> {
    Heard {
        channel,
        text,
        start_ms,
        end_ms,
        is_final,
    }
}

/// The class the coach gives an utterance: the highest-priority card's, or the
/// forbidden-claim warning, or none.
fn class_of(out: &[CoachOutput], playbook: &Playbook) -> String {
    for o in out {
        if let CoachOutput::Warning(w) = o
            && w.said.is_some()
        {
            return "forbidden".into();
        }
    }
    for o in out {
        if let CoachOutput::Card(c) = o {
            let card = playbook.card(&c.card_id).expect("card");
            return match card.kind {
                CardKind::Objection => format!(
                    "objection-{}",
                    serde_json::to_value(card.objection)
                        .expect("json")
                        .as_str()
                        .unwrap_or("?")
                ),
                CardKind::Competitor => "competitor".into(),
                _ => "none".into(),
            };
        }
    }
    "none".into()
}

/// Per-class counts over a fixture file, and what was misclassified.
struct Evaluation {
    /// class → (true positives, false positives, false negatives)
    table: BTreeMap<String, (u32, u32, u32)>,
    wrong: Vec<String>,
    /// Objection detection, any family: (true positives, false positives, false negatives).
    objections: (u32, u32, u32),
}

impl Evaluation {
    fn worst_class(&self) -> f64 {
        let mut worst = 1.0f64;
        for (class, (tp, fp, fn_)) in &self.table {
            if class == "none" {
                continue;
            }
            let precision = f64::from(*tp) / f64::from((tp + fp).max(1));
            let recall = f64::from(*tp) / f64::from((tp + fn_).max(1));
            eprintln!("{class:22} precision {precision:.2} recall {recall:.2} ({tp} right)");
            worst = worst.min(precision).min(recall);
        }
        worst
    }

    /// Precision and recall of "this is an objection" (the family aside).
    fn objection_detection(&self) -> (f64, f64) {
        let (tp, fp, fn_) = self.objections;
        (
            f64::from(tp) / f64::from((tp + fp).max(1)),
            f64::from(tp) / f64::from((tp + fn_).max(1)),
        )
    }
}

fn evaluate(fixtures: &str) -> Evaluation {
    let playbook = Playbook::default_b2b();
    let mut e = Evaluation {
        table: BTreeMap::new(),
        wrong: Vec::new(),
        objections: (0, 0, 0),
    };
    for line in fixtures
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut cols = line.split('\t');
        let (Some(expected), Some(speaker), Some(text)) = (cols.next(), cols.next(), cols.next())
        else {
            panic!("bad fixture line {line:?}");
        };
        let channel = if speaker == "rep" {
            Channel::Rep
        } else {
            Channel::FarEnd
        };
        // A fresh coach per utterance: no cooldowns in the way.
        let mut coach = LiveCoach::new(playbook.clone()).expect("compile");
        let got = class_of(&coach.hear(heard(channel, text, 0, 3000, true)), &playbook);
        let (want_objection, got_objection) = (
            expected.starts_with("objection-"),
            got.starts_with("objection-"),
        );
        match (want_objection, got_objection) {
            (true, true) => e.objections.0 += 1,
            (false, true) => e.objections.1 += 1,
            (true, false) => e.objections.2 += 1,
            (false, false) => {}
        }
        if got == expected {
            e.table.entry(got).or_default().0 += 1;
        } else {
            e.wrong
                .push(format!("{text:?}: expected {expected}, got {got}"));
            e.table.entry(got).or_default().1 += 1;
            e.table.entry(expected.to_owned()).or_default().2 += 1;
        }
    }
    e
}

#[test]
fn labelled_utterances_precision_and_recall_per_class() {
    let e = evaluate(include_str!("fixtures/labelled-utterances.tsv"));
    let worst = e.worst_class();
    let (precision, recall) = e.objection_detection();
    eprintln!("objection detection: precision {precision:.2} recall {recall:.2}");
    eprintln!("misclassified: {:#?}", e.wrong);
    assert!(worst >= 0.75, "a class fell below 0.75: {:#?}", e.wrong);
    assert!(e.wrong.len() <= 2, "{:#?}", e.wrong);
    assert!(
        precision >= 0.9 && recall >= 0.85,
        "{precision:.2} / {recall:.2}"
    );
}

/// Utterances written after the playbook and never used to tune it: the honest figure
/// (BENCHMARKS.md). Its floors guard against regressions; they are what the rules reach
/// today, not the targets.
#[test]
fn held_out_utterances_precision_and_recall() {
    let e = evaluate(include_str!("fixtures/labelled-heldout.tsv"));
    e.worst_class();
    let (precision, recall) = e.objection_detection();
    eprintln!("held out, objection detection: precision {precision:.2} recall {recall:.2}");
    eprintln!(
        "held out, misclassified ({}): {:#?}",
        e.wrong.len(),
        e.wrong
    );
    assert!(
        precision >= HELD_OUT_PRECISION,
        "precision {precision:.2}: {:#?}",
        e.wrong
    );
    assert!(
        recall >= HELD_OUT_RECALL,
        "recall {recall:.2}: {:#?}",
        e.wrong
    );
}

/// 2026-11-22: precision 0.96, recall 0.74 (23 of 31 objections found; one false alarm).
const HELD_OUT_PRECISION: f64 = 0.9;
const HELD_OUT_RECALL: f64 = 0.7;

#[test]
fn only_the_named_speaker_triggers_and_negatives_suppress() {
    let mut coach = LiveCoach::new(Playbook::default_b2b()).unwrap();
    // The rep saying "too expensive" is not a prospect objection.
    assert!(
        coach
            .hear(heard(
                Channel::Rep,
                "Some say it's too expensive.",
                0,
                2000,
                true
            ))
            .is_empty()
    );
    // "price is fine" cancels "the price".
    assert!(
        coach
            .hear(heard(
                Channel::FarEnd,
                "The price is fine.",
                2000,
                4000,
                true
            ))
            .is_empty()
    );
    let out = coach.hear(heard(
        Channel::FarEnd,
        "But the price is my main concern.",
        4000,
        7000,
        true,
    ));
    // The card, then the stage change it causes.
    assert!(
        matches!(&out[..], [CoachOutput::Card(c), CoachOutput::Stage(s)]
            if c.card_id == "objection-price" && c.at_ms == 7000
                && s.stage == cuecard_coach::stage::Stage::Objection),
        "{out:?}"
    );
}

fn cards(out: Vec<CoachOutput>) -> Vec<String> {
    out.into_iter()
        .filter_map(|o| match o {
            CoachOutput::Card(c) => Some(c.card_id),
            CoachOutput::Warning(_) | CoachOutput::Stage(_) => None,
        })
        .collect()
}

#[test]
fn a_partial_fires_once_and_its_final_does_not_repeat_it_and_cooldowns_hold() {
    let mut coach = LiveCoach::new(Playbook::default_b2b()).unwrap();
    let mut say = |text: &str, start_ms: u32, end_ms: u32, is_final: bool| {
        cards(coach.hear(heard(Channel::FarEnd, text, start_ms, end_ms, is_final)))
    };
    assert_eq!(
        say("it's too expensive", 10_000, 11_000, false),
        ["objection-price"],
        "the partial fires the card at once"
    );
    assert!(
        say("It's too expensive for us.", 10_000, 12_000, true).is_empty(),
        "its final does not repeat it"
    );
    // Within the default cooldown (45 s): nothing; after it: again.
    assert!(say("Still too expensive.", 30_000, 31_000, true).is_empty());
    assert_eq!(say("Too expensive, really.", 60_000, 61_000, true).len(), 1);
    // max_per_call = 3.
    assert_eq!(say("Too expensive.", 120_000, 121_000, true).len(), 1);
    assert!(say("Too expensive.", 200_000, 201_000, true).is_empty());
}

#[test]
fn competitor_mentions_and_patience_after_objections_are_measured() {
    let mut coach = LiveCoach::new(Playbook::default_b2b()).unwrap();
    coach.hear(heard(
        Channel::FarEnd,
        "We use Acme today, and it's too expensive.",
        0,
        4000,
        true,
    ));
    // The rep answers 1.5 s after the objection.
    coach.hear(heard(
        Channel::Rep,
        "Understood. What does Acme cost you per seat?",
        5500,
        8000,
        true,
    ));
    // The battlecard is cooling down, but the mentions still count, once per utterance.
    coach.hear(heard(
        Channel::FarEnd,
        "Acme, Acme Dialer, about twenty dollars. Plus a spreadsheet.",
        9000,
        12000,
        true,
    ));
    let m = coach.metrics();
    assert_eq!(m.objection_patience_ms, Some(1500));
    let mentions: Vec<(&str, u32)> = m
        .competitor_mentions
        .iter()
        .map(|c| (c.competitor.as_str(), c.count))
        .collect();
    assert_eq!(mentions, [("Acme Dialer", 3), ("Spreadsheets", 1)]);
}

#[test]
fn cards_fired_together_come_out_by_priority() {
    let mut coach = LiveCoach::new(Playbook::default_b2b()).unwrap();
    let out = coach.hear(heard(
        Channel::FarEnd,
        "We use Acme and honestly the price is too expensive.",
        0,
        4000,
        true,
    ));
    let ids: Vec<&str> = out
        .iter()
        .filter_map(|o| match o {
            CoachOutput::Card(c) => Some(c.card_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["objection-price", "battlecard-acme-dialer"]);
}

#[test]
fn disclosures_are_required_by_their_deadline_and_forbidden_claims_warn() {
    let mut coach = LiveCoach::new(Playbook::default_b2b()).unwrap();
    let out = coach.hear(heard(
        Channel::Rep,
        "Hi, just so you know this call is recorded.",
        0,
        3000,
        true,
    ));
    assert!(out.is_empty());
    // No AI disclosure by 60 s: one warning, not repeated.
    let out = coach.tick(61_000);
    assert!(
        matches!(&out[..], [CoachOutput::Warning(w)] if w.rule_id == "ai-disclosure" && w.said.is_none() && w.at_ms == 60_000),
        "{out:?}"
    );
    assert!(coach.tick(90_000).is_empty());
    let out = coach.hear(heard(
        Channel::Rep,
        "You get guaranteed results.",
        91_000,
        93_000,
        true,
    ));
    assert!(
        matches!(&out[..], [CoachOutput::Warning(w)] if w.rule_id == "no-guarantees" && w.said.as_deref() == Some("guaranteed results"))
    );
    // The prospect saying it is not the rep's claim.
    assert!(
        coach
            .hear(heard(
                Channel::FarEnd,
                "So, guaranteed results?",
                94_000,
                95_000,
                true
            ))
            .is_empty()
    );
}

#[test]
fn the_same_events_give_the_same_cards() {
    let script = include_str!("../../../assets/speech/sales-dialogue.txt");
    let run = || {
        let mut coach = LiveCoach::new(Playbook::default_b2b()).unwrap();
        let mut out = Vec::new();
        let mut t = 0;
        for line in script.lines() {
            let (channel, text) = match (line.strip_prefix("rep:"), line.strip_prefix("prospect:"))
            {
                (Some(t), _) => (Channel::Rep, t),
                (_, Some(t)) => (Channel::FarEnd, t),
                _ => continue,
            };
            out.extend(coach.hear(heard(channel, text, t, t + 4000, true)));
            t += 5000;
        }
        out
    };
    let first = run();
    assert_eq!(first, run());
    let ids: Vec<String> = first
        .iter()
        .map(|o| match o {
            CoachOutput::Card(c) => c.card_id.clone(),
            CoachOutput::Warning(w) => w.rule_id.clone(),
            CoachOutput::Stage(s) => format!("stage:{}", s.stage.label().to_lowercase()),
        })
        .collect();
    // The call's stages: the first question after the customer speaks starts discovery,
    // describing the product the pitch, the price concern an objection until the rep
    // answers it, and booking the follow-up the close; each change carries the
    // playbook's suggestions for the new stage.
    let stages: Vec<&str> = ids
        .iter()
        .filter_map(|i| i.strip_prefix("stage:"))
        .collect();
    assert_eq!(
        stages,
        ["discovery", "pitch", "objection", "pitch", "close"]
    );
    for o in &first {
        if let CoachOutput::Stage(s) = o {
            assert!(!s.suggestions.is_empty(), "{s:?}");
        }
    }
    // The metrics of the scripted call: each turn 4 s, six each side.
    let mut coach = LiveCoach::new(Playbook::default_b2b()).unwrap();
    let mut t = 0;
    for line in script.lines() {
        let (channel, text) = match (line.strip_prefix("rep:"), line.strip_prefix("prospect:")) {
            (Some(t), _) => (Channel::Rep, t),
            (_, Some(t)) => (Channel::FarEnd, t),
            _ => continue,
        };
        coach.hear(heard(channel, text, t, t + 4000, true));
        t += 5000;
    }
    let m = coach.metrics();
    assert_eq!((m.rep_talk_ms, m.prospect_talk_ms), (24_000, 24_000));
    assert_eq!(m.talk_ratio, Some(0.5));
    assert_eq!(m.patience_ms, Some(1000));
    assert_eq!(m.questions, 3, "{m:?}");
    assert_eq!(m.longest_monologue_ms, 4000);
    // The prospect warms up after the price concern: positive at the end, not falling.
    assert!(m.prospect_sentiment.is_some_and(|s| s > 0.2), "{m:?}");
    assert_ne!(
        m.sentiment_trend,
        cuecard_coach::sentiment::Trend::Falling,
        "{m:?}"
    );
    // The dialogue's objections and next step, and the missing disclosures.
    for expected in [
        "objection-price",
        "objection-status-quo",
        "discovery-pain",
        "next-step-summary",
        "recording-consent",
    ] {
        assert!(
            ids.iter().any(|i| i == expected),
            "{expected} missing from {ids:?}"
        );
    }
}

#[test]
fn a_bad_playbook_names_the_file_the_item_and_the_field() {
    let path = Path::new("team.toml");
    let base = "[playbook]\nid = \"t\"\nname = \"T\"\nversion = 1\n";
    let cases = [
        (
            format!("{base}[[cards]]\nid = \"a\"\ntitle = \"A\"\ntriggers = []\nbody = \"b\"\n"),
            "card \"a\": triggers: needs at least one phrase",
        ),
        (
            format!(
                "{base}[[cards]]\nid = \"a\"\ntitle = \"A\"\ntriggers = [\"x\"]\nbody = \"b\"\npriority = 120\n"
            ),
            "card \"a\": priority: 120 is over 100",
        ),
        (
            format!(
                "{base}[[cards]]\nid = \"a\"\nkind = \"objection\"\ntitle = \"A\"\ntriggers = [\"x\"]\nbody = \"b\"\n"
            ),
            "card \"a\": objection:",
        ),
        (
            format!(
                "{base}[[cards]]\nid = \"a\"\ntitle = \"A\"\ntriggers = [\"x\"]\nbody = \"b\"\n[[cards]]\nid = \"a\"\ntitle = \"B\"\ntriggers = [\"y\"]\nbody = \"b\"\n"
            ),
            "card \"a\": id: is used by another",
        ),
        (
            format!(
                "{base}[[rules]]\nid = \"r\"\nkind = \"required\"\ntitle = \"R\"\nphrases = [\"x\"]\nmessage = \"m\"\n"
            ),
            "rule \"r\": within_s",
        ),
        (
            format!(
                "{base}[[cards]]\nid = \"a\"\ntitle = \"A\"\ntriggers = [\"!!\"]\nbody = \"b\"\n"
            ),
            "\"!!\" has no words",
        ),
        (
            format!(
                "{base}[[cards]]\nid = \"a\"\ntitle = \"A\"\ntriggers = [\"x\"]\nbody = \"b\"\ntrigers = [\"typo\"]\n"
            ),
            "unknown field `trigers`",
        ),
        ("[playbook\nid = 1".to_owned(), "team.toml"),
    ];
    for (text, needle) in cases {
        let err = Playbook::parse(&text, path).expect_err(needle).to_string();
        assert!(
            err.starts_with("team.toml") && err.contains(needle),
            "{needle}: {err}"
        );
    }
    let err = Playbook::load(Path::new("/nonexistent/team.toml")).unwrap_err();
    assert!(matches!(err, PlaybookError::Io { .. }));
}

#[test]
fn a_playbook_exports_and_reads_back_unchanged() {
    let playbook = Playbook::default_b2b();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.toml");
    std::fs::write(&path, playbook.to_toml().unwrap()).unwrap();
    assert_eq!(Playbook::load(&path).unwrap(), playbook);
}
