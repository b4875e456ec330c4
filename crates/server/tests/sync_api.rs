//! The sync API end to end over HTTP, on SQLite and on PostgreSQL: pushes and pulls,
//! duplicates, gaps and rejections, conflict policies, scopes, evictions and bootstrap.

mod support;

use cuecard_sync_protocol::Op;
use reqwest::StatusCode;
use serde_json::json;
use support::{Backend, Harness, Outbox, find};
use uuid::Uuid;

on_both_databases!(
    a_second_device_and_the_manager_see_a_reps_rows_and_another_rep_does_not,
    duplicates_are_acknowledged_gaps_refused_and_bad_mutations_rejected_with_reasons,
    conflicts_resolve_by_each_entitys_policy,
    a_rep_leaving_the_team_is_evicted_from_the_managers_devices_and_returns_on_rejoining,
    bootstrap_pages_through_every_live_row_once,
    a_long_poll_answers_as_soon_as_another_device_pushes,
);

async fn a_second_device_and_the_manager_see_a_reps_rows_and_another_rep_does_not(
    backend: Backend,
) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let mut outbox = Outbox::new(1);
    let contact = Uuid::now_v7().to_string();
    let call = Uuid::now_v7().to_string();
    let mutations = vec![
        outbox.make("contacts", &contact, Op::Insert, json!({"name": "Priya Shah", "company": "Globex"})),
        outbox.make("contacts", &contact, Op::Update, json!({"title": "CFO"})),
        outbox.make("calls", &call, Op::Insert, json!({"contact_id": contact, "direction": "outbound",
            "status": "completed", "from": "+14155550100", "to": "+14155550199",
            "started_at": "2026-11-20T15:04:00Z", "duration_secs": 312, "notes": ""})),
        outbox.make("utterances", &Uuid::now_v7().to_string(), Op::Insert,
            json!({"call_id": call, "channel": "far_end", "start_ms": 0, "end_ms": 900, "text": "Too expensive."})),
        outbox.make("scorecards", &Uuid::now_v7().to_string(), Op::Insert,
            json!({"subject": {"kind": "call", "id": call}, "total": 81, "status": "final",
                   "categories": [{"key": "discovery", "label": "Discovery", "score": 8.0, "max": 10.0, "weight": 0.25}],
                   "created_at": "2026-11-20T15:10:00Z"})),
        outbox.make("dnc", "+14155550123", Op::Insert, json!({"reason": "asked", "source": "manual"})),
    ];
    let (status, body) = h.push(&t.rep_a, &mutations).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["acked_through"], 6);
    assert!(
        body["acks"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["status"] == "applied")),
        "{body}"
    );

    // Dana's second device gets everything, contacts merged into one row.
    let second = h.log_in("dana@acme.test").await;
    let (changes, _, cursor) = h.pull_all(&second, 0).await;
    assert_eq!(changes.len(), 5, "{changes:#?}");
    let row = find(&changes, "contacts", &contact).expect("the contact");
    assert_eq!(row["data"]["name"], "Priya Shah");
    assert_eq!(row["data"]["title"], "CFO");
    assert_eq!(row["owner_id"], json!(t.rep_a.user.id));
    // Nothing new after the cursor.
    let (again, _, _) = h.pull_all(&second, cursor).await;
    assert!(again.is_empty());

    // The manager sees Dana's rows; Omar sees only the organisation-wide do-not-call entry.
    let (manager_view, _, _) = h.pull_all(&t.manager, 0).await;
    assert!(find(&manager_view, "calls", &call).is_some());
    let (omar_view, _, _) = h.pull_all(&t.rep_b, 0).await;
    assert_eq!(omar_view.len(), 1, "{omar_view:#?}");
    assert_eq!(omar_view[0]["entity"], "dnc");

    // Another organisation sees none of it.
    let other = h.team("Initech").await;
    let (outsider, _, _) = h.pull_all(&other.admin, 0).await;
    assert!(outsider.is_empty(), "{outsider:#?}");
}

