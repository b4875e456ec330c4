//! A stand-in for Deepgram's live streaming API: `GET /v1/listen` upgraded to a
//! WebSocket, `Authorization: Token <key>`, linear16 audio in binary frames, JSON control
//! messages (`KeepAlive`, `Finalize`, `CloseStream`) in text frames, and `Results`,
//! `SpeechStarted`, `UtteranceEnd` and `Metadata` back, with the documented close codes
//! (1008 `DATA-0000` for a message it cannot use, 1011 `NET-0001` for an idle stream).
//!
//! It has no recogniser. The test scripts the words "said" on each channel in *audio
//! time*, and sends [`coded_audio`]: samples that encode their own position. From them
//! the stand-in knows which part of the audio every connection receives — after a
//! reconnect the client resends (backfills) audio from some earlier point, and the
//! stand-in, like Deepgram, reports times from the start of *that* connection. Words are
//! interim once their start has been received, final once the endpointing silence after
//! them has been received (or on `Finalize` / `CloseStream`).
//!
//! Faults are chosen per connection index ([`Fault`]), and each connection is recorded
//! ([`ConnectionRecord`]): query, headers, control messages, audio received and where in
//! the audio it came from.

use cuecard_testserver::LocalServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{WebSocketStream, accept_hdr_async};

const RATE: f64 = 16_000.0;
const ODD_FLAG: i16 = 0x4000;

fn code(index: u64) -> i16 {
    let pair = index / 2;
    if index & 1 == 0 {
        1 + (pair & 0x1FFF) as i16
    } else {
        ODD_FLAG + ((pair >> 13) & 0x3FFF) as i16
    }
}

/// The position of `even` when `even, odd` are two consecutive coded samples.
fn decode_pair(even: i16, odd: i16) -> Option<u64> {
    if (1..=0x2000).contains(&even) && odd >= ODD_FLAG {
        let low = (even - 1) as u64;
        let high = (odd - ODD_FLAG) as u64;
        Some(((high << 13) | low) * 2)
    } else {
        None
    }
}

/// 16 kHz test audio for `from_secs..to_secs` whose samples encode their own position
/// (up to about 4.6 hours), so the stand-in can tell which audio a connection received.
/// It survives the client's conversion to 16-bit PCM exactly.
pub fn coded_audio(from_secs: f64, to_secs: f64) -> Vec<f32> {
    let from = (from_secs * RATE).round().max(0.0) as u64;
    let to = (to_secs * RATE).round().max(0.0) as u64;
    (from..to).map(|i| f32::from(code(i)) / 32767.0).collect()
}

/// A word the test says was spoken, in seconds of the channel's audio.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptWord {
    /// As Deepgram's `word`: lower case, no punctuation.
    pub word: String,
    /// As Deepgram's `punctuated_word`.
    pub punctuated: String,
    pub start: f64,
    pub end: f64,
    pub confidence: f64,
}

impl ScriptWord {
    /// `punctuated` as given ("Hello,"), `word` its bare lower-case form ("hello").
    pub fn new(punctuated: &str, start: f64, end: f64) -> Self {
        let word = punctuated
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'')
            .collect::<String>()
            .to_lowercase();
        Self {
            word,
            punctuated: punctuated.to_string(),
            start,
            end,
            confidence: 0.97,
        }
    }
}

/// Words from `(punctuated, start, end)` triples.
pub fn script_words(words: &[(&str, f64, f64)]) -> Vec<ScriptWord> {
    words
        .iter()
        .map(|(w, start, end)| ScriptWord::new(w, *start, *end))
        .collect()
}

/// What goes wrong on one connection. `after_secs` counts the audio received on that
/// connection (the longest channel).
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Fault {
    #[default]
    None,
    /// Answer the upgrade with 401 `INVALID_AUTH`, whatever the key.
    RejectAuth,
    /// Answer the upgrade with this HTTP status (e.g. 503).
    RefuseHandshake { status: u16 },
    /// Send a close frame with this code and reason.
    Close {
        after_secs: f64,
        code: u16,
        reason: String,
    },
    /// Drop the TCP connection without a close frame.
    Drop { after_secs: f64 },
    /// Stop reading and answering, keeping the connection open.
    Stall { after_secs: f64 },
    /// Send this text frame once (e.g. malformed JSON), then carry on.
    SendText { after_secs: f64, text: String },
    /// Send this binary frame once, then carry on.
    SendBinary { after_secs: f64, bytes: Vec<u8> },
}

