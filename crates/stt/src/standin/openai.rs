//! A stand-in for OpenAI's `POST /v1/audio/transcriptions` (and the servers that copy
//! it): `Authorization: Bearer <key>`, a `multipart/form-data` body with `file`, `model`,
//! `language`, `response_format` and `timestamp_granularities[]`, answered with
//! `verbose_json` or the documented error body
//! `{"error": {"message", "type", "param", "code"}}`.
//!
//! It validates what OpenAI validates (the key, the fields, a readable WAV file) and
//! answers valid requests from a script, one reply per request in order — so a test can
//! script a 429 followed by a success, or a slow answer, a dropped connection, or JSON
//! that does not parse. Every request is recorded.

use bytes::Bytes;
use cuecard_testserver::LocalServer;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A segment the stand-in "recognised", in seconds of the request's audio.
#[derive(Clone, Debug, PartialEq)]
pub struct StandinSegment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub avg_logprob: f64,
    pub no_speech_prob: f64,
    /// `(word, start, end)`.
    pub words: Vec<(String, f64, f64)>,
}

impl StandinSegment {
    /// A segment of `words` (`(word, start, end)`), its text their join.
    pub fn of_words(words: &[(&str, f64, f64)], avg_logprob: f64) -> Self {
        let start = words.first().map(|w| w.1).unwrap_or(0.0);
        let end = words.last().map(|w| w.2).unwrap_or(0.0);
        Self {
            start,
            end,
            text: words.iter().map(|w| w.0).collect::<Vec<_>>().join(" "),
            avg_logprob,
            no_speech_prob: 0.01,
            words: words
                .iter()
                .map(|(w, s, e)| (w.to_string(), *s, *e))
                .collect(),
        }
    }
}

/// The answer to one valid request.
#[derive(Clone, Debug, PartialEq)]
pub enum OpenAiReply {
    /// 200 with `verbose_json` made of these segments.
    Transcript { segments: Vec<StandinSegment> },
    /// The documented error body with this status (and a `Retry-After` header).
    Error {
        status: u16,
        message: String,
        kind: String,
        code: Option<String>,
        retry_after: Option<String>,
    },
    /// Any status and body (e.g. JSON that does not parse).
    Raw {
        status: u16,
        content_type: String,
        body: String,
    },
    /// Wait, then answer.
    Slow {
        delay: Duration,
        then: Box<OpenAiReply>,
    },
    /// Close the connection without answering.
    Drop,
}

impl OpenAiReply {
    pub fn transcript(segments: Vec<StandinSegment>) -> Self {
        Self::Transcript { segments }
    }

    /// An error as OpenAI words it for `status`.
    pub fn error(status: u16, message: &str) -> Self {
        let (kind, code) = match status {
            401 => ("invalid_request_error", Some("invalid_api_key")),
            429 => ("requests", Some("rate_limit_exceeded")),
            400..=499 => ("invalid_request_error", None),
            _ => ("server_error", None),
        };
        Self::Error {
            status,
            message: message.to_string(),
            kind: kind.to_string(),
            code: code.map(String::from),
            retry_after: None,
        }
    }

    /// 429 with `Retry-After: <seconds>`.
    pub fn rate_limited(retry_after: &str) -> Self {
        match Self::error(
            429,
            "Rate limit reached for requests. Please try again later.",
        ) {
            Self::Error {
                status,
                message,
                kind,
                code,
                ..
            } => Self::Error {
                status,
                message,
                kind,
                code,
                retry_after: Some(retry_after.to_string()),
            },
            other => other,
        }
    }
}

/// How the stand-in answers.
#[derive(Clone, Debug)]
pub struct OpenAiScript {
    /// The key it accepts (`Authorization: Bearer <key>`).
    pub api_key: String,
    /// One per valid request, in order.
    pub replies: Vec<OpenAiReply>,
    /// The answer once `replies` are used up.
    pub otherwise: OpenAiReply,
}

impl OpenAiScript {
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            replies: Vec::new(),
            otherwise: OpenAiReply::transcript(Vec::new()),
        }
    }

    pub fn reply(mut self, reply: OpenAiReply) -> Self {
        self.replies.push(reply);
        self
    }
}

/// The WAV file of a request, as `hound` read it.
#[derive(Clone, Debug, PartialEq)]
pub struct WavInfo {
    pub sample_rate: u32,
    pub channels: u16,
    pub bits_per_sample: u16,
    /// Samples per channel.
    pub samples: u32,
    pub duration_secs: f64,
}

/// One request as received.
#[derive(Clone, Debug, Default)]
pub struct OpenAiRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The text fields in order (`timestamp_granularities[]` may repeat).
    pub fields: Vec<(String, String)>,
    pub file_name: Option<String>,
    pub file_content_type: Option<String>,
    pub file_bytes: usize,
    pub wav: Option<WavInfo>,
    /// The status answered; 0 when the connection was dropped.
    pub status: u16,
}