async fn duplicates_are_acknowledged_gaps_refused_and_bad_mutations_rejected_with_reasons(
    backend: Backend,
) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let mut outbox = Outbox::new(1);
    let contact = Uuid::now_v7().to_string();
    let line = Uuid::now_v7().to_string();
    let first = vec![
        outbox.make("contacts", &contact, Op::Insert, json!({"name": "A"})),
        outbox.make(
            "utterances",
            &line,
            Op::Insert,
            json!({"call_id": "c", "text": "hello"}),
        ),
        outbox.make("contacts", &contact, Op::Update, json!({"name": "B"})),
    ];
    let (status, body) = h.push(&t.rep_a, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The response was lost; the device sends the same three again plus one more.
    let mut resend = first.clone();
    resend.push(outbox.make(
        "contacts",
        &contact,
        Op::Update,
        json!({"company": "Globex"}),
    ));
    let (status, body) = h.push(&t.rep_a, &resend).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let statuses: Vec<&str> = body["acks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["status"].as_str())
        .collect();
    assert_eq!(statuses, ["duplicate", "duplicate", "duplicate", "applied"]);
    assert_eq!(body["acked_through"], 4);

    // A gap is refused whole, naming the number expected.
    outbox.next_seq = 7;
    let skipped = vec![outbox.make("contacts", &contact, Op::Update, json!({"title": "x"}))];
    let (status, body) = h.push(&t.rep_a, &skipped).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "sequence_gap");
    assert_eq!(body["expected_seq"], 5);

    // Bad mutations are acknowledged as rejected, with reasons, and the outbox moves on.
    outbox.next_seq = 5;
    let bad = vec![
        outbox.make("telepathy", "x", Op::Insert, json!({"a": 1})),
        outbox.make(
            "utterances",
            &line,
            Op::Insert,
            json!({"call_id": "c", "text": "rewritten"}),
        ),
        outbox.make(
            "reviews",
            &Uuid::now_v7().to_string(),
            Op::Insert,
            json!({"call_id": "c", "body": "self-review"}),
        ),
        outbox.make(
            "contacts",
            &contact,
            Op::Update,
            json!(["not", "an", "object"]),
        ),
        outbox.make("contacts", &contact, Op::Update, json!({"title": "VP"})),
    ];
    let (status, body) = h.push(&t.rep_a, &bad).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let acks = body["acks"].as_array().cloned().unwrap_or_default();
    let reasons: Vec<String> = acks
        .iter()
        .map(|a| format!("{} {}", a["status"], a["reason"]))
        .collect();
    assert!(
        reasons[0].contains("rejected") && reasons[0].contains("unknown entity"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("rejected") && reasons[1].contains("immutable"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("rejected") && reasons[2].contains("only managers"),
        "{reasons:?}"
    );
    assert!(
        reasons[3].contains("rejected") && reasons[3].contains("JSON object"),
        "{reasons:?}"
    );
    assert_eq!(acks[4]["status"], "applied");
    assert_eq!(body["acked_through"], 9);

    let (changes, _, _) = h.pull_all(&t.rep_a, 0).await;
    let row = find(&changes, "contacts", &contact).expect("contact");
    assert_eq!(
        row["data"],
        json!({"name": "B", "company": "Globex", "title": "VP"})
    );
    assert_eq!(
        find(&changes, "utterances", &line).map(|u| &u["data"]["text"]),
        Some(&json!("hello"))
    );

    // A push for another device is refused.
    let (status, _) = h
        .post(
            "/v1/sync/push",
            &t.rep_a.access_token,
            json!({"device_id": Uuid::now_v7(), "schema_version": 2, "mutations": []}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An app older than the oldest schema is told to update.
    let (status, body) = h
        .post(
            "/v1/sync/push",
            &t.rep_a.access_token,
            json!({"device_id": t.rep_a.device_id, "schema_version": 0, "mutations": []}),
        )
        .await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED, "{body}");
}

async fn conflicts_resolve_by_each_entitys_policy(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let laptop = &t.rep_a;
    let phone = h.log_in("dana@acme.test").await;
    let (mut on_laptop, mut on_phone) = (Outbox::new(1), Outbox::new(2));
    let contact = Uuid::now_v7().to_string();
    let card = Uuid::now_v7().to_string();
    let call = Uuid::now_v7().to_string();
    h.push(laptop, &[
        on_laptop.make("contacts", &contact, Op::Insert, json!({"name": "Priya", "title": "CFO"})),
        on_laptop.make("calls", &call, Op::Insert, json!({"direction": "outbound", "status": "ringing",
            "from": "a", "to": "b", "started_at": "2026-11-20T15:04:00Z", "duration_secs": 0, "notes": ""})),
    ]).await;
    // The phone edited the title later (newer stamp) but pushes first; the laptop's older
    // edit of the same field arrives after it and loses. Different fields both survive.
    on_phone.wall_ms = on_laptop.wall_ms + 1000;
    let (status, _) = h
        .push(
            &phone,
            &[on_phone.make("contacts", &contact, Op::Update, json!({"title": "CEO"}))],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = h
        .push(
            laptop,
            &[on_laptop.make(
                "contacts",
                &contact,
                Op::Update,
                json!({"title": "COO", "company": "Globex"}),
            )],
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // A scorecard's status never moves back; a call's who/when is fixed once stored, its
    // progress and notes are not.
    h.push(
        laptop,
        &[
            on_laptop.make(
                "scorecards",
                &card,
                Op::Insert,
                json!({"subject": {"kind": "call", "id": call}, "total": 70, "status": "reviewed"}),
            ),
            on_laptop.make(
                "scorecards",
                &card,
                Op::Update,
                json!({"status": "draft", "total": 72}),
            ),
            on_laptop.make(
                "calls",
                &call,
                Op::Update,
                json!({"status": "completed", "duration_secs": 60, "notes": "call back Tuesday"}),
            ),
        ],
    )
    .await;
    let (status, body) = h
        .push(
            laptop,
            &[on_laptop.make("calls", &call, Op::Update, json!({"to": "+10000000000"}))],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["acks"][0]["status"], "rejected", "{body}");

    // Deleting a contact is a tombstone that a later restore lifts.
    h.push(
        laptop,
        &[on_laptop.make(
            "contacts",
            &contact,
            Op::Delete,
            json!({"deleted_at": "2026-11-21T10:00:00Z"}),
        )],
    )
    .await;
    let (changes, _, cursor) = h.pull_all(&phone, 0).await;
    let row = find(&changes, "contacts", &contact).expect("contact");
    assert_eq!(row["data"]["title"], "CEO");
    assert_eq!(row["data"]["company"], "Globex");
    assert_eq!(row["deleted"], true);
    let row = find(&changes, "scorecards", &card).expect("scorecard");
    assert_eq!(
        (row["data"]["status"].clone(), row["data"]["total"].clone()),
        (json!("reviewed"), json!(72))
    );
    let row = find(&changes, "calls", &call).expect("call");
    assert_eq!(
        (row["data"]["status"].clone(), row["data"]["to"].clone()),
        (json!("completed"), json!("b"))
    );
    h.push(
        laptop,
        &[on_laptop.make(
            "contacts",
            &contact,
            Op::Update,
            json!({"deleted_at": null}),
        )],
    )
    .await;
    let (changes, _, _) = h.pull_all(&phone, cursor).await;
    assert_eq!(
        find(&changes, "contacts", &contact).map(|r| r["deleted"].clone()),
        Some(json!(false))
    );
}

async fn a_rep_leaving_the_team_is_evicted_from_the_managers_devices_and_returns_on_rejoining(
    backend: Backend,
) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let mut outbox = Outbox::new(1);
    let rows: Vec<String> = (0..3).map(|_| Uuid::now_v7().to_string()).collect();
    let mutations: Vec<_> = rows
        .iter()
        .map(|id| outbox.make("contacts", id, Op::Insert, json!({"name": id})))
        .collect();
    h.push(&t.rep_a, &mutations).await;
    let (seen, _, cursor) = h.pull_all(&t.manager, 0).await;
    assert_eq!(seen.len(), 3);

    let path = format!("/v1/teams/{}/members/{}", t.team, t.rep_a.user.id);
    let (status, body) = h
        .call("DELETE", &path, Some(&t.admin.access_token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (changes, evictions, cursor) = h.pull_all(&t.manager, cursor).await;
    assert!(changes.is_empty());
    let mut evicted: Vec<String> = evictions
        .iter()
        .filter_map(|e| e["row_id"].as_str().map(str::to_owned))
        .collect();
    evicted.sort();
    let mut expected = rows.clone();
    expected.sort();
    assert_eq!(evicted, expected);
    // Dana's new rows no longer reach the manager.
    h.push(
        &t.rep_a,
        &[outbox.make(
            "contacts",
            &Uuid::now_v7().to_string(),
            Op::Insert,
            json!({"name": "new"}),
        )],
    )
    .await;
    let (changes, _, cursor) = h.pull_all(&t.manager, cursor).await;
    assert!(changes.is_empty(), "{changes:#?}");

    // Back in the team: all four rows arrive again.
    let (status, _) = h
        .call(
            "PUT",
            &path,
            Some(&t.admin.access_token),
            Some(json!({"manages": false})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (changes, _, _) = h.pull_all(&t.manager, cursor).await;
    assert_eq!(changes.len(), 4);
}

async fn bootstrap_pages_through_every_live_row_once(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let mut outbox = Outbox::new(1);
    let ids: Vec<String> = (0..2500).map(|_| Uuid::now_v7().to_string()).collect();
    let mut mutations: Vec<_> = ids
        .iter()
        .map(|id| outbox.make("contacts", id, Op::Insert, json!({"name": id})))
        .collect();
    mutations.push(outbox.make(
        "contacts",
        &ids[0],
        Op::Delete,
        json!({"deleted_at": "2026-11-21T10:00:00Z"}),
    ));
    let (status, body) = h.push(&t.rep_a, &mutations).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let fresh = h.log_in("dana@acme.test").await;
    let (mut cursor, mut seen, mut pages) = (0, std::collections::BTreeSet::new(), 0);
    loop {
        let (status, body) = h
            .get(
                &format!("/v1/sync/bootstrap?cursor={cursor}&limit=1000"),
                &fresh.access_token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        for change in body["changes"].as_array().into_iter().flatten() {
            assert!(
                seen.insert(change["row_id"].as_str().unwrap_or_default().to_owned()),
                "a row twice"
            );
            assert_eq!(change["deleted"], false);
        }
        cursor = body["cursor"].as_i64().unwrap_or_default();
        if body["more"] != true {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 2499);
    assert!(!seen.contains(&ids[0]));
    let (after, _, _) = h.pull_all(&fresh, cursor).await;
    assert!(after.is_empty());
}

async fn a_long_poll_answers_as_soon_as_another_device_pushes(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let (_, _, cursor) = h.pull_all(&t.manager, 0).await;
    let started = std::time::Instant::now();
    let path = format!("/v1/sync/pull?cursor={cursor}&wait=20");
    let poll = h.get(&path, &t.manager.access_token);
    let push = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let mut outbox = Outbox::new(1);
        h.push(
            &t.rep_a,
            &[outbox.make("contacts", "c1", Op::Insert, json!({"name": "N"}))],
        )
        .await
    };
    let ((status, body), (pushed, _)) = tokio::join!(poll, push);
    assert_eq!(pushed, StatusCode::OK);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changes"][0]["row_id"], "c1");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the poll waited its full time"
    );
}
