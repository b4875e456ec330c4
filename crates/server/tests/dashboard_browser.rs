//! The managers' dashboard in headless Chromium (driven through chromedriver) against a
//! real server: a manager signs in, sees the team's scorecards, opens a call with its
//! transcript, scorecard and uploaded recording (which the browser's audio element loads
//! through the range-serving stream), and adds a review that syncs to the rep; then
//! invites a rep on the People page and revokes the invitation. An admin creates a team
//! and moves people between teams on the same page.
//! Screenshots go to `$CUECARD_ARTIFACTS` (default `<repo>/test-artifacts`).

mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Backend, Harness, Outbox, call_mutations, find, push_ok, upload_recording};

/// Waits for elements, and for the dashboard to settle after a click.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_reviews_the_teams_scorecards_and_a_calls_transcript() {
    let h = Harness::start(Backend::Sqlite).await;
    let t = h.team("Acme").await;
    let (mut dana, mut omar) = (Outbox::new(1), Outbox::new(2));
    let mut seeded = Vec::new();
    for (name, days, score) in [
        ("Priya Shah", 20, (62, 5.0)),
        ("Wei Chen", 9, (74, 7.0)),
        ("Ana Lima", 2, (88, 9.0)),
    ] {
        let (m, call) = call_mutations(&mut dana, name, days, Some(score));
        push_ok(&h, &t.rep_a, &m).await;
        seeded.push(call);
    }
    let (m, _) = call_mutations(&mut omar, "Jon Park", 4, Some((55, 3.0)));
    push_ok(&h, &t.rep_b, &m).await;
    let (_, _, dana_cursor) = h.pull_all(&t.rep_a, 0).await;
    // The newest call's recording: 1.5 s of a 440 Hz tone, uploaded by Dana's app.
    let wav = sine_wav(1.5);
    upload_recording(&h, &t.rep_a, &seeded[2].call, &wav, "audio/wav", 16 * 1024).await;

    let driver = ChromeDriver::start();
    let browser = driver.session().await;
    let run = async {
        // Sign in as the manager.
        browser.goto(&format!("{}/dashboard/", h.base)).await?;
        fill(&browser, "login-email", &t.manager.user.email).await?;
        fill(&browser, "login-password", "a long enough password").await?;
        click(&browser, "[data-testid=login-submit]").await?;

        // The team overview: totals, the leaderboard with both reps, Dana on top.
        wait_for(&browser, "[data-testid=leaderboard-row]").await?;
        let totals = text(&browser, "[data-testid=team-totals]").await?;
        assert!(totals.contains('4'), "four calls in the totals: {totals}");
        let board = text(&browser, "[data-testid=leaderboard-row]").await?;
        let (dana_at, omar_at) = (board.find("dana"), board.find("omar"));
        assert!(
            dana_at.is_some() && omar_at.is_some(),
            "both reps listed: {board}"
        );
        assert!(
            dana_at < omar_at,
            "Dana (74.7) ranks above Omar (55): {board}"
        );
        wait_for(&browser, "[data-testid=trend-chart] svg").await?;
        save(&browser, "dashboard-team.png").await?;

        // The call list, then the newest call's page.
        browser
            .goto(&format!("{}/dashboard/#/calls", h.base))
            .await?;
        wait_for(&browser, "[data-testid=call-row]").await?;
        let rows = browser
            .find_all(Locator::Css("[data-testid=call-row]"))
            .await?;
        assert_eq!(rows.len(), 4);
        browser
            .goto(&format!("{}/dashboard/#/calls/{}", h.base, seeded[2].call))
            .await?;
        wait_for(&browser, "[data-testid=transcript-line]").await?;
        let transcript = text(&browser, "[data-testid=transcript]").await?;
        let (asked, objected) = (
            transcript.find("What does your team use today?"),
            transcript.find("It is too expensive for us."),
        );
        assert!(
            asked.is_some() && asked < objected,
            "both lines in order: {transcript}"
        );
        let total = text(&browser, "[data-testid=call-total]").await?;
        assert!(total.contains("88"), "the scorecard's total: {total}");
        let card = text(&browser, "[data-testid=call-scorecard]").await?;
        assert!(card.contains("Discovery"), "{card}");
        // The audio element loads the recording's metadata through the stream
        // (`?access_token=`, range requests) and can seek in it.
        wait_for(&browser, "[data-testid=audio-player]").await?;
        let (ready, duration) = audio_state(&browser).await?;
        assert!(ready >= 1.0, "the recording's metadata loaded");
        assert!(
            (duration - 1.5).abs() < 0.05,
            "the player knows the recording is 1.5 s long: {duration}"
        );
        browser
            .execute(
                "document.querySelector('[data-testid=audio-player]').currentTime = 1.0;",
                vec![],
            )
            .await?;
        save(&browser, "dashboard-call.png").await?;

        // A review from the call page.
        fill(
            &browser,
            "review-body",
            "Strong close. Ask about budget earlier.",
        )
        .await?;
        click(&browser, "[data-testid=review-submit]").await?;
        wait_for(&browser, "[data-testid=review]").await?;
        let reviews = text(&browser, "[data-testid=reviews]").await?;
        assert!(reviews.contains("Strong close."), "{reviews}");
        save(&browser, "dashboard-review.png").await?;

        // People: invite a rep into the team; the code is shown once, the invitation
        // waits in the list until it is revoked.
        click(&browser, "[data-testid=nav-people]").await?;
        fill(&browser, "invite-email", "new.rep@acme.test").await?;
        click(&browser, "[data-testid=invite-submit]").await?;
        let code = text(&browser, "[data-testid=invite-code]").await?;
        assert!(code.trim().len() >= 20, "an invitation code: {code:?}");
        let pending = text(&browser, "[data-testid=pending]").await?;
        assert!(pending.contains("new.rep@acme.test"), "{pending}");
        assert!(
            pending.contains("Enterprise"),
            "the team is named: {pending}"
        );
        save(&browser, "dashboard-people.png").await?;
        click(&browser, "[data-testid=invite-revoke]").await?;
        browser
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::XPath(
                "//*[@data-testid='pending' and contains(., 'No invitation is waiting')]",
            ))
            .await?;
        Ok::<(), fantoccini::error::CmdError>(())
    };
    let outcome = run.await;
    if outcome.is_err() {
        let _ = save(&browser, "dashboard-failure.png").await;
    }
    let _ = browser.close().await;
    outcome.expect("the dashboard works in Chromium");

    // The review reaches Dana's app.
    let (changes, _, _) = h.pull_all(&t.rep_a, dana_cursor).await;
    let review = changes
        .iter()
        .find(|c| c["entity"] == "reviews")
        .expect("the review syncs to the rep");
    assert_eq!(
        review["data"]["body"],
        "Strong close. Ask about budget earlier."
    );
    assert_eq!(review["data"]["call_id"], json!(seeded[2].call));
    assert!(find(&changes, "reviews", review["row_id"].as_str().unwrap_or("")).is_some());
}

