//! The OpenAI-compatible batch engine against the local stand-in for
//! `POST /v1/audio/transcriptions`: the transcript, the request as documented, and the
//! ways a request goes wrong (refused key, rate limit, server error, timeout, dropped
//! connection, an answer that does not parse).

use cuecard_stt::audio_file::Clip;
use cuecard_stt::openai::{OpenAiConfig, OpenAiEngine};
use cuecard_stt::standin::{OpenAiReply, OpenAiScript, OpenAiStandin, StandinSegment};
use cuecard_stt::{Channel, SpeechEngine, StreamConfig, SttError};
use std::sync::mpsc;
use std::time::Duration;

const KEY: &str = "sk-test-0123456789";

fn engine(standin: &OpenAiStandin) -> OpenAiEngine {
    let mut config = OpenAiConfig::new(KEY).with_base_url(standin.url());
    config.timeout = Duration::from_secs(5);
    config.retry_backoff = Duration::from_millis(10);
    OpenAiEngine::new(config)
}

fn silence(secs: f64) -> Vec<f32> {
    vec![0.0; (secs * 16_000.0) as usize]
}

fn call() -> Clip {
    Clip {
        channels: vec![
            (Channel::Rep, silence(3.0)),
            (Channel::FarEnd, silence(2.5)),
        ],
    }
}

fn rep_reply() -> OpenAiReply {
    OpenAiReply::transcript(vec![
        StandinSegment::of_words(
            &[("Hi,", 0.2, 0.5), ("it's", 0.6, 0.8), ("Sam.", 0.85, 1.3)],
            -0.1,
        ),
        StandinSegment::of_words(
            &[("Got", 1.8, 2.0), ("a", 2.05, 2.1), ("minute?", 2.15, 2.7)],
            -0.3,
        ),
    ])
}

fn far_reply() -> OpenAiReply {
    OpenAiReply::transcript(vec![StandinSegment::of_words(&[("Sure.", 1.0, 1.4)], -0.2)])
}

#[test]
fn transcribes_each_channel_into_segments_with_words() {
    let standin =
        OpenAiStandin::start(OpenAiScript::new(KEY).reply(rep_reply()).reply(far_reply()))
            .expect("stand-in");
    let segments = engine(&standin)
        .transcribe(&call(), "en")
        .expect("transcribe");

    let summary: Vec<(Channel, &str, u32, u32)> = segments
        .iter()
        .map(|s| (s.channel, s.text.as_str(), s.start_ms, s.end_ms))
        .collect();
    assert_eq!(
        summary,
        vec![
            (Channel::Rep, "Hi, it's Sam.", 200, 1300),
            (Channel::FarEnd, "Sure.", 1000, 1400),
            (Channel::Rep, "Got a minute?", 1800, 2700),
        ]
    );
    let words: Vec<(&str, u32, u32)> = segments[2]
        .words
        .iter()
        .map(|w| (w.word.as_str(), w.start_ms, w.end_ms))
        .collect();
    assert_eq!(
        words,
        vec![
            ("Got", 1800, 2000),
            ("a", 2050, 2100),
            ("minute?", 2150, 2700)
        ]
    );
    assert_eq!(segments[0].words.len(), 3);
    let confidence = segments[0].confidence.expect("confidence");
    assert!((confidence - (-0.1f32).exp()).abs() < 1e-5, "{confidence}");
    assert!(segments.iter().all(|s| s.speaker.is_none()));
}

#[test]
fn sends_the_documented_multipart_request() {
    let standin =
        OpenAiStandin::start(OpenAiScript::new(KEY).reply(rep_reply()).reply(far_reply()))
            .expect("stand-in");
    engine(&standin)
        .transcribe(&call(), "en-US")
        .expect("transcribe");
    let requests = standin.requests();
    assert_eq!(requests.len(), 2, "one per channel");
    for (request, secs) in requests.iter().zip([3.0, 2.5]) {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v1/audio/transcriptions");
        assert_eq!(
            request.authorization.as_deref(),
            Some(format!("Bearer {KEY}").as_str())
        );
        assert!(
            request
                .content_type
                .as_deref()
                .is_some_and(|t| t.starts_with("multipart/form-data; boundary=")),
            "{:?}",
            request.content_type
        );
        assert_eq!(request.field("model"), Some("whisper-1"));
        assert_eq!(request.field("language"), Some("en"));
        assert_eq!(request.field("response_format"), Some("verbose_json"));
        assert_eq!(
            request.fields_named("timestamp_granularities[]"),
            vec!["word", "segment"]
        );
        assert_eq!(request.file_name.as_deref(), Some("audio.wav"));
        assert_eq!(request.file_content_type.as_deref(), Some("audio/wav"));
        let wav = request.wav.as_ref().expect("a readable WAV");
        assert_eq!(
            (wav.sample_rate, wav.channels, wav.bits_per_sample),
            (16_000, 1, 16)
        );
        assert!((wav.duration_secs - secs).abs() < 1e-9);
        assert_eq!(request.status, 200);
    }
}

