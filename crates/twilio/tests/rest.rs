//! The REST client and the set-up helper against the stand-in, whose every request and
//! answer is checked against Twilio's OpenAPI description.

use cuecard_secrets::Secret;
use cuecard_twilio::calls::{CallInstructions, NewCall, RecordingFormat};
use cuecard_twilio::messages::Sender;
use cuecard_twilio::setup::{SipSetup, ensure_sip_domain};
use cuecard_twilio::sip::MappingKind;
use cuecard_twilio::standin::{ACCOUNT_SID, AUTH_TOKEN, TwilioStandin};
use cuecard_twilio::twiml::{Dial, dial};
use cuecard_twilio::{Auth, Credentials, TwilioClient, TwilioError};

fn client(standin: &TwilioStandin, token: &str) -> TwilioClient {
    let credentials =
        Credentials::new(ACCOUNT_SID, Auth::AuthToken(Secret::new(token))).expect("credentials");
    TwilioClient::new(&standin.base_url(), credentials).expect("client")
}

fn setup() -> SipSetup {
    SipSetup {
        domain: "acme-sales".into(),
        voice_url: "https://voice.example.com/twilio/voice".into(),
        secure: true,
        username: "asha".into(),
        password: "Correct-Horse-42".into(),
    }
}

fn assert_matches_twilio(standin: &TwilioStandin) {
    let violations = standin.violations();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn the_set_up_creates_everything_once_and_a_second_run_only_resets_the_password() {
    let standin = TwilioStandin::start().expect("stand-in");
    let twilio = client(&standin, AUTH_TOKEN);

    let first = ensure_sip_domain(&twilio, &setup()).expect("set up");
    assert_eq!(first.domain.domain_name, "acme-sales.sip.twilio.com");
    assert_eq!(first.domain.sip_registration, Some(true));
    assert_eq!(first.domain.secure, Some(true));
    assert_eq!(
        first.domain.voice_url.as_deref(),
        Some("https://voice.example.com/twilio/voice")
    );
    assert_eq!(
        standin.sip_counts(),
        (1, 1, 1, 2),
        "domain, list, login, two mappings"
    );
    assert_eq!(
        standin.sip_password("asha").as_deref(),
        Some("Correct-Horse-42")
    );
    for kind in [MappingKind::Registrations, MappingKind::Calls] {
        let mapped = twilio
            .credential_list_mappings(&first.domain.sid, kind)
            .expect("mappings");
        assert_eq!(mapped.len(), 1);
        assert_eq!(mapped[0].sid, first.credential_list.sid);
    }

    let mut again = setup();
    again.password = "Another-Horse-43".into();
    again.secure = false;
    let second = ensure_sip_domain(&twilio, &again).expect("second run");
    assert_eq!(second.domain.sid, first.domain.sid);
    assert_eq!(
        second.domain.secure,
        Some(false),
        "the Domain was brought in line"
    );
    assert_eq!(standin.sip_counts(), (1, 1, 1, 2), "nothing created twice");
    assert_eq!(
        standin.sip_password("asha").as_deref(),
        Some("Another-Horse-43")
    );
    assert!(
        second.steps.iter().any(|s| s.contains("already asks")),
        "{:?}",
        second.steps
    );
    assert_matches_twilio(&standin);
}

#[test]
fn a_wrong_auth_token_is_one_clear_refusal() {
    let standin = TwilioStandin::start().expect("stand-in");
    let twilio = client(&standin, "not-the-token");
    let error = ensure_sip_domain(&twilio, &setup()).expect_err("refused");
    assert!(
        matches!(error, TwilioError::Unauthorized { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(ACCOUNT_SID) && message.contains("auth token"),
        "{message}"
    );
    assert!(
        !message.contains("not-the-token"),
        "the secret never appears"
    );
    assert_eq!(standin.requests().len(), 1, "no retry storm");
}

#[test]
fn bad_set_up_values_are_refused_before_any_request() {
    let standin = TwilioStandin::start().expect("stand-in");
    let twilio = client(&standin, AUTH_TOKEN);
    let mut weak = setup();
    weak.password = "password".into();
    assert!(
        ensure_sip_domain(&twilio, &weak)
            .unwrap_err()
            .to_string()
            .contains("12 characters")
    );
    let mut bad_domain = setup();
    bad_domain.domain = "acme sales".into();
    assert!(ensure_sip_domain(&twilio, &bad_domain).is_err());
    let mut bad_url = setup();
    bad_url.voice_url = "voice.example.com".into();
    assert!(
        ensure_sip_domain(&twilio, &bad_url)
            .unwrap_err()
            .to_string()
            .contains("voice URL")
    );
    assert!(standin.requests().is_empty());
}

#[test]
fn lists_follow_twilios_next_pages() {
    let standin = TwilioStandin::start().expect("stand-in");
    let twilio = client(&standin, AUTH_TOKEN).with_page_size(2);
    for i in 0..5 {
        twilio
            .create_credential_list(&format!("List {i}"))
            .expect("create");
    }
    let lists = twilio.credential_lists().expect("all pages");
    let names: Vec<String> = lists
        .iter()
        .filter_map(|l| l.friendly_name.clone())
        .collect();
    assert_eq!(names, ["List 0", "List 1", "List 2", "List 3", "List 4"]);
    let pages = standin
        .requests()
        .iter()
        .filter(|r| r.method == "GET")
        .count();
    assert_eq!(pages, 3, "2 + 2 + 1");
    assert_matches_twilio(&standin);
}

#[test]
fn a_call_is_placed_hung_up_and_its_recording_fetched_and_deleted() {
    let standin = TwilioStandin::start().expect("stand-in");
    let twilio = client(&standin, AUTH_TOKEN);
    let twiml = dial(&Dial {
        caller_id: "+14155550100".into(),
        number: "+919812345678".into(),
        timeout_secs: None,
        record: false,
    })
    .expect("twiml");
    let call = twilio
        .create_call(&NewCall {
            to: "+919812345678".into(),
            from: "+14155550100".into(),
            instructions: CallInstructions::Twiml(twiml),
            record: true,
            status_callback: None,
        })
        .expect("placed");
    assert_eq!(call.status.as_deref(), Some("queued"));
    let hung_up = twilio.hang_up(&call.sid).expect("hang up");
    assert_eq!(hung_up.status.as_deref(), Some("canceled"), "it never rang");

    let answered = twilio
        .create_call(&NewCall {
            to: "+919812345678".into(),
            from: "+14155550100".into(),
            instructions: CallInstructions::Url("https://voice.example.com/twiml".into()),
            record: true,
            status_callback: Some("https://voice.example.com/status".into()),
        })
        .expect("placed");
    standin.complete_call(&answered.sid, 42);
    let done = twilio.call(&answered.sid).expect("fetch");
    assert_eq!(done.status.as_deref(), Some("completed"));
    assert_eq!(done.duration.as_deref(), Some("42"));
    assert_eq!(twilio.calls(Some("+919812345678")).expect("list").len(), 2);

    let recordings = twilio.call_recordings(&answered.sid).expect("recordings");
    assert_eq!(recordings.len(), 1);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("call.wav");
    let bytes = twilio
        .download_recording(&recordings[0].sid, RecordingFormat::Wav, &path)
        .expect("download");
    assert_eq!(bytes, std::fs::metadata(&path).expect("file").len());
    assert_eq!(&std::fs::read(&path).expect("read")[..4], b"RIFF");
    twilio.delete_recording(&recordings[0].sid).expect("delete");
    let gone = twilio.recording(&recordings[0].sid).expect_err("deleted");
    assert!(
        matches!(
            gone,
            TwilioError::Api {
                status: 404,
                code: Some(20404),
                ..
            }
        ),
        "{gone:?}"
    );
    assert_matches_twilio(&standin);
}

#[test]
fn a_follow_up_text_goes_from_the_accounts_number() {
    let standin = TwilioStandin::start().expect("stand-in");
    standin.add_phone_number("+14155550100");
    let twilio = client(&standin, AUTH_TOKEN);
    let numbers = twilio.phone_numbers().expect("numbers");
    assert_eq!(numbers.len(), 1);
    assert!(numbers[0].capabilities.as_ref().is_some_and(|c| c.sms));

    let sent = twilio
        .send_message(
            "+919812345678",
            &Sender::Number(numbers[0].phone_number.clone()),
            "Thanks for your time today, Asha — the proposal is attached.",
        )
        .expect("sent");
    assert_eq!(sent.status.as_deref(), Some("queued"));
    assert_eq!(
        twilio.messages(Some("+919812345678")).expect("list").len(),
        1
    );

    // A number the account does not own: Twilio's error, named.
    let refused = twilio
        .send_message(
            "+919812345678",
            &Sender::Number("+15005550000".into()),
            "Hi",
        )
        .expect_err("refused");
    assert!(
        matches!(
            refused,
            TwilioError::Api {
                status: 400,
                code: Some(21606),
                ..
            }
        ),
        "{refused:?}"
    );
    // An empty text never leaves the app.
    let before = standin.requests().len();
    assert!(
        twilio
            .send_message("+919812345678", &Sender::Number("+14155550100".into()), " ")
            .is_err()
    );
    assert_eq!(standin.requests().len(), before);
    assert_matches_twilio(&standin);
}

#[test]
fn an_api_key_signs_in_too() {
    let key_sid = format!("SK{}", "1".repeat(32));
    let standin = TwilioStandin::start_for(ACCOUNT_SID, AUTH_TOKEN, Some((&key_sid, "key-secret")))
        .expect("stand-in");
    let credentials = Credentials::new(
        ACCOUNT_SID,
        Auth::ApiKey {
            sid: key_sid.clone(),
            secret: Secret::new("key-secret"),
        },
    )
    .expect("credentials");
    let twilio = TwilioClient::new(&standin.base_url(), credentials).expect("client");
    assert!(twilio.sip_domains().expect("listed").is_empty());
}

#[test]
fn twilio_errors_and_garbled_answers_are_named() {
    let standin = TwilioStandin::start().expect("stand-in");
    let twilio = client(&standin, AUTH_TOKEN);
    standin.fail_next(429, 20429, "Too Many Requests");
    let error = twilio.sip_domains().expect_err("throttled");
    let text = error.to_string();
    assert!(
        text.contains("429") && text.contains("20429") && text.contains("Too Many Requests"),
        "{text}"
    );

    // Nothing listening: unreachable, with the URL.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let nowhere = TwilioClient::new(
        &format!("http://127.0.0.1:{port}"),
        Credentials::new(ACCOUNT_SID, Auth::AuthToken(Secret::new(AUTH_TOKEN))).expect("c"),
    )
    .expect("client");
    let error = nowhere.sip_domains().expect_err("unreachable");
    assert!(
        matches!(error, TwilioError::Unreachable { .. }),
        "{error:?}"
    );

    assert!(
        TwilioClient::new(
            "api.twilio.com",
            Credentials::new(ACCOUNT_SID, Auth::AuthToken(Secret::new("t"))).expect("c")
        )
        .is_err()
    );
}

#[test]
fn the_stand_in_refuses_requests_twilio_would_not_take() {
    let standin = TwilioStandin::start().expect("stand-in");
    let http = reqwest::blocking::Client::new();
    let url = format!(
        "{}/2010-04-01/Accounts/{ACCOUNT_SID}/SIP/Domains.json",
        standin.base_url()
    );
    let response = http
        .post(&url)
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .form(&[
            ("DomainName", "x.sip.twilio.com"),
            ("SipRegistration", "maybe"),
            ("Bogus", "1"),
        ])
        .send()
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    let violations = standin.violations().join("\n");
    assert!(violations.contains("SipRegistration"), "{violations}");
    assert!(violations.contains("Bogus"), "{violations}");

    // A missing required field.
    let response = http
        .post(&url)
        .basic_auth(ACCOUNT_SID, Some(AUTH_TOKEN))
        .form(&[("FriendlyName", "no name")])
        .send()
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    assert!(
        standin
            .violations()
            .join("\n")
            .contains("DomainName: required")
    );
}