impl Fault {
    fn after(&self) -> Option<f64> {
        match self {
            Self::Close { after_secs, .. }
            | Self::Drop { after_secs }
            | Self::Stall { after_secs }
            | Self::SendText { after_secs, .. }
            | Self::SendBinary { after_secs, .. } => Some(*after_secs),
            Self::None | Self::RejectAuth | Self::RefuseHandshake { .. } => None,
        }
    }
}

/// What the stand-in hears and how it misbehaves.
#[derive(Clone, Debug)]
pub struct DeepgramScript {
    /// The key it accepts (`Authorization: Token <key>`).
    pub api_key: String,
    /// Per Deepgram channel index: the words spoken, in audio seconds.
    pub words: Vec<Vec<ScriptWord>>,
    /// Per connection index (0 = the first), the faults of that connection, each once,
    /// in order; connections past the end have none.
    pub faults: Vec<Vec<Fault>>,
    /// Closes with 1011 `NET-0001` after this long without audio or a text message
    /// (Deepgram: 10 s).
    pub idle_timeout: Duration,
    /// Received audio without words is acknowledged with an empty final this often.
    pub silence_final_secs: f64,
    /// Speech longer than this without an endpoint is finalised up to the last whole word.
    pub max_final_secs: f64,
}

impl DeepgramScript {
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            words: Vec::new(),
            faults: Vec::new(),
            idle_timeout: Duration::from_secs(10),
            silence_final_secs: 1.0,
            max_final_secs: 10.0,
        }
    }

    /// The words spoken on Deepgram channel `index`.
    pub fn channel(mut self, index: usize, words: Vec<ScriptWord>) -> Self {
        if self.words.len() <= index {
            self.words.resize(index + 1, Vec::new());
        }
        self.words[index] = words;
        self
    }

    /// Adds a fault to connection `index`.
    pub fn fault(mut self, index: usize, fault: Fault) -> Self {
        if self.faults.len() <= index {
            self.faults.resize(index + 1, Vec::new());
        }
        self.faults[index].push(fault);
        self
    }

    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }
}

/// A text frame the client sent.
#[derive(Clone, Debug, PartialEq)]
pub struct ControlMessage {
    /// Its `type` (`KeepAlive`, `Finalize`, `CloseStream`), or `invalid`.
    pub kind: String,
    pub text: String,
    /// Seconds of audio the connection had received when it came.
    pub at_audio_secs: f64,
}

/// Everything one connection did.
#[derive(Clone, Debug, Default)]
pub struct ConnectionRecord {
    pub index: usize,
    pub path: String,
    pub authorization: Option<String>,
    pub query: Vec<(String, String)>,
    /// 101 when upgraded, else the refusal's status.
    pub status: u16,
    pub control: Vec<ControlMessage>,
    /// Seconds received per channel.
    pub audio_secs: Vec<f64>,
    /// Per channel: the stretches of coded audio received, in audio seconds.
    pub received: Vec<Vec<(f64, f64)>>,
    /// Jumps in the coded audio within this connection (skipped or repeated audio).
    pub discontinuities: usize,
    pub binary_frames: usize,
    pub empty_binary_frames: usize,
    /// The text frames the stand-in sent.
    pub sent: Vec<String>,
    /// How the connection ended, once it has.
    pub ended: Option<String>,
}

impl ConnectionRecord {
    /// The first value of query parameter `key`.
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The kinds of the control messages received, in order.
    pub fn control_kinds(&self) -> Vec<&str> {
        self.control.iter().map(|c| c.kind.as_str()).collect()
    }

    /// Where in the audio (seconds) the connection's first coded sample of `channel` was.
    pub fn first_position(&self, channel: usize) -> Option<f64> {
        self.received
            .get(channel)
            .and_then(|r| r.first())
            .map(|(start, _)| *start)
    }
}