#[test]
fn a_refused_key_is_an_auth_error_with_the_servers_message() {
    let standin = OpenAiStandin::start(OpenAiScript::new("sk-the-right-one")).expect("stand-in");
    match engine(&standin).transcribe(&call(), "en") {
        Err(SttError::Auth { engine, message }) => {
            assert_eq!(engine, "openai");
            assert!(message.contains("Incorrect API key provided"), "{message}");
            assert!(message.contains("invalid_api_key"), "{message}");
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    assert_eq!(standin.requests().len(), 1, "no retry after 401");
    assert_eq!(standin.requests()[0].status, 401);
}

#[test]
fn a_rate_limit_is_retried_after_the_wait_it_asks_for() {
    let script = OpenAiScript::new(KEY)
        .reply(OpenAiReply::rate_limited("0"))
        .reply(rep_reply())
        .reply(far_reply());
    let standin = OpenAiStandin::start(script).expect("stand-in");
    let segments = engine(&standin)
        .transcribe(&call(), "en")
        .expect("transcribe");
    assert_eq!(segments.len(), 3);
    let statuses: Vec<u16> = standin.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200, 200]);
}

#[test]
fn a_server_error_that_persists_is_a_clear_engine_error() {
    let failing = OpenAiReply::error(
        500,
        "The server had an error while processing your request.",
    );
    let script = OpenAiScript::new(KEY)
        .reply(failing.clone())
        .reply(failing.clone())
        .reply(failing);
    let standin = OpenAiStandin::start(script).expect("stand-in");
    match engine(&standin).transcribe(&call(), "en") {
        Err(SttError::Engine { engine, message }) => {
            assert_eq!(engine, "openai");
            assert!(message.contains("500"), "{message}");
            assert!(message.contains("The server had an error"), "{message}");
            assert!(message.contains("after 3 attempts"), "{message}");
        }
        other => panic!("expected an engine error, got {other:?}"),
    }
    assert_eq!(standin.requests().len(), 3, "two retries, then it gives up");
}

