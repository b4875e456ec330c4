//! A local stand-in for Twilio's REST API (`api.twilio.com/2010-04-01`), for tests. It
//! keeps SIP Domains, credential lists and logins, mappings, calls, recordings, messages
//! and phone numbers in memory and answers as Twilio documents: HTTP Basic auth with the
//! account SID and auth token (or an API key), form-encoded writes, JSON answers, paged
//! lists with `next_page_uri`, and Twilio's error body (`code`, `message`, `more_info`,
//! `status`).
//!
//! Every request it gets and every answer it gives is checked against Twilio's OpenAPI
//! description ([`openapi`]); what does not match is kept in [`TwilioStandin::violations`]
//! (and the request is refused with 400), so a test asserts it is empty.

pub mod openapi;

use base64::Engine as _;
use bytes::Bytes;
use cuecard_testserver::LocalServer;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use openapi::{Operation, Spec};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};

/// One request as received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub status: u16,
}

/// A scripted failure for the next request.
#[derive(Clone, Debug)]
struct Failure {
    status: u16,
    code: u32,
    message: String,
}

#[derive(Default)]
struct State {
    serial: u64,
    domains: Vec<Value>,
    credential_lists: Vec<Value>,
    credentials: Vec<Value>,
    /// (domain SID, "Registrations" | "Calls", mapping resource).
    mappings: Vec<(String, String, Value)>,
    calls: Vec<Value>,
    recordings: Vec<Value>,
    messages: Vec<Value>,
    numbers: Vec<Value>,
    requests: Vec<RecordedRequest>,
    violations: Vec<String>,
    fail_next: Option<Failure>,
}

struct Shared {
    account_sid: String,
    auth_token: String,
    api_key: Option<(String, String)>,
    spec: Spec,
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running stand-in; stops when dropped.
pub struct TwilioStandin {
    server: LocalServer,
    shared: Arc<Shared>,
}

/// A test account SID (`AC` and 32 hex digits).
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Its auth token.
pub const AUTH_TOKEN: &str = "stand-in-auth-token";

impl TwilioStandin {
    /// A stand-in for [`ACCOUNT_SID`] with [`AUTH_TOKEN`].
    pub fn start() -> std::io::Result<Self> {
        Self::start_for(ACCOUNT_SID, AUTH_TOKEN, None)
    }

    /// A stand-in for this account, also accepting `api_key` (SID, secret) if given.
    pub fn start_for(
        account_sid: &str,
        auth_token: &str,
        api_key: Option<(&str, &str)>,
    ) -> std::io::Result<Self> {
        let spec = Spec::load().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            api_key: api_key.map(|(s, k)| (s.to_owned(), k.to_owned())),
            spec,
            state: Mutex::new(State::default()),
        });
        let server = LocalServer::start_http("twilio-standin", {
            let shared = shared.clone();
            move |request| handle(shared.clone(), request)
        })?;
        Ok(Self { server, shared })
    }

    /// `http://127.0.0.1:PORT`: the base URL for the client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// The requests so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state().requests.clone()
    }

    /// Where requests or answers did not match Twilio's description.
    pub fn violations(&self) -> Vec<String> {
        self.shared.state().violations.clone()
    }

    /// Answers the next request with this Twilio error.
    pub fn fail_next(&self, status: u16, code: u32, message: &str) {
        self.shared.state().fail_next = Some(Failure {
            status,
            code,
            message: message.to_owned(),
        });
    }

    /// Gives the account a phone number.
    pub fn add_phone_number(&self, number: &str) {
        let mut state = self.shared.state();
        let sid = next_sid(&mut state, "PN");
        let resource = json!({
            "sid": sid,
            "account_sid": self.shared.account_sid,
            "phone_number": number,
            "friendly_name": number,
            "voice_url": null,
            "capabilities": {"voice": true, "sms": true, "mms": false, "fax": false},
            "date_created": now(),
            "date_updated": now(),
            "uri": format!("/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{sid}.json", self.shared.account_sid),
        });
        state.numbers.push(resource);
    }

    /// Marks a call answered and then ended after `seconds`, with a recording if the
    /// call asked for one: what Twilio would have done by the time the call is over.
    pub fn complete_call(&self, call_sid: &str, seconds: u32) {
        let mut state = self.shared.state();
        let account = self.shared.account_sid.clone();
        let Some(index) = state.calls.iter().position(|c| c["sid"] == call_sid) else {
            return;
        };
        let record = state.calls[index]["__record"] == true;
        let call = &mut state.calls[index];
        call["status"] = json!("completed");
        call["duration"] = json!(seconds.to_string());
        call["start_time"] = json!(now());
        call["end_time"] = json!(now());
        if record {
            let sid = next_sid(&mut state, "RE");
            let recording = json!({
                "sid": sid,
                "account_sid": account,
                "call_sid": call_sid,
                "conference_sid": null,
                "api_version": "2010-04-01",
                "date_created": now(),
                "date_updated": now(),
                "start_time": now(),
                "duration": seconds.to_string(),
                "price": null,
                "price_unit": "USD",
                "status": "completed",
                "channels": 2,
                "source": "OutboundAPI",
                "error_code": null,
                "uri": format!("/2010-04-01/Accounts/{account}/Recordings/{sid}.json"),
                "encryption_details": null,
                "subresource_uris": {},
                "media_url": format!("https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{sid}"),
            });
            state.recordings.push(recording);
        }
    }

    /// The number of SIP Domains, credential lists, logins and mappings held: how a test
    /// sees that a repeated set-up created nothing twice.
    pub fn sip_counts(&self) -> (usize, usize, usize, usize) {
        let s = self.shared.state();
        (
            s.domains.len(),
            s.credential_lists.len(),
            s.credentials.len(),
            s.mappings.len(),
        )
    }

    /// The password a SIP login was given (Twilio never returns it; the stand-in keeps it
    /// so tests can check what was set).
    pub fn sip_password(&self, username: &str) -> Option<String> {
        self.shared
            .state()
            .credentials
            .iter()
            .find(|c| c["username"] == username)
            .and_then(|c| c["__password"].as_str().map(str::to_owned))
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc2822()
}

