//! The Deepgram live engine against the local stand-in that speaks Deepgram's protocol:
//! the happy path, the request as documented, keep-alives, the end of a stream, and the
//! ways a connection goes wrong (refused key, close codes, TCP drops, a stalled server,
//! bad frames, reconnects running out).

use cuecard_stt::audio_file::Clip;
use cuecard_stt::deepgram::{DeepgramConfig, DeepgramEngine, ReconnectPolicy};
use cuecard_stt::event::Collected;
use cuecard_stt::standin::{
    ConnectionRecord, DeepgramScript, DeepgramStandin, Fault, coded_audio, script_words,
};
use cuecard_stt::{
    Channel, Notice, NoticeLevel, Segment, SpeechEngine, StreamConfig, StreamSession, SttError,
    TranscriptEvent,
};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const KEY: &str = "dg-test-key-0123456789";

fn config(standin: &DeepgramStandin) -> DeepgramConfig {
    let mut config = DeepgramConfig::new(KEY).with_base_url(standin.url());
    config.reconnect = ReconnectPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    };
    config.connect_timeout = Duration::from_secs(3);
    config.stall_timeout = Duration::from_secs(3);
    config.finalize_timeout = Duration::from_secs(3);
    config.close_timeout = Duration::from_secs(3);
    config
}

fn both() -> StreamConfig {
    StreamConfig {
        channels: vec![Channel::Rep, Channel::FarEnd],
        language: "en".into(),
        paced: true,
    }
}

/// Pushes the coded audio `from..to` seconds on both channels, 100 ms at a time.
fn push_both(session: &mut dyn StreamSession, from: f64, to: f64) {
    let audio = coded_audio(from, to);
    for piece in audio.chunks(1600) {
        session.push(Channel::Rep, piece).expect("push rep");
        session.push(Channel::FarEnd, piece).expect("push far end");
    }
}

/// What the rep and the far end "say" in most tests (audio seconds).
fn conversation(standin_key: &str) -> DeepgramScript {
    DeepgramScript::new(standin_key)
        .channel(
            0,
            script_words(&[
                ("Hello,", 0.30, 0.60),
                ("there.", 0.65, 0.90),
                ("How", 2.00, 2.20),
                ("are", 2.25, 2.40),
                ("you?", 2.45, 2.80),
            ]),
        )
        .channel(
            1,
            script_words(&[("Good", 1.00, 1.30), ("morning.", 1.35, 1.80)]),
        )
}

fn rep_words() -> Vec<(String, u32, u32)> {
    words(&[
        ("Hello,", 300, 600),
        ("there.", 650, 900),
        ("How", 2000, 2200),
        ("are", 2250, 2400),
        ("you?", 2450, 2800),
    ])
}

fn words(list: &[(&str, u32, u32)]) -> Vec<(String, u32, u32)> {
    list.iter()
        .map(|(w, s, e)| (w.to_string(), *s, *e))
        .collect()
}

fn finals(events: &[TranscriptEvent]) -> Vec<&Segment> {
    events
        .iter()
        .filter_map(|e| match e {
            TranscriptEvent::Final { segment } => Some(segment),
            _ => None,
        })
        .collect()
}

/// Every final word on `channel`, in order, with its times.
fn final_words(events: &[TranscriptEvent], channel: Channel) -> Vec<(String, u32, u32)> {
    finals(events)
        .into_iter()
        .filter(|s| s.channel == channel)
        .flat_map(|s| s.words.iter())
        .map(|w| (w.word.clone(), w.start_ms, w.end_ms))
        .collect()
}

fn ends(events: &[TranscriptEvent], channel: Channel) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            TranscriptEvent::EndOfUtterance { channel: c, at_ms } if *c == channel => Some(*at_ms),
            _ => None,
        })
        .collect()
}

fn notices(events: &[TranscriptEvent], level: NoticeLevel) -> Vec<&Notice> {
    events
        .iter()
        .filter_map(|e| match e {
            TranscriptEvent::Notice { notice } if notice.level == level => Some(notice),
            _ => None,
        })
        .collect()
}

