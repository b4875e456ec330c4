//! The bodies of the SIP and SDP fuzz targets, in one place: the cargo-fuzz binaries in
//! `fuzz_targets/` call them (this file is the fuzz crate's library), and the stable test
//! `crates/sip/tests/fuzz_corpus.rs` includes it with `#[path]` to replay the corpus and a
//! fixed-seed mutation loop through the same code without nightly.
//!
//! Each target takes any bytes. The parsers must never panic; beyond that the targets
//! check what should hold of anything the parsers accept:
//!
//! - a parsed message, written out again, parses back to the same message (Content-Length
//!   aside: it is always rewritten from the body), and from then on writing and reading
//!   is a fixed point; stream framing finds exactly its length;
//! - stream framing never claims more bytes than it was given, nor zero;
//! - a parsed SDP body, written out again, parses back equal; an answer to it, when one
//!   can be made, parses back equal too;
//! - a parsed URI, Via, name-addr, CSeq or crypto line prints to text that parses back
//!   equal.
//!
//! A failed check panics with what differed, which is what a fuzzer reports as a crash.
//! The first runs found three discrepancies (not panics), since fixed in the parsers;
//! `README.md` lists them.

use std::net::SocketAddr;

use cuecard_sip::digest::{Challenge, DigestClient, Signed};
use cuecard_sip::header::{CSeq, NameAddr, Via};
use cuecard_sip::message::{Headers, Message, Request, split_list};
use cuecard_sip::parse::{
    MAX_MESSAGE, check_request, message_length, parse_message, parse_request_head,
};
use cuecard_sip::sdp::{
    CryptoLine, Direction, LocalMedia, SessionDescription, SrtpPolicy, g711_codecs, opus_codec,
};
use cuecard_sip::uri::Uri;

/// The byte that separates the inputs of [`sip_headers`]: each line of the input is
/// handed to every header parser.
pub const HEADER_SEPARATOR: u8 = b'\n';

/// Headers whose values are name-addrs (RFC 3261 §20).
const ADDRESS_HEADERS: &[&str] = &[
    "from",
    "to",
    "contact",
    "route",
    "record-route",
    "refer-to",
    "referred-by",
    "p-asserted-identity",
];

/// A whole SIP message from the network: as a datagram (`parse_message`, and
/// `parse_request_head` for the 400 answer), and as a TCP/TLS stream cut into frames by
/// `message_length` the way the transport does it.
pub fn sip_message(data: &[u8]) {
    if let Some(head) = parse_request_head(data) {
        let request = Message::Request(head);
        round_trip_message(&request);
        header_views(&request);
    }
    if let Ok(message) = parse_message(data) {
        round_trip_message(&message);
        header_views(&message);
        if let Message::Request(request) = &message {
            // Whatever it says, `check_request` answers without panicking.
            let _ = check_request(request);
        }
        sdp(message_body(&message));
    }
    stream_frames(data);
}

/// An SDP body: parse, write, parse again; answer it as an offer and read it as an answer
/// with fixed local media (plain RTP only, SRTP optional, SRTP required).
pub fn sdp(data: &[u8]) {
    let Ok(description) = SessionDescription::parse(data) else {
        return;
    };
    round_trip_sdp(&description, "SDP");
    for media in description.media.iter() {
        for line in media.crypto() {
            if let Ok(crypto) = CryptoLine::parse(line) {
                let text = crypto.to_string();
                match CryptoLine::parse(&text) {
                    Ok(again) => {
                        assert_eq!(again, crypto, "crypto line {line:?} printed as {text:?}")
                    }
                    Err(e) => panic!(
                        "crypto line {line:?} printed as {text:?}, which does not parse: {e}"
                    ),
                }
            }
        }
    }
    for policy in [SrtpPolicy::Off, SrtpPolicy::Optional, SrtpPolicy::Mandatory] {
        let local = local_media(policy);
        if let Ok((answer, agreed)) = local.answer(&description, "4242", 7) {
            round_trip_sdp(&answer, "answer");
            let Some(audio) = description.audio() else {
                panic!("an answer was made to an offer without audio");
            };
            assert_eq!(
                agreed.remote.port(),
                audio.port,
                "the answer sends RTP to the offer's port"
            );
            assert!(
                audio
                    .payload_types()
                    .any(|pt| pt == agreed.codec.payload_type),
                "the agreed payload type {} is not in the offer's {:?}",
                agreed.codec.payload_type,
                audio.formats
            );
            assert!(
                local
                    .codecs
                    .iter()
                    .chain(&local.answer_codecs)
                    .any(|c| c.name == agreed.codec.name),
                "the agreed codec {} is not one of ours",
                agreed.codec.name
            );
            if policy == SrtpPolicy::Off {
                assert!(
                    agreed.crypto.is_none(),
                    "SRTP was agreed with SRTP turned off"
                );
            }
            if policy == SrtpPolicy::Mandatory {
                assert!(
                    agreed.crypto.is_some(),
                    "plain RTP was agreed with SRTP required"
                );
            }
        }
        let read = local.read_answer(&description);
        if policy == SrtpPolicy::Mandatory
            && let Ok(agreed) = &read
        {
            assert!(
                agreed.crypto.is_some(),
                "an answer without crypto was taken with SRTP required"
            );
        }
    }
}