#[test]
fn a_slow_server_is_a_connection_error_after_the_timeout() {
    let script = OpenAiScript::new(KEY).reply(OpenAiReply::Slow {
        delay: Duration::from_secs(5),
        then: Box::new(rep_reply()),
    });
    let standin = OpenAiStandin::start(script).expect("stand-in");
    let mut config = engine(&standin).config().clone();
    config.timeout = Duration::from_millis(300);
    match OpenAiEngine::new(config).transcribe(&call(), "en") {
        Err(SttError::Connection { engine, message }) => {
            assert_eq!(engine, "openai");
            assert!(message.contains("no answer within 0.3 s"), "{message}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}

#[test]
fn a_dropped_connection_is_a_connection_error() {
    let standin =
        OpenAiStandin::start(OpenAiScript::new(KEY).reply(OpenAiReply::Drop)).expect("stand-in");
    let result = engine(&standin).transcribe(&call(), "en");
    assert!(
        matches!(
            result,
            Err(SttError::Connection {
                engine: "openai",
                ..
            })
        ),
        "{result:?}"
    );
    assert_eq!(standin.requests()[0].status, 0);
}

#[test]
fn an_answer_that_is_not_verbose_json_is_a_clear_error() {
    let script = OpenAiScript::new(KEY).reply(OpenAiReply::Raw {
        status: 200,
        content_type: "application/json".into(),
        body: "{\"task\": \"transcribe\", \"segments\": [{\"start\": 0.0".into(),
    });
    let standin = OpenAiStandin::start(script).expect("stand-in");
    match engine(&standin).transcribe(&call(), "en") {
        Err(SttError::Engine { engine, message }) => {
            assert_eq!(engine, "openai");
            assert!(message.contains("verbose_json"), "{message}");
            assert!(message.contains("EOF"), "{message}");
        }
        other => panic!("expected an engine error, got {other:?}"),
    }
}

#[test]
fn audio_over_the_upload_limit_goes_in_chunks_with_times_offset() {
    // 50 s of audio against a 20 s chunk: three requests, at 0, 20 and 40 s.
    let script = OpenAiScript::new(KEY)
        .reply(OpenAiReply::transcript(vec![StandinSegment::of_words(
            &[("one", 1.0, 1.5)],
            -0.1,
        )]))
        .reply(OpenAiReply::transcript(vec![StandinSegment::of_words(
            &[("two", 2.0, 2.5)],
            -0.1,
        )]))
        .reply(OpenAiReply::transcript(vec![StandinSegment::of_words(
            &[("three", 3.0, 3.5)],
            -0.1,
        )]));
    let standin = OpenAiStandin::start(script).expect("stand-in");
    let mut config = engine(&standin).config().clone();
    config.max_upload_bytes = 1_000_000;
    config.max_chunk = Duration::from_secs(20);
    let clip = Clip::mono(Channel::Rep, silence(50.0));
    let segments = OpenAiEngine::new(config)
        .transcribe(&clip, "en")
        .expect("transcribe");
    let summary: Vec<(&str, u32, u32)> = segments
        .iter()
        .map(|s| (s.text.as_str(), s.start_ms, s.end_ms))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("one", 1000, 1500),
            ("two", 22_000, 22_500),
            ("three", 43_000, 43_500)
        ]
    );
    assert_eq!(segments[2].words[0].start_ms, 43_000);
    let durations: Vec<f64> = standin
        .requests()
        .iter()
        .map(|r| r.wav.as_ref().expect("wav").duration_secs)
        .collect();
    assert_eq!(durations, vec![20.0, 20.0, 10.0]);
}

#[test]
fn live_streaming_is_unsupported() {
    let standin = OpenAiStandin::start(OpenAiScript::new(KEY)).expect("stand-in");
    let (tx, _rx) = mpsc::channel();
    assert!(matches!(
        engine(&standin).start(StreamConfig::default(), tx),
        Err(SttError::Unsupported {
            engine: "openai",
            what: "live streaming"
        })
    ));
}

#[test]
fn the_standin_refuses_what_openai_refuses() {
    use reqwest::blocking::multipart::{Form, Part};

    let standin = OpenAiStandin::start(OpenAiScript::new(KEY)).expect("stand-in");
    let url = format!("{}/audio/transcriptions", standin.url());
    let client = reqwest::blocking::Client::new();
    let send = |form: Form| {
        let response = client
            .post(&url)
            .bearer_auth(KEY)
            .multipart(form)
            .send()
            .expect("send");
        let status = response.status().as_u16();
        let body: serde_json::Value =
            serde_json::from_str(&response.text().expect("body")).expect("an error body");
        (status, body["error"]["param"].clone(), body)
    };
    let wav = || {
        let mut bytes = std::io::Cursor::new(Vec::new());
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::new(&mut bytes, spec).expect("writer");
        writer.write_sample(0i16).expect("sample");
        writer.finalize().expect("finalize");
        Part::bytes(bytes.into_inner()).file_name("audio.wav")
    };

    let (status, param, body) = send(Form::new().part("file", wav()));
    assert_eq!((status, param.as_str()), (400, Some("model")), "{body}");

    let not_audio = Part::bytes(b"hello".to_vec()).file_name("audio.wav");
    let (status, param, body) = send(
        Form::new()
            .part("file", not_audio)
            .text("model", "whisper-1"),
    );
    assert_eq!((status, param.as_str()), (400, Some("file")), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Invalid file format"))
    );

    let (status, param, body) = send(
        Form::new()
            .part("file", wav())
            .text("model", "whisper-1")
            .text("timestamp_granularities[]", "word"),
    );
    assert_eq!(
        (status, param.as_str()),
        (400, Some("timestamp_granularities")),
        "{body}"
    );
    assert!(standin.requests().iter().all(|r| r.status == 400));
}