impl OpenAiRequest {
    /// The first value of text field `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of text field `name`.
    pub fn fields_named(&self, name: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

struct Shared {
    script: OpenAiScript,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    requests: Vec<OpenAiRequest>,
    /// Valid requests answered from the script so far.
    answered: usize,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running stand-in. Dropping it shuts it down.
pub struct OpenAiStandin {
    server: LocalServer,
    shared: Arc<Shared>,
}

impl OpenAiStandin {
    /// Listens on `127.0.0.1:0` on a thread of its own.
    pub fn start(script: OpenAiScript) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            script,
            state: Mutex::new(State::default()),
        });
        let server = LocalServer::start_http("openai-standin", {
            let shared = shared.clone();
            move |request| handle(shared.clone(), request)
        })?;
        Ok(Self { server, shared })
    }

    /// `http://127.0.0.1:PORT/v1`: the base URL for the client.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.server.addr())
    }

    /// The requests so far, in order.
    pub fn requests(&self) -> Vec<OpenAiRequest> {
        self.shared.state().requests.clone()
    }
}

/// A scripted dropped connection.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropped by script")
    }
}

impl std::error::Error for DropConnection {}

type Answer = Result<Response<Full<Bytes>>, DropConnection>;

fn json_response(status: u16, body: String, retry_after: Option<&str>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Some(value) = retry_after.and_then(|v| hyper::header::HeaderValue::from_str(v).ok()) {
        response
            .headers_mut()
            .insert(hyper::header::RETRY_AFTER, value);
    }
    response
}

fn error_body(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> String {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}}).to_string()
}

fn invalid(message: &str, param: Option<&str>) -> Response<Full<Bytes>> {
    json_response(
        400,
        error_body(message, "invalid_request_error", param, None),
        None,
    )
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Answer {
    let mut record = OpenAiRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        authorization: header(&request, hyper::header::AUTHORIZATION),
        content_type: header(&request, hyper::header::CONTENT_TYPE),
        ..OpenAiRequest::default()
    };
    let (validated, reply) = validate(&shared, request, &mut record).await;
    let answer = match validated {
        Err(response) => Ok(response),
        Ok(()) => {
            let reply = reply.unwrap_or_else(|| shared.script.otherwise.clone());
            answer(reply, record.wav.as_ref()).await
        }
    };
    record.status = match &answer {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    };
    shared.state().requests.push(record);
    answer
}

fn header(request: &Request<Incoming>, name: hyper::header::HeaderName) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

