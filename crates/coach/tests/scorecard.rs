//! The post-call scorecard: the sales dialogue scored with the default rubric, partial
//! credit, rubric edits re-scoring consistently, evidence, and bad rubrics.

use cuecard_coach::nextsteps::Owner;
use cuecard_coach::playbook::Playbook;
use cuecard_coach::scorecard::{CheckKind, Rubric, Said, review};
use cuecard_coach::stage::Stage;
use cuecard_core::Channel;
use std::path::Path;

fn dialogue() -> Vec<(Channel, String, u32, u32)> {
    let script = include_str!("../../../assets/speech/sales-dialogue.txt");
    let mut out = Vec::new();
    let mut t = 0;
    for line in script.lines() {
        let (channel, text) = match (line.strip_prefix("rep:"), line.strip_prefix("prospect:")) {
            (Some(x), _) => (Channel::Rep, x.trim()),
            (_, Some(x)) => (Channel::FarEnd, x.trim()),
            _ => continue,
        };
        out.push((channel, text.to_owned(), t, t + 4000));
        t += 5000;
    }
    out
}

fn said(d: &[(Channel, String, u32, u32)]) -> Vec<Said<'_>> {
    d.iter()
        .map(|(channel, text, start_ms, end_ms)| Said {
            channel: *channel,
            text,
            start_ms: *start_ms,
            end_ms: *end_ms,
        })
        .collect()
}