struct Shared {
    script: DeepgramScript,
    records: Mutex<Vec<ConnectionRecord>>,
}

impl Shared {
    fn records(&self) -> MutexGuard<'_, Vec<ConnectionRecord>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn update(&self, index: usize, f: impl FnOnce(&mut ConnectionRecord)) {
        if let Some(record) = self.records().get_mut(index) {
            f(record);
        }
    }
}

/// A running stand-in. Dropping it shuts it down.
pub struct DeepgramStandin {
    server: LocalServer,
    shared: Arc<Shared>,
}

impl DeepgramStandin {
    /// Listens on `127.0.0.1:0` on a thread of its own.
    pub fn start(script: DeepgramScript) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            script,
            records: Mutex::new(Vec::new()),
        });
        let server = LocalServer::start("deepgram-standin", {
            let shared = shared.clone();
            move |stream, stop| {
                let index = {
                    let mut records = shared.records();
                    let index = records.len();
                    records.push(ConnectionRecord {
                        index,
                        ..ConnectionRecord::default()
                    });
                    index
                };
                serve(shared.clone(), stream, index, stop)
            }
        })?;
        Ok(Self { server, shared })
    }

    /// `ws://127.0.0.1:PORT`: the base URL for the client.
    pub fn url(&self) -> String {
        format!("ws://{}", self.server.addr())
    }

    /// The connections so far, in order.
    pub fn connections(&self) -> Vec<ConnectionRecord> {
        self.shared.records().clone()
    }
}

/// What the handshake saw.
#[derive(Default)]
struct Handshake {
    path: String,
    authorization: Option<String>,
    query: Vec<(String, String)>,
    status: u16,
}

fn refusal(status: u16, code: &str, message: &str, request_id: &str) -> ErrorResponse {
    let body = json!({"err_code": code, "err_msg": message, "request_id": request_id}).to_string();
    let mut response = ErrorResponse::new(Some(body.clone()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("content-length", HeaderValue::from(body.len()));
    if let Ok(value) = HeaderValue::from_str(message) {
        headers.insert("dg-error", value);
    }
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("dg-request-id", value);
    }
    response
}

/// The query's problem, if it is not a stream this stand-in can follow.
fn check_query(query: &[(String, String)]) -> Option<String> {
    let get = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    if get("encoding") != Some("linear16") {
        return Some("encoding must be linear16 for raw audio".into());
    }
    if get("sample_rate") != Some("16000") {
        return Some("sample_rate must be 16000".into());
    }
    match get("channels").map(str::parse::<usize>) {
        None => None,
        Some(Ok(n)) if (1..=20).contains(&n) => None,
        Some(_) => Some("channels must be a number from 1 to 20".into()),
    }
}

/// The answer to the upgrade request: refusals as Deepgram words them.
#[allow(clippy::result_large_err)]
fn decide(
    request: &Request,
    mut response: Response,
    faults: &[Fault],
    expected: &str,
    request_id: &str,
    seen: &mut Handshake,
) -> Result<Response, ErrorResponse> {
    seen.path = request.uri().path().to_string();
    seen.query = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    seen.authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    if seen.path != "/v1/listen" {
        seen.status = 404;
        return Err(refusal(404, "NOT_FOUND", "Not found.", request_id));
    }
    if faults.contains(&Fault::RejectAuth) || seen.authorization.as_deref() != Some(expected) {
        seen.status = 401;
        return Err(refusal(
            401,
            "INVALID_AUTH",
            "Invalid credentials.",
            request_id,
        ));
    }
    if let Some(status) = faults.iter().find_map(|f| match f {
        Fault::RefuseHandshake { status } => Some(*status),
        _ => None,
    }) {
        seen.status = status;
        return Err(refusal(
            status,
            "UNAVAILABLE",
            "The service is unavailable.",
            request_id,
        ));
    }
    if let Some(problem) = check_query(&seen.query) {
        seen.status = 400;
        return Err(refusal(400, "Bad Request", &problem, request_id));
    }
    seen.status = 101;
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("dg-request-id", value);
    }
    Ok(response)
}

