//! The sync client against a real `cuecard-server` on loopback, with refresh tokens in a
//! private Secret Service: two devices' stores converge, a manager's review arrives,
//! sign-out forgets the credentials, another account is refused; offline writes catch up,
//! and a server restored from an older backup gets back what it lost.

use cuecard_core::{
    Call, CallDirection, CallId, CallStatus, Channel, ContactFields, Utterance, UtteranceId,
};
use cuecard_secrets::testing::KeyringDaemon;
use cuecard_secrets::{SecretName, Secrets};
use cuecard_server::{Config, Running, accounts};
use cuecard_store::{Provenance, Store};
use cuecard_sync::{SyncClient, SyncError, SyncState};
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;

const PASSWORD: &str = "a long enough password";

/// A server on loopback over SQLite in `dir`, on `addr` (port 0: any).
async fn start_server(dir: &Path, addr: SocketAddr) -> Running {
    let url = format!("sqlite://{}", dir.join("server.db").display());
    let mut config = Config::for_tests(&url, dir.join("blobs"));
    config.listen = addr;
    cuecard_server::serve(config, std::future::pending())
        .await
        .expect("server starts")
}

/// Stops a server at once (no graceful wait for long polls) and closes its database.
async fn kill(running: Running) {
    running.task.abort();
    let _ = running.task.await;
    running.state.db.read.close().await;
    running.state.db.write.close().await;
}

/// A server on a runtime of its own, so that killing it ends its open connections too
/// (as a killed process's would), not only its listener.
struct Isolated {
    running: Running,
    runtime: tokio::runtime::Runtime,
}

fn start_isolated(dir: &Path, addr: SocketAddr) -> Isolated {
    let dir = dir.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let running = runtime.block_on(start_server(&dir, addr));
        Isolated { running, runtime }
    })
    .join()
    .expect("server thread")
}

impl Isolated {
    /// Stops the server and closes its database (SQLite folds its write-ahead log into
    /// the file), so a copy of the file is a consistent backup, as `.backup` makes one.
    fn stop_cleanly(self) {
        std::thread::spawn(move || {
            let Isolated { running, runtime } = self;
            running.task.abort();
            runtime.block_on(async {
                running.state.db.read.close().await;
                running.state.db.write.close().await;
            });
            drop(runtime);
            drop(running);
        })
        .join()
        .expect("server stopped");
    }

    /// Drops the runtime (on a thread of its own: a runtime cannot be dropped inside
    /// another), which closes every socket of the server before this returns.
    fn kill(self) {
        std::thread::spawn(move || {
            let Isolated { running, runtime } = self;
            running.task.abort();
            drop(runtime);
            drop(running);
        })
        .join()
        .expect("server stopped");
    }
}

/// Creates an organisation whose admin signs up with `email`.
async fn account(running: &Running, org: &str, email: &str) {
    let (_, invitation) = accounts::create_org(&running.state, org, email)
        .await
        .expect("org");
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/auth/signup", running.addr))
        .json(&json!({"invitation": invitation, "name": "Dana Rep", "password": PASSWORD}))
        .send()
        .await
        .expect("sign-up sent");
    assert!(
        response.status().is_success(),
        "{:?}",
        response.text().await
    );
}

fn device(service: &str) -> (SyncClient, Mutex<Store>) {
    let client = SyncClient::new(Secrets::with_service(service), service, "linux");
    (client, Mutex::new(Store::open_in_memory().expect("store")))
}

fn store<T>(store: &Mutex<Store>, read: impl FnOnce(&Store) -> T) -> T {
    read(&store.lock().expect("store lock"))
}

