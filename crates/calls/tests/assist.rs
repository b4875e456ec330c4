//! The language-model path through the live coach thread: a customer's final raises its
//! card at once, and the stand-in model's answer (an OpenAI-compatible chat completions
//! server) arrives later as a suggestion, without a transcript event to carry it (the
//! thread's tick collects it).

use cuecard_calls::session::spawn_coach;
use cuecard_calls::{CoachLoop, LiveEvent};
use cuecard_coach::Playbook;
use cuecard_coach::assist::{Assist, AssistConfig};
use cuecard_core::Channel;
use cuecard_llm::standin::{ChatReply, ChatScript, ChatStandin};
use cuecard_llm::{ChatClient, ChatConfig};
use cuecard_stt::{Segment, TranscriptEvent};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[test]
fn a_suggestion_follows_the_card_without_delaying_it() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let standin = runtime
        .block_on(async {
            ChatStandin::start(ChatScript::new(None).reply(ChatReply::slow(
                Duration::from_millis(400),
                ChatReply::text("Ask what a missed forecast costs them each quarter."),
            )))
        })
        .expect("stand-in");
    let client =
        ChatClient::new(ChatConfig::new(standin.url(), "local-model"), None).expect("client");
    let assist = Assist::new(
        client,
        AssistConfig {
            playbook: "Generic B2B".into(),
            ..AssistConfig::default()
        },
        runtime.handle().clone(),
    );
    let coach = CoachLoop::new(Playbook::default_b2b(), Some(assist)).expect("coach");
    let (tx, rx) = mpsc::channel();
    let (out_tx, out_rx) = mpsc::channel();
    let thread = spawn_coach(coach, rx, out_tx, Instant::now()).expect("thread");
    let sent = Instant::now();
    tx.send(TranscriptEvent::Final {
        segment: Segment {
            channel: Channel::FarEnd,
            speaker: None,
            start_ms: 1_000,
            end_ms: 3_000,
            text: "Honestly it is too expensive for us.".into(),
            confidence: None,
            words: Vec::new(),
        },
    })
    .expect("send");
    let mut card_after = None;
    let mut suggestion = None;
    let deadline = Instant::now() + Duration::from_secs(5);
    while suggestion.is_none() && Instant::now() < deadline {
        match out_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(LiveEvent::Coach { .. }) if card_after.is_none() => {
                card_after = Some(sent.elapsed())
            }
            Ok(LiveEvent::Suggestion { suggestion: s }) => suggestion = Some((s, sent.elapsed())),
            _ => {}
        }
    }
    drop(tx);
    let coach = thread.join().expect("coach thread");
    let card_after = card_after.expect("the card came");
    let (suggestion, suggestion_after) = suggestion.expect("the suggestion came");
    // The card did not wait for the model (its latency is a benchmark figure, not a test).
    assert!(
        card_after < suggestion_after,
        "{card_after:?} vs {suggestion_after:?}"
    );
    assert!(
        suggestion_after >= Duration::from_millis(400),
        "{suggestion_after:?}"
    );
    assert!(suggestion.text.contains("forecast"), "{suggestion:?}");
    assert_eq!(suggestion.for_ms, 3_000);
    let stats = coach.assist_stats().expect("stats");
    assert_eq!((stats.asked, stats.shown), (1, 1));
}
