//! PostgreSQL's planner statistics follow the change log's growth: a burst of pushes into
//! a fresh database is analysed by the server itself, not a minute later by autovacuum.

mod support;

use cuecard_sync_protocol::Op;
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Backend, Harness, Outbox, push_ok};
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_pushes_is_analysed_on_postgres() {
    let h = Harness::start(Backend::Postgres).await;
    let team = h.team("Acme").await;
    let analysed = || async {
        let count: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_user_tables
             WHERE relname = 'records' AND last_analyze IS NOT NULL",
        )
        .persistent(false)
        .fetch_one(&h.running.state.db.read)
        .await
        .expect("statistics");
        count > 0
    };
    assert!(!analysed().await, "a new database has no statistics yet");
    let mut outbox = Outbox::new(7);
    for _ in 0..12 {
        let batch: Vec<_> = (0..1_000)
            .map(|i| {
                outbox.make(
                    "contacts",
                    &Uuid::now_v7().to_string(),
                    Op::Insert,
                    json!({"name": format!("Contact {i}")}),
                )
            })
            .collect();
        push_ok(&h, &team.rep_a, &batch).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !analysed().await {
        assert!(
            Instant::now() < deadline,
            "12,000 new rows were never analysed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
