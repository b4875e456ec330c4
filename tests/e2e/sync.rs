//! Sync in the real desktop app under Xvfb, against the real `cuecard-server` binary:
//! a rep joins the team with an invitation in Settings → Sync, the call they had filed
//! before reaches the managers' dashboard API, a manager's comment appears on the open
//! call page, and with the server killed an edit waits (the sidebar says so) and goes
//! through once the server is back. The call's recording is uploaded by the app and
//! streams back from the server byte for byte. The refresh token is kept in a private
//! keychain.

use anyhow::{Context, Result, bail, ensure};
use cuecard_e2e::*;
use cuecard_secrets::testing::KeyringDaemon;
use cuecard_secrets::{SecretName, Secrets};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "a long enough password";

/// `cuecard-server` on a fixed port over SQLite in `dir`; killed with SIGKILL on drop.
struct Server {
    binary: PathBuf,
    dir: PathBuf,
    port: u16,
    process: Option<Guard>,
}

impl Server {
    fn new(dir: &Path) -> Result<Server> {
        Ok(Server {
            binary: server_binary()?,
            dir: dir.to_owned(),
            port: free_port()?,
            process: None,
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}", self.dir.join("server.db").display())
    }

    /// `cuecard-server create-org`: the first admin's invitation.
    fn create_org(&self) -> Result<String> {
        let out = Command::new(&self.binary)
            .args(["create-org", "--database-url", &self.database_url()])
            .args(["--name", "Acme", "--admin-email", "lee@acme.test"])
            .args(["--log-format", "text"])
            .output()
            .context("cuecard-server create-org")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        ensure!(out.status.success(), "create-org: {stdout}");
        stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_owned())
            .context("no invitation printed")
    }