// The handshake callback's error type is tungstenite's `ErrorResponse`.
#[allow(clippy::result_large_err)]
async fn serve(
    shared: Arc<Shared>,
    stream: TcpStream,
    index: usize,
    mut stop: watch::Receiver<bool>,
) {
    let faults = shared.script.faults.get(index).cloned().unwrap_or_default();
    let expected = format!("Token {}", shared.script.api_key);
    let request_id = format!("00000000-0000-4000-8000-{index:012x}");
    let mut seen = Handshake::default();
    let callback = |request: &Request, response: Response| {
        let answer = decide(
            request,
            response,
            &faults,
            &expected,
            &request_id,
            &mut seen,
        );
        // Record before the answer goes out, so a client that sees it sees the record.
        let channels = Params::from_query(&seen.query, &shared.script).channels;
        shared.update(index, |r| {
            r.path = seen.path.clone();
            r.authorization = seen.authorization.clone();
            r.query = seen.query.clone();
            r.status = seen.status;
            r.audio_secs = vec![0.0; channels];
            r.received = vec![Vec::new(); channels];
        });
        answer
    };
    let upgraded = accept_hdr_async(stream, callback).await;
    let params = Params::from_query(&seen.query, &shared.script);
    let ws = match upgraded {
        Ok(ws) => ws,
        Err(e) => {
            shared.update(index, |r| r.ended = Some(format!("handshake failed: {e}")));
            return;
        }
    };
    let tracks = (0..params.channels)
        .map(|c| Track::new(shared.script.words.get(c).cloned().unwrap_or_default()))
        .collect();
    let mut conn = Connection {
        shared: shared.clone(),
        index,
        request_id,
        params,
        tracks,
        next_channel: 0,
        odd_byte: None,
        faults: faults.into_iter().map(|f| (f, false)).collect(),
    };
    let ended = conn.run(ws, &mut stop).await;
    shared.update(index, |r| r.ended = Some(ended));
}

/// The stream settings from the query.
struct Params {
    channels: usize,
    interim: bool,
    endpointing: Option<f64>,
    utterance_end: Option<f64>,
    vad_events: bool,
    silence_final: f64,
    max_final: f64,
    idle: Duration,
}

impl Params {
    fn from_query(query: &[(String, String)], script: &DeepgramScript) -> Self {
        let get = |key: &str| {
            query
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let ms = |v: &str| v.parse::<f64>().ok().map(|ms| ms / 1000.0);
        Self {
            channels: get("channels")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1)
                .clamp(1, 20),
            interim: get("interim_results") == Some("true"),
            // Deepgram's default endpointing is 10 ms; `false` turns it off.
            endpointing: match get("endpointing") {
                None => Some(0.01),
                Some("false") => None,
                Some(v) => ms(v),
            },
            utterance_end: get("utterance_end_ms").and_then(ms),
            vad_events: get("vad_events") == Some("true"),
            silence_final: script.silence_final_secs,
            max_final: script.max_final_secs,
            idle: script.idle_timeout,
        }
    }
}

/// A coded stretch: connection sample `rel` is audio sample `abs`.
#[derive(Clone, Copy)]
struct Stretch {
    rel: u64,
    abs: u64,
}

/// One channel of a connection: where its audio came from, and the scripted recogniser.
struct Track {
    script: Vec<ScriptWord>,
    mapped: Vec<bool>,
    /// Script words in connection seconds, by start.
    words: Vec<ScriptWord>,
    samples: u64,
    prev: Option<(u64, i16)>,
    stretch: Option<Stretch>,
    last_coded: u64,
    ranges: Vec<(u64, u64)>,
    discontinuities: usize,
    uncoded: bool,
    final_upto: f64,
    next: usize,
    last_interim: (usize, usize),
    in_speech: bool,
    utterance_end_due: Option<f64>,
}

