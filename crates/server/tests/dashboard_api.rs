//! The managers' dashboard API over HTTP, on SQLite and on PostgreSQL: reps push calls,
//! transcripts and scorecards through sync; the manager's overview, rep page, call list
//! and call page show them; a review written on the dashboard syncs to the rep's app.

mod support;

use chrono::{Duration, SecondsFormat, Utc};
use cuecard_sync_protocol::Session;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, Harness, Outbox, call_mutations, find, push_ok};

on_both_databases!(
    the_manager_sees_the_teams_calls_scores_and_transcripts,
    a_review_from_the_dashboard_syncs_to_the_rep_only,
    reps_and_other_organisations_are_refused_and_bad_filters_named,
);

async fn get_ok(h: &Harness, path: &str, who: &Session) -> Value {
    let (status, body) = h.get(path, &who.access_token).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

async fn the_manager_sees_the_teams_calls_scores_and_transcripts(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let (mut dana, mut omar) = (Outbox::new(1), Outbox::new(2));
    let mut all = Vec::new();
    let (m, first) = call_mutations(&mut dana, "Priya Shah", 20, Some((60, 4.0)));
    all.extend(m);
    let (m, _) = call_mutations(&mut dana, "Wei Chen", 2, Some((80, 8.0)));
    all.extend(m);
    push_ok(&h, &t.rep_a, &all).await;
    let (m, _) = call_mutations(&mut omar, "Ana Lima", 1, None);
    push_ok(&h, &t.rep_b, &m).await;
    // Another organisation's call must not show anywhere.
    let other = h.team("Globex").await;
    let (m, _) = call_mutations(&mut Outbox::new(3), "Hidden Person", 1, Some((99, 10.0)));
    push_ok(&h, &other.rep_a, &m).await;

    // The team overview.
    let team = get_ok(&h, "/v1/dashboard/team?days=30", &t.manager).await;
    assert_eq!(team["teams"][0]["name"], "Enterprise");
    assert_eq!(team["totals"]["calls"], 3);
    assert_eq!(team["totals"]["talk_secs"], 900);
    assert_eq!(team["totals"]["scored_calls"], 2);
    assert_eq!(team["totals"]["avg_score"], 70.0);
    let weeks = team["trend"].as_array().expect("trend");
    assert!(
        (5..=6).contains(&weeks.len()),
        "30 days touch 5 or 6 weeks: {weeks:?}"
    );
    assert_eq!(
        weeks
            .iter()
            .map(|w| w["calls"].as_i64().unwrap_or(0))
            .sum::<i64>(),
        3
    );
    let board = team["leaderboard"].as_array().expect("leaderboard");
    assert_eq!(board.len(), 2, "the two reps, not the manager: {board:?}");
    assert_eq!(board[0]["rep"]["name"], "dana");
    assert_eq!(board[0]["avg_score"], 70.0);
    assert_eq!(board[0]["best_score"], 80);
    assert_eq!(board[0]["trend_delta"], 20.0);
    assert_eq!(board[1]["rep"]["name"], "omar");
    assert_eq!(board[1]["avg_score"], Value::Null);
    // A shorter period leaves the older call out; the admin sees the same team.
    let week = get_ok(&h, "/v1/dashboard/team?days=7", &t.admin).await;
    assert_eq!(week["totals"]["calls"], 2);

    // Dana's page: her skills against the team's, her score trend.
    let page = get_ok(
        &h,
        &format!("/v1/dashboard/reps/{}?days=90", t.rep_a.user.id),
        &t.manager,
    )
    .await;
    assert_eq!(page["rep"]["email"], "dana@acme.test");
    let skills = page["skills"].as_array().expect("skills");
    let keys: Vec<&str> = skills.iter().filter_map(|s| s["key"].as_str()).collect();
    assert_eq!(
        keys,
        [
            "discovery",
            "rapport",
            "objection_handling",
            "closing",
            "next_steps"
        ]
    );
    assert_eq!(skills[0]["score"], 60.0, "(4 + 8) of 20 points");
    assert_eq!(skills[1]["score"], Value::Null);
    assert_eq!(skills[3]["score"], 50.0);
    let trend: Vec<i64> = page["score_trend"]
        .as_array()
        .expect("trend")
        .iter()
        .filter_map(|p| p["score"].as_i64())
        .collect();
    assert_eq!(trend, [60, 80], "oldest first");

    // The call list: newest first, filtered.
    let list = get_ok(&h, "/v1/dashboard/calls", &t.manager).await;
    assert_eq!(list["total"], 3);
    let names: Vec<&str> = list["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter_map(|c| c["contact_name"].as_str())
        .collect();
    assert_eq!(names, ["Ana Lima", "Wei Chen", "Priya Shah"]);
    let totals = |body: &Value| body["total"].as_i64();
    for (query, expected) in [
        ("q=priya", 1),
        ("q=%25", 0),
        ("q=5550199", 3),
        ("min_score=70", 1),
        ("max_score=70", 1),
        ("reviewed=false", 3),
        ("reviewed=true", 0),
        (&format!("rep_id={}", t.rep_b.user.id), 1),
        (
            &format!(
                "from={}",
                (Utc::now() - Duration::days(5)).to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            2,
        ),
        (
            &format!(
                "to={}",
                (Utc::now() - Duration::days(5)).to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            1,
        ),
    ] {
        let body = get_ok(&h, &format!("/v1/dashboard/calls?{query}"), &t.manager).await;
        assert_eq!(totals(&body), Some(expected), "{query}: {body}");
    }
    let paged = get_ok(&h, "/v1/dashboard/calls?limit=2&offset=2", &t.manager).await;
    assert_eq!(
        (
            paged["total"].as_i64(),
            paged["calls"].as_array().map(Vec::len)
        ),
        (Some(3), Some(1))
    );
    assert_eq!(paged["calls"][0]["contact_name"], "Priya Shah");

    // One call's page.
    let detail = get_ok(
        &h,
        &format!("/v1/dashboard/calls/{}", first.call),
        &t.manager,
    )
    .await;
    assert_eq!(detail["call"]["contact_name"], "Priya Shah");
    assert_eq!(detail["call"]["rep"]["name"], "dana");
    assert_eq!(detail["call"]["notes"], "Send pricing");
    assert_eq!(detail["call"]["score"], 60);
    assert_eq!(detail["scorecard"]["total"], 60);
    assert_eq!(
        detail["scorecard"]["checks"][0]["evidence"][0],
        json!(first.far_end_line)
    );
    let lines: Vec<&str> = detail["transcript"]
        .as_array()
        .expect("transcript")
        .iter()
        .filter_map(|u| u["channel"].as_str())
        .collect();
    assert_eq!(lines, ["mic", "far_end"]);
    assert_eq!(detail["recording"]["status"], "pending");
    assert_eq!(detail["recording"]["content_type"], "audio/ogg");
    assert_eq!(detail["reviews"], json!([]));
}

async fn a_review_from_the_dashboard_syncs_to_the_rep_only(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let (m, call) = call_mutations(&mut Outbox::new(1), "Priya Shah", 1, Some((70, 6.0)));
    push_ok(&h, &t.rep_a, &m).await;
    let (_, _, dana_cursor) = h.pull_all(&t.rep_a, 0).await;
    let (_, _, omar_cursor) = h.pull_all(&t.rep_b, 0).await;

    let path = format!("/v1/dashboard/calls/{}/reviews", call.call);
    let (status, review) = h
        .post(
            &path,
            &t.manager.access_token,
            json!({"body": "  Great discovery; ask about budget earlier.  "}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{review}");
    assert_eq!(review["body"], "Great discovery; ask about budget earlier.");
    assert_eq!(review["author"]["id"], json!(t.manager.user.id));
    let (status, _) = h
        .post(&path, &t.admin.access_token, json!({"body": "Agreed."}))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let detail = get_ok(
        &h,
        &format!("/v1/dashboard/calls/{}", call.call),
        &t.manager,
    )
    .await;
    let bodies: Vec<&str> = detail["reviews"]
        .as_array()
        .expect("reviews")
        .iter()
        .filter_map(|r| r["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        ["Great discovery; ask about budget earlier.", "Agreed."],
        "oldest first"
    );
    assert_eq!(detail["call"]["reviewed"], true);
    let reviewed = get_ok(&h, "/v1/dashboard/calls?reviewed=true", &t.manager).await;
    assert_eq!(reviewed["total"], 1);

    // Dana's app receives both reviews on its next pull; Omar's does not.
    let (changes, _, _) = h.pull_all(&t.rep_a, dana_cursor).await;
    let id = review["id"].as_str().expect("review id");
    let row = find(&changes, "reviews", id).expect("the review reaches the rep");
    assert_eq!(row["data"]["call_id"], json!(call.call));
    assert_eq!(row["data"]["author_name"], json!(t.manager.user.name));
    assert_eq!(row["owner_id"], json!(t.rep_a.user.id));
    assert_eq!(
        changes.iter().filter(|c| c["entity"] == "reviews").count(),
        2
    );
    let (changes, _, _) = h.pull_all(&t.rep_b, omar_cursor).await;
    assert!(
        changes.iter().all(|c| c["entity"] != "reviews"),
        "{changes:?}"
    );

    // Empty and oversized reviews are refused, and nothing is stored.
    for body in [
        json!({"body": "   "}),
        json!({"body": "x".repeat(5001)}),
        json!({"text": "hi"}),
    ] {
        let (status, answer) = h.post(&path, &t.manager.access_token, body).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{status} {answer}"
        );
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    let detail = get_ok(
        &h,
        &format!("/v1/dashboard/calls/{}", call.call),
        &t.manager,
    )
    .await;
    assert_eq!(detail["reviews"].as_array().map(Vec::len), Some(2));
}

async fn reps_and_other_organisations_are_refused_and_bad_filters_named(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let other = h.team("Globex").await;
    let (m, call) = call_mutations(&mut Outbox::new(1), "Priya Shah", 1, Some((70, 6.0)));
    push_ok(&h, &t.rep_a, &m).await;
    let rep_page = format!("/v1/dashboard/reps/{}", t.rep_a.user.id);
    let call_page = format!("/v1/dashboard/calls/{}", call.call);
    let review = format!("{call_page}/reviews");

    // A rep is refused the manager's views, even of their own calls.
    for path in [
        "/v1/dashboard/team",
        rep_page.as_str(),
        "/v1/dashboard/calls",
        call_page.as_str(),
    ] {
        let (status, body) = h.get(path, &t.rep_a.access_token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["error"], "forbidden");
    }
    let (status, _) = h
        .post(
            &review,
            &t.rep_a.access_token,
            json!({"body": "self review"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Without a token: 401.
    let (status, _) = h.call("GET", "/v1/dashboard/team", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another organisation's manager and admin: the ids do not exist for them.
    for who in [&other.manager, &other.admin] {
        for path in [rep_page.as_str(), call_page.as_str()] {
            let (status, body) = h.get(path, &who.access_token).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        }
        let (status, _) = h
            .post(&review, &who.access_token, json!({"body": "sneaky"}))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let list = get_ok(&h, "/v1/dashboard/calls", who).await;
        assert_eq!(list["total"], 0);
        let (status, _) = h
            .get(
                &format!("/v1/dashboard/calls?rep_id={}", t.rep_a.user.id),
                &who.access_token,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = h
        .get(
            &format!("/v1/dashboard/team?team_id={}", t.team),
            &other.admin.access_token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h
        .get("/v1/dashboard/calls/not-a-uuid", &t.manager.access_token)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let detail = get_ok(&h, &call_page, &t.manager).await;
    assert_eq!(
        detail["reviews"],
        json!([]),
        "nothing was written by the refused reviews"
    );

    // Bad filters are named, as JSON.
    for (query, status, needle) in [
        ("calls?from=yesterday", StatusCode::BAD_REQUEST, "`from`"),
        (
            "calls?min_score=101",
            StatusCode::UNPROCESSABLE_ENTITY,
            "min_score",
        ),
        (
            "calls?limit=100000",
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit",
        ),
        ("calls?reviewed=maybe", StatusCode::BAD_REQUEST, "reviewed"),
        ("calls?offset=-1", StatusCode::BAD_REQUEST, "offset"),
        ("team?days=0", StatusCode::UNPROCESSABLE_ENTITY, "days"),
        ("team?days=many", StatusCode::BAD_REQUEST, "days"),
    ] {
        let (got, body) = h
            .get(&format!("/v1/dashboard/{query}"), &t.manager.access_token)
            .await;
        assert_eq!(got, status, "{query}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(needle)),
            "{query}: {body}"
        );
    }
}
