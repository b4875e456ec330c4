//! Recording uploads against a real `cuecard-server`: nothing leaves the device while the
//! team keeps recordings there; once allowed, an upload cut off after its first chunk is
//! resumed from where the server's copy stands and the server streams back exactly the
//! file; a file damaged since it was hashed is refused once and not tried again.

use cuecard_core::{Call, CallDirection, CallId, CallStatus, RecordingRef};
use cuecard_secrets::Secrets;
use cuecard_secrets::testing::KeyringDaemon;
use cuecard_server::accounts;
use cuecard_store::Store;
use cuecard_sync::SyncClient;
use cuecard_sync::uploads::CHUNK_BYTES;
use serde_json::{Value, json};
use sha2::Digest;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

const PASSWORD: &str = "a long enough password";
const BUDGET: Duration = Duration::from_secs(60);

fn hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A call whose recording `name` (holding `bytes`, hashed as `hashed`) is in the store's
/// recordings directory.
fn call_with_recording(
    store: &Mutex<Store>,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    hashed: &[u8],
) -> CallId {
    let recordings = dir.join("recordings");
    std::fs::create_dir_all(&recordings).expect("recordings dir");
    std::fs::write(recordings.join(name), bytes).expect("recording");
    let call = Call {
        id: CallId::new(),
        contact_id: None,
        direction: CallDirection::Outbound,
        status: CallStatus::Completed,
        from: "+14155550100".into(),
        to: "+14155550199".into(),
        started_at: cuecard_core::now(),
        answered_at: None,
        ended_at: None,
        duration_secs: 30,
        disposition: None,
        recording: Some(RecordingRef {
            path: name.into(),
            format: "wav".into(),
            duration_ms: 30_000,
            sha256: Some(hex(hashed)),
        }),
        notes: String::new(),
    };
    store
        .lock()
        .expect("lock")
        .write(|w| w.save_call(&call))
        .expect("saved");
    call.id
}

/// Distinct bytes, so a chunk in the wrong place would change the hash.
fn audio_like(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

async fn request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let response = req.send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_follow_the_policy_resume_and_arrive_intact() {
    let _keyring = KeyringDaemon::start();
    let server_dir = tempfile::tempdir().expect("dir");
    let url_db = format!("sqlite://{}", server_dir.path().join("server.db").display());
    let config = cuecard_server::Config::for_tests(&url_db, server_dir.path().join("blobs"));
    let server = cuecard_server::serve(config, std::future::pending())
        .await
        .expect("server");
    let base = format!("http://{}", server.addr);
    let (_, invitation) = accounts::create_org(&server.state, "Acme", "dana@acme.test")
        .await
        .expect("org");

    let app_dir = tempfile::tempdir().expect("dir");
    let store = Mutex::new(Store::open(app_dir.path().join("cuecard.db")).expect("store"));
    let client = SyncClient::new(
        Secrets::with_service("app.cuecard.test.rec"),
        "laptop",
        "linux",
    );
    client
        .sign_up(&store, &base, &invitation, "Dana", PASSWORD)
        .await
        .expect("signed up");
    let file = audio_like(2 * CHUNK_BYTES as usize + 12_345);
    let call = call_with_recording(&store, app_dir.path(), "call.wav", &file, &file);
    client
        .sync_once(&store)
        .await
        .expect("the call syncs first");

    // The same user on another device, for the admin's side of things.
    let http = reqwest::Client::new();
    let (_, login) = request(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/auth/login"),
        "",
        Some(json!({"email": "dana@acme.test", "password": PASSWORD})),
    )
    .await;
    let token = login["access_token"].as_str().expect("token").to_owned();
    let policy = |p: &'static str| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            let (status, body) = request(
                &http,
                reqwest::Method::PUT,
                format!("{base}/v1/org/settings"),
                &token,
                Some(json!({"recording_policy": p})),
            )
            .await;
            assert_eq!(status, 200, "{body}");
        }
    };

    policy("keep_on_device").await;
    let pass = client
        .upload_recordings(&store, BUDGET)
        .await
        .expect("pass");
    assert!(pass.kept_on_device);
    assert_eq!((pass.uploaded, pass.remaining, pass.bytes_sent), (0, 1, 0));
    let (status, _) = request(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/recordings/{call}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 404, "nothing left the device");

    // Allowed now. An earlier try got one chunk through before the app quit.
    policy("upload").await;
    let (status, started) = request(
        &http,
        reqwest::Method::POST,
        format!("{base}/v1/recordings/uploads"),
        &token,
        Some(json!({"call_id": call, "sha256": hex(&file), "size": file.len(), "content_type": "audio/wav"})),
    )
    .await;
    assert_eq!(status, 201, "{started}");
    let upload = started["upload_id"].as_str().expect("upload id");
    let first = &file[..CHUNK_BYTES as usize];
    let response = http
        .put(format!("{base}/v1/recordings/uploads/{upload}"))
        .bearer_auth(&token)
        .header(
            "Content-Range",
            format!("bytes 0-{}/{}", first.len() - 1, file.len()),
        )
        .body(first.to_vec())
        .send()
        .await
        .expect("chunk");
    assert_eq!(response.status(), 200);

    let pass = client
        .upload_recordings(&store, BUDGET)
        .await
        .expect("pass");
    assert_eq!((pass.uploaded, pass.failed, pass.remaining), (1, 0, 0));
    assert_eq!(
        pass.bytes_sent,
        file.len() as u64 - CHUNK_BYTES,
        "resumed after the chunk the server had"
    );
    let response = http
        .get(format!("{base}/v1/recordings/{call}"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("audio/wav")
    );
    assert!(
        response.bytes().await.expect("body")[..] == file[..],
        "the same bytes"
    );
    let (_, page) = request(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/dashboard/calls/{call}"),
        &token,
        None,
    )
    .await;
    assert_eq!(page["recording"]["status"], "available", "{page}");
    let again = client
        .upload_recordings(&store, BUDGET)
        .await
        .expect("pass");
    assert_eq!(again, Default::default(), "nothing left to send");

    // A file changed since it was hashed is refused once, then left alone.
    let damaged = call_with_recording(
        &store,
        app_dir.path(),
        "damaged.wav",
        b"RIFF....changed",
        b"RIFF....original",
    );
    client.sync_once(&store).await.expect("synced");
    let pass = client
        .upload_recordings(&store, BUDGET)
        .await
        .expect("pass");
    assert_eq!((pass.uploaded, pass.failed, pass.remaining), (0, 1, 0));
    let (status, _) = request(
        &http,
        reqwest::Method::GET,
        format!("{base}/v1/recordings/{damaged}"),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let pass = client
        .upload_recordings(&store, BUDGET)
        .await
        .expect("pass");
    assert_eq!(pass.remaining, 0, "not tried again");
}