fn run_conversation(standin: &DeepgramStandin, config: DeepgramConfig) -> Vec<TranscriptEvent> {
    let engine = DeepgramEngine::new(config);
    let (tx, rx) = mpsc::channel();
    let mut session = engine.start(both(), tx).expect("start");
    push_both(session.as_mut(), 0.0, 4.0);
    session.finish().expect("finish");
    let events: Vec<TranscriptEvent> = rx.try_iter().collect();
    assert!(
        !standin.connections().is_empty(),
        "the stand-in saw no connection"
    );
    events
}

/// The stretches of audio (seconds) the connections received on `channel`, merged.
fn coverage(connections: &[ConnectionRecord], channel: usize) -> Vec<(f64, f64)> {
    let mut ranges: Vec<(f64, f64)> = connections
        .iter()
        .flat_map(|c| c.received.get(channel).cloned().unwrap_or_default())
        .collect();
    ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 + 1e-3 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

#[test]
fn streams_two_channels_into_partials_finals_and_utterance_ends() {
    let standin = DeepgramStandin::start(conversation(KEY)).expect("stand-in");
    let events = run_conversation(&standin, config(&standin));

    assert_eq!(final_words(&events, Channel::Rep), rep_words());
    assert_eq!(
        final_words(&events, Channel::FarEnd),
        words(&[("Good", 1000, 1300), ("morning.", 1350, 1800)])
    );
    // One end per utterance, where its last word ended — no duplicate from UtteranceEnd.
    assert_eq!(ends(&events, Channel::Rep), vec![900, 2800]);
    assert_eq!(ends(&events, Channel::FarEnd), vec![1800]);

    // Partials came before the finals, on the right channel.
    let first_partial = events
        .iter()
        .position(|e| matches!(e, TranscriptEvent::Partial { segment } if segment.channel == Channel::Rep))
        .expect("a partial on the rep");
    let first_final = events
        .iter()
        .position(
            |e| matches!(e, TranscriptEvent::Final { segment } if segment.channel == Channel::Rep),
        )
        .expect("a final on the rep");
    assert!(first_partial < first_final);
    let TranscriptEvent::Partial { segment } = &events[first_partial] else {
        unreachable!()
    };
    assert_eq!(segment.text, "Hello,");
    let confidence = finals(&events)[0].confidence.expect("confidence");
    assert!((confidence - 0.97).abs() < 1e-4);

    let mut collected = Collected::default();
    for e in events.iter().cloned() {
        collected.push(e);
    }
    let utterances: Vec<(Channel, String)> = collected
        .finish()
        .into_iter()
        .map(|s| (s.channel, s.text))
        .collect();
    assert_eq!(
        utterances,
        vec![
            (Channel::Rep, "Hello, there.".to_string()),
            (Channel::FarEnd, "Good morning.".to_string()),
            (Channel::Rep, "How are you?".to_string()),
        ]
    );
    assert!(notices(&events, NoticeLevel::Warning).is_empty());
    assert!(notices(&events, NoticeLevel::Error).is_empty());

    let connections = standin.connections();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].discontinuities, 0);
    assert_eq!(connections[0].empty_binary_frames, 0);
    for channel in 0..2 {
        assert!((connections[0].audio_secs[channel] - 4.0).abs() < 1e-9);
    }
}

#[test]
fn connects_with_the_documented_query_and_token() {
    let standin = DeepgramStandin::start(conversation(KEY)).expect("stand-in");
    let mut config = config(&standin);
    config.endpointing_ms = 250;
    config.utterance_end_ms = 1200;
    run_conversation(&standin, config);
    let connection = &standin.connections()[0];
    assert_eq!(connection.path, "/v1/listen");
    assert_eq!(connection.status, 101);
    assert_eq!(
        connection.authorization.as_deref(),
        Some(format!("Token {KEY}").as_str())
    );
    for (key, value) in [
        ("model", "nova-3"),
        ("encoding", "linear16"),
        ("sample_rate", "16000"),
        ("channels", "2"),
        ("multichannel", "true"),
        ("interim_results", "true"),
        ("endpointing", "250"),
        ("utterance_end_ms", "1200"),
        ("vad_events", "true"),
        ("punctuate", "true"),
        ("language", "en"),
    ] {
        assert_eq!(connection.query(key), Some(value), "{key}");
    }
    // Audio went as binary frames only; control messages as text.
    assert!(connection.binary_frames > 0);
    assert!(
        connection.control.iter().all(|c| c.kind != "invalid"),
        "{:?}",
        connection.control
    );
}