/// Header values: the input is cut at [`HEADER_SEPARATOR`] and every piece goes through
/// the URI, Via, name-addr, CSeq and digest challenge parsers (and the list splitter);
/// all the pieces together are one set of challenges for `Challenge::pick`.
pub fn sip_headers(data: &[u8]) {
    let pieces: Vec<String> = data
        .split(|&b| b == HEADER_SEPARATOR)
        .map(|piece| String::from_utf8_lossy(piece).into_owned())
        .collect();
    for piece in &pieces {
        uri(piece);
        via(piece);
        name_addr(piece);
        cseq(piece);
        challenge(piece);
        for element in split_list(piece) {
            assert!(
                piece.contains(element),
                "list element {element:?} is not in {piece:?}"
            );
            assert!(!element.is_empty(), "an empty list element from {piece:?}");
            via(element);
            name_addr(element);
        }
    }
    if let Ok(picked) = Challenge::pick(pieces.iter().map(String::as_str)) {
        answer_challenge(&picked);
    }
}

/// The body of either kind of message.
fn message_body(message: &Message) -> &[u8] {
    match message {
        Message::Request(r) => &r.body,
        Message::Response(r) => &r.body,
    }
}

/// Writes a parsed message and parses it again.
fn round_trip_message(message: &Message) {
    let bytes = message.to_bytes();
    if bytes.len() > MAX_MESSAGE {
        // Writing expands compact header names and adds Content-Length; a message just
        // under the limit may come out over it, and is then rightly refused.
        return;
    }
    let again = match parse_message(&bytes) {
        Ok(again) => again,
        Err(e) => panic!(
            "{message:?}\nwas written as {:?}\nwhich does not parse: {e}",
            String::from_utf8_lossy(&bytes)
        ),
    };
    assert_eq!(
        normalised(&again),
        normalised(message),
        "written as {:?}",
        String::from_utf8_lossy(&bytes)
    );
    // Once written and read back, a message is a fixed point, Content-Length included.
    let bytes = again.to_bytes();
    match parse_message(&bytes) {
        Ok(third) => {
            assert_eq!(
                third,
                again,
                "written again as {:?}",
                String::from_utf8_lossy(&bytes)
            );
            assert_eq!(
                third.to_bytes(),
                bytes,
                "writing a message is not a fixed point"
            );
        }
        Err(e) => panic!("{again:?} written again does not parse: {e}"),
    }
    match message_length(&bytes) {
        Ok(Some(length)) if length == bytes.len() => {}
        other => panic!(
            "stream framing of {:?} gave {other:?}, not Some({})",
            String::from_utf8_lossy(&bytes),
            bytes.len()
        ),
    }
    if let Message::Request(request) = &again {
        // A whole request's head is the request without its body.
        match parse_request_head(&bytes) {
            Some(head) => assert_eq!(
                normalised(&Message::Request(head)),
                normalised(&Message::Request(Request {
                    body: Vec::new(),
                    ..request.clone()
                })),
            ),
            None => panic!(
                "the head of {:?} does not parse",
                String::from_utf8_lossy(&bytes)
            ),
        }
    }
}

/// The message as it compares after a round trip: without its Content-Length lines
/// (writing replaces them with one from the body, at the end of the headers).
fn normalised(message: &Message) -> Message {
    let strip = |headers: &Headers| {
        let mut headers = headers.clone();
        headers.remove("content-length");
        headers
    };
    match message {
        Message::Request(r) => Message::Request(Request {
            headers: strip(&r.headers),
            ..r.clone()
        }),
        Message::Response(r) => {
            let mut r = r.clone();
            r.headers = strip(&r.headers);
            Message::Response(r)
        }
    }
}

/// What the phone reads from a message's headers, through the typed views.
fn header_views(message: &Message) {
    let headers = message.headers();
    for value in headers.get_all("via") {
        via(value);
    }
    for name in ADDRESS_HEADERS {
        for value in headers.get_all(name) {
            name_addr(value);
        }
    }
    if let Some(value) = headers.get("cseq") {
        cseq(value);
    }
    for name in ["www-authenticate", "proxy-authenticate"] {
        let lines = headers.get_all(name);
        if lines.is_empty() {
            continue;
        }
        if let Ok(picked) = Challenge::pick(lines) {
            answer_challenge(&picked);
        }
    }
}

