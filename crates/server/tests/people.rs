//! Running the organisation's people, as the dashboard's People page does: admins list
//! everyone with their teams, create teams (a name taken in any case is refused), move
//! people between teams and make managers manage them (never a rep), and deactivate
//! people, who then sort last, and let them back in (signing in again: their ended
//! sessions stay ended). Managers and reps cannot list people; another organisation's
//! people are never listed.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, Harness};

on_both_databases!(
    admins_run_people_and_teams,
    teams_already_sharing_a_name_are_renamed_not_lost
);

/// A user as listed: name, active, and `(team, manages)` for each of their teams.
type Listed = (String, bool, Vec<(String, bool)>);

/// Each user listed, in order.
fn summary(users: &Value) -> Vec<Listed> {
    users
        .as_array()
        .expect("a list")
        .iter()
        .map(|u| {
            let teams = u["teams"]
                .as_array()
                .expect("teams")
                .iter()
                .map(|t| {
                    (
                        t["name"].as_str().expect("team name").to_owned(),
                        t["manages"].as_bool().expect("manages"),
                    )
                })
                .collect();
            (
                u["name"].as_str().expect("name").to_owned(),
                u["active"].as_bool().expect("active"),
                teams,
            )
        })
        .collect()
}

fn id_of(users: &Value, name: &str) -> String {
    users
        .as_array()
        .and_then(|l| l.iter().find(|u| u["name"] == name))
        .and_then(|u| u["id"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{name} listed in {users}"))
}

async fn admins_run_people_and_teams(backend: Backend) {
    let h = Harness::start(backend).await;
    let acme = h.team("Acme").await;
    let initech = h.team("Initech").await;
    let admin = &acme.admin.access_token;

    let (status, users) = h.get("/v1/users", admin).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    let enterprise = |manages| vec![("Enterprise".to_owned(), manages)];
    assert_eq!(
        summary(&users),
        [
            ("Admin Person".to_owned(), true, vec![]),
            ("dana".to_owned(), true, enterprise(false)),
            ("manager".to_owned(), true, enterprise(true)),
            ("omar".to_owned(), true, enterprise(false)),
        ],
        "only Acme's people, by name, each with their teams"
    );
    let dana = users[1].clone();
    assert_eq!(dana["email"], "dana@acme.test");
    assert_eq!(dana["role"], "rep");
    assert!(dana["created_at"].as_i64().is_some_and(|t| t > 0), "{dana}");
    for who in [&acme.manager, &acme.rep_a] {
        let (status, body) = h.get("/v1/users", &who.access_token).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }

    // A new team; its name is taken afterwards, whatever the case.
    let (status, smb) = h.post("/v1/teams", admin, json!({"name": " SMB "})).await;
    assert_eq!(status, StatusCode::CREATED, "{smb}");
    assert_eq!(smb["name"], "SMB");
    let smb = smb["id"].as_str().expect("team id").to_owned();
    let (status, body) = h.post("/v1/teams", admin, json!({"name": "smb"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "team_exists", "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("SMB")),
        "{body}"
    );
    let (status, _) = h
        .post(
            "/v1/teams",
            &initech.admin.access_token,
            json!({"name": "SMB"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "another organisation may use the name"
    );

    // Omar moves from Enterprise to SMB, which the manager now also manages.
    let omar = id_of(&users, "omar");
    let manager = id_of(&users, "manager");
    let member = |team: &str, user: &str| format!("/v1/teams/{team}/members/{user}");
    let put = |path: String, manages: bool| {
        let h = &h;
        async move {
            h.call("PUT", &path, Some(admin), Some(json!({"manages": manages})))
                .await
        }
    };
    assert_eq!(
        put(member(&smb, &omar), false).await.0,
        StatusCode::NO_CONTENT
    );
    let enterprise_id = acme.team.to_string();
    let (status, _) = h
        .call("DELETE", &member(&enterprise_id, &omar), Some(admin), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        put(member(&smb, &manager), true).await.0,
        StatusCode::NO_CONTENT
    );
    // A rep cannot manage a team: their view would not follow it.
    let (status, body) = put(member(&smb, &omar), true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("omar is a rep")),
        "{body}"
    );
    // Someone of another organisation, or a team of another organisation, is not found.
    let (_, theirs) = h.get("/v1/users", &initech.admin.access_token).await;
    let stranger = id_of(&theirs, "dana");
    assert_eq!(
        put(member(&smb, &stranger), false).await.0,
        StatusCode::NOT_FOUND
    );

    // Dana is deactivated and sorts last.
    let dana_id = id_of(&users, "dana");
    let (status, _) = h
        .post(&format!("/v1/users/{dana_id}/deactivate"), admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (_, users) = h.get("/v1/users", admin).await;
    assert_eq!(
        summary(&users),
        [
            ("Admin Person".to_owned(), true, vec![]),
            (
                "manager".to_owned(),
                true,
                vec![("Enterprise".to_owned(), true), ("SMB".to_owned(), true)]
            ),
            ("omar".to_owned(), true, vec![("SMB".to_owned(), false)]),
            ("dana".to_owned(), false, enterprise(false)),
        ]
    );
    // The manager's own view of teams follows: both teams, Omar now in SMB.
    let (_, teams) = h.get("/v1/teams", &acme.manager.access_token).await;
    let names: Vec<_> = teams
        .as_array()
        .expect("teams")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["Enterprise", "SMB"]);
    assert!(
        teams[1]["members"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["email"] == "omar@acme.test"))
    );

    // Dana cannot sign in while deactivated; reactivated, she signs in again, while the
    // session she had stays ended. Only an admin of her organisation can let her back.
    let login = json!({"email": "dana@acme.test", "password": "a long enough password",
                       "device": {"name": "laptop", "platform": "linux"}});
    let (status, _) = h
        .call("POST", "/v1/auth/login", None, Some(login.clone()))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let reactivate = format!("/v1/users/{dana_id}/reactivate");
    let (status, _) = h
        .post(&reactivate, &acme.manager.access_token, json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = h
        .post(&reactivate, &initech.admin.access_token, json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = h.post(&reactivate, admin, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = h.call("POST", "/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        h.get("/v1/me", &acme.rep_a.access_token).await.0,
        StatusCode::UNAUTHORIZED,
        "the old session stays ended"
    );
    let (_, users) = h.get("/v1/users", admin).await;
    assert!(summary(&users).iter().all(|(_, active, _)| *active));
}

/// A database from before team names were unique, with two teams called "Enterprise" in
/// one organisation: migrating keeps both, renaming the newer one after its id, and from
/// then on the index refuses a third.
async fn teams_already_sharing_a_name_are_renamed_not_lost(backend: Backend) {
    let h = Harness::start(backend).await;
    let acme = h.team("Acme").await;
    let db = &h.running.state.db.write;
    let url = match &h.cluster {
        Some(cluster) => cluster.url(),
        None => format!("sqlite://{}", h.dir.path().join("server.db").display()),
    };
    // Back to before migration 3, with a duplicate the old server would have allowed.
    for sql in [
        "DROP INDEX teams_by_name",
        "DELETE FROM _sqlx_migrations WHERE version = 3",
    ] {
        sqlx::query(sql).execute(db).await.expect(sql);
    }
    let newer = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO teams (id, org_id, name, created_at) VALUES ($1, $2, 'ENTERPRISE', 0)",
    )
    .bind(&newer)
    .bind(acme.admin.user.org.id.to_string())
    .execute(db)
    .await
    .expect("duplicate inserted");

    let reopened = cuecard_server::db::Db::open(&url)
        .await
        .expect("migrations run again");
    let mut names: Vec<(String, String)> =
        sqlx::query_as("SELECT id, name FROM teams WHERE org_id = $1")
            .bind(acme.admin.user.org.id.to_string())
            .fetch_all(&reopened.read)
            .await
            .expect("teams read");
    names.sort();
    assert_eq!(
        names,
        [
            (acme.team.to_string(), "Enterprise".to_owned()),
            (newer.clone(), format!("ENTERPRISE ({})", &newer[..8])),
        ]
    );
    let (status, body) = h
        .post(
            "/v1/teams",
            &acme.admin.access_token,
            json!({"name": "enterprise"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["message"], "there is already a team called \"Enterprise\"",
        "{body}"
    );
}