#[test]
fn finish_finalizes_what_is_pending_then_closes_the_stream() {
    // "Goodbye." ends 50 ms before the audio does: only Finalize can make it final.
    let script = DeepgramScript::new(KEY).channel(0, script_words(&[("Goodbye.", 0.40, 0.95)]));
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let engine = DeepgramEngine::new(config(&standin));
    let (tx, rx) = mpsc::channel();
    let mut session = engine.start(both(), tx).expect("start");
    push_both(session.as_mut(), 0.0, 1.0);
    session.finish().expect("finish");
    let events: Vec<TranscriptEvent> = rx.try_iter().collect();

    assert_eq!(
        final_words(&events, Channel::Rep),
        words(&[("Goodbye.", 400, 950)])
    );
    assert_eq!(ends(&events, Channel::Rep), vec![950]);
    assert!(
        ends(&events, Channel::FarEnd).is_empty(),
        "nothing was said there"
    );

    let connection = &standin.connections()[0];
    assert_eq!(connection.control_kinds(), vec!["Finalize", "CloseStream"]);
    assert!(
        connection
            .sent
            .iter()
            .any(|m| m.contains("\"from_finalize\":true") && m.contains("Goodbye.")),
        "the word came from Finalize"
    );
    assert!(
        connection
            .sent
            .last()
            .is_some_and(|m| m.contains("\"Metadata\""))
    );
    assert_eq!(connection.ended.as_deref(), Some("closed 1000"));
}

#[test]
fn keeps_the_stream_alive_through_silence() {
    let script = conversation(KEY).idle_timeout(Duration::from_millis(600));
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let mut config = config(&standin);
    config.keep_alive = Duration::from_millis(100);
    let engine = DeepgramEngine::new(config);
    let (tx, rx) = mpsc::channel();
    let mut session = engine.start(both(), tx).expect("start");
    push_both(session.as_mut(), 0.0, 2.0);
    // The caller has no audio for a while (a muted line): longer than the stand-in's
    // idle timeout.
    std::thread::sleep(Duration::from_millis(1500));
    push_both(session.as_mut(), 2.0, 4.0);
    session.finish().expect("finish");
    let events: Vec<TranscriptEvent> = rx.try_iter().collect();

    let connections = standin.connections();
    assert_eq!(
        connections.len(),
        1,
        "the stream stayed open: {connections:?}"
    );
    let keep_alives: Vec<f64> = connections[0]
        .control
        .iter()
        .filter(|c| c.kind == "KeepAlive")
        .map(|c| c.at_audio_secs)
        .collect();
    assert!(!keep_alives.is_empty());
    assert!(
        keep_alives.iter().any(|at| (at - 2.0).abs() < 1e-9),
        "a keep-alive during the gap: {keep_alives:?}"
    );
    assert_eq!(final_words(&events, Channel::Rep), rep_words());
    assert!(notices(&events, NoticeLevel::Warning).is_empty());
}

#[test]
fn without_keep_alives_an_idle_stream_is_closed_with_net_0001_and_recovered() {
    let script = conversation(KEY).idle_timeout(Duration::from_millis(300));
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let mut config = config(&standin);
    config.keep_alive = Duration::from_secs(30);
    let engine = DeepgramEngine::new(config);
    let (tx, rx) = mpsc::channel();
    let mut session = engine.start(both(), tx).expect("start");
    push_both(session.as_mut(), 0.0, 2.0);
    std::thread::sleep(Duration::from_millis(900));
    push_both(session.as_mut(), 2.0, 4.0);
    session.finish().expect("finish");
    let events: Vec<TranscriptEvent> = rx.try_iter().collect();

    let connections = standin.connections();
    assert_eq!(
        connections[0].ended.as_deref(),
        Some("closed 1011 NET-0001"),
        "{connections:?}"
    );
    assert!(connections[0].control.is_empty(), "no keep-alive was sent");
    let warnings = notices(&events, NoticeLevel::Warning);
    assert!(!warnings.is_empty());
    assert!(warnings[0].message.contains("NET-0001"), "{warnings:?}");
    assert!(notices(&events, NoticeLevel::Error).is_empty());
    assert_eq!(final_words(&events, Channel::Rep), rep_words());
    assert_eq!(
        final_words(&events, Channel::FarEnd),
        words(&[("Good", 1000, 1300), ("morning.", 1350, 1800)])
    );
}

