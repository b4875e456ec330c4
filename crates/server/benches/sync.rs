//! Sync server benchmarks (bench binary): a real `cuecard-server` on loopback, started in
//! this process with `cuecard_server::serve`, driven over real HTTP (reqwest), on SQLite
//! and on a PostgreSQL cluster started for the run, side by side:
//!
//! 1. one push of 1,000 mixed mutations (contact inserts and updates, calls, transcript
//!    lines, scorecards): wall time of the request, median and p90 of 20;
//! 2. the server's apply rate: 1,000 / push time, and a sustained run of 50 pushes;
//! 3. bootstrap of a new device: 100,000 rows paged from cursor 0 and parsed into
//!    `PullResponse`;
//! 4. propagation: device B long-polls, device A pushes one change; time from just before
//!    A's push to B's parsed answer, p50 and p90 of 50;
//! 5. the pushes of 1. again on the 100,000 rows (on PostgreSQL after an explicit
//!    `ANALYZE` too; the server analyses the change log itself as it grows, so the first
//!    bootstrap right after the seed shows whether that kept up: see BENCHMARKS.md).
//!
//! Run: `cargo bench -p cuecard-server --bench sync` (release). `SYNC_BENCH_ONLY=sqlite`
//! or `=postgres` runs one database; `SYNC_BENCH_LOG=sqlx::query=debug` logs every SQL
//! statement with its time (JSON on stderr), to see where a push's time goes.

use cuecard_core::Hlc;
use cuecard_server::{Config, Running, accounts};
use cuecard_sync_protocol::{Mutation, Op, PullResponse, PushResponse, Session};
use cuecard_testserver::postgres::TempCluster;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

const BATCH: usize = 1_000;
const TIMED_PUSHES: usize = 20;
const SUSTAINED_PUSHES: usize = 50;
const BOOTSTRAP_ROWS: usize = 100_000;
const BOOTSTRAPS: usize = 3;
const PROPAGATIONS: usize = 50;

const FIRST: &[&str] = &[
    "Asha", "Ben", "Chen", "Dee", "Eve", "Farah", "Gopal", "Hana", "Ivan", "Jaya", "Kiran", "Liam",
];
const LAST: &[&str] = &[
    "Rao", "Carter", "Wei", "Iyer", "Khan", "Mehta", "Sato", "Petrov", "Singh", "Nair",
];
const COMPANY: &[&str] = &[
    "Acme Logistics",
    "Globex",
    "Initech",
    "Umbrella Freight",
    "Hooli",
];
const LINES: &[&str] = &[
    "Thanks for taking the call, do you have ten minutes to talk about your shipping costs?",
    "We looked at a few vendors last quarter but nothing stuck, honestly.",
    "What does your team use today to track the inbound freight?",
    "It is too expensive for us right now, maybe next financial year.",
    "If I can show you a twenty percent saving would you take it to your CFO?",
];

/// One database's figures.
#[derive(Default)]
struct Figures {
    push_p50: Duration,
    push_p90: Duration,
    sustained_rate: f64,
    sustained_secs: f64,
    seed_secs: f64,
    bootstrap_fresh: Duration,
    bootstrap: Vec<(Duration, usize, usize)>,
    push_large_p50: Duration,
    push_large_p90: Duration,
    propagation_p50: Duration,
    propagation_p90: Duration,
    propagation_max: Duration,
}

/// A device's outbox: consecutive sequence numbers, rising stamps, and the rows it made
/// (for updates of stored rows).
struct Outbox {
    next_seq: i64,
    node: u32,
    wall_ms: u64,
    contacts: Vec<String>,
    n: usize,
}

impl Outbox {
    fn new(node: u32) -> Outbox {
        Outbox {
            next_seq: 1,
            node,
            wall_ms: 1_800_000_000_000,
            contacts: Vec::new(),
            n: 0,
        }
    }