/// A contact with a logged call, its transcript and a scorecard-free note.
fn record_a_call(store: &Mutex<Store>, name: &str) -> (cuecard_core::ContactId, CallId) {
    let mut store = store.lock().expect("store lock");
    store
        .write(|w| {
            let contact = w.create_contact(
                ContactFields {
                    name: name.into(),
                    company: Some("Globex".into()),
                    ..ContactFields::default()
                },
                &Provenance::Manual,
            )?;
            let call = Call {
                id: CallId::new(),
                contact_id: Some(contact.id),
                direction: CallDirection::Outbound,
                status: CallStatus::Completed,
                from: "+14155550100".into(),
                to: "+14155550199".into(),
                started_at: w.now(),
                answered_at: Some(w.now()),
                ended_at: Some(w.now()),
                duration_secs: 42,
                disposition: None,
                recording: None,
                notes: "Send pricing".into(),
            };
            w.save_call(&call)?;
            w.add_utterances(
                call.id,
                &[Utterance {
                    id: UtteranceId::new(),
                    channel: Channel::FarEnd,
                    speaker: None,
                    start_ms: 0,
                    end_ms: 900,
                    text: "It is too expensive.".into(),
                    confidence: None,
                    words: Vec::new(),
                }],
            )?;
            w.add_note(contact.id, Some(call.id), "Budget in Q3")?;
            Ok((contact.id, call.id))
        })
        .expect("local writes")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_converge_and_a_managers_review_reaches_the_rep() {
    let _keyring = KeyringDaemon::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    account(&server, "Acme", "dana@acme.test").await;
    let url = format!("http://{}", server.addr);
    let (laptop, laptop_store) = device("app.cuecard.test.laptop");
    let (desktop, desktop_store) = device("app.cuecard.test.desktop");

    // Work done before signing in syncs too.
    let (contact, call) = record_a_call(&laptop_store, "Priya Shah");
    let status = laptop
        .sign_in(&laptop_store, &url, "dana@acme.test", PASSWORD)
        .await
        .expect("sign in");
    assert_eq!(status.state, SyncState::Idle);
    assert_eq!(
        status.pending, 4,
        "contact, call, utterance, note: {status:?}"
    );
    assert!(
        Secrets::with_service("app.cuecard.test.laptop")
            .get(SecretName::SyncRefreshToken)
            .expect("keychain")
            .is_some(),
        "the refresh token is in the keychain"
    );
    let round = laptop.sync_once(&laptop_store).await.expect("laptop syncs");
    assert_eq!(round.pushed, 4);
    assert_eq!(
        store(&laptop_store, |s| s.outbox_pending_count().ok()),
        Some(0)
    );

    desktop
        .sign_in(&desktop_store, &url, "dana@acme.test", PASSWORD)
        .await
        .expect("second device signs in");
    desktop
        .sync_once(&desktop_store)
        .await
        .expect("desktop syncs");
    store(&desktop_store, |s| {
        let got = s
            .contact(contact)
            .expect("read")
            .expect("the contact arrived");
        assert_eq!(got.fields.name, "Priya Shah");
        assert_eq!(s.search("Priya", 5).expect("search").len(), 1, "searchable");
        let got = s.call(call).expect("read").expect("the call arrived");
        assert_eq!(got.notes, "Send pricing");
        assert_eq!(s.transcript(call).expect("transcript").len(), 1);
        assert_eq!(s.notes_for_contact(contact).expect("notes").len(), 1);
        assert_eq!(
            s.outbox_pending_count().ok(),
            Some(0),
            "nothing echoed back"
        );
    });

    // Concurrent edits of different fields on both devices: both survive everywhere.
    let edit = |store: &Mutex<Store>, change: &dyn Fn(&mut ContactFields)| {
        let mut store = store.lock().expect("lock");
        let mut fields = store
            .contact(contact)
            .ok()
            .flatten()
            .expect("contact")
            .fields;
        change(&mut fields);
        store
            .write(|w| w.update_contact(contact, fields, &Provenance::Manual))
            .expect("edit");
    };
    edit(&laptop_store, &|f| f.title = Some("CFO".into()));
    edit(&desktop_store, &|f| f.company = Some("Initech".into()));
    desktop.sync_once(&desktop_store).await.expect("sync");
    laptop.sync_once(&laptop_store).await.expect("sync");
    desktop.sync_once(&desktop_store).await.expect("sync");
    for s in [&laptop_store, &desktop_store] {
        let fields = store(s, |s| s.contact(contact).ok().flatten())
            .expect("contact")
            .fields;
        assert_eq!(
            (fields.title.as_deref(), fields.company.as_deref()),
            (Some("CFO"), Some("Initech"))
        );
    }

    // A manager's review (the admin here) written on the dashboard reaches both devices.
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/v1/auth/login"))
        .json(&json!({"email": "dana@acme.test", "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("session");
    let token = login["access_token"].as_str().expect("token");
    let response = reqwest::Client::new()
        .post(format!("{url}/v1/dashboard/calls/{call}/reviews"))
        .bearer_auth(token)
        .json(&json!({"body": "Ask about budget earlier."}))
        .send()
        .await
        .expect("review");
    assert_eq!(response.status(), 201);
    laptop.sync_once(&laptop_store).await.expect("sync");
    let reviews = store(&laptop_store, |s| s.reviews_for_call(&call.to_string())).expect("reviews");
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].body, "Ask about budget earlier.");

    // A delete travels too.
    laptop_store
        .lock()
        .expect("lock")
        .write(|w| w.delete_contact(contact))
        .expect("delete");
    laptop.sync_once(&laptop_store).await.expect("sync");
    desktop.sync_once(&desktop_store).await.expect("sync");
    let gone = store(&desktop_store, |s| s.contact(contact).ok().flatten()).expect("kept");
    assert!(gone.deleted_at.is_some(), "deleted on the other device");

    // Signing out forgets the credentials; another account cannot take over this data.
    let status = desktop.sign_out(&desktop_store).await.expect("sign out");
    assert_eq!(status.state, SyncState::SignedOut);
    assert!(
        Secrets::with_service("app.cuecard.test.desktop")
            .get(SecretName::SyncRefreshToken)
            .expect("keychain")
            .is_none()
    );
    assert!(matches!(
        desktop.sync_once(&desktop_store).await,
        Err(SyncError::NotSignedIn)
    ));
    account(&server, "Globex", "omar@globex.test").await;
    let err = desktop
        .sign_in(&desktop_store, &url, "omar@globex.test", PASSWORD)
        .await
        .expect_err("another account");
    assert!(matches!(err, SyncError::WrongAccount { .. }), "{err}");
    let err = desktop
        .sign_in(&desktop_store, &url, "dana@acme.test", "wrong password")
        .await
        .expect_err("wrong password");
    assert!(
        err.to_string().contains("signed out") || err.to_string().contains("password"),
        "{err}"
    );
    kill(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_work_catches_up_and_a_restored_server_gets_back_what_it_lost() {
    let _keyring = KeyringDaemon::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start_isolated(dir.path(), "127.0.0.1:0".parse().expect("addr"));
    let addr = server.running.addr;
    account(&server.running, "Acme", "dana@acme.test").await;
    let url = format!("http://{addr}");
    let (laptop, laptop_store) = device("app.cuecard.test.laptop");
    laptop
        .sign_in(&laptop_store, &url, "dana@acme.test", PASSWORD)
        .await
        .expect("sign in");
    let (first, _) = record_a_call(&laptop_store, "Priya Shah");
    laptop.sync_once(&laptop_store).await.expect("sync");

    // Back up the server now (as the README says: a consistent copy of the database).
    // Copying the files of a killed server races SQLite folding its log into the file on
    // the connections' way out: the copy could miss the newest transactions.
    server.stop_cleanly();
    for suffix in ["", "-wal", "-shm"] {
        let from = dir.path().join(format!("server.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, dir.path().join(format!("backup.db{suffix}"))).expect("backup");
        }
    }
    let server = start_isolated(dir.path(), addr);

    // More work, synced while the server is up.
    let (second, _) = record_a_call(&laptop_store, "Wei Chen");
    laptop.sync_once(&laptop_store).await.expect("sync");

    // The server goes away: work carries on offline and is counted as pending. (Its
    // database is closed properly, as the restore below replaces the files under it.)
    server.stop_cleanly();
    let (third, _) = record_a_call(&laptop_store, "Ana Lima");
    let err = laptop.sync_once(&laptop_store).await.expect_err("offline");
    assert!(matches!(err, SyncError::Offline { .. }), "{err}");
    assert!(err.is_transient());
    assert_eq!(
        store(&laptop_store, |s| s.outbox_pending_count().ok()),
        Some(4)
    );

    // It comes back restored from the backup, which lacks the second call; a new epoch
    // is minted as the restore notes say.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("server.db{suffix}")));
    }
    for suffix in ["", "-wal", "-shm"] {
        let from = dir.path().join(format!("backup.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, dir.path().join(format!("server.db{suffix}"))).expect("restore");
        }
    }
    let server = start_isolated(dir.path(), addr);
    server
        .running
        .state
        .db
        .new_epoch()
        .await
        .expect("new epoch");

    let round = laptop.sync_once(&laptop_store).await.expect("catches up");
    assert!(round.epoch_reset, "{round:?}");
    assert_eq!(
        store(&laptop_store, |s| s.outbox_pending_count().ok()),
        Some(0)
    );

    // A new device gets everything, including what the restore had lost.
    let (desktop, desktop_store) = device("app.cuecard.test.desktop");
    desktop
        .sign_in(&desktop_store, &url, "dana@acme.test", PASSWORD)
        .await
        .expect("sign in");
    desktop.sync_once(&desktop_store).await.expect("bootstrap");
    for contact in [first, second, third] {
        assert!(
            store(&desktop_store, |s| s.contact(contact).ok().flatten()).is_some(),
            "contact {contact} reached the new device"
        );
    }
    assert_eq!(
        store(&desktop_store, |s| s.recent_calls(10).map(|c| c.len()).ok()),
        Some(3)
    );
    server.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rep_accepts_an_invitation_from_the_app() {
    let _keyring = KeyringDaemon::start();
    let dir = tempfile::tempdir().expect("dir");
    let server = start_server(dir.path(), "127.0.0.1:0".parse().expect("addr")).await;
    let url = format!("http://{}", server.addr);
    let (_, invitation) = accounts::create_org(&server.state, "Initech", "lee@initech.test")
        .await
        .expect("org");

    let (app, app_store) = device("app.cuecard.test.invited");
    let (contact, _) = record_a_call(&app_store, "Peter Gibbons");
    let err = app
        .sign_up(&app_store, &url, "not-an-invitation", "Lee", PASSWORD)
        .await
        .expect_err("a made-up invitation");
    assert!(err.to_string().contains("invitation"), "{err}");
    let status = app
        .sign_up(
            &app_store,
            &url,
            &format!("  {invitation} "),
            "Lee Rep",
            PASSWORD,
        )
        .await
        .expect("signed up");
    assert_eq!(status.state, SyncState::Idle);
    assert_eq!(status.email.as_deref(), Some("lee@initech.test"));
    assert_eq!(status.name.as_deref(), Some("Lee Rep"));
    assert!(
        Secrets::with_service("app.cuecard.test.invited")
            .get(SecretName::SyncRefreshToken)
            .expect("keychain")
            .is_some(),
        "the refresh token is in the keychain"
    );
    let round = app.sync_once(&app_store).await.expect("sync");
    assert!(round.pushed >= 4, "{round:?}");
    assert_eq!(
        store(&app_store, |s| s.outbox_pending_count()).ok(),
        Some(0)
    );

    // The same account on a second device sees the work from before the sign-up.
    let (other, other_store) = device("app.cuecard.test.invited-2");
    other
        .sign_in(&other_store, &url, "lee@initech.test", PASSWORD)
        .await
        .expect("sign in");
    other.sync_once(&other_store).await.expect("sync");
    let copy = store(&other_store, |s| s.contact(contact).ok().flatten()).expect("synced");
    assert_eq!(copy.fields.name, "Peter Gibbons");

    // An invitation offered to data that already syncs as someone is refused before the
    // server spends it.
    let (_, second) = accounts::create_org(&server.state, "Hooli", "gavin@hooli.test")
        .await
        .expect("org");
    let err = app
        .sign_up(&app_store, &url, &second, "Gavin", PASSWORD)
        .await
        .expect_err("already owned");
    assert!(matches!(err, SyncError::AlreadyOwned), "{err}");
    let (fresh, fresh_store) = device("app.cuecard.test.invited-3");
    fresh
        .sign_up(&fresh_store, &url, &second, "Gavin", PASSWORD)
        .await
        .expect("the invitation is still good");
    kill(server).await;
}