#[test]
fn the_dialogue_gets_an_explained_score() {
    let d = dialogue();
    let r = review(
        &Playbook::default_b2b(),
        &Rubric::default_rubric(),
        &said(&d),
    )
    .unwrap();
    let s = &r.score;
    assert_eq!((s.rubric_id.as_str(), s.rubric_version), ("default", 2));
    assert_eq!(s.categories.len(), 5);
    let check = |id: &str| {
        s.checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    // Three questions of four: partial credit, with the questions as evidence.
    let q = check("asks-questions");
    assert!((q.credit - 0.75).abs() < 1e-6, "{q:?}");
    assert_eq!(q.evidence, [0, 2, 4]);
    // The price objection (turn 7) was answered in turn 8.
    let o = check("objections-answered");
    assert_eq!(o.credit, 1.0, "{o:?}");
    assert!(o.evidence.contains(&7) && o.evidence.contains(&8), "{o:?}");
    // Neither disclosure was made.
    assert_eq!(check("disclosures").credit, 0.0);
    assert!(
        check("disclosures")
            .explanation
            .contains("Recording disclosure")
    );
    // "I will email it today and book a follow up call for next Tuesday" — "Tuesday
    // morning works for me": action, time, owner and a yes.
    let n = check("next-step");
    assert_eq!(n.credit, 1.0, "{n:?}");
    assert!(
        n.evidence.contains(&10) && n.evidence.contains(&11),
        "{n:?}"
    );
    // Every explanation is there, every evidence index is an utterance.
    for c in &s.checks {
        assert!(!c.explanation.is_empty());
        assert!(c.evidence.iter().all(|i| *i < d.len()), "{c:?}");
    }
    assert!((50..=95).contains(&s.total), "{s:?}");
    // Deterministic.
    let again = review(
        &Playbook::default_b2b(),
        &Rubric::default_rubric(),
        &said(&d),
    )
    .unwrap();
    assert_eq!(r, again);
}

#[test]
fn the_analysis_explains_the_call_with_evidence() {
    let d = dialogue();
    let r = review(
        &Playbook::default_b2b(),
        &Rubric::default_rubric(),
        &said(&d),
    )
    .unwrap();
    let a = &r.analysis;
    // Twelve 4 s turns, 5 s apart, alternating.
    assert_eq!(a.duration_ms, 59_000);
    assert_eq!(a.longest_customer_story_ms, 4_000);
    assert!(
        (a.interactivity - 11.0 / (59.0 / 60.0)).abs() < 0.01,
        "{a:?}"
    );
    assert_eq!(a.questions, 3);
    // The price concern and "we already pay for" (status quo), both answered in turn 8.
    let objections: Vec<(&str, Option<usize>)> = a
        .objections
        .iter()
        .map(|o| (o.card_id.as_str(), o.answered_in))
        .collect();
    assert_eq!(
        objections,
        [
            ("objection-price", Some(8)),
            ("objection-status-quo", Some(8))
        ]
    );
    // The customer's mood after each of their six turns, ending positive.
    assert_eq!(a.sentiment.len(), 6);
    assert!(a.sentiment.last().is_some_and(|p| p.level > 0.0));
    // Stages cover the call end to end.
    let stages: Vec<Stage> = a.stages.iter().map(|s| s.stage).collect();
    assert_eq!(
        stages,
        [
            Stage::Opening,
            Stage::Discovery,
            Stage::Pitch,
            Stage::Objection,
            Stage::Pitch,
            Stage::Close
        ]
    );
    assert_eq!(a.stages.first().map(|s| s.from_ms), Some(0));
    assert_eq!(a.stages.last().map(|s| s.to_ms), Some(59_000));
    assert!(a.stages.windows(2).all(|w| w[0].to_ms == w[1].from_ms));
    // Two next steps, both clear: the customer's request and the rep's commitment.
    assert_eq!(a.next_steps.len(), 2, "{:?}", a.next_steps);
    assert!(a.next_steps.iter().all(|n| n.clarity == 1.0));
    assert_eq!(a.next_steps[1].owner, Owner::Rep);
    assert_eq!(a.next_steps[1].when.as_deref(), Some("today"));
    // A summary a manager can read.
    let summary = a.summary.join(" ");
    for part in [
        "A 1-minute call; the rep talked 50% of the time and asked 3 questions.",
        "The customer raised 2 objections: price or budget (answered), happy with how it is (answered).",
        "Next step: “",
        "The customer ended positive",
    ] {
        assert!(summary.contains(part), "{part:?} not in {summary}");
    }
}

#[test]
fn a_vague_next_step_gets_partial_credit() {
    let text = |t: &str| t.to_owned();
    let d = vec![
        (
            Channel::Rep,
            text("Let's set up a demo at some point."),
            0,
            3_000,
        ),
        (Channel::FarEnd, text("Maybe."), 4_000, 5_000),
    ];
    let r = review(
        &Playbook::default_b2b(),
        &Rubric::default_rubric(),
        &said(&d),
    )
    .unwrap();
    let n = r.score.checks.iter().find(|c| c.id == "next-step").unwrap();
    assert_eq!(n.credit, 0.25, "{n:?}");
    assert!(n.explanation.contains("a time"), "{n:?}");
    assert!(
        r.analysis
            .summary
            .iter()
            .any(|l| l.contains("not confirmed"))
    );
    // No next step at all: no credit, and the summary says so.
    let d = vec![(Channel::Rep, text("Thanks for your time."), 0, 2_000)];
    let r = review(
        &Playbook::default_b2b(),
        &Rubric::default_rubric(),
        &said(&d),
    )
    .unwrap();
    let n = r.score.checks.iter().find(|c| c.id == "next-step").unwrap();
    assert_eq!(n.credit, 0.0);
    assert!(
        r.analysis
            .summary
            .iter()
            .any(|l| l == "No next step was agreed.")
    );
}

#[test]
fn credit_is_partial_not_all_or_nothing() {
    let text = |t: &str| t.to_owned();
    // The rep talks 70% of the time and asks two questions.
    let d = vec![
        (
            Channel::Rep,
            text("Hi, what does your team do today? How many reps do you have?"),
            0,
            7000,
        ),
        (Channel::FarEnd, text("Twelve reps."), 8000, 11000),
        (
            Channel::Rep,
            text("Great, we help teams like yours coach every call live."),
            12000,
            12000 + 7000,
        ),
    ];
    let r = review(
        &Playbook::default_b2b(),
        &Rubric::default_rubric(),
        &said(&d),
    )
    .unwrap();
    let credit = |id: &str| r.score.checks.iter().find(|c| c.id == id).unwrap().credit;
    assert!((credit("asks-questions") - 0.5).abs() < 1e-6);
    // 14 s of 17 s: 82% against at most 60%, zero at 85%: a little credit left.
    let listens = credit("listens-more");
    assert!(listens > 0.0 && listens < 0.2, "{listens}");
}

#[test]
fn editing_the_rubric_rescores_consistently() {
    let d = dialogue();
    let playbook = Playbook::default_b2b();
    let base = Rubric::default_rubric();
    let before = review(&playbook, &base, &said(&d)).unwrap().score;
    // The total is the weighted mean of the categories.
    let weighted = |s: &cuecard_coach::scorecard::Score| {
        let w: f32 = s.categories.iter().map(|c| c.weight).sum();
        s.categories
            .iter()
            .map(|c| c.weight * f32::from(c.score))
            .sum::<f32>()
            / w
    };
    assert!((f32::from(before.total) - weighted(&before)).abs() <= 1.0);

    // Weigh closing (where the missed disclosures are) ten times more: the total drops.
    let mut edited = base.clone();
    edited.rubric.version = 2;
    edited
        .categories
        .iter_mut()
        .find(|c| c.key == "closing")
        .unwrap()
        .weight = 150.0;
    let after = review(&playbook, &edited, &said(&d)).unwrap().score;
    assert_eq!(after.rubric_version, 2);
    assert!(
        after.total < before.total,
        "{} → {}",
        before.total,
        after.total
    );
    assert!((f32::from(after.total) - weighted(&after)).abs() <= 1.0);
    // A stricter target changes that check only.
    let mut strict = base.clone();
    strict
        .checks
        .iter_mut()
        .find(|c| c.id == "asks-questions")
        .unwrap()
        .kind = CheckKind::QuestionsAtLeast(6);
    let s = review(&playbook, &strict, &said(&d)).unwrap().score;
    let diff: Vec<&str> = s
        .checks
        .iter()
        .zip(&before.checks)
        .filter(|(a, b)| a.credit != b.credit)
        .map(|(a, _)| a.id.as_str())
        .collect();
    assert_eq!(diff, ["asks-questions"]);
    // The edited rubric round-trips through TOML.
    let toml = toml::to_string(&edited).unwrap();
    assert_eq!(Rubric::parse(&toml, Path::new("r.toml")).unwrap(), edited);
}

#[test]
fn a_bad_rubric_names_the_check_and_field() {
    let text = "[rubric]\nid = \"r\"\nversion = 1\n[[categories]]\nkey = \"discovery\"\nlabel = \"D\"\nweight = 1\n[[checks]]\nid = \"q\"\ncategory = \"closing\"\nlabel = \"Q\"\nkind = { questions_at_least = 3 }\n";
    let err = Rubric::parse(text, Path::new("team-rubric.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("team-rubric.toml: check \"q\": category: \"closing\""),
        "{err}"
    );
    let err = Rubric::parse(
        "categories = []\nchecks = []\n[rubric]\nid = \"r\"\nversion = 1\n",
        Path::new("r.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("needs at least one"), "{err}");
}
