//! Card latency through the live pipeline's coach thread (BENCHMARKS.md): the time from
//! a transcript event leaving the speech engine's side of the channel to the card it
//! raises arriving on the overlay's side — the thread hand-offs and the rule engine
//! together, with the default playbook. The sales dialogue's utterances are sent as a
//! partial (first half of the words) then a final, one event at a time, 300 calls over.
//!
//! `cargo bench -p cuecard-calls --bench card_latency`

use cuecard_calls::session::spawn_coach;
use cuecard_calls::{CoachLoop, LiveEvent};
use cuecard_coach::Playbook;
use cuecard_stt::{Segment, TranscriptEvent};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CALLS: usize = 300;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn events_of(segment: &Segment) -> [TranscriptEvent; 2] {
    let words: Vec<&str> = segment.text.split_whitespace().collect();
    let half = Segment {
        text: words[..words.len().div_ceil(2)].join(" "),
        end_ms: segment.start_ms + (segment.end_ms - segment.start_ms) / 2,
        ..segment.clone()
    };
    [
        TranscriptEvent::Partial { segment: half },
        TranscriptEvent::Final {
            segment: segment.clone(),
        },
    ]
}

fn main() {
    let transcript = cuecard_stt::testing::sales_dialogue_transcript();
    let playbook = Playbook::default_b2b();
    let mut card_us = Vec::new();
    let mut event_us = Vec::new();
    for _ in 0..CALLS {
        let coach = CoachLoop::new(playbook.clone(), None).expect("coach");
        let (tx, rx) = mpsc::channel();
        let (out_tx, out_rx) = mpsc::channel();
        let thread = spawn_coach(coach, rx, out_tx, Instant::now()).expect("thread");
        for segment in &transcript {
            for event in events_of(segment) {
                let sent = Instant::now();
                tx.send(event).expect("send");
                // Everything the event raised, up to its own transcript line.
                loop {
                    let shown = out_rx
                        .recv_timeout(Duration::from_secs(5))
                        .expect("the coach answers");
                    match shown {
                        LiveEvent::Coach { .. } => {
                            card_us.push(sent.elapsed().as_secs_f64() * 1e6);
                        }
                        LiveEvent::Transcript { .. } => {
                            event_us.push(sent.elapsed().as_secs_f64() * 1e6);
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
        drop(tx);
        thread.join().expect("coach thread");
    }
    card_us.sort_by(f64::total_cmp);
    event_us.sort_by(f64::total_cmp);
    println!(
        "{} cards over {CALLS} calls: event sent → card received p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        card_us.len(),
        percentile(&card_us, 0.5),
        percentile(&card_us, 0.99),
        card_us[card_us.len() - 1]
    );
    println!(
        "{} events: event sent → its transcript line received p50 {:.0} µs, p99 {:.0} µs",
        event_us.len(),
        percentile(&event_us, 0.5),
        percentile(&event_us, 0.99)
    );
}
