//! The language-model suggestions against a local stand-in of OpenAI's chat completions:
//! cards never wait for the model, answers arrive for the customer's latest words, and
//! late, superseded and failed answers are dropped and counted.

use cuecard_coach::assist::{Assist, AssistConfig};
use cuecard_coach::live::{CoachOutput, Heard, LiveCoach};
use cuecard_coach::playbook::Playbook;
use cuecard_coach::stage::Stage;
use cuecard_core::Channel;
use cuecard_llm::standin::{ChatReply, ChatScript, ChatStandin};
use cuecard_llm::{ChatClient, ChatConfig};
use std::time::{Duration, Instant};

fn assist(standin: &ChatStandin, max_age: Duration) -> Assist {
    let mut config = ChatConfig::new(standin.url(), "local-model");
    config.timeout = Duration::from_secs(5);
    let client = ChatClient::new(config, None).expect("client");
    Assist::new(
        client,
        AssistConfig {
            max_age,
            context: 4,
            playbook: "Generic B2B".into(),
        },
        tokio::runtime::Handle::current(),
    )
}

/// Polls until a suggestion comes or `within` passes.
async fn wait_for(assist: &mut Assist, within: Duration) -> Vec<cuecard_coach::assist::Suggestion> {
    let deadline = Instant::now() + within;
    loop {
        let got = assist.poll();
        if !got.is_empty() || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cards_come_first_and_the_suggestion_follows_for_the_customers_words() {
    let standin = ChatStandin::start(ChatScript::new(None).reply(ChatReply::slow(
        Duration::from_millis(300),
        ChatReply::text("Ask what budget they had in mind for this quarter."),
    )))
    .expect("stand-in");
    let mut coach = LiveCoach::new(Playbook::default_b2b()).expect("coach");
    let mut assist = assist(&standin, Duration::from_secs(5));
    let rep = "How do you coach new reps today?";
    coach.hear(Heard {
        channel: Channel::Rep,
        text: rep,
        start_ms: 0,
        end_ms: 2_000,
        is_final: true,
    });
    assist.heard(Channel::Rep, rep, 2_000, coach.stage());
    let said = "Honestly the price is my main concern.";
    let out = coach.hear(Heard {
        channel: Channel::FarEnd,
        text: said,
        start_ms: 3_000,
        end_ms: 6_000,
        is_final: true,
    });
    // The card is out before the model is even asked.
    assert!(
        out.iter()
            .any(|o| matches!(o, CoachOutput::Card(c) if c.card_id == "objection-price"))
    );
    assert_eq!(coach.stage(), Stage::Objection);
    assist.heard(Channel::FarEnd, said, 6_000, coach.stage());
    assert!(
        assist.poll().is_empty(),
        "the model cannot have answered yet"
    );

    let got = wait_for(&mut assist, Duration::from_secs(3)).await;
    assert_eq!(got.len(), 1, "{:?}", assist.stats());
    assert_eq!(
        got[0].text,
        "Ask what budget they had in mind for this quarter."
    );
    assert_eq!(got[0].for_ms, 6_000);
    assert!(got[0].latency_ms >= 300, "{got:?}");
    // Only the customer's final was asked about, with the conversation and the stage.
    let requests = standin.requests();
    assert_eq!(requests.len(), 1);
    let messages = requests[0].messages();
    assert!(messages[0].1.contains("objection stage"), "{messages:?}");
    assert!(messages[0].1.contains("Generic B2B"), "{messages:?}");
    assert_eq!(messages[1].1, format!("Rep: {rep}\nCustomer: {said}"));
    let stats = assist.stats();
    assert_eq!((stats.asked, stats.shown, stats.late), (1, 1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_answer_is_dropped() {
    let standin = ChatStandin::start(ChatScript::new(None).reply(ChatReply::slow(
        Duration::from_millis(700),
        ChatReply::text("Too late to help."),
    )))
    .expect("stand-in");
    let mut assist = assist(&standin, Duration::from_millis(300));
    assist.heard(
        Channel::FarEnd,
        "We already use a dialer.",
        4_000,
        Stage::Discovery,
    );
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(assist.poll().is_empty());
    assert_eq!(assist.stats().late, 1, "{:?}", assist.stats());
    assert_eq!(assist.stats().shown, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_customers_next_words_replace_the_question_in_flight() {
    let standin = ChatStandin::start(
        ChatScript::new(None)
            .reply(ChatReply::slow(
                Duration::from_millis(800),
                ChatReply::text("About the first thing."),
            ))
            .reply(ChatReply::text("About the second thing.")),
    )
    .expect("stand-in");
    let mut assist = assist(&standin, Duration::from_secs(5));
    assist.heard(
        Channel::FarEnd,
        "We tried something like this.",
        2_000,
        Stage::Discovery,
    );
    // Let the first request reach the server before the second replaces it.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assist.heard(
        Channel::FarEnd,
        "And the team hated it.",
        5_000,
        Stage::Discovery,
    );
    let got = wait_for(&mut assist, Duration::from_secs(3)).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let later = assist.poll();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].text, "About the second thing.");
    assert_eq!(got[0].for_ms, 5_000);
    assert!(later.is_empty(), "{later:?}");
    let stats = assist.stats();
    assert_eq!(
        (stats.asked, stats.shown, stats.superseded),
        (2, 1, 1),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_model_is_counted_and_named() {
    let standin = ChatStandin::start(ChatScript::new(None).otherwise(ChatReply::Error {
        status: 500,
        message: "The server had an error while processing your request.".into(),
    }))
    .expect("stand-in");
    let mut assist = assist(&standin, Duration::from_secs(5));
    assist.heard(Channel::FarEnd, "Send me the pricing.", 2_000, Stage::Close);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(assist.poll().is_empty());
    assert_eq!(assist.stats().failed, 1);
    let error = assist.last_error().unwrap_or_default();
    assert!(
        error.contains("HTTP 500") && error.contains("processing your request"),
        "{error}"
    );
}