impl Track {
    fn new(script: Vec<ScriptWord>) -> Self {
        Self {
            mapped: vec![false; script.len()],
            script,
            words: Vec::new(),
            samples: 0,
            prev: None,
            stretch: None,
            last_coded: 0,
            ranges: Vec::new(),
            discontinuities: 0,
            uncoded: false,
            final_upto: 0.0,
            next: 0,
            last_interim: (0, 0),
            in_speech: false,
            utterance_end_due: None,
        }
    }

    fn secs(&self) -> f64 {
        self.samples as f64 / RATE
    }

    fn feed(&mut self, sample: i16) {
        let at = self.samples;
        self.samples += 1;
        if self.uncoded {
            return;
        }
        if self.stretch.is_none() && at >= 64 {
            // Not coded audio: take it as starting at 0.
            self.uncoded = true;
            self.map_words(0, 0);
            return;
        }
        if sample == 0 {
            // Silence (padding) carries no position.
            self.prev = None;
            return;
        }
        if let Some((prev_at, prev)) = self.prev
            && prev_at + 1 == at
            && let Some(abs) = decode_pair(prev, sample)
        {
            let continuous = self
                .stretch
                .is_some_and(|s| s.abs + (prev_at - s.rel) == abs);
            if !continuous {
                if let Some(s) = self.stretch {
                    self.ranges
                        .push((s.abs, s.abs + self.last_coded.min(prev_at) - s.rel));
                    self.discontinuities += 1;
                }
                self.stretch = Some(Stretch { rel: prev_at, abs });
                self.map_words(prev_at, abs);
            }
        }
        self.prev = Some((at, sample));
        self.last_coded = at + 1;
    }

    /// Places the script words from audio sample `abs` on at connection sample `rel`.
    fn map_words(&mut self, rel: u64, abs: u64) {
        let rel = rel as f64 / RATE;
        let abs = abs as f64 / RATE;
        for (i, word) in self.script.iter().enumerate() {
            if !self.mapped[i] && word.start >= abs - 1e-9 {
                self.mapped[i] = true;
                self.words.push(ScriptWord {
                    start: word.start - abs + rel,
                    end: word.end - abs + rel,
                    ..word.clone()
                });
            }
        }
        self.words.sort_by(|a, b| a.start.total_cmp(&b.start));
    }

    fn received(&self) -> Vec<(f64, f64)> {
        let mut ranges = self.ranges.clone();
        if let Some(s) = self.stretch
            && !self.uncoded
        {
            ranges.push((s.abs, s.abs + self.last_coded.saturating_sub(s.rel)));
        }
        ranges
            .into_iter()
            .map(|(a, b)| (a as f64 / RATE, b as f64 / RATE))
            .collect()
    }

    /// Words after the last final whose start has been received.
    fn heard(&self) -> usize {
        let r = self.secs();
        self.words[self.next..]
            .iter()
            .take_while(|w| w.start < r)
            .count()
    }

    /// The recogniser's reaction to more audio.
    fn advance(&mut self, channel: usize, c: &Conn<'_>, out: &mut Vec<String>) {
        let r = self.secs();
        let heard = self.heard();
        let p = c.params;
        if heard > 0 && !self.in_speech {
            self.in_speech = true;
            if p.vad_events {
                let at = self.words[self.next].start;
                out.push(
                    json!({"type": "SpeechStarted", "channel": [channel, p.channels], "timestamp": round(at)})
                        .to_string(),
                );
            }
        }
        if heard > 0 {
            let words = &self.words[self.next..self.next + heard];
            let complete = words.iter().take_while(|w| w.end <= r).count();
            let last_end = words[heard - 1].end;
            let endpoint = p
                .endpointing
                .is_some_and(|gap| complete == heard && r >= last_end + gap);
            if endpoint {
                out.push(c.results(channel, self.final_upto, r, words, r, (true, true, false)));
                self.next += heard;
                self.final_upto = r;
                self.in_speech = false;
                self.utterance_end_due = Some(last_end);
                self.last_interim = (0, 0);
            } else if r - self.final_upto >= p.max_final && complete > 0 {
                let done = &words[..complete];
                let end = done[complete - 1].end;
                out.push(c.results(channel, self.final_upto, end, done, r, (true, false, false)));
                self.next += complete;
                self.final_upto = end;
                self.last_interim = (0, 0);
            } else if p.interim && (heard, complete) != self.last_interim {
                out.push(c.results(channel, self.final_upto, r, words, r, (false, false, false)));
                self.last_interim = (heard, complete);
            }
        } else if r - self.final_upto >= p.silence_final {
            out.push(c.results(channel, self.final_upto, r, &[], r, (true, false, false)));
            self.final_upto = r;
        }
        if let (Some(end), Some(gap)) = (self.utterance_end_due, p.utterance_end)
            && self.heard() == 0
            && r >= end + gap
        {
            out.push(
                json!({"type": "UtteranceEnd", "channel": [channel, p.channels], "last_word_end": round(end)})
                    .to_string(),
            );
            self.utterance_end_due = None;
        }
    }