#[test]
fn a_refused_key_fails_start_with_an_auth_error() {
    let standin = DeepgramStandin::start(conversation("the-right-key")).expect("stand-in");
    let engine = DeepgramEngine::new(config(&standin));
    let (tx, _rx) = mpsc::channel();
    match engine.start(both(), tx) {
        Err(SttError::Auth { engine, message }) => {
            assert_eq!(engine, "deepgram");
            assert!(message.contains("401"), "{message}");
            assert!(message.contains("Invalid credentials"), "{message}");
            assert!(!message.contains(KEY), "the key never shows: {message}");
        }
        Err(other) => panic!("expected an auth error, got {other:?}"),
        Ok(_) => panic!("expected an auth error, got a session"),
    }
    assert_eq!(standin.connections()[0].status, 401);
}

/// A longer conversation for the reconnect tests: words before, across and after the
/// point where the first connection fails (2 s).
fn long_conversation() -> DeepgramScript {
    DeepgramScript::new(KEY)
        .channel(
            0,
            script_words(&[
                ("One,", 0.30, 0.60),
                ("two,", 0.70, 0.95),
                ("three,", 1.60, 1.90),
                ("four.", 1.95, 2.30),
                ("Five.", 4.00, 4.40),
            ]),
        )
        .channel(
            1,
            script_words(&[("Yes,", 2.60, 2.90), ("okay.", 3.00, 3.40)]),
        )
}

fn long_rep() -> Vec<(String, u32, u32)> {
    words(&[
        ("One,", 300, 600),
        ("two,", 700, 950),
        ("three,", 1600, 1900),
        ("four.", 1950, 2300),
        ("Five.", 4000, 4400),
    ])
}

/// Runs 5 s through a session whose first connection fails, and checks the recovery:
/// the transcript is whole, no final repeats, times are continuous, the second
/// connection got the audio after the last final again, one warning.
fn assert_recovers(
    script: DeepgramScript,
    config_of: impl Fn(&DeepgramStandin) -> DeepgramConfig,
    causes: &[&str],
    exact_resend: bool,
) {
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let engine = DeepgramEngine::new(config_of(&standin));
    let (tx, rx) = mpsc::channel();
    let mut session = engine.start(both(), tx).expect("start");
    push_both(session.as_mut(), 0.0, 5.0);
    session.finish().expect("finish");
    let events: Vec<TranscriptEvent> = rx.try_iter().collect();

    assert_eq!(final_words(&events, Channel::Rep), long_rep());
    assert_eq!(
        final_words(&events, Channel::FarEnd),
        words(&[("Yes,", 2600, 2900), ("okay.", 3000, 3400)])
    );
    assert_eq!(ends(&events, Channel::Rep), vec![950, 2300, 4400]);
    assert_eq!(ends(&events, Channel::FarEnd), vec![3400]);

    let warnings = notices(&events, NoticeLevel::Warning);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].engine, "deepgram");
    assert!(
        causes
            .iter()
            .any(|cause| warnings[0].message.contains(cause)),
        "{}",
        warnings[0].message
    );
    assert!(
        warnings[0].message.contains("reconnected"),
        "{}",
        warnings[0].message
    );
    assert!(notices(&events, NoticeLevel::Error).is_empty());

    let connections = standin.connections();
    assert_eq!(connections.len(), 2, "{connections:?}");
    let (first, second) = (&connections[0], &connections[1]);
    for channel in 0..2 {
        // The second connection started where the first one's finals ended — 1.3 s: the
        // rep's "two," was final, "three, four." were not — or earlier when the finals
        // were lost with the connection (a reset discards what the client had not read).
        let resent_from = second.first_position(channel).expect("coded audio");
        assert!(
            resent_from <= 1.3 + 1e-3,
            "channel {channel}: {resent_from}"
        );
        if exact_resend {
            assert!(
                (resent_from - 1.3).abs() < 1e-3,
                "channel {channel}: {resent_from}"
            );
        }
        assert!(first.received[channel][0].1 >= 2.0 - 1e-3);
        // Together they heard all of the audio, without a gap.
        assert_eq!(coverage(&connections, channel), vec![(0.0, 5.0)]);
    }
    assert_eq!(second.discontinuities, 0);
    assert_eq!(second.control_kinds(), vec!["Finalize", "CloseStream"]);
}

