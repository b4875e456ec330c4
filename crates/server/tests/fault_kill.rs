//! The real `cuecard-server` binary killed with SIGKILL in the middle of pushes, again and
//! again, on SQLite and on PostgreSQL: no acknowledged write is lost and none is applied
//! twice.
//!
//! Three devices of one rep push batches continuously, each with a model of the app's
//! outbox: consecutive sequence numbers, the same batch retried after a connection error,
//! the outbox advanced only on a successful answer, and a 409 `sequence_gap` answered by
//! resending from `expected_seq`. Meanwhile the server process is killed ten times at
//! random moments while a push is in flight and restarted on the same database and port.
//! At the end every row any device wrote is there exactly once with its newest values,
//! each device's watermark is the last number it sent, and no gap was ever reported below
//! a number the server had already acknowledged (that would be a lost acknowledged write,
//! silently repaired by the resend).

mod support;

use cuecard_sync_protocol::{AckStatus, Mutation, Op, PullResponse, PushResponse, Session};
use cuecard_testserver::postgres::TempCluster;
use rand::Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::Outbox;
use uuid::Uuid;

const DEVICES: usize = 3;
const KILLS: usize = 10;
const BIN: &str = env!("CARGO_BIN_EXE_cuecard-server");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_survives_sigkill_mid_push() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("server.db").display());
    scenario(&url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_survives_sigkill_mid_push() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cluster = TempCluster::start().expect("a PostgreSQL cluster (apt-get install postgresql)");
    scenario(&cluster.url(), dir.path()).await;
}

/// The server binary as a child process, always on the same database and port.
struct ServerProcess {
    url: String,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
    starts: usize,
}

impl ServerProcess {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_path(&self, start: usize) -> PathBuf {
        self.dir.join(format!("server-{start}.log"))
    }