    /// Finalises everything received (`Finalize`, `CloseStream`).
    fn flush(&mut self, channel: usize, c: &Conn<'_>, from_finalize: bool, out: &mut Vec<String>) {
        let r = self.secs();
        if r <= self.final_upto + 1e-9 {
            return;
        }
        let heard = self.heard();
        let words = &self.words[self.next..self.next + heard];
        out.push(c.results(
            channel,
            self.final_upto,
            r,
            words,
            r,
            (true, false, from_finalize),
        ));
        if let Some(last) = words.last() {
            self.utterance_end_due = Some(last.end.min(r));
            self.in_speech = false;
        }
        self.next += heard;
        self.final_upto = r;
        self.last_interim = (0, 0);
    }
}

fn round(secs: f64) -> f64 {
    (secs * 1000.0).round() / 1000.0
}

/// What message builders need of the connection.
struct Conn<'a> {
    params: &'a Params,
    request_id: &'a str,
}

impl Conn<'_> {
    /// A `Results` message for `start..end`; words end no later than `heard_to`.
    fn results(
        &self,
        channel: usize,
        start: f64,
        end: f64,
        words: &[ScriptWord],
        heard_to: f64,
        (is_final, speech_final, from_finalize): (bool, bool, bool),
    ) -> String {
        let transcript = words
            .iter()
            .map(|w| w.punctuated.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let confidence = if words.is_empty() {
            0.0
        } else {
            words.iter().map(|w| w.confidence).sum::<f64>() / words.len() as f64
        };
        let words: Vec<Value> = words
            .iter()
            .map(|w| {
                json!({
                    "word": w.word,
                    "start": round(w.start),
                    "end": round(w.end.min(heard_to)),
                    "confidence": w.confidence,
                    "punctuated_word": w.punctuated,
                })
            })
            .collect();
        json!({
            "type": "Results",
            "channel_index": [channel, self.params.channels],
            "duration": round(end - start),
            "start": round(start),
            "is_final": is_final,
            "speech_final": speech_final,
            "from_finalize": from_finalize,
            "channel": {"alternatives": [{
                "transcript": transcript,
                "confidence": confidence,
                "words": words,
            }]},
            "metadata": {
                "request_id": self.request_id,
                "model_info": {"name": "general-nova-3", "version": "2025-01-01.0", "arch": "nova-3"},
                "model_uuid": "00000000-0000-4000-8000-00000000cafe",
            },
        })
        .to_string()
    }
}

/// What to do after handling a message.
enum After {
    Continue,
    Close(u16, String),
    Drop,
    Stall,
}

struct Connection {
    shared: Arc<Shared>,
    index: usize,
    request_id: String,
    params: Params,
    tracks: Vec<Track>,
    next_channel: usize,
    odd_byte: Option<u8>,
    /// The scripted faults and whether each has happened.
    faults: Vec<(Fault, bool)>,
}

type Socket = WebSocketStream<TcpStream>;