#[test]
fn a_close_with_1011_mid_stream_reconnects_and_backfills() {
    let script = long_conversation().fault(
        0,
        Fault::Close {
            after_secs: 2.0,
            code: 1011,
            reason: "NET-0000".into(),
        },
    );
    assert_recovers(script, config, &["closed with code 1011 (NET-0000)"], true);
}

#[test]
fn a_close_with_1008_is_recovered_the_same_way() {
    let script = long_conversation().fault(
        0,
        Fault::Close {
            after_secs: 2.0,
            code: 1008,
            reason: "DATA-0000".into(),
        },
    );
    assert_recovers(script, config, &["closed with code 1008 (DATA-0000)"], true);
}

#[test]
fn a_tcp_drop_without_a_close_frame_reconnects_and_backfills() {
    let script = long_conversation().fault(0, Fault::Drop { after_secs: 2.0 });
    // The client notices while reading (no closing handshake) or while writing.
    assert_recovers(
        script,
        config,
        &[
            "the connection failed",
            "sending failed",
            "ended the connection",
        ],
        false,
    );
}

#[test]
fn a_stalled_server_counts_as_a_drop() {
    let script = long_conversation().fault(0, Fault::Stall { after_secs: 2.0 });
    let config_of = |standin: &DeepgramStandin| {
        let mut config = config(standin);
        config.stall_timeout = Duration::from_millis(800);
        config
    };
    // Either nothing comes back while audio flows, or the writes back up.
    assert_recovers(
        script,
        config_of,
        &[
            "no message from the server",
            "no final results",
            "a send was blocked",
        ],
        true,
    );
}

#[test]
fn bad_frames_from_the_server_are_warnings_and_the_session_goes_on() {
    let script = conversation(KEY)
        .fault(
            0,
            Fault::SendText {
                after_secs: 1.0,
                text: "{\"type\": \"Results\", \"channel_index\": ".into(),
            },
        )
        .fault(
            0,
            Fault::SendBinary {
                after_secs: 1.5,
                bytes: vec![1, 2, 3],
            },
        );
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let events = run_conversation(&standin, config(&standin));
    let warnings = notices(&events, NoticeLevel::Warning);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].message.contains("could not be read"),
        "{warnings:?}"
    );
    assert!(warnings[1].message.contains("binary"), "{warnings:?}");
    assert_eq!(final_words(&events, Channel::Rep), rep_words());
    assert_eq!(standin.connections().len(), 1);
}

#[test]
fn when_reconnects_run_out_there_is_one_error_and_push_fails_fast() {
    let script = long_conversation()
        .fault(
            0,
            Fault::Close {
                after_secs: 1.0,
                code: 1011,
                reason: "NET-0000".into(),
            },
        )
        .fault(1, Fault::RefuseHandshake { status: 503 })
        .fault(2, Fault::RefuseHandshake { status: 503 })
        .fault(3, Fault::RefuseHandshake { status: 503 });
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let engine = DeepgramEngine::new(config(&standin));
    let (tx, rx) = mpsc::channel();
    let mut session = engine.start(both(), tx).expect("start");
    push_both(session.as_mut(), 0.0, 2.0);

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut events = Vec::new();
    while !events.iter().any(
        |e| matches!(e, TranscriptEvent::Notice { notice } if notice.level == NoticeLevel::Error),
    ) {
        let left = deadline.saturating_duration_since(Instant::now());
        events.push(rx.recv_timeout(left).expect("an error notice"));
    }
    let errors = notices(&events, NoticeLevel::Error);
    assert_eq!(errors[0].engine, "deepgram");
    assert!(
        errors[0].message.contains("3 reconnection attempts"),
        "{}",
        errors[0].message
    );
    assert!(errors[0].message.contains("503"), "{}", errors[0].message);

    let started = Instant::now();
    let pushed = session.push(Channel::Rep, &coded_audio(2.0, 2.1));
    assert!(
        matches!(
            pushed,
            Err(SttError::Connection {
                engine: "deepgram",
                ..
            })
        ),
        "{pushed:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "push never blocks"
    );
    assert!(matches!(session.finish(), Err(SttError::Connection { .. })));
    events.extend(rx.try_iter());
    assert_eq!(
        notices(&events, NoticeLevel::Error).len(),
        1,
        "exactly one error notice"
    );
    assert_eq!(standin.connections().len(), 4);
}