fn next_sid(state: &mut State, prefix: &str) -> String {
    state.serial += 1;
    format!("{prefix}{:032x}", state.serial)
}

/// A resource as Twilio returns it: the stand-in's own bookkeeping (`__…`) left out.
fn public(resource: &Value) -> Value {
    match resource.as_object() {
        Some(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !k.starts_with("__"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        None => resource.clone(),
    }
}

fn error_body(status: u16, code: Option<u32>, message: &str) -> Value {
    json!({
        "code": code,
        "message": message,
        "more_info": code.map(|c| format!("https://www.twilio.com/docs/errors/{c}")),
        "status": status,
    })
}

type Answer = (u16, Option<Value>);

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let authorization = request
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();

    let (status, answer, raw) = answer(
        &shared,
        &method,
        &path,
        &query,
        &form,
        authorization.as_deref(),
    );
    shared.state().requests.push(RecordedRequest {
        method,
        path,
        query,
        form,
        status,
    });
    let mut response = match raw {
        Some(bytes) => Response::new(Full::new(Bytes::from(bytes))),
        None => Response::new(Full::new(Bytes::from(
            answer.map(|a| a.to_string()).unwrap_or_default(),
        ))),
    };
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// The status, JSON answer, and raw bytes (recording media) for a request.
fn answer(
    shared: &Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
    form: &[(String, String)],
    authorization: Option<&str>,
) -> (u16, Option<Value>, Option<Vec<u8>>) {
    if !authorized(shared, authorization) {
        return (
            401,
            Some(error_body(401, Some(20003), "Authenticate")),
            None,
        );
    }
    if let Some(failure) = shared.state().fail_next.take() {
        return (
            failure.status,
            Some(error_body(
                failure.status,
                Some(failure.code),
                &failure.message,
            )),
            None,
        );
    }
    let prefix = format!("/2010-04-01/Accounts/{}/", shared.account_sid);
    let not_found = || {
        (
            404,
            Some(error_body(
                404,
                Some(20404),
                &format!("The requested resource {path} was not found"),
            )),
            None,
        )
    };
    let Some(rest) = path.strip_prefix(&prefix) else {
        return not_found();
    };
    // Recording media is not in the JSON description.
    if method == "GET"
        && let Some(sid) = rest
            .strip_prefix("Recordings/")
            .and_then(|r| r.strip_suffix(".wav").or_else(|| r.strip_suffix(".mp3")))
    {
        let known = shared.state().recordings.iter().any(|r| r["sid"] == sid);
        return if known {
            (200, None, Some(silent_wav()))
        } else {
            not_found()
        };
    }
    let Some(op) = shared.spec.find(path) else {
        return not_found();
    };
    let problems = shared.spec.check_request(&op, method, query, form);
    if !problems.is_empty() {
        let mut state = shared.state();
        for problem in &problems {
            state
                .violations
                .push(format!("request {method} {path}: {problem}"));
        }
        return (400, Some(error_body(400, None, &problems.join("; "))), None);
    }
    let (status, body) = route(shared, &op, method, query, form);
    let problems = shared
        .spec
        .check_response(&op, method, status, body.as_ref());
    if !problems.is_empty() {
        let mut state = shared.state();
        for problem in problems {
            state
                .violations
                .push(format!("answer to {method} {path} ({status}): {problem}"));
        }
    }
    (status, body, None)
}

fn authorized(shared: &Shared, authorization: Option<&str>) -> bool {
    let Some(encoded) = authorization.and_then(|a| a.strip_prefix("Basic ")) else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    let Some((user, password)) = text.split_once(':') else {
        return false;
    };
    (user == shared.account_sid && password == shared.auth_token)
        || shared
            .api_key
            .as_ref()
            .is_some_and(|(sid, secret)| user == sid && password == secret)
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn route(
    shared: &Shared,
    op: &Operation,
    method: &str,
    query: &[(String, String)],
    form: &[(String, String)],
) -> Answer {
    let account = shared.account_sid.as_str();
    let template = op
        .template
        .strip_prefix("/2010-04-01/Accounts/{AccountSid}")
        .unwrap_or(&op.template);
    let param = |name: &str| op.params.get(name).cloned().unwrap_or_default();
    let base = format!("/2010-04-01/Accounts/{account}");
    let mut state = shared.state();
    let missing = |what: &str| -> Answer {
        (
            404,
            Some(error_body(
                404,
                Some(20404),
                &format!("The requested {what} was not found"),
            )),
        )
    };
    match (method, template) {
        ("GET", "/SIP/Domains.json") => page(
            &state.domains,
            "domains",
            &format!("{base}/SIP/Domains.json"),
            query,
        ),
        ("POST", "/SIP/Domains.json") => {
            let name = field(form, "DomainName")
                .unwrap_or_default()
                .to_ascii_lowercase();
            if state
                .domains
                .iter()
                .any(|d| d["domain_name"] == name.as_str())
            {
                return (
                    400,
                    Some(error_body(400, None, "DomainName is already in use")),
                );
            }
            let sid = next_sid(&mut state, "SD");
            let domain = json!({
                "sid": sid,
                "account_sid": account,
                "api_version": "2010-04-01",
                "auth_type": null,
                "date_created": now(),
                "date_updated": now(),
                "domain_name": name,
                "friendly_name": field(form, "FriendlyName").unwrap_or(&name),
                "voice_url": field(form, "VoiceUrl"),
                "voice_method": field(form, "VoiceMethod").unwrap_or("POST"),
                "voice_fallback_url": null,
                "voice_fallback_method": "POST",
                "voice_status_callback_url": null,
                "voice_status_callback_method": "POST",
                "sip_registration": field(form, "SipRegistration") == Some("true"),
                "emergency_calling_enabled": false,
                "secure": field(form, "Secure") == Some("true"),
                "byoc_trunk_sid": null,
                "emergency_caller_sid": null,
                "uri": format!("{base}/SIP/Domains/{sid}.json"),
                "subresource_uris": {
                    "credential_list_mappings": format!("{base}/SIP/Domains/{sid}/CredentialListMappings.json"),
                    "ip_access_control_list_mappings": format!("{base}/SIP/Domains/{sid}/IpAccessControlListMappings.json"),
                },
            });
            state.domains.push(domain.clone());
            (201, Some(domain))
        }
        (_, "/SIP/Domains/{Sid}.json") => {
            let sid = param("Sid");
            let Some(index) = state.domains.iter().position(|d| d["sid"] == sid.as_str()) else {
                return missing("SIP Domain");
            };
            match method {
                "GET" => (200, Some(state.domains[index].clone())),
                "DELETE" => {
                    state.domains.remove(index);
                    (204, None)
                }
                _ => {
                    let domain = &mut state.domains[index];
                    for (form_name, key) in [
                        ("VoiceUrl", "voice_url"),
                        ("VoiceMethod", "voice_method"),
                        ("FriendlyName", "friendly_name"),
                    ] {
                        if let Some(value) = field(form, form_name) {
                            domain[key] = json!(value);
                        }
                    }
                    for (form_name, key) in [
                        ("SipRegistration", "sip_registration"),
                        ("Secure", "secure"),
                    ] {
                        if let Some(value) = field(form, form_name) {
                            domain[key] = json!(value == "true");
                        }
                    }
                    domain["date_updated"] = json!(now());
                    (200, Some(domain.clone()))
                }
            }
        }
        ("GET", "/SIP/CredentialLists.json") => page(
            &state.credential_lists,
            "credential_lists",
            &format!("{base}/SIP/CredentialLists.json"),
            query,
        ),
        ("POST", "/SIP/CredentialLists.json") => {
            let sid = next_sid(&mut state, "CL");
            let list = json!({
                "sid": sid,
                "account_sid": account,
                "friendly_name": field(form, "FriendlyName"),
                "date_created": now(),
                "date_updated": now(),
                "uri": format!("{base}/SIP/CredentialLists/{sid}.json"),
                "subresource_uris": {"credentials": format!("{base}/SIP/CredentialLists/{sid}/Credentials.json")},
            });
            state.credential_lists.push(list.clone());
            (201, Some(list))
        }
        (_, "/SIP/CredentialLists/{CredentialListSid}/Credentials.json") => {
            let list = param("CredentialListSid");
            if !state
                .credential_lists
                .iter()
                .any(|l| l["sid"] == list.as_str())
            {
                return missing("credential list");
            }
            if method == "GET" {
                let logins: Vec<Value> = state
                    .credentials
                    .iter()
                    .filter(|c| c["credential_list_sid"] == list.as_str())
                    .cloned()
                    .collect();
                return page(
                    &logins,
                    "credentials",
                    &format!("{base}/SIP/CredentialLists/{list}/Credentials.json"),
                    query,
                );
            }
            let username = field(form, "Username").unwrap_or_default().to_owned();
            if state.credentials.iter().any(|c| {
                c["credential_list_sid"] == list.as_str() && c["username"] == username.as_str()
            }) {
                return (
                    400,
                    Some(error_body(
                        400,
                        None,
                        "Username already exists in this list",
                    )),
                );
            }
            let sid = next_sid(&mut state, "CR");
            let login = json!({
                "sid": sid,
                "account_sid": account,
                "credential_list_sid": list,
                "username": username,
                "date_created": now(),
                "date_updated": now(),
                "uri": format!("{base}/SIP/CredentialLists/{list}/Credentials/{sid}.json"),
                "__password": field(form, "Password"),
            });
            state.credentials.push(login.clone());
            (201, Some(public(&login)))
        }
        (_, "/SIP/CredentialLists/{CredentialListSid}/Credentials/{Sid}.json") => {
            let (list, sid) = (param("CredentialListSid"), param("Sid"));
            let Some(index) = state.credentials.iter().position(|c| {
                c["sid"] == sid.as_str() && c["credential_list_sid"] == list.as_str()
            }) else {
                return missing("credential");
            };
            match method {
                "GET" => (200, Some(public(&state.credentials[index]))),
                "DELETE" => {
                    state.credentials.remove(index);
                    (204, None)
                }
                _ => {
                    if let Some(password) = field(form, "Password") {
                        state.credentials[index]["__password"] = json!(password);
                        state.credentials[index]["date_updated"] = json!(now());
                    }
                    (200, Some(public(&state.credentials[index])))
                }
            }
        }
        (_, t) if t.ends_with("/CredentialListMappings.json") => {
            let domain = param("DomainSid");
            let kind = if t.contains("/Auth/Registrations/") {
                "Registrations"
            } else {
                "Calls"
            };
            if !state.domains.iter().any(|d| d["sid"] == domain.as_str()) {
                return missing("SIP Domain");
            }
            if method == "GET" {
                let mapped: Vec<Value> = state
                    .mappings
                    .iter()
                    .filter(|(d, k, _)| *d == domain && k == kind)
                    .map(|(_, _, m)| m.clone())
                    .collect();
                return page(
                    &mapped,
                    "contents",
                    &format!("{base}/SIP/Domains/{domain}/Auth/{kind}/CredentialListMappings.json"),
                    query,
                );
            }
            let list_sid = field(form, "CredentialListSid")
                .unwrap_or_default()
                .to_owned();
            let Some(list) = state
                .credential_lists
                .iter()
                .find(|l| l["sid"] == list_sid.as_str())
                .cloned()
            else {
                return missing("credential list");
            };
            let mapping = json!({
                "sid": list_sid,
                "account_sid": account,
                "friendly_name": list["friendly_name"],
                "date_created": now(),
                "date_updated": now(),
            });
            state
                .mappings
                .push((domain.clone(), kind.to_owned(), mapping.clone()));
            if let Some(d) = state
                .domains
                .iter_mut()
                .find(|d| d["sid"] == domain.as_str())
            {
                d["auth_type"] = json!("CREDENTIAL_LIST");
            }
            (201, Some(mapping))
        }
        ("GET", "/Calls.json") => {
            let to = query
                .iter()
                .find(|(k, _)| k == "To")
                .map(|(_, v)| v.as_str());
            let calls: Vec<Value> = state
                .calls
                .iter()
                .rev()
                .filter(|c| to.is_none_or(|to| c["to"] == to))
                .map(public)
                .collect();
            page(&calls, "calls", &format!("{base}/Calls.json"), query)
        }
        ("POST", "/Calls.json") => {
            if field(form, "Url").is_none() && field(form, "Twiml").is_none() {
                return (
                    400,
                    Some(error_body(400, Some(21205), "Url or Twiml is required")),
                );
            }
            let sid = next_sid(&mut state, "CA");
            let call = json!({
                "sid": sid,
                "account_sid": account,
                "date_created": now(),
                "date_updated": now(),
                "parent_call_sid": null,
                "to": field(form, "To"),
                "to_formatted": field(form, "To"),
                "from": field(form, "From"),
                "from_formatted": field(form, "From"),
                "phone_number_sid": null,
                "status": "queued",
                "start_time": null,
                "end_time": null,
                "duration": null,
                "price": null,
                "price_unit": "USD",
                "direction": "outbound-api",
                "answered_by": null,
                "api_version": "2010-04-01",
                "forwarded_from": null,
                "group_sid": null,
                "caller_name": null,
                "queue_time": "0",
                "trunk_sid": null,
                "uri": format!("{base}/Calls/{sid}.json"),
                "subresource_uris": {"recordings": format!("{base}/Calls/{sid}/Recordings.json")},
                "__record": field(form, "Record") == Some("true"),
            });
            state.calls.push(call.clone());
            (201, Some(public(&call)))
        }
        (_, "/Calls/{Sid}.json") => {
            let sid = param("Sid");
            let Some(index) = state.calls.iter().position(|c| c["sid"] == sid.as_str()) else {
                return missing("call");
            };
            match method {
                "GET" => (200, Some(public(&state.calls[index]))),
                "DELETE" => {
                    state.calls.remove(index);
                    (204, None)
                }
                _ => {
                    let call = &mut state.calls[index];
                    if let Some(status) = field(form, "Status") {
                        let ringing = matches!(call["status"].as_str(), Some("queued" | "ringing"));
                        call["status"] = json!(match (status, ringing) {
                            ("completed", true) | ("canceled", _) => "canceled",
                            _ => "completed",
                        });
                        call["end_time"] = json!(now());
                        call["date_updated"] = json!(now());
                    }
                    (200, Some(public(call)))
                }
            }
        }
        ("GET", "/Calls/{CallSid}/Recordings.json") => {
            let call = param("CallSid");
            let recordings: Vec<Value> = state
                .recordings
                .iter()
                .filter(|r| r["call_sid"] == call.as_str())
                .map(call_recording)
                .collect();
            page(
                &recordings,
                "recordings",
                &format!("{base}/Calls/{call}/Recordings.json"),
                query,
            )
        }
        (_, "/Recordings/{Sid}.json") => {
            let sid = param("Sid");
            let Some(index) = state
                .recordings
                .iter()
                .position(|r| r["sid"] == sid.as_str())
            else {
                return missing("recording");
            };
            if method == "DELETE" {
                state.recordings.remove(index);
                (204, None)
            } else {
                (200, Some(state.recordings[index].clone()))
            }
        }
        ("GET", "/Messages.json") => {
            let to = query
                .iter()
                .find(|(k, _)| k == "To")
                .map(|(_, v)| v.as_str());
            let messages: Vec<Value> = state
                .messages
                .iter()
                .rev()
                .filter(|m| to.is_none_or(|to| m["to"] == to))
                .cloned()
                .collect();
            page(
                &messages,
                "messages",
                &format!("{base}/Messages.json"),
                query,
            )
        }
        ("POST", "/Messages.json") => {
            let from = field(form, "From");
            let service = field(form, "MessagingServiceSid");
            if from.is_none() && service.is_none() {
                return (
                    400,
                    Some(error_body(
                        400,
                        Some(21603),
                        "A 'From' phone number is required",
                    )),
                );
            }
            if let Some(from) = from
                && !state.numbers.iter().any(|n| n["phone_number"] == from)
            {
                return (
                    400,
                    Some(error_body(
                        400,
                        Some(21606),
                        &format!(
                            "The From phone number {from} is not a valid, SMS-capable inbound phone number or short code for your account"
                        ),
                    )),
                );
            }
            let sid = next_sid(&mut state, "SM");
            let body = field(form, "Body").unwrap_or_default();
            let message = json!({
                "sid": sid,
                "account_sid": account,
                "api_version": "2010-04-01",
                "body": body,
                "num_segments": (body.chars().count().div_ceil(153)).max(1).to_string(),
                "num_media": "0",
                "direction": "outbound-api",
                "from": from,
                "to": field(form, "To"),
                "messaging_service_sid": service,
                "status": if service.is_some() { "accepted" } else { "queued" },
                "date_created": now(),
                "date_updated": now(),
                "date_sent": null,
                "price": null,
                "price_unit": "USD",
                "error_code": null,
                "error_message": null,
                "uri": format!("{base}/Messages/{sid}.json"),
                "subresource_uris": {"media": format!("{base}/Messages/{sid}/Media.json")},
            });
            state.messages.push(message.clone());
            (201, Some(message))
        }
        ("GET", "/IncomingPhoneNumbers.json") => page(
            &state.numbers,
            "incoming_phone_numbers",
            &format!("{base}/IncomingPhoneNumbers.json"),
            query,
        ),
        _ => (
            405,
            Some(error_body(
                405,
                Some(20004),
                &format!("Method {method} not allowed"),
            )),
        ),
    }
}

/// A call's recording in the shape the call's recording list uses.
fn call_recording(recording: &Value) -> Value {
    let mut r = recording.clone();
    if let Some(map) = r.as_object_mut() {
        map.remove("subresource_uris");
        map.remove("media_url");
        map.insert("price".into(), Value::Null);
        map.insert("track".into(), json!("both"));
    }
    r
}

/// One page of a list, as Twilio pages: `PageSize` (default 50) and `Page` (from 0).
fn page(items: &[Value], key: &str, uri: &str, query: &[(String, String)]) -> Answer {
    let number = |name: &str, default: usize| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let size = number("PageSize", 50).clamp(1, 1000);
    let index = number("Page", 0);
    let start = index * size;
    let slice: Vec<Value> = items.iter().skip(start).take(size).map(public).collect();
    let link = |p: usize| format!("{uri}?PageSize={size}&Page={p}");
    let next = (start + size < items.len()).then(|| link(index + 1));
    let previous = (index > 0).then(|| link(index - 1));
    let end = (start + slice.len()).saturating_sub(1);
    (
        200,
        Some(json!({
            key: slice,
            "end": end,
            "first_page_uri": link(0),
            "next_page_uri": next,
            "page": index,
            "page_size": size,
            "previous_page_uri": previous,
            "start": start,
            "uri": link(index),
        })),
    )
}

/// A second of 8 kHz 16-bit mono silence: what recording media downloads return.
fn silent_wav() -> Vec<u8> {
    let samples = 8000u32;
    let data = samples * 2;
    let mut wav = Vec::with_capacity(44 + data as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data.to_le_bytes());
    wav.resize(44 + data as usize, 0);
    wav
}