/// Checks the request as OpenAI would; on success takes the next scripted reply.
async fn validate(
    shared: &Shared,
    request: Request<Incoming>,
    record: &mut OpenAiRequest,
) -> (Result<(), Response<Full<Bytes>>>, Option<OpenAiReply>) {
    // Like the proxies in front of the real API, read the whole upload before answering
    // (an early answer would leave the client writing into a closed connection).
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return (Err(invalid("The body could not be read.", None)), None),
    };
    if record.path != "/v1/audio/transcriptions" {
        let body = error_body(
            &format!("Invalid URL ({} {})", record.method, record.path),
            "invalid_request_error",
            None,
            None,
        );
        return (Err(json_response(404, body, None)), None);
    }
    if record.method != "POST" {
        let body = error_body("Method not allowed", "invalid_request_error", None, None);
        return (Err(json_response(405, body, None)), None);
    }
    let expected = format!("Bearer {}", shared.script.api_key);
    if record.authorization.as_deref() != Some(expected.as_str()) {
        let shown = record
            .authorization
            .as_deref()
            .and_then(|a| a.strip_prefix("Bearer "))
            .map(|k| format!("{}…", k.chars().take(3).collect::<String>()))
            .unwrap_or_else(|| "none".into());
        let message = format!(
            "Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com/account/api-keys."
        );
        let body = error_body(
            &message,
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        );
        return (Err(json_response(401, body, None)), None);
    }
    let Some(boundary) = record
        .content_type
        .as_deref()
        .filter(|t| t.starts_with("multipart/form-data"))
        .and_then(|t| multer::parse_boundary(t).ok())
    else {
        return (
            Err(invalid("The request must be multipart/form-data.", None)),
            None,
        );
    };
    let stream = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut file: Option<Bytes> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                let file_name = field.file_name().map(String::from);
                let content_type = field.content_type().map(|m| m.to_string());
                let Ok(data) = field.bytes().await else {
                    return (Err(invalid("The multipart body is malformed.", None)), None);
                };
                if name == "file" {
                    record.file_name = file_name;
                    record.file_content_type = content_type;
                    record.file_bytes = data.len();
                    file = Some(data);
                } else {
                    record
                        .fields
                        .push((name, String::from_utf8_lossy(&data).into_owned()));
                }
            }
            Ok(None) => break,
            Err(_) => return (Err(invalid("The multipart body is malformed.", None)), None),
        }
    }
    let Some(file) = file else {
        return (
            Err(invalid(
                "1 validation error for Request\nbody -> file\n  field required (type=value_error.missing)",
                Some("file"),
            )),
            None,
        );
    };
    if record.field("model").is_none_or(str::is_empty) {
        return (
            Err(invalid("you must provide a model parameter", Some("model"))),
            None,
        );
    }
    let format = record
        .field("response_format")
        .unwrap_or("json")
        .to_string();
    if !matches!(
        format.as_str(),
        "json" | "text" | "srt" | "verbose_json" | "vtt"
    ) {
        return (
            Err(invalid(
                &format!(
                    "'{format}' is not one of ['json', 'text', 'srt', 'verbose_json', 'vtt'] - 'response_format'"
                ),
                Some("response_format"),
            )),
            None,
        );
    }
    let granularities = record.fields_named("timestamp_granularities[]");
    if let Some(bad) = granularities
        .iter()
        .find(|g| !matches!(**g, "word" | "segment"))
    {
        return (
            Err(invalid(
                &format!("'{bad}' is not one of ['word', 'segment'] - 'timestamp_granularities.0'"),
                Some("timestamp_granularities"),
            )),
            None,
        );
    }
    if !granularities.is_empty() && format != "verbose_json" {
        return (
            Err(invalid(
                "timestamp_granularities is only supported with response_format=verbose_json",
                Some("timestamp_granularities"),
            )),
            None,
        );
    }
    match hound::WavReader::new(std::io::Cursor::new(file.as_ref())) {
        Ok(reader) => {
            let spec = reader.spec();
            let samples = reader.duration();
            record.wav = Some(WavInfo {
                sample_rate: spec.sample_rate,
                channels: spec.channels,
                bits_per_sample: spec.bits_per_sample,
                samples,
                duration_secs: f64::from(samples) / f64::from(spec.sample_rate.max(1)),
            });
        }
        Err(_) => {
            return (
                Err(invalid(
                    "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
                    Some("file"),
                )),
                None,
            );
        }
    }
    let mut state = shared.state();
    let reply = shared.script.replies.get(state.answered).cloned();
    state.answered += 1;
    (Ok(()), reply)
}

async fn answer(reply: OpenAiReply, wav: Option<&WavInfo>) -> Answer {
    let mut reply = reply;
    loop {
        match reply {
            OpenAiReply::Slow { delay, then } => {
                tokio::time::sleep(delay).await;
                reply = *then;
            }
            OpenAiReply::Drop => return Err(DropConnection),
            OpenAiReply::Raw {
                status,
                content_type,
                body,
            } => {
                let mut response = json_response(status, body, None);
                if let Ok(value) = hyper::header::HeaderValue::from_str(&content_type) {
                    response
                        .headers_mut()
                        .insert(hyper::header::CONTENT_TYPE, value);
                }
                return Ok(response);
            }
            OpenAiReply::Error {
                status,
                message,
                kind,
                code,
                retry_after,
            } => {
                let body = error_body(&message, &kind, None, code.as_deref());
                return Ok(json_response(status, body, retry_after.as_deref()));
            }
            OpenAiReply::Transcript { segments } => {
                let duration = wav.map(|w| w.duration_secs).unwrap_or(0.0);
                return Ok(json_response(200, verbose_json(&segments, duration), None));
            }
        }
    }
}

/// The `verbose_json` body OpenAI documents.
fn verbose_json(segments: &[StandinSegment], duration: f64) -> String {
    let text = segments
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let segment_values: Vec<Value> = segments
        .iter()
        .enumerate()
        .map(|(id, s)| {
            json!({
                "id": id,
                "seek": 0,
                "start": s.start,
                "end": s.end,
                "text": format!(" {}", s.text),
                "tokens": [50364, 2425 + id, 50414],
                "temperature": 0.0,
                "avg_logprob": s.avg_logprob,
                "compression_ratio": 1.25,
                "no_speech_prob": s.no_speech_prob,
            })
        })
        .collect();
    let words: Vec<Value> = segments
        .iter()
        .flat_map(|s| s.words.iter())
        .map(|(word, start, end)| json!({"word": word, "start": start, "end": end}))
        .collect();
    json!({
        "task": "transcribe",
        "language": "english",
        "duration": duration,
        "text": text,
        "segments": segment_values,
        "words": words,
    })
    .to_string()
}
