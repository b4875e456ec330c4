//! Refusals: forged, expired and revoked credentials, other organisations' ids, roles
//! asking beyond their rights, malformed and oversized payloads, password guessing. Each is
//! refused with the right status and leaks nothing.

mod support;

use cuecard_server::auth::tokens::TokenKeys;
use cuecard_sync_protocol::Op;
use reqwest::StatusCode;
use serde_json::json;
use support::{Backend, Harness, Outbox, find};
use uuid::Uuid;

on_both_databases!(
    forged_expired_and_revoked_tokens_are_refused,
    roles_and_organisations_are_kept_apart,
    malformed_and_oversized_payloads_are_refused_clearly,
);

async fn forged_expired_and_revoked_tokens_are_refused(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let user = &t.rep_a.user;
    let now = chrono::Utc::now().timestamp();

    let (status, body) = h.call("GET", "/v1/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    let forged = TokenKeys::new(b"not the server's key, not at all!", 900)
        .issue(user.id, user.org.id, t.rep_a.device_id, now)
        .unwrap_or_default();
    assert_eq!(h.get("/v1/me", &forged).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(h.get("/v1/me", "garbage").await.0, StatusCode::UNAUTHORIZED);
    let expired = h
        .running
        .state
        .keys
        .issue(user.id, user.org.id, t.rep_a.device_id, now - 3600)
        .unwrap_or_default();
    let (status, body) = h.get("/v1/me", &expired).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{body}"
    );
    // A valid signature over another organisation's id does not open it.
    let elsewhere = h
        .running
        .state
        .keys
        .issue(user.id, Uuid::now_v7(), t.rep_a.device_id, now)
        .unwrap_or_default();
    assert_eq!(
        h.get("/v1/me", &elsewhere).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        h.get("/v1/me", &t.rep_a.access_token).await.0,
        StatusCode::OK
    );

    // Refresh tokens are single use: a replay signs the device out.
    let (status, renewed) = h
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": t.rep_a.refresh_token})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let (status, _) = h
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": t.rep_a.refresh_token})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let new_access = renewed["access_token"].as_str().unwrap_or_default();
    assert_eq!(
        h.get("/v1/me", new_access).await.0,
        StatusCode::UNAUTHORIZED,
        "the replay revoked the family"
    );
    let new_refresh = renewed["refresh_token"].as_str().unwrap_or_default();
    let (status, _) = h
        .call(
            "POST",
            "/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": new_refresh})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Logging out stops the access token at once.
    let manager = &t.manager;
    assert_eq!(
        h.post("/v1/auth/logout", &manager.access_token, json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.get("/v1/me", &manager.access_token).await.0,
        StatusCode::UNAUTHORIZED
    );

    // A deactivated user is out everywhere, and cannot sign in again.
    let path = format!("/v1/users/{}/deactivate", t.rep_b.user.id);
    assert_eq!(
        h.post(&path, &t.admin.access_token, json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.get("/v1/sync/pull", &t.rep_b.access_token).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = h
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "omar@acme.test", "password": "a long enough password"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("deactivated")),
        "{body}"
    );
    // A wrong password and an unknown email read the same.
    let (_, wrong) = h
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "dana@acme.test", "password": "not the password"})),
        )
        .await;
    let (_, unknown) = h
        .call(
            "POST",
            "/v1/auth/login",
            None,
            Some(json!({"email": "nobody@acme.test", "password": "not the password"})),
        )
        .await;
    assert_eq!(wrong, unknown);
}

