//! A stand-in for OpenAI's `POST /v1/chat/completions` (and the local servers that copy
//! it), for tests: it checks what OpenAI checks — `Authorization: Bearer <key>` when a
//! key is set, a JSON body with a `model` string and a non-empty `messages` array of
//! `{role, content}` with a known role — and answers valid requests from a script, one
//! reply per request in order: a completion, the documented error body
//! `{"error": {"message", "type", "param", "code"}}`, any raw body, a slow answer, or a
//! dropped connection. Every request is recorded.

use bytes::Bytes;
use cuecard_testserver::LocalServer;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The answer to one valid request.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatReply {
    /// 200 with a completion whose message is this text.
    Text(String),
    /// The documented error body with this status.
    Error { status: u16, message: String },
    /// Any status and body (JSON that does not parse, an HTML error page).
    Raw { status: u16, body: String },
    /// Wait, then answer.
    Slow {
        delay: Duration,
        then: Box<ChatReply>,
    },
    /// Close the connection without answering.
    Drop,
}

impl ChatReply {
    pub fn text(text: &str) -> Self {
        Self::Text(text.to_owned())
    }

    pub fn slow(delay: Duration, then: ChatReply) -> Self {
        Self::Slow {
            delay,
            then: Box::new(then),
        }
    }
}

/// How the stand-in answers.
#[derive(Clone, Debug)]
pub struct ChatScript {
    /// The key it requires; `None` accepts requests without one (a local server).
    pub api_key: Option<String>,
    pub replies: Vec<ChatReply>,
    /// The answer once `replies` are used up.
    pub otherwise: ChatReply,
}

impl ChatScript {
    pub fn new(api_key: Option<&str>) -> Self {
        Self {
            api_key: api_key.map(str::to_owned),
            replies: Vec::new(),
            otherwise: ChatReply::text("OK."),
        }
    }

    pub fn reply(mut self, reply: ChatReply) -> Self {
        self.replies.push(reply);
        self
    }

    pub fn otherwise(mut self, reply: ChatReply) -> Self {
        self.otherwise = reply;
        self
    }
}

/// One request as received.
#[derive(Clone, Debug, Default)]
pub struct ChatRequest {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The JSON body, when it parsed.
    pub body: Option<Value>,
    /// The status answered; 0 when the connection was dropped.
    pub status: u16,
}

impl ChatRequest {
    /// The `content` of every message, in order, with its role.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.body
            .as_ref()
            .and_then(|b| b["messages"].as_array())
            .map(|messages| {
                messages
                    .iter()
                    .map(|m| {
                        (
                            m["role"].as_str().unwrap_or_default().to_owned(),
                            m["content"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    next: usize,
    requests: Vec<ChatRequest>,
}

struct Shared {
    script: ChatScript,
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running stand-in; stops when dropped.
pub struct ChatStandin {
    server: LocalServer,
    shared: Arc<Shared>,
}

impl ChatStandin {
    /// Listens on `127.0.0.1:0` on a thread of its own.
    pub fn start(script: ChatScript) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            script,
            state: Mutex::new(State::default()),
        });
        let server = LocalServer::start_http("chat-standin", {
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
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.shared.state().requests.clone()
    }
}

fn json_response(status: u16, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// The documented error body.
fn error_body(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        429 => ("requests", Some("rate_limit_exceeded")),
        400..=499 => ("invalid_request_error", None),
        _ => ("server_error", None),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

/// What is wrong with a request body, as OpenAI words it.
fn invalid(body: &Value) -> Option<String> {
    if !body["model"].is_string() {
        return Some("you must provide a model parameter".into());
    }
    let Some(messages) = body["messages"].as_array() else {
        return Some("Missing required parameter: 'messages'.".into());
    };
    if messages.is_empty() {
        return Some(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.".into(),
        );
    }
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if !matches!(role, "system" | "developer" | "user" | "assistant" | "tool") {
            return Some(format!(
                "Invalid value: '{role}'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'. (messages[{i}].role)"
            ));
        }
        if !m["content"].is_string() {
            return Some(format!(
                "Missing required parameter: 'messages[{i}].content'."
            ));
        }
    }
    None
}

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let header = |name: hyper::header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut record = ChatRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        authorization: header(hyper::header::AUTHORIZATION),
        content_type: header(hyper::header::CONTENT_TYPE),
        ..ChatRequest::default()
    };
    let bytes = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return Err(std::io::Error::other(e)),
    };
    record.body = serde_json::from_slice(&bytes).ok();
    let finish = |mut record: ChatRequest, status: u16| {
        record.status = status;
        shared.state().requests.push(record);
    };
    if record.method != "POST" || record.path != "/v1/chat/completions" {
        finish(record, 404);
        return Ok(json_response(404, error_body(404, "Unknown request URL.")));
    }
    if let Some(key) = &shared.script.api_key
        && record.authorization.as_deref() != Some(&format!("Bearer {key}"))
    {
        finish(record, 401);
        return Ok(json_response(
            401,
            error_body(401, "Incorrect API key provided."),
        ));
    }
    let problem = match &record.body {
        None => Some("We could not parse the JSON body of your request.".to_owned()),
        Some(body) => invalid(body),
    };
    if let Some(message) = problem {
        finish(record, 400);
        return Ok(json_response(400, error_body(400, &message)));
    }
    let reply = {
        let mut state = shared.state();
        let reply = shared
            .script
            .replies
            .get(state.next)
            .cloned()
            .unwrap_or_else(|| shared.script.otherwise.clone());
        state.next += 1;
        reply
    };
    let model = record
        .body
        .as_ref()
        .and_then(|b| b["model"].as_str())
        .unwrap_or_default()
        .to_owned();
    let mut reply = reply;
    loop {
        match reply {
            ChatReply::Slow { delay, then } => {
                tokio::time::sleep(delay).await;
                reply = *then;
            }
            ChatReply::Text(text) => {
                finish(record, 200);
                return Ok(json_response(
                    200,
                    json!({
                        "id": "chatcmpl-standin",
                        "object": "chat.completion",
                        "created": 0,
                        "model": model,
                        "choices": [{
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop"
                        }],
                        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
                    }),
                ));
            }
            ChatReply::Error { status, message } => {
                finish(record, status);
                return Ok(json_response(status, error_body(status, &message)));
            }
            ChatReply::Raw { status, body } => {
                finish(record, status);
                let mut response = Response::new(Full::new(Bytes::from(body)));
                *response.status_mut() =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                return Ok(response);
            }
            ChatReply::Drop => {
                finish(record, 0);
                return Err(std::io::Error::other("scripted drop"));
            }
        }
    }
}

impl std::fmt::Debug for ChatStandin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStandin")
            .field("addr", &self.server.addr())
            .finish()
    }
}