    fn make(&mut self, entity: &str, row_id: &str, op: Op, changed: Value) -> Mutation {
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

    fn contact(&mut self) -> Mutation {
        self.n += 1;
        let i = self.n;
        let id = Uuid::now_v7().to_string();
        self.contacts.push(id.clone());
        let name = format!(
            "{} {} {i}",
            FIRST[i % FIRST.len()],
            LAST[(i / FIRST.len()) % LAST.len()]
        );
        self.make(
            "contacts",
            &id,
            Op::Insert,
            json!({"name": name, "company": COMPANY[i % COMPANY.len()], "title": "IT Director",
                   "phones": [{"e164": format!("+9198{i:08}"), "label": null}],
                   "emails": [{"address": format!("user{i}@example.com"), "label": null}],
                   "tags": ["q3"], "deal_stage": "lead", "deal_value": null, "notes": ""}),
        )
    }

    /// 1,000 mutations, in groups of ten: two new contacts, an edit of a contact stored
    /// by an earlier push (or this one, on the first), a call with five transcript lines
    /// and its scorecard. 900 new rows.
    fn mixed_batch(&mut self) -> Vec<Mutation> {
        let mut out = Vec::with_capacity(BATCH);
        for g in 0..BATCH / 10 {
            let first = self.contact();
            out.push(first);
            out.push(self.contact());
            // 200 contacts a batch: 300 back is always an earlier push's.
            let target = match self.contacts.len() {
                n if n > 400 => self.contacts[n - 300 - g % 7].clone(),
                _ => self.contacts[0].clone(),
            };
            out.push(self.make(
                "contacts",
                &target,
                Op::Update,
                json!({"title": format!("VP Sales {g}"), "deal_stage": "qualified"}),
            ));
            let contact = self.contacts[self.contacts.len() - 1].clone();
            let call = Uuid::now_v7().to_string();
            out.push(self.make(
                "calls",
                &call,
                Op::Insert,
                json!({"contact_id": contact, "direction": "outbound", "status": "completed",
                       "from": "+14155550100", "to": "+14155550199",
                       "started_at": "2026-11-20T15:04:00Z", "answered_at": "2026-11-20T15:04:09Z",
                       "duration_secs": 312, "notes": "Send pricing"}),
            ));
            for (k, text) in LINES.iter().enumerate() {
                out.push(self.make(
                    "utterances",
                    &Uuid::now_v7().to_string(),
                    Op::Insert,
                    json!({"call_id": call, "channel": if k % 2 == 0 { "mic" } else { "far_end" },
                           "speaker": null, "start_ms": k * 4000, "end_ms": k * 4000 + 3500, "text": text}),
                ));
            }
            out.push(self.make(
                "scorecards",
                &Uuid::now_v7().to_string(),
                Op::Insert,
                json!({"subject": {"kind": "call", "id": call}, "total": 60 + g % 40, "status": "final",
                       "rubric_version": "2",
                       "categories": [{"key": "discovery", "label": "Discovery", "score": 7.5, "max": 10.0, "weight": 0.25}],
                       "created_at": "2026-11-20T15:10:00Z"}),
            ));
        }
        out
    }

    /// 1,000 new contacts (the bootstrap's seed beyond the mixed pushes).
    fn contacts_batch(&mut self, n: usize) -> Vec<Mutation> {
        (0..n).map(|_| self.contact()).collect()
    }
}

struct Server {
    base: String,
    http: reqwest::Client,
    running: Running,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    _cluster: Option<TempCluster>,
}

impl Server {
    async fn start(postgres: bool) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, cluster) = if postgres {
            let cluster =
                TempCluster::start().expect("a PostgreSQL cluster (apt-get install postgresql)");
            (cluster.url(), Some(cluster))
        } else {
            (
                format!("sqlite://{}", dir.path().join("server.db").display()),
                None,
            )
        };
        let mut config = Config::for_tests(&url, dir.path().join("blobs"));
        config.max_push = config.max_push.max(BATCH);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = cuecard_server::serve(config, async {
            let _ = stopped.await;
        })
        .await
        .expect("server starts");
        Server {
            base: format!("http://{}", running.addr),
            http: reqwest::Client::new(),
            running,
            stop: Some(stop),
            _dir: dir,
            _cluster: cluster,
        }
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn sign_up(&self, invitation: &str, name: &str) -> Session {
        let body = self
            .post(
                "/v1/auth/signup",
                None,
                json!({"invitation": invitation, "name": name, "password": "a long enough password",
                       "device": {"name": format!("{name}'s laptop"), "platform": "linux"}}),
            )
            .await;
        serde_json::from_value(body).expect("a session")
    }

    async fn log_in(&self, email: &str, device: &str) -> Session {
        let body = self
            .post(
                "/v1/auth/login",
                None,
                json!({"email": email, "password": "a long enough password",
                       "device": {"name": device, "platform": "linux"}}),
            )
            .await;
        serde_json::from_value(body).expect("a session")
    }

