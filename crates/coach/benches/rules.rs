//! Rule-engine figures (BENCHMARKS.md): time per transcript event with a 500-card
//! playbook (p50 / p99 / max), over a call's worth of partial and final events, and the
//! time from a triggering final to its card.
//!
//! `cargo bench -p cuecard-coach --bench rules`

use cuecard_coach::live::{CoachOutput, Heard, LiveCoach};
use cuecard_coach::playbook::Playbook;
use cuecard_core::Channel;
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

/// A playbook of `n` cards: the default one's, plus generated cards with five triggers
/// and two negatives each, over a vocabulary of sales words.
fn big_playbook(n: usize) -> Playbook {
    let words = [
        "renewal",
        "pricing",
        "contract",
        "discount",
        "onboarding",
        "integration",
        "security",
        "pilot",
        "seats",
        "license",
        "support",
        "migration",
        "training",
        "dashboard",
        "reporting",
        "forecast",
        "pipeline",
        "quota",
        "territory",
        "procurement",
        "legal",
        "invoice",
        "billing",
        "upgrade",
        "downgrade",
        "churn",
        "expansion",
        "champion",
        "budget",
        "timeline",
    ];
    let mut toml = Playbook::default_b2b().to_toml().expect("export");
    let have = Playbook::default_b2b().cards.len();
    for i in have..n {
        let w = |k: usize| words[(i * 7 + k * 13) % words.len()];
        let _ = write!(
            toml,
            "\n[[cards]]\nid = \"generated-{i}\"\ntitle = \"Generated {i}\"\n\
             triggers = [\"{a} {b}\", \"{b} {c} {i}\", \"the {c} for {a}\", \"{d} issue {i}\", \"about {e} {i}\"]\n\
             negatives = [\"no {a} {b} question\", \"{d} is fine {i}\"]\nbody = \"Say something useful about {a}.\"\n",
            a = w(0),
            b = w(1),
            c = w(2),
            d = w(3),
            e = w(4),
        );
    }
    Playbook::parse(&toml, Path::new("generated.toml")).expect("generated playbook")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let playbook = big_playbook(500);
    let phrases: usize = playbook
        .cards
        .iter()
        .map(|c| c.triggers.len() + c.negatives.len())
        .sum();
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/speech/sales-dialogue.txt"
    ))
    .expect("dialogue");
    let turns: Vec<(Channel, String)> = script
        .lines()
        .filter_map(|l| {
            l.strip_prefix("rep:")
                .map(|t| (Channel::Rep, t.trim().to_owned()))
                .or_else(|| {
                    l.strip_prefix("prospect:")
                        .map(|t| (Channel::FarEnd, t.trim().to_owned()))
                })
        })
        .collect();
    let built = Instant::now();
    let mut coach = LiveCoach::new(playbook.clone()).expect("compile");
    println!(
        "{} cards, {} phrases; compiled in {:.1} ms",
        playbook.cards.len(),
        phrases,
        built.elapsed().as_secs_f64() * 1e3
    );

    // A long call: the dialogue 50 times over. Each turn arrives as growing partials
    // (one per word) and then its final, as the speech-to-text engines send them.
    let mut per_event = Vec::new();
    let mut to_card = Vec::new();
    let mut fired = 0usize;
    let mut t = 0u32;
    for _round in 0..50 {
        for (channel, text) in &turns {
            let words: Vec<&str> = text.split_whitespace().collect();
            let start = t;
            for k in 1..=words.len() {
                let partial = words[..k].join(" ");
                let heard = Heard {
                    channel: *channel,
                    text: &partial,
                    start_ms: start,
                    end_ms: start + 300 * k as u32,
                    is_final: false,
                };
                let began = Instant::now();
                let out = coach.hear(heard);
                per_event.push(began.elapsed().as_secs_f64() * 1e3);
                fired += out
                    .iter()
                    .filter(|o| matches!(o, CoachOutput::Card(_)))
                    .count();
            }
            t = start + 300 * words.len() as u32;
            let heard = Heard {
                channel: *channel,
                text,
                start_ms: start,
                end_ms: t,
                is_final: true,
            };
            let began = Instant::now();
            let out = coach.hear(heard);
            let took = began.elapsed().as_secs_f64() * 1e3;
            per_event.push(took);
            if out.iter().any(|o| matches!(o, CoachOutput::Card(_))) {
                to_card.push(took);
            }
            fired += out
                .iter()
                .filter(|o| matches!(o, CoachOutput::Card(_)))
                .count();
            t += 700;
        }
    }
    // Finals alone, on fresh coaches (no cooldowns yet), 200 calls: each triggering
    // final's time to its card.
    for _ in 0..200 {
        let mut fresh = LiveCoach::new(playbook.clone()).expect("compile");
        let mut t = 0u32;
        for (channel, text) in &turns {
            let heard = Heard {
                channel: *channel,
                text,
                start_ms: t,
                end_ms: t + 3000,
                is_final: true,
            };
            let began = Instant::now();
            let out = fresh.hear(heard);
            if out.iter().any(|o| matches!(o, CoachOutput::Card(_))) {
                to_card.push(began.elapsed().as_secs_f64() * 1e3);
            }
            t += 4000;
        }
    }
    per_event.sort_by(f64::total_cmp);
    to_card.sort_by(f64::total_cmp);
    println!(
        "per event ({} events, {fired} cards): p50 {:.4} ms  p99 {:.4} ms  max {:.3} ms",
        per_event.len(),
        percentile(&per_event, 0.5),
        percentile(&per_event, 0.99),
        per_event.last().copied().unwrap_or(0.0)
    );
    println!(
        "final event to card ({} cards): p50 {:.4} ms  p99 {:.4} ms  max {:.3} ms",
        to_card.len(),
        percentile(&to_card, 0.5),
        percentile(&to_card, 0.99),
        to_card.last().copied().unwrap_or(0.0)
    );
}