/// The TCP/TLS receive loop of the transport, on `data` as the bytes received so far.
fn stream_frames(data: &[u8]) {
    let mut buf = data;
    loop {
        let skip = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        buf = &buf[skip..];
        match message_length(buf) {
            Ok(Some(length)) => {
                assert!(length > 0, "a zero-length frame would stall the stream");
                assert!(
                    length <= buf.len(),
                    "a frame of {length} bytes from {} bytes",
                    buf.len()
                );
                let frame = &buf[..length];
                if let Ok(message) = parse_message(frame) {
                    // Framing and parsing agree on where the body ends.
                    let body = message_body(&message);
                    assert!(
                        frame.ends_with(body),
                        "the frame {:?} does not end with the parsed body",
                        String::from_utf8_lossy(frame)
                    );
                } else {
                    let _ = parse_request_head(frame);
                }
                buf = &buf[length..];
            }
            Ok(None) | Err(_) => return,
        }
    }
}

fn uri(text: &str) {
    let Ok(parsed) = Uri::parse(text) else { return };
    let printed = parsed.to_string();
    match Uri::parse(&printed) {
        Ok(again) => assert_eq!(again, parsed, "URI {text:?} printed as {printed:?}"),
        Err(e) => panic!("URI {text:?} printed as {printed:?}, which does not parse: {e}"),
    }
    let _ = parsed.address_of_record();
    let _ = parsed.transport();
}

fn via(text: &str) {
    let Ok(parsed) = Via::parse(text) else { return };
    let printed = parsed.to_string();
    match Via::parse(&printed) {
        Ok(again) => assert_eq!(again, parsed, "Via {text:?} printed as {printed:?}"),
        Err(e) => panic!("Via {text:?} printed as {printed:?}, which does not parse: {e}"),
    }
    let _ = parsed.branch();
    let _ = parsed.seen_from();
}

fn name_addr(text: &str) {
    let Ok(parsed) = NameAddr::parse(text) else {
        return;
    };
    let printed = parsed.to_string();
    match NameAddr::parse(&printed) {
        Ok(again) => assert_eq!(again, parsed, "address {text:?} printed as {printed:?}"),
        Err(e) => panic!("address {text:?} printed as {printed:?}, which does not parse: {e}"),
    }
    let tagged = parsed.with_tag("fuzz");
    assert_eq!(tagged.tag(), Some("fuzz"));
}

fn cseq(text: &str) {
    let Ok(parsed) = CSeq::parse(text) else {
        return;
    };
    let printed = parsed.to_string();
    match CSeq::parse(&printed) {
        Ok(again) => assert_eq!(again, parsed, "CSeq {text:?} printed as {printed:?}"),
        Err(e) => panic!("CSeq {text:?} printed as {printed:?}, which does not parse: {e}"),
    }
}

fn challenge(text: &str) {
    if let Ok(parsed) = Challenge::parse(text) {
        answer_challenge(&parsed);
    }
}

/// Answers a challenge twice with a fixed client nonce: the answers must differ only in
/// their nonce count when there is a qop.
fn answer_challenge(challenge: &Challenge) {
    let mut client = DigestClient::new("fuzz", "secret");
    let request = || Signed {
        method: "REGISTER",
        uri: "sip:example.com",
        body: b"",
    };
    let first = client.authorize_with(challenge, request(), "0a4f113b");
    let second = client.authorize_with(challenge, request(), "0a4f113b");
    match (first, second) {
        (Ok(first), Ok(second)) => {
            assert!(first.starts_with("Digest username=\"fuzz\""), "{first}");
            if !challenge.qop.is_empty() {
                assert!(first.contains("nc=00000001"), "{first}");
                assert!(second.contains("nc=00000002"), "{second}");
            }
        }
        (Err(_), Err(_)) => {}
        (first, second) => panic!("answering {challenge:?} twice gave {first:?} then {second:?}"),
    }
}

/// Writes a session description and parses it again.
fn round_trip_sdp(description: &SessionDescription, what: &str) {
    let text = description.to_string();
    match SessionDescription::parse(text.as_bytes()) {
        Ok(again) => {
            assert_eq!(&again, description, "{what} written as {text:?}");
            assert_eq!(
                again.to_string(),
                text,
                "writing an {what} is not a fixed point"
            );
        }
        Err(e) => {
            panic!("{what} {description:?}\nwas written as {text:?}\nwhich does not parse: {e}")
        }
    }
}

/// The phone's side of a negotiation, as the phone sets it up, with the given SRTP policy.
fn local_media(srtp: SrtpPolicy) -> LocalMedia {
    LocalMedia {
        addr: SocketAddr::from(([192, 0, 2, 10], 40_000)),
        codecs: g711_codecs(),
        answer_codecs: vec![opus_codec()],
        dtmf_payload_type: 101,
        srtp,
        keys: vec![
            CryptoLine {
                tag: 0,
                suite: "AES_CM_128_HMAC_SHA1_80".into(),
                key_params: "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz".into(),
            },
            CryptoLine {
                tag: 0,
                suite: "AES_CM_128_HMAC_SHA1_32".into(),
                key_params: "inline:c2VjcmV0IGtleSBmb3IgdGhlIGZ1enogdGFyZ2V0cw".into(),
            },
        ],
        direction: Direction::SendRecv,
    }
}