/// An admin on the People page: creates a team, moves Omar into it, makes the manager
/// manage it too, deactivates Dana after being asked to confirm and lets her back in;
/// the server agrees (her old sessions stay ended).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_a_team_and_moves_people_between_teams() {
    let h = Harness::start(Backend::Sqlite).await;
    let t = h.team("Acme").await;
    let (_, users) = h.get("/v1/users", &t.admin.access_token).await;
    let id_of = |email: &str| {
        users
            .as_array()
            .and_then(|l| l.iter().find(|u| u["email"] == email))
            .and_then(|u| u["id"].as_str())
            .map(str::to_owned)
            .expect("listed")
    };
    let (omar, manager) = (id_of("omar@acme.test"), id_of("manager@acme.test"));

    let driver = ChromeDriver::start();
    let browser = driver.session().await;
    let team =
        |name: &str, rest: &str| format!("//*[@data-testid='team' and @data-team='{name}']{rest}");
    let run = async {
        browser.goto(&format!("{}/dashboard/", h.base)).await?;
        fill(&browser, "login-email", &t.admin.user.email).await?;
        fill(&browser, "login-password", "a long enough password").await?;
        click(&browser, "[data-testid=login-submit]").await?;
        click(&browser, "[data-testid=nav-people]").await?;

        // A new team; the same name again is refused with the reason.
        fill(&browser, "team-name", "SMB").await?;
        click(&browser, "[data-testid=team-create]").await?;
        wait_xpath(&browser, &team("SMB", "")).await?;
        fill(&browser, "team-name", "smb").await?;
        click(&browser, "[data-testid=team-create]").await?;
        let error = text(&browser, "[data-testid=people-error]").await?;
        assert!(error.contains("already a team called"), "{error}");

        // Omar joins SMB and leaves Enterprise; the manager manages SMB too.
        let pick = wait_xpath(&browser, &team("SMB", "//*[@data-testid='member-pick']")).await?;
        pick.select_by_value(&omar).await?;
        wait_xpath(&browser, &team("SMB", "//*[@data-testid='member-add']"))
            .await?
            .click()
            .await?;
        wait_xpath(&browser, &team("SMB", "//tr[@data-email='omar@acme.test']")).await?;
        wait_xpath(
            &browser,
            &team(
                "Enterprise",
                "//tr[@data-email='omar@acme.test']//*[@data-testid='member-remove']",
            ),
        )
        .await?
        .click()
        .await?;
        wait_xpath(
            &browser,
            "//*[@data-team='Enterprise' and not(.//tr[@data-email='omar@acme.test'])]",
        )
        .await?;
        wait_xpath(&browser, &team("SMB", "//*[@data-testid='member-pick']"))
            .await?
            .select_by_value(&manager)
            .await?;
        wait_xpath(&browser, &team("SMB", "//*[@data-testid='member-add']"))
            .await?
            .click()
            .await?;
        wait_xpath(
            &browser,
            &team(
                "SMB",
                "//tr[@data-email='manager@acme.test']//input[@data-testid='member-manages']",
            ),
        )
        .await?
        .click()
        .await?;
        wait_xpath(&browser, &team("SMB", "//tr[@data-email='manager@acme.test']//input[@data-testid='member-manages' and @checked]")).await?;
        // A rep's box cannot be ticked.
        let omar_box = wait_xpath(
            &browser,
            &team(
                "SMB",
                "//tr[@data-email='omar@acme.test']//input[@data-testid='member-manages']",
            ),
        )
        .await?;
        assert!(!omar_box.is_enabled().await?, "a rep cannot manage a team");

        // Dana is deactivated, after a second click.
        wait_xpath(&browser, "//tr[@data-testid='user-row' and @data-email='dana@acme.test']//*[@data-testid='user-deactivate']")
            .await?
            .click()
            .await?;
        click(&browser, "[data-testid=user-deactivate-confirm]").await?;
        wait_xpath(&browser, "//tr[@data-testid='user-row' and @data-email='dana@acme.test']/td[@data-testid='user-status' and .='Deactivated']").await?;
        save(&browser, "dashboard-people-admin.png").await?;
        // And let back in.
        wait_xpath(&browser, "//tr[@data-testid='user-row' and @data-email='dana@acme.test']//*[@data-testid='user-reactivate']")
            .await?
            .click()
            .await?;
        wait_xpath(&browser, "//tr[@data-testid='user-row' and @data-email='dana@acme.test']/td[@data-testid='user-status' and .='Active']").await?;
        wait_xpath(&browser, "//tr[@data-testid='user-row' and @data-email='dana@acme.test']//*[@data-testid='user-deactivate']").await?;
        Ok::<(), fantoccini::error::CmdError>(())
    };
    let outcome = run.await;
    if outcome.is_err() {
        let _ = save(&browser, "dashboard-people-admin-failure.png").await;
    }
    let _ = browser.close().await;
    outcome.expect("the People page works in Chromium");

    let (_, users) = h.get("/v1/users", &t.admin.access_token).await;
    let user = |email: &str| {
        users
            .as_array()
            .and_then(|l| l.iter().find(|u| u["email"] == email))
            .cloned()
            .expect("listed")
    };
    let teams = |email: &str| -> Vec<(String, bool)> {
        user(email)["teams"]
            .as_array()
            .map(|ts| {
                ts.iter()
                    .map(|t| {
                        (
                            t["name"].as_str().unwrap_or_default().to_owned(),
                            t["manages"] == true,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(teams("omar@acme.test"), [("SMB".to_owned(), false)]);
    assert_eq!(
        teams("manager@acme.test"),
        [("Enterprise".to_owned(), true), ("SMB".to_owned(), true)]
    );
    assert_eq!(user("dana@acme.test")["active"], true, "reactivated");
    let (status, _) = h.get("/v1/me", &t.rep_a.access_token).await;
    assert_eq!(
        status,
        reqwest::StatusCode::UNAUTHORIZED,
        "Dana's sessions ended"
    );
}

async fn wait_xpath(
    browser: &Client,
    xpath: &str,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    browser
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath(xpath))
        .await
}

/// A mono 16 kHz WAV of a 440 Hz tone lasting `secs`.
fn sine_wav(secs: f32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).expect("wav writer");
    let samples = (secs * 16_000.0) as u32;
    for i in 0..samples {
        let t = i as f32 / 16_000.0;
        let sample = (t * 440.0 * std::f32::consts::TAU).sin() * 0.3 * f32::from(i16::MAX);
        writer.write_sample(sample as i16).expect("sample");
    }
    writer.finalize().expect("wav finished");
    out.into_inner()
}

/// Waits until the call page's audio element has loaded the recording's metadata (or
/// failed); returns its `readyState` and `duration`.
async fn audio_state(browser: &Client) -> Result<(f64, f64), fantoccini::error::CmdError> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let state = browser
            .execute(
                "const a = document.querySelector('[data-testid=audio-player]');
                 return [a.readyState, a.duration, a.error ? a.error.code : 0];",
                vec![],
            )
            .await?;
        let number = |i: usize| state[i].as_f64().unwrap_or(0.0);
        let (ready, duration, error) = (number(0), number(1), number(2));
        assert!(
            error == 0.0,
            "the audio element failed to load: MediaError {error}"
        );
        if ready >= 1.0 || Instant::now() > deadline {
            return Ok((ready, duration));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// chromedriver on a free loopback port, stopped on drop.
struct ChromeDriver {
    process: Child,
    url: String,
    profile: tempfile::TempDir,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian: apt-get install chromium chromium-driver; scripts/dev.sh deps)");
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        ChromeDriver {
            process,
            url: format!("http://127.0.0.1:{port}"),
            profile: tempfile::tempdir().expect("profile dir"),
        }
    }

    /// A headless Chromium at a laptop's screen size.
    async fn session(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--no-first-run", "--window-size=1366,900",
                         format!("--user-data-dir={}", self.profile.path().display())],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a WebDriver session in headless Chromium")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

async fn wait_for(
    browser: &Client,
    css: &str,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    browser
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
}

async fn fill(
    browser: &Client,
    testid: &str,
    value: &str,
) -> Result<(), fantoccini::error::CmdError> {
    let input = wait_for(browser, &format!("[data-testid={testid}]")).await?;
    input.clear().await?;
    input.send_keys(value).await
}

async fn click(browser: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    wait_for(browser, css).await?.click().await
}

/// The text of every element matching `css`, joined by new lines.
async fn text(browser: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    wait_for(browser, css).await?;
    let value = browser
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent).join('\\n');",
            vec![json!(css)],
        )
        .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

/// Keeps a screenshot of the page as a test artifact.
async fn save(browser: &Client, name: &str) -> Result<(), fantoccini::error::CmdError> {
    let png = browser.screenshot().await?;
    let dir = std::env::var_os("CUECARD_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-artifacts"));
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(name), png);
    }
    Ok(())
}