impl Connection {
    /// Serves the connection; returns how it ended.
    async fn run(&mut self, mut ws: Socket, stop: &mut watch::Receiver<bool>) -> String {
        let mut last_activity = Instant::now();
        loop {
            let idle_at = last_activity + self.params.idle;
            let (out, after) = tokio::select! {
                message = ws.next() => {
                    last_activity = Instant::now();
                    match message {
                        Some(Ok(Message::Binary(bytes))) => self.on_audio(&bytes),
                        Some(Ok(Message::Text(text))) => self.on_text(text.as_str()),
                        Some(Ok(Message::Close(_))) => return "the client closed".into(),
                        Some(Ok(_)) => (Vec::new(), After::Continue),
                        Some(Err(e)) => return format!("connection error: {e}"),
                        None => return "the client went away".into(),
                    }
                }
                () = sleep_until(idle_at) => (Vec::new(), After::Close(1011, "NET-0001".into())),
                _ = stop.changed() => return "shut down".into(),
            };
            for text in out {
                self.shared
                    .update(self.index, |r| r.sent.push(text.clone()));
                if ws.send(Message::text(text)).await.is_err() {
                    return "sending failed".into();
                }
            }
            let after = match after {
                After::Continue => self.fault_due(&mut ws).await,
                other => other,
            };
            match after {
                After::Continue => {}
                After::Close(code, reason) => {
                    let ended = if reason.is_empty() {
                        format!("closed {code}")
                    } else {
                        format!("closed {code} {reason}")
                    };
                    // Recorded before the client can see it.
                    self.shared
                        .update(self.index, |r| r.ended = Some(ended.clone()));
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ = ws.send(Message::Close(Some(frame))).await;
                    // Let the client answer the close.
                    let _ = timeout(Duration::from_millis(500), async {
                        while let Some(Ok(_)) = ws.next().await {}
                    })
                    .await;
                    return ended;
                }
                After::Drop => {
                    let ended = "dropped the TCP connection".to_string();
                    self.shared
                        .update(self.index, |r| r.ended = Some(ended.clone()));
                    return ended;
                }
                After::Stall => {
                    self.shared
                        .update(self.index, |r| r.ended = Some("stalled".into()));
                    let _ = stop.changed().await;
                    return "stalled".into();
                }
            }
        }
    }

    fn audio_secs(&self) -> f64 {
        self.tracks.iter().map(Track::secs).fold(0.0, f64::max)
    }

    /// The scripted faults whose time has come, each once.
    async fn fault_due(&mut self, ws: &mut Socket) -> After {
        let received = self.audio_secs();
        for i in 0..self.faults.len() {
            let (fault, done) = &mut self.faults[i];
            if *done || fault.after().is_none_or(|after| received < after) {
                continue;
            }
            *done = true;
            match fault.clone() {
                Fault::Close { code, reason, .. } => return After::Close(code, reason),
                Fault::Drop { .. } => return After::Drop,
                Fault::Stall { .. } => return After::Stall,
                Fault::SendText { text, .. } => {
                    let _ = ws.send(Message::text(text)).await;
                }
                Fault::SendBinary { bytes, .. } => {
                    let _ = ws.send(Message::binary(bytes)).await;
                }
                Fault::None | Fault::RejectAuth | Fault::RefuseHandshake { .. } => {}
            }
        }
        After::Continue
    }

    fn on_audio(&mut self, bytes: &[u8]) -> (Vec<String>, After) {
        if bytes.is_empty() {
            // The legacy way to close a stream; Deepgram's docs warn against it.
            self.shared
                .update(self.index, |r| r.empty_binary_frames += 1);
            return self.close_stream();
        }
        let channels = self.tracks.len();
        let mut data = Vec::with_capacity(bytes.len() + 1);
        data.extend(self.odd_byte.take());
        data.extend_from_slice(bytes);
        if data.len() % 2 == 1 {
            self.odd_byte = data.pop();
        }
        for pair in data.chunks_exact(2) {
            let sample = i16::from_le_bytes([pair[0], pair[1]]);
            self.tracks[self.next_channel].feed(sample);
            self.next_channel = (self.next_channel + 1) % channels;
        }
        let mut out = Vec::new();
        let conn = Conn {
            params: &self.params,
            request_id: &self.request_id,
        };
        for (channel, track) in self.tracks.iter_mut().enumerate() {
            track.advance(channel, &conn, &mut out);
        }
        let audio: Vec<f64> = self.tracks.iter().map(Track::secs).collect();
        let received: Vec<Vec<(f64, f64)>> = self.tracks.iter().map(Track::received).collect();
        let discontinuities = self.tracks.iter().map(|t| t.discontinuities).sum();
        self.shared.update(self.index, |r| {
            r.binary_frames += 1;
            r.audio_secs = audio;
            r.received = received;
            r.discontinuities = discontinuities;
        });
        (out, After::Continue)
    }