    fn logs(&self) -> String {
        (1..=self.starts)
            .map(|n| {
                let text = std::fs::read_to_string(self.log_path(n)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(20).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                format!("--- start {n} ---\n{}", tail.join("\n"))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `cuecard-server create-org`: the invitation token it prints.
    fn create_org(&self) -> String {
        let output = Command::new(BIN)
            .args(["create-org", "--database-url", &self.url])
            .args(["--name", "Acme", "--admin-email", "admin@acme.test"])
            .args(["--log-format", "text"])
            .env("RUST_LOG", "warn")
            .output()
            .expect("cuecard-server create-org runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "create-org failed: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .expect("an invitation token")
            .to_owned()
    }

    /// Starts `cuecard-server serve` and waits until `/readyz` answers 200.
    async fn start(&mut self, http: &reqwest::Client) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            self.starts += 1;
            let log = std::fs::File::create(self.log_path(self.starts)).expect("log file");
            let child = Command::new(BIN)
                .arg("serve")
                .args(["--database-url", &self.url])
                .args(["--listen", &format!("127.0.0.1:{}", self.port)])
                .args(["--blob-dir", &self.dir.join("blobs").display().to_string()])
                .args(["--log-format", "text", "--auth-per-minute", "1000"])
                .env("RUST_LOG", "info,sqlx=warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("cuecard-server serve starts");
            self.child = Some(child);
            loop {
                if let Ok(response) = http.get(format!("{}/readyz", self.base())).send().await
                    && response.status() == StatusCode::OK
                {
                    return;
                }
                let exited = self
                    .child
                    .as_mut()
                    .and_then(|c| c.try_wait().ok().flatten());
                if exited.is_some() {
                    // Most likely the port was briefly taken: try again.
                    self.child = None;
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the server did not become ready:\n{}",
                    self.logs()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert!(
                Instant::now() < deadline,
                "the server would not start:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL (`Child::kill` on Unix), and reap the process.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL sent");
            child.wait().expect("server reaped");
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port to reuse across restarts: outside the kernel's ephemeral range when possible,
/// so no outgoing connection can take it while the server is down.
fn free_port() -> u16 {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let mut rng = rand::rng();
    if low > 12_000 {
        for _ in 0..200 {
            let port = rng.random_range(10_000..low - 1);
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return port;
            }
        }
    }
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn post(http: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = http.post(url.clone()).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// What the rows should hold at the end, by (entity, row id): field → value.
type Expected = HashMap<(String, String), HashMap<&'static str, Value>>;

/// One device's outbox and what the server told it.
struct Device {
    session: Session,
    /// Numbers and stamps the device's mutations.
    stamps: Outbox,
    /// Every mutation ever made, by sequence number − 1.
    outbox: Vec<Mutation>,
    /// The server has acknowledged everything up to here.
    acked: i64,
    contacts: Vec<String>,
    calls: Vec<String>,
    expected: Expected,
    /// (what the device held acknowledged, what the server asked for) of each gap below
    /// an acknowledged number: lost acknowledged writes.
    lost: Vec<(i64, i64)>,
    gaps: usize,
    pushes: usize,
    retries: usize,
    duplicates: usize,
}

impl Device {
    fn make(&mut self, entity: &str, row_id: &str, op: Op, changed: Value) {
        let mutation = self.stamps.make(entity, row_id, op, changed);
        self.outbox.push(mutation);
    }

    fn expect(&mut self, entity: &str, row_id: &str, field: &'static str, value: Value) {
        self.expected
            .entry((entity.to_owned(), row_id.to_owned()))
            .or_default()
            .insert(field, value);
    }

    /// A batch of 5–60 mixed mutations: new contacts, edits of earlier ones, calls and
    /// transcript lines.
    fn queue_batch(&mut self) {
        let mut rng = rand::rng();
        for _ in 0..rng.random_range(5..=60) {
            let seq = self.outbox.len() + 1;
            let kind = rng.random_range(0..10);
            if kind < 4 || self.contacts.is_empty() {
                let id = Uuid::now_v7().to_string();
                let name = format!("contact {}-{seq}", self.stamps.node);
                self.make("contacts", &id, Op::Insert, json!({"name": name}));
                self.expect("contacts", &id, "name", json!(name));
                self.contacts.push(id);
            } else if kind < 6 {
                let id = self.contacts[rng.random_range(0..self.contacts.len())].clone();
                let title = format!("title {seq}");
                self.make("contacts", &id, Op::Update, json!({"title": title}));
                self.expect("contacts", &id, "title", json!(title));
            } else if kind < 8 || self.calls.is_empty() {
                let id = Uuid::now_v7().to_string();
                let contact = self.contacts[rng.random_range(0..self.contacts.len())].clone();
                self.make(
                    "calls",
                    &id,
                    Op::Insert,
                    json!({"contact_id": contact, "direction": "outbound", "status": "completed",
                           "from": "+14155550100", "to": "+14155550199",
                           "started_at": "2026-11-20T15:04:00Z", "duration_secs": seq}),
                );
                self.expect("calls", &id, "duration_secs", json!(seq));
                self.calls.push(id);
            } else {
                let id = Uuid::now_v7().to_string();
                let call = self.calls[rng.random_range(0..self.calls.len())].clone();
                let text = format!("line {}-{seq}", self.stamps.node);
                self.make(
                    "utterances",
                    &id,
                    Op::Insert,
                    json!({"call_id": call, "channel": "mic", "start_ms": 0, "end_ms": 900, "text": text}),
                );
                self.expect("utterances", &id, "text", json!(text));
            }
        }
    }

    /// Pushes until everything queued is acknowledged; new batches keep coming until
    /// `stop`.
    async fn run(
        mut self,
        http: reqwest::Client,
        base: String,
        stop: Arc<AtomicBool>,
        in_flight: Arc<AtomicUsize>,
    ) -> Device {
        loop {
            if self.acked as usize == self.outbox.len() {
                if stop.load(Ordering::SeqCst) {
                    return self;
                }
                self.queue_batch();
            }
            let batch = &self.outbox[self.acked as usize..];
            let body = json!({"device_id": self.session.device_id, "schema_version": 2,
                              "mutations": batch});
            in_flight.fetch_add(1, Ordering::SeqCst);
            let sent = http
                .post(format!("{base}/v1/sync/push"))
                .bearer_auth(&self.session.access_token)
                .json(&body)
                .send()
                .await;
            let answer = match sent {
                Ok(response) => {
                    let status = response.status();
                    response.bytes().await.map(|bytes| (status, bytes))
                }
                Err(e) => Err(e),
            };
            in_flight.fetch_sub(1, Ordering::SeqCst);
            self.pushes += 1;
            let (status, bytes) = match answer {
                Ok(answer) => answer,
                Err(_) => {
                    // The server died under us (or was not up yet): same batch again.
                    self.retries += 1;
                    tokio::time::sleep(Duration::from_millis(15)).await;
                    continue;
                }
            };
            if status == StatusCode::OK {
                let answer: PushResponse = serde_json::from_slice(&bytes).expect("a push answer");
                let last = batch.last().map_or(self.acked, |m| m.seq);
                assert_eq!(answer.acked_through, last, "device {}", self.stamps.node);
                assert_eq!(answer.acks.len(), batch.len());
                for (ack, sent) in answer.acks.iter().zip(batch) {
                    assert_eq!(
                        (ack.seq, ack.mutation_id),
                        (sent.seq, sent.mutation_id),
                        "acks in order"
                    );
                    match ack.status {
                        AckStatus::Applied => {}
                        AckStatus::Duplicate => self.duplicates += 1,
                        AckStatus::Rejected => {
                            panic!("mutation {} rejected: {:?}", sent.seq, ack.reason)
                        }
                    }
                }
                self.acked = last;
            } else if status == StatusCode::CONFLICT {
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                assert_eq!(body["error"], "sequence_gap", "{body}");
                let expected = body["expected_seq"].as_i64().expect("expected_seq");
                self.gaps += 1;
                if expected <= self.acked {
                    self.lost.push((self.acked, expected));
                }
                assert!(
                    expected >= 1 && expected as usize <= self.outbox.len() + 1,
                    "expected_seq {expected} out of range"
                );
                self.acked = expected - 1;
            } else if status.is_server_error() {
                // A database hiccup while the server starts or stops: retry.
                self.retries += 1;
                tokio::time::sleep(Duration::from_millis(15)).await;
            } else {
                panic!(
                    "push answered {status}: {}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }
}

async fn scenario(url: &str, dir: &Path) {
    let started = Instant::now();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("http client");
    let mut server = ServerProcess {
        url: url.to_owned(),
        dir: dir.to_path_buf(),
        port: free_port(),
        child: None,
        starts: 0,
    };
    let invitation = server.create_org();
    server.start(&http).await;
    let base = server.base();

    // An admin (through the printed invitation), a team, and a rep with three devices.
    let admin: Session = serde_json::from_value(
        post(
            &http,
            format!("{base}/v1/auth/signup"),
            None,
            json!({"invitation": invitation, "name": "Admin Person", "password": "a long enough password",
                   "device": {"name": "admin laptop", "platform": "linux"}}),
        )
        .await,
    )
    .expect("admin session");
    let team = post(
        &http,
        format!("{base}/v1/teams"),
        Some(&admin.access_token),
        json!({"name": "Enterprise"}),
    )
    .await;
    let invite = post(
        &http,
        format!("{base}/v1/invitations"),
        Some(&admin.access_token),
        json!({"email": "dana@acme.test", "role": "rep", "team_id": team["id"]}),
    )
    .await;
    let mut sessions: Vec<Session> = vec![
        serde_json::from_value(
            post(
                &http,
                format!("{base}/v1/auth/signup"),
                None,
                json!({"invitation": invite["token"], "name": "Dana", "password": "a long enough password",
                       "device": {"name": "device 1", "platform": "linux"}}),
            )
            .await,
        )
        .expect("rep session"),
    ];
    for n in 2..=DEVICES {
        sessions.push(
            serde_json::from_value(
                post(
                    &http,
                    format!("{base}/v1/auth/login"),
                    None,
                    json!({"email": "dana@acme.test", "password": "a long enough password",
                           "device": {"name": format!("device {n}"), "platform": "linux"}}),
                )
                .await,
            )
            .expect("rep session"),
        );
    }

    // The devices push continuously.
    let stop = Arc::new(AtomicBool::new(false));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(i, session)| {
            let device = Device {
                session,
                stamps: Outbox::new(0x100 + i as u32),
                outbox: Vec::new(),
                acked: 0,
                contacts: Vec::new(),
                calls: Vec::new(),
                expected: HashMap::new(),
                lost: Vec::new(),
                gaps: 0,
                pushes: 0,
                retries: 0,
                duplicates: 0,
            };
            tokio::spawn(device.run(http.clone(), base.clone(), stop.clone(), in_flight.clone()))
        })
        .collect();

    // Kill the server mid-push, at random moments, and bring it back on the same port.
    let mut mid_push = 0;
    for _ in 0..KILLS {
        let pause = rand::rng().random_range(100..450);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let waiting = Instant::now();
        while in_flight.load(Ordering::SeqCst) == 0 && waiting.elapsed() < Duration::from_secs(1) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Somewhere inside the push: parsing, applying, committing or answering.
        let jitter = rand::rng().random_range(0..15);
        tokio::time::sleep(Duration::from_millis(jitter)).await;
        if in_flight.load(Ordering::SeqCst) > 0 {
            mid_push += 1;
        }
        server.kill();
        let down = rand::rng().random_range(0..200);
        tokio::time::sleep(Duration::from_millis(down)).await;
        server.start(&http).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut devices = Vec::new();
    for task in tasks {
        devices.push(task.await.expect("device task"));
    }

    // Nothing acknowledged was lost and then silently re-sent.
    for d in &devices {
        assert!(
            d.lost.is_empty(),
            "device {:x}: the server asked again for numbers it had acknowledged \
             (held acknowledged, asked from): {:?}\n{}",
            d.stamps.node,
            d.lost,
            server.logs()
        );
    }
    // Each device's watermark is the last number it sent (an empty push reports it).
    for d in &devices {
        let answer: PushResponse = serde_json::from_value(
            post(
                &http,
                format!("{base}/v1/sync/push"),
                Some(&d.session.access_token),
                json!({"device_id": d.session.device_id, "schema_version": 2, "mutations": []}),
            )
            .await,
        )
        .expect("a push answer");
        assert_eq!(answer.acked_through, d.outbox.len() as i64);
    }

    // Every row written is there once, with its newest values.
    let (mut cursor, mut changes) = (0, Vec::new());
    loop {
        let response = http
            .get(format!("{base}/v1/sync/pull?cursor={cursor}&limit=1000"))
            .bearer_auth(&admin.access_token)
            .send()
            .await
            .expect("pull");
        assert_eq!(response.status(), StatusCode::OK);
        let page: PullResponse = response.json().await.expect("a pull answer");
        changes.extend(page.changes);
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    let mut expected: Expected = HashMap::new();
    for d in &devices {
        expected.extend(d.expected.clone());
    }
    let mut seen = HashSet::new();
    let mut seqs = HashSet::new();
    for change in &changes {
        let key = (change.entity.to_string(), change.row_id.clone());
        assert!(seen.insert(key.clone()), "row {key:?} twice");
        assert!(
            seqs.insert(change.seq),
            "change number {} twice",
            change.seq
        );
        let fields = expected
            .get(&key)
            .unwrap_or_else(|| panic!("row {key:?} was never written"));
        for (field, value) in fields {
            assert_eq!(&change.data[*field], value, "{key:?}.{field}");
        }
        assert!(!change.deleted);
    }
    let missing: Vec<_> = expected.keys().filter(|k| !seen.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged rows lost, e.g. {:?}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
    assert_eq!(changes.len(), expected.len());

    let mutations: usize = devices.iter().map(|d| d.outbox.len()).sum();
    eprintln!(
        "{KILLS} kills ({mid_push} with a push in flight), {} starts; {mutations} mutations, {} rows; \
         pushes {}, retried {}, duplicate acks {}, gaps {} — {:.1} s",
        server.starts,
        changes.len(),
        devices.iter().map(|d| d.pushes).sum::<usize>(),
        devices.iter().map(|d| d.retries).sum::<usize>(),
        devices.iter().map(|d| d.duplicates).sum::<usize>(),
        devices.iter().map(|d| d.gaps).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );
    assert!(mid_push > 0, "no kill landed during a push");
}
