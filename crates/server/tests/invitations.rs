//! Pending invitations: admins list and revoke the organisation's, managers those into
//! teams they manage; reps neither; another organisation's are out of sight; a revoked
//! token no longer signs anyone up, and used ones are not listed.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, Harness};

on_both_databases!(pending_invitations_are_listed_and_revoked_in_scope);

async fn invite(h: &Harness, token: &str, body: Value) -> String {
    let (status, body) = h.post("/v1/invitations", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["token"].as_str().expect("token").to_owned()
}

fn emails(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .filter_map(|i| i["email"].as_str())
        .collect()
}

async fn pending_invitations_are_listed_and_revoked_in_scope(backend: Backend) {
    let h = Harness::start(backend).await;
    let acme = h.team("Acme").await;
    let initech = h.team("Initech").await;
    invite(
        &h,
        &acme.admin.access_token,
        json!({"email": "ops@acme.test", "role": "manager"}),
    )
    .await;
    let for_team = invite(
        &h,
        &acme.manager.access_token,
        json!({"email": "new.rep@acme.test", "role": "rep", "team_id": acme.team}),
    )
    .await;

    let (status, all) = h.get("/v1/invitations", &acme.admin.access_token).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let mut seen = emails(&all);
    seen.sort_unstable();
    assert_eq!(
        seen,
        ["new.rep@acme.test", "ops@acme.test"],
        "used invitations are not listed"
    );
    let (_, managed) = h.get("/v1/invitations", &acme.manager.access_token).await;
    assert_eq!(emails(&managed), ["new.rep@acme.test"]);
    assert_eq!(managed[0]["role"], "rep");
    assert!(
        managed[0]["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(
        h.get("/v1/invitations", &acme.rep_a.access_token).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, theirs) = h.get("/v1/invitations", &initech.admin.access_token).await;
    assert!(emails(&theirs).is_empty(), "{theirs}");

    let id_of = |list: &Value, email: &str| {
        list.as_array()
            .and_then(|l| l.iter().find(|i| i["email"] == email))
            .and_then(|i| i["id"].as_str())
            .map(str::to_owned)
            .expect("listed")
    };
    let ops = id_of(&all, "ops@acme.test");
    let rep = id_of(&all, "new.rep@acme.test");
    // Out of scope looks exactly like nothing there.
    for (who, id) in [
        (&initech.admin.access_token, &rep),
        (&acme.manager.access_token, &ops),
        (&acme.manager.access_token, &"no-such-invitation".to_owned()),
    ] {
        let (status, _) = h
            .call("DELETE", &format!("/v1/invitations/{id}"), Some(who), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = h
        .call(
            "DELETE",
            &format!("/v1/invitations/{rep}"),
            Some(&acme.rep_a.access_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = h
        .call(
            "DELETE",
            &format!("/v1/invitations/{rep}"),
            Some(&acme.manager.access_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, managed) = h.get("/v1/invitations", &acme.manager.access_token).await;
    assert!(emails(&managed).is_empty());
    let (status, body) = h
        .call(
            "POST",
            "/v1/auth/signup",
            None,
            Some(json!({"invitation": for_team, "name": "Late", "password": "a long enough password"})),
        )
        .await;
    assert!(
        status.is_client_error(),
        "a revoked token signs no one up: {body}"
    );
}