    fn on_text(&mut self, text: &str) -> (Vec<String>, After) {
        let kind = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("type").and_then(Value::as_str).map(String::from))
            .filter(|k| matches!(k.as_str(), "KeepAlive" | "Finalize" | "CloseStream"))
            .unwrap_or_else(|| "invalid".into());
        let at = self.audio_secs();
        self.shared.update(self.index, |r| {
            r.control.push(ControlMessage {
                kind: kind.clone(),
                text: text.to_string(),
                at_audio_secs: at,
            });
        });
        match kind.as_str() {
            "KeepAlive" => (Vec::new(), After::Continue),
            "Finalize" => {
                let only = serde_json::from_str::<Value>(text)
                    .ok()
                    .and_then(|v| v.get("channel").and_then(Value::as_u64))
                    .map(|c| c as usize);
                let mut out = Vec::new();
                let conn = Conn {
                    params: &self.params,
                    request_id: &self.request_id,
                };
                for (channel, track) in self.tracks.iter_mut().enumerate() {
                    if only.is_none_or(|c| c == channel) {
                        track.flush(channel, &conn, true, &mut out);
                    }
                }
                (out, After::Continue)
            }
            "CloseStream" => self.close_stream(),
            _ => (Vec::new(), After::Close(1008, "DATA-0000".into())),
        }
    }

    /// Flushes every channel, sends the summary, then closes normally.
    fn close_stream(&mut self) -> (Vec<String>, After) {
        let mut out = Vec::new();
        let conn = Conn {
            params: &self.params,
            request_id: &self.request_id,
        };
        for (channel, track) in self.tracks.iter_mut().enumerate() {
            track.flush(channel, &conn, false, &mut out);
        }
        out.push(
            json!({
                "type": "Metadata",
                "transaction_key": "deprecated",
                "request_id": self.request_id,
                "sha256": "0000000000000000000000000000000000000000000000000000000000000000",
                "created": "2025-01-01T00:00:00.000Z",
                "duration": round(self.audio_secs()),
                "channels": self.params.channels,
                "models": ["00000000-0000-4000-8000-00000000cafe"],
                "model_info": {
                    "00000000-0000-4000-8000-00000000cafe":
                        {"name": "general-nova-3", "version": "2025-01-01.0", "arch": "nova-3"}
                },
            })
            .to_string(),
        );
        (out, After::Close(1000, String::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_audio_survives_16_bit_and_decodes_its_position() {
        let audio = coded_audio(12.5, 12.6);
        let pcm: Vec<i16> = audio
            .iter()
            .map(|s| (s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .collect();
        let mut track = Track::new(script_words(&[("Hi.", 12.55, 12.58)]));
        for s in pcm {
            track.feed(s);
        }
        let received = track.received();
        assert_eq!(received.len(), 1);
        assert!((received[0].0 - 12.5).abs() < 1e-9, "{received:?}");
        assert!((received[0].1 - 12.6).abs() < 1e-3, "{received:?}");
        assert_eq!(track.discontinuities, 0);
        assert_eq!(track.words.len(), 1);
        assert!((track.words[0].start - 0.05).abs() < 1e-9);
        assert_eq!(track.words[0].word, "hi");
    }

    #[test]
    fn a_jump_in_the_audio_is_a_discontinuity() {
        let mut track = Track::new(Vec::new());
        for s in coded_audio(0.0, 0.1)
            .into_iter()
            .chain(coded_audio(0.5, 0.6))
        {
            track.feed((s * 32767.0).round() as i16);
        }
        assert_eq!(track.discontinuities, 1);
        assert_eq!(track.received().len(), 2);
    }
}