    fn start(&mut self) -> Result<()> {
        let child = own_group(&mut Command::new(&self.binary))
            .args(["serve", "--database-url", &self.database_url()])
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--blob-dir", &self.dir.join("blobs").display().to_string()])
            .args(["--log-format", "text", "--auth-per-minute", "1000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting cuecard-server")?;
        self.process = Some(Guard(child));
        wait_for_port(self.port, Duration::from_secs(20))
    }

    /// SIGKILL, as a crash or a pulled plug would end it.
    fn kill(&mut self) {
        if let Some(mut guard) = self.process.take() {
            let _ = guard.0.kill();
        }
    }
}

/// The admin's side of the dashboard API.
struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    async fn sign_up(base: &str, invitation: &str) -> Result<Admin> {
        let http = reqwest::Client::new();
        let session: Value = http
            .post(format!("{base}/v1/auth/signup"))
            .json(&json!({"invitation": invitation, "name": "Lee Admin", "password": PASSWORD}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = session["access_token"]
            .as_str()
            .context("access token")?
            .to_owned();
        Ok(Admin {
            http,
            base: base.to_owned(),
            token,
        })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value> {
        let response = request.bearer_auth(&self.token).send().await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        ensure!(status.is_success(), "{status}: {body}");
        Ok(body)
    }

    async fn get(&self, path: &str) -> Result<Value> {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// A file's bytes, or None while the server answers 404.
    async fn bytes(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = response.error_for_status()?;
        Ok(Some(response.bytes().await?.to_vec()))
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(&body))
            .await
    }
}

async fn indicator(client: &Client) -> Result<String> {
    text_of(client, "[data-testid=sync-indicator-text]").await
}

async fn wait_indicator(client: &Client, want: &str) -> Result<()> {
    let what = format!("the sync indicator says {want:?}");
    let outcome = wait_until(client, &what, async |c: &Client| {
        Ok(indicator(c).await? == want)
    })
    .await;
    if outcome.is_err() {
        bail!("{what}; it says {:?}", indicator(client).await?);
    }
    Ok(())
}

/// Types into an empty input.
async fn fill(client: &Client, css: &str, text: &str) -> Result<()> {
    let input = wait_css(client, css).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rep_joins_syncs_a_call_gets_a_review_and_catches_up_after_an_outage() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    let _keyring = KeyringDaemon::start();
    let data = tempfile::tempdir()?;
    // The call's recording: 3 s of stereo tones (rep left, contact right).
    let wav = data.path().join("dana-call.wav");
    let tone = |hz: f32| -> Vec<f32> {
        (0..16_000 * 3)
            .map(|i| (i as f32 * hz * std::f32::consts::TAU / 16_000.0).sin() * 0.2)
            .collect()
    };
    cuecard_stt::testing::write_wav(&wav, &[&tone(440.0), &tone(660.0)], 16_000);
    let wav_bytes = std::fs::read(&wav)?;
    seed_scored_call_with_recording(data.path(), &wav)?;
    let server_dir = tempfile::tempdir()?;
    let mut server = Server::new(server_dir.path())?;
    let admin_invitation = server.create_org()?;
    server.start()?;
    let admin = Admin::sign_up(&server.url(), &admin_invitation).await?;
    let invitation = admin
        .post(
            "/v1/invitations",
            json!({"email": "dana@acme.test", "role": "rep"}),
        )
        .await?["token"]
        .as_str()
        .context("invitation token")?
        .to_owned();

    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let result = async {
        wait_css(&client, "[data-testid=contact-row]").await?;
        wait_indicator(&client, "Sync off").await?;

        // Join the team from Settings → Sync.
        click(&client, "[data-testid=nav-sync]").await?;
        click(&client, "[data-testid=sync-mode-join]").await?;
        fill(&client, "[data-testid=sync-server]", &server.url()).await?;
        fill(&client, "[data-testid=sync-invitation]", &invitation).await?;
        fill(&client, "[data-testid=sync-name]", "Dana Rep").await?;
        fill(&client, "[data-testid=sync-password]", PASSWORD).await?;
        click(&client, "[data-testid=sync-submit]").await?;
        wait_css(&client, "[data-testid=sync-account]").await?;
        wait_indicator(&client, "Up to date").await?;
        let who = text_of(&client, "[data-testid=sync-who]").await?;
        ensure!(who == "Dana Rep (dana@acme.test)", "{who}");
        ensure!(
            text_of(&client, "[data-testid=sync-pending]").await? == "0 changes",
            "nothing left to send"
        );
        ensure!(
            Secrets::new().get(SecretName::SyncRefreshToken)?.is_some(),
            "the refresh token is in the keychain"
        );
        save_screenshot(&xvfb, "sync-settings.png")?;

        // The call filed before joining is on the dashboard, scored, with its transcript.
        let calls = admin.get("/v1/dashboard/calls").await?;
        ensure!(calls["total"] == 1, "{calls}");
        let listed = &calls["calls"][0];
        ensure!(listed["contact_name"] == "Dana Lee", "{listed}");
        ensure!(listed["rep"]["name"] == "Dana Rep", "{listed}");
        let score = listed["score"].as_i64().context("a score")?;
        let call_id = listed["id"].as_str().context("call id")?.to_owned();
        let detail = admin.get(&format!("/v1/dashboard/calls/{call_id}")).await?;
        ensure!(
            detail["transcript"].as_array().map(Vec::len) == Some(12),
            "{detail}"
        );

        // The app uploads the recording after the call row; it streams back as it was.
        let recording = format!("/v1/recordings/{call_id}");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let uploaded = loop {
            if let Some(bytes) = admin.bytes(&recording).await? {
                break bytes;
            }
            ensure!(
                std::time::Instant::now() < deadline,
                "the recording reached the server within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        ensure!(
            uploaded == wav_bytes,
            "the server streams the recording back byte for byte ({} of {} bytes)",
            uploaded.len(),
            wav_bytes.len()
        );
        let detail = admin.get(&format!("/v1/dashboard/calls/{call_id}")).await?;
        ensure!(
            detail["recording"]["status"] == "available",
            "{}",
            detail["recording"]
        );
        ensure!(
            detail["recording"]["content_type"] == "audio/wav",
            "{}",
            detail["recording"]
        );
        wait_until(
            &client,
            "the settings say every recording is uploaded",
            async |c: &Client| {
                Ok(text_of(c, "[data-testid=sync-recordings]").await? == "All uploaded")
            },
        )
        .await?;

        // A manager's comment appears on the call page while it is open.
        click(&client, "[data-testid=nav-contacts]").await?;
        open_first_contact(&client).await?;
        click(&client, "[data-testid=call-open]").await?;
        let shown = text_of(&client, "[data-testid=review-score]").await?;
        ensure!(shown.contains(&score.to_string()), "{shown} vs {score}");
        ensure!(
            client
                .find_all(Locator::Css("[data-testid=review-comment]"))
                .await?
                .is_empty()
        );
        admin
            .post(
                &format!("/v1/dashboard/calls/{call_id}/reviews"),
                json!({"body": "Ask about budget before the demo."}),
            )
            .await?;
        let comment = text_of(&client, "[data-testid=review-comment]").await?;
        ensure!(
            comment.contains("Ask about budget before the demo."),
            "{comment}"
        );
        ensure!(comment.contains("Lee Admin"), "{comment}");
        save_screenshot(&xvfb, "sync-review.png")?;

        // The server goes away: an edit waits, and the sidebar says so.
        server.kill();
        wait_indicator(&client, "Offline").await?;
        click(&client, "[data-testid=review-back]").await?;
        click(&client, "[data-testid=edit-button]").await?;
        fill(&client, "[data-testid=form-name]", "Dana Lee-Park").await?;
        click(&client, "[data-testid=save-contact-button]").await?;
        wait_css(&client, "[data-testid=contact-detail]").await?;
        wait_indicator(&client, "Offline · 1 change waiting").await?;
        save_screenshot(&xvfb, "sync-offline.png")?;

        // Back: "Sync now" sends it without waiting out the backoff.
        server.start()?;
        click(&client, "[data-testid=nav-sync]").await?;
        click(&client, "[data-testid=sync-now]").await?;
        wait_indicator(&client, "Up to date").await?;
        let renamed = admin.get("/v1/dashboard/calls?q=Lee-Park").await?;
        ensure!(renamed["total"] == 1, "{renamed}");
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = save_screenshot(&xvfb, "sync-failure.png");
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result
}
