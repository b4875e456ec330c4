//! The chat client against the local stand-in that follows OpenAI's documented protocol:
//! the request it sends, the answer it reads, and every way the server can fail.

use cuecard_llm::standin::{ChatReply, ChatScript, ChatStandin};
use cuecard_llm::{ChatClient, ChatConfig, ChatMessage, LlmError};
use cuecard_secrets::Secret;
use std::time::Duration;

fn client(standin: &ChatStandin, key: Option<&str>) -> ChatClient {
    let mut config = ChatConfig::new(standin.url(), "gpt-4o-mini");
    config.timeout = Duration::from_millis(800);
    ChatClient::new(config, key.map(Secret::new)).expect("client")
}

fn ask() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("You coach sales reps."),
        ChatMessage::user("Customer: the price is my main concern."),
    ]
}

#[tokio::test]
async fn sends_the_documented_request_and_reads_the_answer() {
    let standin = ChatStandin::start(
        ChatScript::new(Some("sk-test"))
            .reply(ChatReply::text("  Ask what budget they planned.\n")),
    )
    .expect("stand-in");
    let answer = client(&standin, Some("sk-test"))
        .complete(&ask())
        .await
        .expect("answer");
    assert_eq!(answer, "Ask what budget they planned.");
    let requests = standin.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(r.authorization.as_deref(), Some("Bearer sk-test"));
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    let body = r.body.as_ref().expect("json body");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["max_tokens"], 80);
    assert!(body["temperature"].as_f64().is_some());
    assert_eq!(
        r.messages(),
        [
            ("system".to_owned(), "You coach sales reps.".to_owned()),
            (
                "user".to_owned(),
                "Customer: the price is my main concern.".to_owned()
            )
        ]
    );
}

#[tokio::test]
async fn a_local_server_needs_no_key() {
    let standin = ChatStandin::start(ChatScript::new(None)).expect("stand-in");
    let answer = client(&standin, None)
        .complete(&ask())
        .await
        .expect("answer");
    assert_eq!(answer, "OK.");
    assert_eq!(standin.requests()[0].authorization, None);
}

#[tokio::test]
async fn every_failure_is_a_clear_error() {
    let standin = ChatStandin::start(
        ChatScript::new(Some("sk-test"))
            .reply(ChatReply::Error {
                status: 429,
                message: "Rate limit reached for requests.".into(),
            })
            .reply(ChatReply::Raw {
                status: 200,
                body: "<html>not json</html>".into(),
            })
            .reply(ChatReply::Raw {
                status: 200,
                body: r#"{"choices": []}"#.into(),
            })
            .reply(ChatReply::slow(
                Duration::from_secs(3),
                ChatReply::text("late"),
            ))
            .reply(ChatReply::Drop),
    )
    .expect("stand-in");
    // A wrong key: the server's own words.
    let err = client(&standin, Some("sk-wrong"))
        .complete(&ask())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LlmError::Auth { message, .. } if message.contains("Incorrect API key")),
        "{err}"
    );
    let good = client(&standin, Some("sk-test"));
    let err = good.complete(&ask()).await.unwrap_err();
    assert!(
        matches!(&err, LlmError::Http { status: 429, message, .. } if message.contains("rate_limit_exceeded")),
        "{err}"
    );
    let err = good.complete(&ask()).await.unwrap_err();
    assert!(matches!(err, LlmError::BadAnswer { .. }), "{err}");
    let err = good.complete(&ask()).await.unwrap_err();
    assert!(err.to_string().contains("no choice with content"), "{err}");
    let err = good.complete(&ask()).await.unwrap_err();
    assert!(matches!(err, LlmError::Timeout { .. }), "{err}");
    let err = good.complete(&ask()).await.unwrap_err();
    assert!(matches!(err, LlmError::Connection { .. }), "{err}");
    // Nothing listening.
    let gone = {
        let url = standin.url();
        drop(standin);
        let mut config = ChatConfig::new(url, "m");
        config.timeout = Duration::from_millis(500);
        ChatClient::new(config, None).expect("client")
    };
    let err = gone.complete(&ask()).await.unwrap_err();
    assert!(
        matches!(err, LlmError::Connection { .. } | LlmError::Timeout { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn the_standin_refuses_what_openai_refuses() {
    let standin = ChatStandin::start(ChatScript::new(None)).expect("stand-in");
    let bad = client(&standin, None);
    // A role OpenAI does not know is refused with its message (sent raw: the client
    // only builds valid requests).
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/chat/completions", standin.url()))
        .header("content-type", "application/json")
        .body(r#"{"model":"m","messages":[{"role":"narrator","content":"x"}]}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 400);
    let text = response.text().await.expect("body");
    assert!(text.contains("narrator"), "{text}");
    let response = http
        .post(format!("{}/chat/completions", standin.url()))
        .body(r#"{"messages":[]}"#)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 400);
    // The client's own requests are valid.
    assert_eq!(bad.complete(&ask()).await.expect("answer"), "OK.");
}