async fn roles_and_organisations_are_kept_apart(backend: Backend) {
    let h = Harness::start(backend).await;
    let acme = h.team("Acme").await;
    let initech = h.team("Initech").await;

    // Reps cannot run the organisation; managers cannot make admins.
    let (status, _) = h
        .post(
            "/v1/teams",
            &acme.rep_a.access_token,
            json!({"name": "Mine"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .post(
            "/v1/invitations",
            &acme.rep_a.access_token,
            json!({"email": "x@acme.test", "role": "rep"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .post(
            "/v1/invitations",
            &acme.manager.access_token,
            json!({"email": "x@acme.test", "role": "admin", "team_id": acme.team}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nor into another organisation's team.
    let (status, _) = h
        .post(
            "/v1/invitations",
            &acme.admin.access_token,
            json!({"email": "x@acme.test", "role": "rep", "team_id": initech.team}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let path = format!("/v1/teams/{}/members/{}", initech.team, acme.rep_a.user.id);
    let (status, _) = h
        .call(
            "PUT",
            &path,
            Some(&acme.admin.access_token),
            Some(json!({"manages": false})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let path = format!("/v1/users/{}/deactivate", initech.rep_a.user.id);
    assert_eq!(
        h.post(&path, &acme.admin.access_token, json!({})).await.0,
        StatusCode::NOT_FOUND
    );

    // Writing to another organisation's row id touches only your own organisation.
    let row = Uuid::now_v7().to_string();
    h.push(
        &initech.rep_a,
        &[Outbox::new(1).make(
            "contacts",
            &row,
            Op::Insert,
            json!({"name": "Initech secret"}),
        )],
    )
    .await;
    let (status, body) = h
        .push(
            &acme.rep_a,
            &[Outbox::new(2).make("contacts", &row, Op::Update, json!({"name": "overwritten"}))],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (theirs, _, _) = h.pull_all(&initech.rep_a, 0).await;
    assert_eq!(
        find(&theirs, "contacts", &row).map(|r| r["data"]["name"].clone()),
        Some(json!("Initech secret"))
    );
    let (ours, _, _) = h.pull_all(&acme.admin, 0).await;
    assert_eq!(
        find(&ours, "contacts", &row).map(|r| r["data"]["name"].clone()),
        Some(json!("overwritten"))
    );

    // A rep cannot change another rep's row in the same organisation.
    let (status, body) = h
        .push(
            &acme.rep_b,
            &[Outbox::new(3).make("contacts", &row, Op::Update, json!({"name": "mine now"}))],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["acks"][0]["status"], "rejected", "{body}");
    assert!(
        body["acks"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("not in your scope"))
    );
    // A manager can review a call of a rep on their team; the rep then sees the review.
    let call = Uuid::now_v7().to_string();
    let mut dana = Outbox::new(4);
    dana.next_seq = 2;
    h.push(&acme.rep_a, &[dana.make("calls", &call, Op::Insert, json!({"direction": "outbound", "status": "completed",
        "from": "a", "to": "b", "started_at": "2026-11-20T15:04:00Z", "duration_secs": 10, "notes": ""}))]).await;
    let review = Uuid::now_v7().to_string();
    let (_, body) = h
        .push(
            &acme.manager,
            &[Outbox::new(5).make(
                "reviews",
                &review,
                Op::Insert,
                json!({"call_id": call, "body": "Good opener"}),
            )],
        )
        .await;
    assert_eq!(body["acks"][0]["status"], "applied", "{body}");
    let (dana_view, _, _) = h.pull_all(&acme.rep_a, 0).await;
    assert!(find(&dana_view, "reviews", &review).is_some());
    let (omar_view, _, _) = h.pull_all(&acme.rep_b, 0).await;
    assert!(find(&omar_view, "reviews", &review).is_none());
    assert!(find(&omar_view, "calls", &call).is_none());
}

async fn malformed_and_oversized_payloads_are_refused_clearly(backend: Backend) {
    let h = Harness::start_with(backend, |c| {
        c.max_push = 100;
        c.max_body = 64 * 1024;
    })
    .await;
    let t = h.team("Acme").await;
    let url = format!("{}/v1/sync/push", h.base);
    let send = |body: String| {
        h.http
            .post(&url)
            .bearer_auth(&t.rep_a.access_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let response = send("{\"device_id\": ".into()).await.expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    assert_eq!(body["error"], "bad_request");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("malformed")),
        "{body}"
    );
    let response = send(format!("{{\"pad\": \"{}\"}}", "x".repeat(100 * 1024)))
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let response = send(
        json!({"device_id": t.rep_a.device_id, "schema_version": 2, "mutations": [{"seq": "one"}]})
            .to_string(),
    )
    .await
    .expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let mut outbox = Outbox::new(1);
    let many: Vec<_> = (0..101)
        .map(|i| outbox.make("dnc", &format!("+1415555{i:04}"), Op::Insert, json!({})))
        .collect();
    let (status, body) = h.push(&t.rep_a, &many).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let mut shuffled = many[..3].to_vec();
    shuffled.swap(0, 2);
    let (status, body) = h.push(&t.rep_a, &shuffled).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = h
        .get("/v1/sync/pull?cursor=-5", &t.rep_a.access_token)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Nothing of the refused pushes was stored.
    let (changes, _, _) = h.pull_all(&t.rep_a, 0).await;
    assert!(changes.is_empty(), "{changes:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_guessing_is_rate_limited() {
    let h = Harness::start_with(Backend::Sqlite, |c| c.auth_per_minute = 5).await;
    h.org("Acme", "admin@acme.test").await; // one sign-up
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let response = h
            .http
            .post(format!("{}/v1/auth/login", h.base))
            .json(&json!({"email": "admin@acme.test", "password": "guess guess guess"}))
            .send()
            .await
            .expect("sent");
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        }
    }
    assert_eq!(&statuses[..4], [StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(statuses[4..], [StatusCode::TOO_MANY_REQUESTS; 2]);
    assert!(
        retry_after
            .and_then(|s| s.parse::<u64>().ok())
            .is_some_and(|s| s >= 1)
    );
}