    /// An organisation with an admin, a team and a rep; returns the rep's first device.
    async fn rep(&self) -> Session {
        let (_, invitation) = accounts::create_org(&self.running.state, "Acme", "admin@acme.test")
            .await
            .expect("org created");
        let admin = self.sign_up(&invitation, "Admin Person").await;
        let team = self
            .post(
                "/v1/teams",
                Some(&admin.access_token),
                json!({"name": "Enterprise"}),
            )
            .await;
        let invite = self
            .post(
                "/v1/invitations",
                Some(&admin.access_token),
                json!({"email": "dana@acme.test", "role": "rep", "team_id": team["id"]}),
            )
            .await;
        self.sign_up(invite["token"].as_str().expect("token"), "Dana")
            .await
    }

    /// Pushes a batch serialised beforehand; the time covers the request, the server's
    /// work and parsing the answer.
    async fn push(&self, device: &Session, mutations: &[Mutation]) -> (Duration, PushResponse) {
        let body = serde_json::to_vec(&json!({"device_id": device.device_id, "schema_version": 2,
                                               "mutations": mutations}))
        .expect("json");
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/v1/sync/push", self.base))
            .bearer_auth(&device.access_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("push sent");
        let status = response.status();
        let bytes = response.bytes().await.expect("push answer");
        assert!(
            status.is_success(),
            "push: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        let answer: PushResponse = serde_json::from_slice(&bytes).expect("a push response");
        let elapsed = started.elapsed();
        assert_eq!(
            answer.acked_through,
            mutations.last().map_or(0, |m| m.seq),
            "acked through the batch"
        );
        assert!(
            answer
                .acks
                .iter()
                .all(|a| a.status == cuecard_sync_protocol::AckStatus::Applied),
            "every mutation applied: {:?}",
            answer.acks.iter().find(|a| a.reason.is_some())
        );
        (elapsed, answer)
    }

    /// One pull or bootstrap page, parsed.
    async fn page(&self, device: &Session, path: &str) -> PullResponse {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&device.access_token)
            .send()
            .await
            .expect("pull sent");
        let status = response.status();
        let bytes = response.bytes().await.expect("pull answer");
        assert!(
            status.is_success(),
            "{path}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        serde_json::from_slice(&bytes).expect("a pull response")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Signs a new device in and pages `/v1/sync/bootstrap` from 0 until `more` is false,
/// parsing each page; returns the time, rows, pages, and the device with its cursor.
async fn bootstrap(server: &Server, device: &str) -> (Duration, usize, usize, (Session, i64)) {
    let device = server.log_in("dana@acme.test", device).await;
    let started = Instant::now();
    let (mut cursor, mut count, mut pages) = (0, 0, 0);
    loop {
        let page = server
            .page(&device, &format!("/v1/sync/bootstrap?cursor={cursor}"))
            .await;
        count += page.changes.len();
        pages += 1;
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    (started.elapsed(), count, pages, (device, cursor))
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(postgres: bool) -> Figures {
    let label = if postgres { "PostgreSQL" } else { "SQLite" };
    let mut figures = Figures::default();
    let started = Instant::now();
    let server = Server::start(postgres).await;
    let device_a = server.rep().await;
    let mut outbox = Outbox::new(0x00a1_b2c3);
    println!(
        "[{label}] server up and rep signed in in {:.0} ms",
        ms(started.elapsed())
    );
    let mut rows = 0;

    // 1. Pushes of 1,000 mixed mutations (two first, untimed, to warm up).
    for _ in 0..2 {
        server.push(&device_a, &outbox.mixed_batch()).await;
        rows += 900;
    }
    let mut samples = Vec::new();
    for _ in 0..TIMED_PUSHES {
        let batch = outbox.mixed_batch();
        let (elapsed, _) = server.push(&device_a, &batch).await;
        samples.push(elapsed);
        rows += 900;
    }
    figures.push_p50 = percentile(&samples, 0.5);
    figures.push_p90 = percentile(&samples, 0.9);
    println!(
        "[{label}] push of {BATCH} mixed mutations x {TIMED_PUSHES}: p50 {:.1} ms, p90 {:.1} ms, min {:.1} ms, max {:.1} ms",
        ms(figures.push_p50),
        ms(figures.push_p90),
        ms(percentile(&samples, 0.0)),
        ms(percentile(&samples, 1.0)),
    );

    // 2. Sustained: 50 pushes back to back, batches built beforehand.
    let batches: Vec<Vec<Mutation>> = (0..SUSTAINED_PUSHES)
        .map(|_| outbox.mixed_batch())
        .collect();
    let sustained = Instant::now();
    for batch in &batches {
        server.push(&device_a, batch).await;
        rows += 900;
    }
    figures.sustained_secs = sustained.elapsed().as_secs_f64();
    figures.sustained_rate = (SUSTAINED_PUSHES * BATCH) as f64 / figures.sustained_secs;
    println!(
        "[{label}] sustained: {SUSTAINED_PUSHES} pushes of {BATCH} in {:.2} s = {:.0} mutations/s",
        figures.sustained_secs, figures.sustained_rate
    );

    // 3. Seed up to 100,000 rows (new contacts), then bootstrap new devices.
    let seeding = Instant::now();
    while rows < BOOTSTRAP_ROWS {
        let n = BATCH.min(BOOTSTRAP_ROWS - rows);
        server.push(&device_a, &outbox.contacts_batch(n)).await;
        rows += n;
    }
    figures.seed_secs = seeding.elapsed().as_secs_f64();
    println!(
        "[{label}] seeded to {rows} rows ({} mutations in all) in {:.1} s more",
        outbox.next_seq - 1,
        figures.seed_secs
    );
    // The first bootstrap right after the seed, with the planner's statistics as
    // autovacuum left them; then (PostgreSQL) `ANALYZE`, as autovacuum does within a
    // minute or so of a table growing, and the timed ones.
    let (elapsed, count, pages, _) = bootstrap(&server, "new laptop 0").await;
    assert_eq!(count, rows, "bootstrap returns every row once");
    figures.bootstrap_fresh = elapsed;
    let stats = if postgres {
        let analyzed: String = sqlx::query_scalar(
            "SELECT 'by the server ' || COALESCE(to_char(last_analyze, 'HH24:MI:SS'), 'never')
                    || ', by autovacuum ' || COALESCE(to_char(last_autoanalyze, 'HH24:MI:SS'), 'never')
             FROM pg_stat_user_tables WHERE relname = 'records'",
        )
        .fetch_one(&server.running.state.db.read)
        .await
        .expect("statistics");
        format!("records last analysed {analyzed}")
    } else {
        "SQLite: no ANALYZE".to_owned()
    };
    println!(
        "[{label}] bootstrap right after seeding ({stats}): {count} rows in {pages} pages, {:.0} ms",
        ms(elapsed)
    );
    if postgres {
        let analysing = Instant::now();
        sqlx::query("ANALYZE records")
            .execute(&server.running.state.db.write)
            .await
            .expect("ANALYZE");
        println!(
            "[{label}] ANALYZE records: {:.0} ms",
            ms(analysing.elapsed())
        );
    }
    let mut device_b = None;
    for run in 1..=BOOTSTRAPS {
        let (elapsed, count, pages, last) = bootstrap(&server, &format!("new laptop {run}")).await;
        assert_eq!(count, rows, "bootstrap returns every row once");
        println!(
            "[{label}] bootstrap {run}: {count} rows in {pages} pages, {:.0} ms",
            ms(elapsed)
        );
        figures.bootstrap.push((elapsed, count, pages));
        device_b = Some(last);
    }

    // 4. Propagation: B long-polls from its cursor; A pushes one change.
    let (device_b, mut cursor) = device_b.expect("a bootstrapped device");
    let server = std::sync::Arc::new(server);
    let device_b = std::sync::Arc::new(device_b);
    let mut samples = Vec::new();
    for i in 0..PROPAGATIONS {
        let poll = {
            let (server, device_b) = (server.clone(), device_b.clone());
            tokio::spawn(async move {
                let page = server
                    .page(&device_b, &format!("/v1/sync/pull?cursor={cursor}&wait=30"))
                    .await;
                (Instant::now(), page)
            })
        };
        // Let the poll reach the server and start waiting.
        tokio::time::sleep(Duration::from_millis(30)).await;
        let contact = outbox.contacts[i].clone();
        let change = outbox.make(
            "contacts",
            &contact,
            Op::Update,
            json!({"notes": format!("called back {i}")}),
        );
        let started = Instant::now();
        server.push(&device_a, &[change]).await;
        let (arrived, page) = poll.await.expect("poll task");
        assert_eq!(page.changes.len(), 1, "the one change");
        assert_eq!(page.changes[0].row_id, contact);
        cursor = page.cursor;
        samples.push(arrived - started);
    }
    figures.propagation_p50 = percentile(&samples, 0.5);
    figures.propagation_p90 = percentile(&samples, 0.9);
    figures.propagation_max = percentile(&samples, 1.0);
    println!(
        "[{label}] propagation x {PROPAGATIONS}: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        ms(figures.propagation_p50),
        ms(figures.propagation_p90),
        ms(figures.propagation_max)
    );

    // 5. The pushes of 1. again, now on 100,000 rows (and, on PostgreSQL, statistics).
    let mut samples = Vec::new();
    for _ in 0..TIMED_PUSHES {
        let batch = outbox.mixed_batch();
        samples.push(server.push(&device_a, &batch).await.0);
    }
    figures.push_large_p50 = percentile(&samples, 0.5);
    figures.push_large_p90 = percentile(&samples, 0.9);
    println!(
        "[{label}] push of {BATCH} mixed mutations at 100,000 rows x {TIMED_PUSHES}: p50 {:.1} ms, p90 {:.1} ms",
        ms(figures.push_large_p50),
        ms(figures.push_large_p90),
    );
    println!("[{label}] done in {:.1} s", started.elapsed().as_secs_f64());
    figures
}

fn status(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // SYNC_BENCH_LOG=sqlx::query=debug: every statement with its time, as JSON on stderr.
    if let Ok(filter) = std::env::var("SYNC_BENCH_LOG") {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    let only = std::env::var("SYNC_BENCH_ONLY").unwrap_or_default();
    if only == "postgres" {
        runtime.block_on(run(true));
        return;
    }
    if only == "sqlite" {
        runtime.block_on(run(false));
        return;
    }
    let sqlite = runtime.block_on(run(false));
    let postgres = runtime.block_on(run(true));

    let both = [&sqlite, &postgres];
    let bootstrap_median = |f: &Figures| {
        let times: Vec<Duration> = f.bootstrap.iter().map(|b| b.0).collect();
        percentile(&times, 0.5)
    };
    println!();
    println!(
        "{:<50} {:>10} {:>11} {:>11}  status",
        "figure", "target", "SQLite", "PostgreSQL"
    );
    let row = |name: &str, target: &str, values: [String; 2], met: bool| {
        println!(
            "{name:<50} {target:>10} {:>11} {:>11}  {}",
            values[0],
            values[1],
            status(met)
        );
    };
    row(
        "push of 1,000 at 2k-20k rows, p50 (ms)",
        "<= 250",
        both.map(|f| format!("{:.1}", ms(f.push_p50))),
        both.iter()
            .all(|f| f.push_p50 <= Duration::from_millis(250)),
    );
    row(
        "push of 1,000 at 2k-20k rows, p90 (ms)",
        "",
        both.map(|f| format!("{:.1}", ms(f.push_p90))),
        true,
    );
    row(
        "apply rate, 1,000 / that p50 (mut/s)",
        ">= 5,000",
        both.map(|f| format!("{:.0}", BATCH as f64 / f.push_p50.as_secs_f64())),
        both.iter()
            .all(|f| BATCH as f64 / f.push_p50.as_secs_f64() >= 5_000.0),
    );
    row(
        "apply rate, 50 x 1,000 sustained, 20k-65k (mut/s)",
        ">= 5,000",
        both.map(|f| format!("{:.0}", f.sustained_rate)),
        both.iter().all(|f| f.sustained_rate >= 5_000.0),
    );
    row(
        "push of 1,000 at 100k rows, p50 (ms)",
        "<= 250",
        both.map(|f| format!("{:.1}", ms(f.push_large_p50))),
        both.iter()
            .all(|f| f.push_large_p50 <= Duration::from_millis(250)),
    );
    row(
        "apply rate at 100k rows, 1,000 / p50 (mut/s)",
        ">= 5,000",
        both.map(|f| format!("{:.0}", BATCH as f64 / f.push_large_p50.as_secs_f64())),
        both.iter()
            .all(|f| BATCH as f64 / f.push_large_p50.as_secs_f64() >= 5_000.0),
    );
    row(
        "bootstrap of 100,000 rows, median of 3 (s)",
        "<= 4",
        both.map(|f| format!("{:.2}", bootstrap_median(f).as_secs_f64())),
        both.iter()
            .all(|f| bootstrap_median(f) <= Duration::from_secs(4)),
    );
    row(
        "bootstrap, right after seeding, 1 run (s)",
        "",
        both.map(|f| format!("{:.2}", f.bootstrap_fresh.as_secs_f64())),
        true,
    );
    row(
        "propagation A push -> B pull, p50 (ms)",
        "<= 1000",
        both.map(|f| format!("{:.1}", ms(f.propagation_p50))),
        both.iter()
            .all(|f| f.propagation_p50 <= Duration::from_secs(1)),
    );
    row(
        "propagation A push -> B pull, p90 (ms)",
        "",
        both.map(|f| format!("{:.1}", ms(f.propagation_p90))),
        true,
    );
}
