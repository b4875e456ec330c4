//! Call recordings over HTTP, on SQLite and on PostgreSQL: a rep's app uploads a call's
//! recording in resumable chunks verified by hash, the organisation's policy decides
//! whether it may, identical files are stored once, and managers stream the recording with
//! range requests (the bearer token or `?access_token=`) as the call page links it.

mod support;

use cuecard_sync_protocol::Session;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use support::{
    Backend, Harness, Outbox, call_mutations, push_ok, put_chunk, sha256_hex, upload_recording,
};
use tokio::io::AsyncWriteExt;

on_both_databases!(
    a_chunked_upload_resumes_after_an_interrupted_chunk,
    identical_recordings_are_stored_once,
    a_file_that_fails_its_hash_is_discarded,
    the_policy_keeps_recordings_on_devices_until_an_admin_allows_them,
    uploads_and_listening_stay_in_scope,
    range_requests_return_exactly_the_bytes_asked_for,
    abandoned_uploads_are_swept_with_their_partial_files,
);

/// Deterministic, incompressible-looking test content.
fn content(len: usize, seed: u8) -> Vec<u8> {
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A call of `who`, pushed through sync with its recording marked pending; returns its id.
async fn pushed_call(h: &Harness, who: &Session, outbox: &mut Outbox) -> String {
    let (m, call) = call_mutations(outbox, "Priya Shah", 1, Some((70, 6.0)));
    push_ok(h, who, &m).await;
    call.call
}

async fn start(h: &Harness, who: &Session, call: &str, bytes: &[u8]) -> (StatusCode, Value) {
    h.post(
        "/v1/recordings/uploads",
        &who.access_token,
        json!({"call_id": call, "sha256": sha256_hex(bytes), "size": bytes.len(),
               "content_type": "audio/ogg"}),
    )
    .await
}

/// GET (or another method) with headers; returns the status, headers and raw body.
async fn fetch(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = h.http.request(method, format!("{}{path}", h.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request sent");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(HeaderValue::to_str)
        .and_then(Result::ok)
        .unwrap_or("")
}

fn code(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The files stored under the blob directory's `sha256/` and `partial/`.
fn files(h: &Harness, under: &str) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&h.dir.path().join("blobs").join(under), &mut out);
    out
}

async fn a_chunked_upload_resumes_after_an_interrupted_chunk(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let call = pushed_call(&h, &t.rep_a, &mut Outbox::new(1)).await;
    let bytes = content(300_000, 1);
    let total = bytes.len() as u64;

    // Before any upload, the call page says the recording is pending.
    let (_, page) = h
        .get(
            &format!("/v1/dashboard/calls/{call}"),
            &t.manager.access_token,
        )
        .await;
    assert_eq!(page["recording"]["status"], "pending", "{page}");

    let (status, state) = start(&h, &t.rep_a, &call, &bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{state}");
    assert_eq!(state["offset"], 0);
    assert_eq!(state["size"], total);
    assert_eq!(state["complete"], false);
    let id = state["upload_id"].as_str().expect("upload id").to_owned();

    // The first chunk lands.
    let (status, state) =
        put_chunk(&h, &t.rep_a.access_token, &id, 0, &bytes[..100_000], total).await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(state["offset"], 100_000);
    assert_eq!(state["complete"], false);

    // The second is cut off mid-way: the connection drops with half of it sent.
    let mut socket = tokio::net::TcpStream::connect(h.running.addr)
        .await
        .expect("connect");
    let head = format!(
        "PUT /v1/recordings/uploads/{id} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Range: bytes 100000-199999/{total}\r\nContent-Length: 100000\r\n\r\n",
        h.running.addr, t.rep_a.access_token
    );
    socket.write_all(head.as_bytes()).await.expect("head");
    socket
        .write_all(&bytes[100_000..150_000])
        .await
        .expect("half a chunk");
    socket.flush().await.expect("flush");
    drop(socket);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    // The app restarts: it asks where the upload stands, and starting again resumes it.
    let (status, state) = h
        .get(
            &format!("/v1/recordings/uploads/{id}"),
            &t.rep_a.access_token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(
        state["offset"], 100_000,
        "the cut chunk left nothing: {state}"
    );
    let (status, state) = start(&h, &t.rep_a, &call, &bytes).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an upload under way is resumed: {state}"
    );
    assert_eq!(state["upload_id"], id.as_str());
    assert_eq!(state["offset"], 100_000);

    // A chunk that does not start at the offset is refused with the offset to go on from.
    let (status, body) =
        put_chunk(&h, &t.rep_a.access_token, &id, 0, &bytes[..100_000], total).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "offset_mismatch");
    assert_eq!(body["offset"], 100_000);
    let (status, body) = put_chunk(
        &h,
        &t.rep_a.access_token,
        &id,
        150_000,
        &bytes[150_000..200_000],
        total,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["offset"], 100_000);
    // A total that is not the declared size, and a missing Content-Range, are refused.
    let (status, body) = put_chunk(
        &h,
        &t.rep_a.access_token,
        &id,
        100_000,
        &bytes[100_000..200_000],
        total + 1,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, _) = fetch(
        &h,
        reqwest::Method::PUT,
        &format!("/v1/recordings/uploads/{id}"),
        Some(&t.rep_a.access_token),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The rest, in two chunks; the last completes the upload.
    let (status, state) = put_chunk(
        &h,
        &t.rep_a.access_token,
        &id,
        100_000,
        &bytes[100_000..250_000],
        total,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(state["offset"], 250_000);
    let (status, state) = put_chunk(
        &h,
        &t.rep_a.access_token,
        &id,
        250_000,
        &bytes[250_000..],
        total,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(state["complete"], true);
    assert_eq!(state["upload_id"], Value::Null);

    // The session is gone; the file is stored under its hash, nothing left partial.
    let (status, _) = h
        .get(
            &format!("/v1/recordings/uploads/{id}"),
            &t.rep_a.access_token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let sha = sha256_hex(&bytes);
    let stored = h.dir.path().join("blobs/sha256").join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::read(&stored).expect("stored blob"), bytes);
    assert!(
        files(&h, "partial").is_empty(),
        "{:?}",
        files(&h, "partial")
    );
    // Starting again now says it is done.
    let (status, state) = start(&h, &t.rep_a, &call, &bytes).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["complete"], true);

    // The manager streams exactly the uploaded bytes; the call page says available.
    let (status, headers, body) = fetch(
        &h,
        reqwest::Method::GET,
        &format!("/v1/recordings/{call}"),
        Some(&t.manager.access_token),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-type"), "audio/ogg");
    assert!(body == bytes, "the streamed recording is the uploaded file");
    let (_, page) = h
        .get(
            &format!("/v1/dashboard/calls/{call}"),
            &t.manager.access_token,
        )
        .await;
    assert_eq!(page["recording"]["status"], "available", "{page}");
    assert_eq!(page["recording"]["content_type"], "audio/ogg");
    assert_eq!(page["recording"]["size"], total);
    assert_eq!(page["recording"]["url"], format!("/v1/recordings/{call}"));
    assert_eq!(page["recording"]["duration_ms"], 300_000);
}

async fn identical_recordings_are_stored_once(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let mut dana = Outbox::new(1);
    let first = pushed_call(&h, &t.rep_a, &mut dana).await;
    let second = pushed_call(&h, &t.rep_a, &mut dana).await;
    let third = pushed_call(&h, &t.rep_b, &mut Outbox::new(2)).await;
    let bytes = content(50_000, 2);
    upload_recording(&h, &t.rep_a, &first, &bytes, "audio/ogg", 20_000).await;
    // The same content for other calls is still sent whole (the server never hands out a
    // file on the strength of a hash alone), then kept once.
    upload_recording(&h, &t.rep_a, &second, &bytes, "audio/ogg", 50_000).await;
    upload_recording(&h, &t.rep_b, &third, &bytes, "audio/ogg", 7_000).await;
    let stored = files(&h, "sha256");
    assert_eq!(stored.len(), 1, "one file for three calls: {stored:?}");
    assert!(files(&h, "partial").is_empty());
    for call in [&first, &second, &third] {
        let (status, _, body) = fetch(
            &h,
            reqwest::Method::GET,
            &format!("/v1/recordings/{call}"),
            Some(&t.admin.access_token),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(body == bytes, "call {call} streams the shared file");
    }

    // A newer recording of a call replaces its older one.
    let newer = content(10_000, 3);
    upload_recording(&h, &t.rep_a, &first, &newer, "audio/wav", 10_000).await;
    let (_, headers, body) = fetch(
        &h,
        reqwest::Method::GET,
        &format!("/v1/recordings/{first}"),
        Some(&t.manager.access_token),
        &[],
    )
    .await;
    assert!(body == newer);
    assert_eq!(header(&headers, "content-type"), "audio/wav");
    assert_eq!(files(&h, "sha256").len(), 2);
}

async fn a_file_that_fails_its_hash_is_discarded(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let call = pushed_call(&h, &t.rep_a, &mut Outbox::new(1)).await;
    let declared = content(40_000, 4);
    let mut sent = declared.clone();
    sent[39_999] ^= 0xff;
    let (status, state) = start(&h, &t.rep_a, &call, &declared).await;
    assert_eq!(status, StatusCode::CREATED, "{state}");
    let id = state["upload_id"].as_str().expect("upload id").to_owned();
    let (status, _) = put_chunk(&h, &t.rep_a.access_token, &id, 0, &sent[..20_000], 40_000).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = put_chunk(
        &h,
        &t.rep_a.access_token,
        &id,
        20_000,
        &sent[20_000..],
        40_000,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"], "hash_mismatch");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains(&sha256_hex(&sent))),
        "names the hash that arrived: {body}"
    );

    // Nothing kept: no session, no partial or stored file, no recording for the call.
    let (status, _) = h
        .get(
            &format!("/v1/recordings/uploads/{id}"),
            &t.rep_a.access_token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(files(&h, "partial").is_empty());
    assert!(files(&h, "sha256").is_empty());
    let (status, _, body) = fetch(
        &h,
        reqwest::Method::GET,
        &format!("/v1/recordings/{call}"),
        Some(&t.manager.access_token),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "recording_not_uploaded");
    let (_, page) = h
        .get(
            &format!("/v1/dashboard/calls/{call}"),
            &t.manager.access_token,
        )
        .await;
    assert_eq!(page["recording"]["status"], "pending");

    // Starting over works from byte 0.
    let (status, state) = start(&h, &t.rep_a, &call, &declared).await;
    assert_eq!(status, StatusCode::CREATED, "{state}");
    assert_eq!(state["offset"], 0);
    upload_recording(&h, &t.rep_a, &call, &declared, "audio/ogg", 40_000).await;
}

async fn the_policy_keeps_recordings_on_devices_until_an_admin_allows_them(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let call = pushed_call(&h, &t.rep_a, &mut Outbox::new(1)).await;
    let bytes = content(1000, 5);

    let (status, settings) = h.get("/v1/org/settings", &t.rep_a.access_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings, json!({"recording_policy": "upload"}));

    // Only an admin changes it, and only to a known policy.
    let keep = json!({"recording_policy": "keep_on_device"});
    for who in [&t.manager, &t.rep_a] {
        let (status, body) = h
            .call(
                "PUT",
                "/v1/org/settings",
                Some(&who.access_token),
                Some(keep.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, _) = h
        .call(
            "PUT",
            "/v1/org/settings",
            Some(&t.admin.access_token),
            Some(json!({"recording_policy": "sometimes"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = h
        .call(
            "PUT",
            "/v1/org/settings",
            Some(&t.admin.access_token),
            Some(keep.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, keep);
    let (_, settings) = h.get("/v1/org/settings", &t.rep_a.access_token).await;
    assert_eq!(settings, keep, "the app reads the new policy");

    // Kept on devices: the upload is refused, the call page says so.
    let (status, body) = start(&h, &t.rep_a, &call, &bytes).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "recordings_kept_on_device");
    let (_, page) = h
        .get(
            &format!("/v1/dashboard/calls/{call}"),
            &t.manager.access_token,
        )
        .await;
    assert_eq!(page["recording"]["status"], "not_uploaded");

    // Allowed again: the upload goes through.
    let (status, _) = h
        .call(
            "PUT",
            "/v1/org/settings",
            Some(&t.admin.access_token),
            Some(json!({"recording_policy": "upload"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, state) = start(&h, &t.rep_a, &call, &bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{state}");
    let id = state["upload_id"].as_str().expect("upload id").to_owned();
    let (status, _) = put_chunk(&h, &t.rep_a.access_token, &id, 0, &bytes[..500], 1000).await;
    assert_eq!(status, StatusCode::OK);

    // A policy change mid-upload stops the next chunk.
    h.call(
        "PUT",
        "/v1/org/settings",
        Some(&t.admin.access_token),
        Some(keep),
    )
    .await;
    let (status, body) = put_chunk(&h, &t.rep_a.access_token, &id, 500, &bytes[500..], 1000).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "recordings_kept_on_device");
}

async fn uploads_and_listening_stay_in_scope(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let other = h.team("Globex").await;
    let call = pushed_call(&h, &t.rep_a, &mut Outbox::new(1)).await;
    let bytes = content(2000, 6);

    // Only the call's own rep uploads: another rep and another organisation get 404, a
    // manager who sees the call 403, a call that does not exist 404.
    for who in [&t.rep_b, &other.admin, &other.rep_a] {
        let (status, body) = start(&h, who, &call, &bytes).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}: {body}", who.user.email);
    }
    let (status, _) = start(&h, &t.manager, &call, &bytes).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = start(&h, &t.rep_a, &uuid::Uuid::now_v7().to_string(), &bytes).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Declarations are checked, naming the field.
    let sha = sha256_hex(&bytes);
    for (body, expected, field) in [
        (
            json!({"call_id": call, "sha256": "abc", "size": 2000, "content_type": "audio/ogg"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "sha256",
        ),
        (
            json!({"call_id": call, "sha256": sha, "size": 0, "content_type": "audio/ogg"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "size",
        ),
        (
            json!({"call_id": call, "sha256": sha, "size": 600_000_000u64, "content_type": "audio/ogg"}),
            StatusCode::PAYLOAD_TOO_LARGE,
            "size",
        ),
        (
            json!({"call_id": call, "sha256": sha, "size": 2000, "content_type": "text/html"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "content_type",
        ),
    ] {
        let (status, answer) = h
            .post("/v1/recordings/uploads", &t.rep_a.access_token, body)
            .await;
        assert_eq!(status, expected, "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .is_some_and(|m| m.contains(field)),
            "{answer}"
        );
    }

    // Only the uploader sees and writes their session.
    let (status, state) = start(&h, &t.rep_a, &call, &bytes).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = state["upload_id"].as_str().expect("upload id").to_owned();
    for who in [&t.rep_b, &t.manager, &t.admin, &other.admin] {
        let (status, _) = h
            .get(&format!("/v1/recordings/uploads/{id}"), &who.access_token)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = put_chunk(&h, &who.access_token, &id, 0, &bytes, 2000).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    // A chunk of more than 8 MiB is refused.
    let (status, body) = put_chunk(
        &h,
        &t.rep_a.access_token,
        &id,
        0,
        &vec![0u8; 8 * 1024 * 1024 + 1],
        9 * 1024 * 1024,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    // Not uploaded yet: the stream says so.
    let (status, _, body) = fetch(
        &h,
        reqwest::Method::GET,
        &format!("/v1/recordings/{call}"),
        Some(&t.rep_a.access_token),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "recording_not_uploaded");
    let (status, _) = put_chunk(&h, &t.rep_a.access_token, &id, 0, &bytes, 2000).await;
    assert_eq!(status, StatusCode::OK);

    // Listening: the rep, the team's manager and the admin; not the other rep nor another
    // organisation (404, as if there were no such call).
    let path = format!("/v1/recordings/{call}");
    for who in [&t.rep_a, &t.manager, &t.admin] {
        let (status, _, body) = fetch(
            &h,
            reqwest::Method::GET,
            &path,
            Some(&who.access_token),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}", who.user.email);
        assert!(body == bytes);
    }
    for who in [&t.rep_b, &other.admin, &other.manager] {
        let (status, _, body) = fetch(
            &h,
            reqwest::Method::GET,
            &path,
            Some(&who.access_token),
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}", who.user.email);
        assert_eq!(code(&body), "not_found");
    }
    let (status, _, _) = fetch(
        &h,
        reqwest::Method::GET,
        "/v1/recordings/not-a-uuid",
        Some(&t.admin.access_token),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn range_requests_return_exactly_the_bytes_asked_for(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let call = pushed_call(&h, &t.rep_a, &mut Outbox::new(1)).await;
    let bytes = content(100_000, 7);
    upload_recording(
        &h,
        &t.rep_a,
        &call,
        &bytes,
        "audio/ogg; codecs=opus",
        64_000,
    )
    .await;
    let path = format!("/v1/recordings/{call}");
    let token = t.manager.access_token.as_str();
    let get = |range: Option<&'static str>| {
        let path = path.clone();
        let h = &h;
        async move {
            let headers: Vec<(&str, &str)> = range.map(|r| ("Range", r)).into_iter().collect();
            fetch(h, reqwest::Method::GET, &path, Some(token), &headers).await
        }
    };

    // The whole file.
    let (status, headers, body) = get(None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "accept-ranges"), "bytes");
    assert_eq!(header(&headers, "content-length"), "100000");
    assert_eq!(header(&headers, "content-type"), "audio/ogg; codecs=opus");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(body == bytes);
    let etag = header(&headers, "etag").to_owned();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)));

    for (range, start, end) in [
        ("bytes=10-19", 10, 19),
        ("bytes=0-0", 0, 0),
        ("bytes=-500", 99_500, 99_999),
        ("bytes=99000-", 99_000, 99_999),
        ("bytes=50000-999999", 50_000, 99_999),
    ] {
        let (status, headers, body) = get(Some(range)).await;
        assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&headers, "content-range"),
            format!("bytes {start}-{end}/100000"),
            "{range}"
        );
        assert_eq!(
            header(&headers, "content-length"),
            (end - start + 1).to_string()
        );
        assert_eq!(header(&headers, "accept-ranges"), "bytes");
        assert!(body == bytes[start..=end], "{range}: exactly those bytes");
    }
    for range in ["bytes=100000-", "bytes=200000-300000", "bytes=-0"] {
        let (status, headers, body) = get(Some(range)).await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(header(&headers, "content-range"), "bytes */100000");
        assert_eq!(code(&body), "range_not_satisfiable");
    }
    // Several ranges, or a range on content that changed (If-Range), get the whole file.
    let (status, _, body) = get(Some("bytes=0-1,5-6")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 100_000);
    let (status, _, body) = fetch(
        &h,
        reqwest::Method::GET,
        &path,
        Some(token),
        &[("Range", "bytes=0-9"), ("If-Range", "\"something-else\"")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.len(), 100_000);
    let (status, _, body) = fetch(
        &h,
        reqwest::Method::GET,
        &path,
        Some(token),
        &[("Range", "bytes=0-9"), ("If-Range", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(body == bytes[..10]);

    // HEAD: the headers alone.
    let (status, headers, body) = fetch(&h, reqwest::Method::HEAD, &path, Some(token), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "content-length"), "100000");
    assert_eq!(header(&headers, "accept-ranges"), "bytes");
    assert!(body.is_empty());

    // `?access_token=` for <audio> elements; a bad or missing token is 401.
    let with_token = format!("{path}?access_token={token}");
    let (status, _, body) = fetch(
        &h,
        reqwest::Method::GET,
        &with_token,
        None,
        &[("Range", "bytes=-100")],
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(body == bytes[99_900..]);
    for bad in [format!("{path}?access_token=forged"), path.clone()] {
        let (status, _, body) = fetch(&h, reqwest::Method::GET, &bad, None, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(code(&body), "unauthorized");
    }
    // The query token is only for the stream.
    let (status, _) = h
        .call(
            "GET",
            &format!("/v1/dashboard/calls/{call}?access_token={token}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn abandoned_uploads_are_swept_with_their_partial_files(backend: Backend) {
    let h = Harness::start(backend).await;
    let t = h.team("Acme").await;
    let mut outbox = Outbox::new(1);
    let call = pushed_call(&h, &t.rep_a, &mut outbox).await;
    let bytes = content(30_000, 9);
    let (_, state) = start(&h, &t.rep_a, &call, &bytes).await;
    let id = state["upload_id"].as_str().expect("upload id").to_owned();
    let (status, _) = put_chunk(&h, &t.rep_a.access_token, &id, 0, &bytes[..10_000], 30_000).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(files(&h, "partial").len(), 1);

    let uploads = &cuecard_server::recordings::uploads::ABANDONED_AFTER_MS;
    let swept = cuecard_server::recordings::uploads::sweep_abandoned(&h.running.state, *uploads)
        .await
        .expect("sweep");
    assert_eq!(swept, 0, "a fresh upload stays");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let swept = cuecard_server::recordings::uploads::sweep_abandoned(&h.running.state, 1)
        .await
        .expect("sweep");
    assert_eq!(swept, 1);
    assert!(files(&h, "partial").is_empty(), "its bytes went too");
    let (status, _) = h
        .get(
            &format!("/v1/recordings/uploads/{id}"),
            &t.rep_a.access_token,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The app starts over and finishes.
    let (status, state) = start(&h, &t.rep_a, &call, &bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{state}");
    assert_eq!(state["offset"], 0);
}
