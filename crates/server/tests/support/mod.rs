//! The server integration tests' harness: a real server on loopback over SQLite or over a
//! PostgreSQL cluster the harness starts itself, an HTTP client, and an organisation with
//! an admin, a manager and two reps in one team.

#![allow(dead_code)]

use chrono::{Duration, SecondsFormat, Utc};
use cuecard_core::Hlc;
use cuecard_server::{Config, Running, accounts};
use cuecard_sync_protocol::{Mutation, Op, Session};
use cuecard_testserver::postgres::TempCluster;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// Which database the server runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `sqlite` and `postgres` tests running the scenario `$name(backend)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    )*};
}

/// A running server and a client for it.
pub struct Harness {
    pub base: String,
    pub http: reqwest::Client,
    pub running: Running,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub dir: tempfile::TempDir,
    pub cluster: Option<TempCluster>,
}

impl Harness {
    pub async fn start(backend: Backend) -> Harness {
        Harness::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Harness {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, cluster) = match backend {
            Backend::Sqlite => (
                format!("sqlite://{}", dir.path().join("server.db").display()),
                None,
            ),
            Backend::Postgres => {
                let cluster = TempCluster::start()
                    .expect("a PostgreSQL cluster (apt-get install postgresql)");
                (cluster.url(), Some(cluster))
            }
        };
        let mut config = Config::for_tests(&url, dir.path().join("blobs"));
        tweak(&mut config);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = cuecard_server::serve(config, async {
            let _ = stopped.await;
        })
        .await
        .expect("server starts");
        Harness {
            base: format!("http://{}", running.addr),
            http: reqwest::Client::new(),
            running,
            stop: Some(stop),
            dir,
            cluster,
        }
    }