#[test]
fn a_key_refused_on_reconnect_is_an_auth_failure() {
    let script = long_conversation()
        .fault(0, Fault::Drop { after_secs: 1.0 })
        .fault(1, Fault::RejectAuth);
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let engine = DeepgramEngine::new(config(&standin));
    let (tx, rx) = mpsc::channel();
    let mut session = engine.start(both(), tx).expect("start");
    push_both(session.as_mut(), 0.0, 2.0);
    let result = session.finish();
    assert!(matches!(result, Err(SttError::Auth { .. })), "{result:?}");
    let events: Vec<TranscriptEvent> = rx.try_iter().collect();
    let errors = notices(&events, NoticeLevel::Error);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("Invalid credentials"),
        "{}",
        errors[0].message
    );
    assert_eq!(
        standin.connections().len(),
        2,
        "no attempts after the key was refused"
    );
}

#[test]
fn transcribe_streams_a_clip_through_a_session() {
    let script = DeepgramScript::new(KEY).channel(
        0,
        script_words(&[
            ("Thanks", 0.20, 0.50),
            ("for", 0.55, 0.70),
            ("calling.", 0.75, 1.20),
        ]),
    );
    let standin = DeepgramStandin::start(script).expect("stand-in");
    let engine = DeepgramEngine::new(config(&standin));
    let clip = Clip::mono(Channel::FarEnd, coded_audio(0.0, 2.5));
    let segments = engine.transcribe(&clip, "en-US").expect("transcribe");
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0].channel, Channel::FarEnd);
    assert_eq!(segments[0].text, "Thanks for calling.");
    assert_eq!((segments[0].start_ms, segments[0].end_ms), (200, 1200));
    assert_eq!(standin.connections()[0].query("channels"), Some("1"));
    assert_eq!(standin.connections()[0].query("language"), Some("en-US"));
}

#[test]
fn audio_for_a_channel_not_in_the_session_is_refused() {
    let standin = DeepgramStandin::start(conversation(KEY)).expect("stand-in");
    let engine = DeepgramEngine::new(config(&standin));
    let (tx, _rx) = mpsc::channel();
    let config = StreamConfig {
        channels: vec![Channel::Rep],
        ..both()
    };
    let mut session = engine.start(config, tx).expect("start");
    assert!(matches!(
        session.push(Channel::FarEnd, &[0.0; 160]),
        Err(SttError::UnknownChannel(Channel::FarEnd))
    ));
    session.finish().expect("finish");
}

#[test]
fn the_standin_closes_with_1008_on_a_message_it_cannot_use() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let standin = DeepgramStandin::start(conversation(KEY)).expect("stand-in");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let close = runtime.block_on(async {
        let url = format!(
            "{}/v1/listen?encoding=linear16&sample_rate=16000&channels=1",
            standin.url()
        );
        let mut request = url.into_client_request().expect("request");
        request.headers_mut().insert(
            "authorization",
            format!("Token {KEY}").parse().expect("header"),
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("connect");
        ws.send(Message::text("{\"type\":\"Hello\"}"))
            .await
            .expect("send");
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    });
    let frame = close.expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 1008);
    assert_eq!(frame.reason.as_str(), "DATA-0000");
    assert_eq!(standin.connections()[0].control_kinds(), vec!["invalid"]);
}