    /// Sends a request; returns the status and the JSON body (null when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", path, Some(token), Some(body)).await
    }

    /// Creates an organisation and signs its admin in.
    pub async fn org(&self, name: &str, admin_email: &str) -> Session {
        let (_, invitation) = accounts::create_org(&self.running.state, name, admin_email)
            .await
            .expect("org created");
        self.sign_up(&invitation, "Admin Person").await
    }

    pub async fn sign_up(&self, invitation: &str, name: &str) -> Session {
        let (status, body) = self
            .call(
                "POST",
                "/v1/auth/signup",
                None,
                Some(json!({"invitation": invitation, "name": name, "password": "a long enough password",
                            "device": {"name": format!("{name}'s laptop"), "platform": "linux"}})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign-up: {body}");
        serde_json::from_value(body).expect("a session")
    }

    /// Signs in again: a second device of the same user.
    pub async fn log_in(&self, email: &str) -> Session {
        let (status, body) = self
            .call(
                "POST",
                "/v1/auth/login",
                None,
                Some(json!({"email": email, "password": "a long enough password",
                            "device": {"name": "another device", "platform": "linux"}})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login: {body}");
        serde_json::from_value(body).expect("a session")
    }

    /// Invites `email` with `role` into `team` and signs them up.
    pub async fn invite(
        &self,
        by: &Session,
        email: &str,
        role: &str,
        team: Option<Uuid>,
    ) -> Session {
        let (status, body) = self
            .post(
                "/v1/invitations",
                &by.access_token,
                json!({"email": email, "role": role, "team_id": team}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "invite: {body}");
        let token = body["token"].as_str().expect("token").to_owned();
        self.sign_up(&token, email.split('@').next().unwrap_or(email))
            .await
    }

    /// Creates a team as `admin`; returns its id.
    pub async fn new_team(&self, admin: &Session, name: &str) -> Uuid {
        let (status, body) = self
            .post("/v1/teams", &admin.access_token, json!({"name": name}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "team: {body}");
        body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("team id")
    }

    /// An organisation with an admin, a manager and two reps in one team.
    pub async fn team(&self, org: &str) -> Team {
        let domain = org.to_lowercase();
        let admin = self.org(org, &format!("admin@{domain}.test")).await;
        let team = self.new_team(&admin, "Enterprise").await;
        let manager = self
            .invite(
                &admin,
                &format!("manager@{domain}.test"),
                "manager",
                Some(team),
            )
            .await;
        let rep_a = self
            .invite(&manager, &format!("dana@{domain}.test"), "rep", Some(team))
            .await;
        let rep_b = self
            .invite(&manager, &format!("omar@{domain}.test"), "rep", Some(team))
            .await;
        Team {
            admin,
            manager,
            rep_a,
            rep_b,
            team,
        }
    }

    /// Pushes mutations from a session's device.
    pub async fn push(&self, session: &Session, mutations: &[Mutation]) -> (StatusCode, Value) {
        self.post(
            "/v1/sync/push",
            &session.access_token,
            json!({"device_id": session.device_id, "schema_version": 2, "mutations": mutations}),
        )
        .await
    }

    /// Pulls everything after `cursor` (following pages); returns the changes, evictions
    /// and the final cursor.
    pub async fn pull_all(&self, session: &Session, cursor: i64) -> (Vec<Value>, Vec<Value>, i64) {
        let (mut changes, mut evictions, mut cursor) = (Vec::new(), Vec::new(), cursor);
        loop {
            let (status, body) = self
                .get(
                    &format!("/v1/sync/pull?cursor={cursor}&limit=200"),
                    &session.access_token,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "pull: {body}");
            changes.extend(body["changes"].as_array().cloned().unwrap_or_default());
            evictions.extend(body["evictions"].as_array().cloned().unwrap_or_default());
            cursor = body["cursor"].as_i64().expect("cursor");
            if body["more"] != json!(true) {
                return (changes, evictions, cursor);
            }
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The people of a test organisation.
pub struct Team {
    pub admin: Session,
    pub manager: Session,
    pub rep_a: Session,
    pub rep_b: Session,
    pub team: Uuid,
}

/// Builds a device's outbox mutations with consecutive sequence numbers and rising stamps.
pub struct Outbox {
    pub next_seq: i64,
    pub node: u32,
    pub wall_ms: u64,
}

impl Outbox {
    pub fn new(node: u32) -> Outbox {
        Outbox {
            next_seq: 1,
            node,
            wall_ms: 1_800_000_000_000,
        }
    }

    pub fn make(&mut self, entity: &str, row_id: &str, op: Op, changed: Value) -> Mutation {
        self.wall_ms += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        Mutation {
            seq,
            mutation_id: Uuid::now_v7(),
            entity: entity.into(),
            row_id: row_id.into(),
            op,
            changed,
            hlc: Hlc {
                wall_ms: self.wall_ms,
                counter: 0,
                node: self.node,
            },
        }
    }
}

/// A row of a pull by entity and id.
pub fn find<'a>(changes: &'a [Value], entity: &str, row_id: &str) -> Option<&'a Value> {
    changes
        .iter()
        .find(|c| c["entity"] == entity && c["row_id"] == row_id)
}

/// One call of a rep, as its app would push it: contact, call, two transcript lines and
/// (optionally) a scorecard whose check cites the contact's line.
pub struct PushedCall {
    pub call: String,
    pub far_end_line: String,
}

pub fn call_mutations(
    outbox: &mut Outbox,
    contact_name: &str,
    days_ago: i64,
    score: Option<(i64, f64)>,
) -> (Vec<Mutation>, PushedCall) {
    let contact = Uuid::now_v7().to_string();
    let call = Uuid::now_v7().to_string();
    let (rep_line, far_end_line) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let started =
        (Utc::now() - Duration::days(days_ago)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut mutations = vec![
        outbox.make("contacts", &contact, Op::Insert, json!({"name": contact_name})),
        outbox.make("calls", &call, Op::Insert, json!({"contact_id": contact, "direction": "outbound",
            "status": "completed", "from": "+14155550100", "to": "+14155550199", "started_at": started,
            "answered_at": started, "duration_secs": 300, "notes": "Send pricing",
            "recording": {"path": "r.ogg", "format": "ogg/opus", "duration_ms": 300000, "sha256": null}})),
        // Pushed in reverse order: the page sorts by time.
        outbox.make("utterances", &far_end_line, Op::Insert, json!({"call_id": call, "channel": "far_end",
            "speaker": null, "start_ms": 4000, "end_ms": 6000, "text": "It is too expensive for us."})),
        outbox.make("utterances", &rep_line, Op::Insert, json!({"call_id": call, "channel": "mic",
            "speaker": null, "start_ms": 0, "end_ms": 3000, "text": "What does your team use today?"})),
    ];
    if let Some((total, discovery)) = score {
        mutations.push(outbox.make("scorecards", &Uuid::now_v7().to_string(), Op::Insert, json!({
            "subject": {"kind": "call", "id": call}, "total": total, "status": "final",
            "rubric_version": "2",
            "categories": [
                {"key": "discovery", "label": "Discovery", "score": discovery, "max": 10.0, "weight": 0.25},
                {"key": "closing", "label": "Closing", "score": 5.0, "max": 10.0, "weight": 0.25}],
            "checks": [{"check_id": "answers_objections", "category": "objection_handling", "credit": 1.0,
                        "explanation": "The price objection was answered.", "evidence": [far_end_line]}],
            "created_at": started})));
    }
    (mutations, PushedCall { call, far_end_line })
}

pub async fn push_ok(h: &Harness, who: &Session, mutations: &[Mutation]) {
    let (status, body) = h.push(who, mutations).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["acks"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["status"] == "applied")),
        "{body}"
    );
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Sends one recording chunk (`bytes` placed at `start` of a `total`-byte file).
pub async fn put_chunk(
    h: &Harness,
    token: &str,
    upload_id: &str,
    start: u64,
    bytes: &[u8],
    total: u64,
) -> (StatusCode, Value) {
    let end = start + bytes.len() as u64 - 1;
    let response = h
        .http
        .put(format!("{}/v1/recordings/uploads/{upload_id}", h.base))
        .bearer_auth(token)
        .header("Content-Range", format!("bytes {start}-{end}/{total}"))
        .body(bytes.to_vec())
        .send()
        .await
        .expect("chunk sent");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Uploads a call's recording whole, in chunks of `chunk` bytes; returns the last answer.
pub async fn upload_recording(
    h: &Harness,
    who: &Session,
    call_id: &str,
    bytes: &[u8],
    content_type: &str,
    chunk: usize,
) -> Value {
    let (status, state) = h
        .post(
            "/v1/recordings/uploads",
            &who.access_token,
            json!({"call_id": call_id, "sha256": sha256_hex(bytes), "size": bytes.len(),
                   "content_type": content_type}),
        )
        .await;
    assert!(status.is_success(), "start upload: {status} {state}");
    if state["complete"] == json!(true) {
        return state;
    }
    let id = state["upload_id"].as_str().expect("upload id").to_owned();
    let mut offset = state["offset"].as_u64().expect("offset") as usize;
    let mut last = state;
    while offset < bytes.len() {
        let end = (offset + chunk).min(bytes.len());
        let (status, body) = put_chunk(
            h,
            &who.access_token,
            &id,
            offset as u64,
            &bytes[offset..end],
            bytes.len() as u64,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "chunk at {offset}: {body}");
        offset = end;
        last = body;
    }
    assert_eq!(last["complete"], json!(true), "{last}");
    last
}
