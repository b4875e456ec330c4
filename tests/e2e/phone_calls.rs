//! The phone in the real desktop app under Xvfb, against real peers on loopback:
//! kamailio as the SIP Domain and baresip as the far end, with a private PulseAudio
//! daemon for the rep's microphone and speakers and gnome-keyring for the SIP password.
//! Settings → Phone refuses a wrong password clearly and connects with the right one;
//! the dialer places a call that connects, shows its timer and call quality, sends a
//! keypad digit baresip hears, and hangs up; an incoming call rings over the screen and
//! is answered; both calls land in the call log. Last, "Set up the SIP Domain" runs
//! against the Twilio REST stand-in (checked against Twilio's OpenAPI description).

use anyhow::{Context, Result};
use cuecard_e2e::*;
use cuecard_secrets::testing::KeyringDaemon;
use cuecard_testserver::sip::{
    Baresip, BaresipOptions, Kamailio, KamailioOptions, Transport, require_binaries, wav,
};
use cuecard_twilio::standin;
use fantoccini::{Client, Locator};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(15);

async fn type_into(client: &Client, css: &str, text: &str) -> Result<()> {
    let input = wait_css(client, css).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_test_dialer_in_call_incoming_and_call_log() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    if !require_binaries(&["kamailio", "baresip"]) {
        return Ok(());
    }
    // Before the driver starts, so the app inherits PULSE_SERVER and the session bus.
    let _pulse = cuecard_audio::testing::PulseServer::start();
    let _keyring = KeyringDaemon::start();
    let data = tempfile::tempdir()?;
    let kam = Kamailio::start(KamailioOptions::default())?;
    let bob_wav = data.path().join("bob.wav");
    wav::write_tone_wav(&bob_wav, 440.0, 120.0, 0.5)?;
    let bob = Baresip::start(BaresipOptions::registered_with(
        &kam,
        "bob",
        Transport::Udp,
        &bob_wav,
    ))?;
    bob.wait_registered(WAIT)?;

    let twilio = standin::TwilioStandin::start()?;
    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let result = async {
        wait_css(&client, "[data-testid=contacts-list]").await?;

        // Settings → Phone: a wrong password is a clear refusal; the right one connects.
        click(&client, "[data-testid=nav-phonesettings]").await?;
        type_into(&client, "[data-testid=phone-user]", "alice").await?;
        type_into(&client, "[data-testid=phone-domain]", kam.domain()).await?;
        client
            .find(Locator::Css("[data-testid=phone-settings] summary"))
            .await?
            .click()
            .await?;
        choose_option(&client, "[data-testid=phone-transport]", "udp").await?;
        choose_option(&client, "[data-testid=phone-encryption]", "off").await?;
        type_into(
            &client,
            "[data-testid=phone-proxy]",
            &kam.udp_addr().to_string(),
        )
        .await?;
        type_into(&client, "[data-testid=phone-password]", "not-the-password").await?;
        click(&client, "[data-testid=phone-test]").await?;
        wait_until(
            &client,
            "the wrong password is refused",
            async |c: &Client| {
                Ok(text_of(c, "[data-testid=phone-test-result]")
                    .await?
                    .starts_with("Could not connect"))
            },
        )
        .await?;
        let refused = text_of(&client, "[data-testid=phone-test-result]").await?;
        assert!(
            refused.to_lowercase().contains("password"),
            "the refusal names the password: {refused}"
        );
        type_into(&client, "[data-testid=phone-password]", kam.password()).await?;
        click(&client, "[data-testid=phone-test]").await?;
        wait_until(&client, "the test connects", async |c: &Client| {
            Ok(text_of(c, "[data-testid=phone-test-result]")
                .await?
                .starts_with("Connected: registered alice@"))
        })
        .await?;
        click(&client, "[data-testid=phone-save]").await?;
        wait_until(
            &client,
            "the password is in the keychain",
            async |c: &Client| {
                Ok(text_of(c, "[data-testid=phone-settings]")
                    .await?
                    .contains("saved in the keychain"))
            },
        )
        .await?;
        save_screenshot(&xvfb, "phone-settings.png")?;

        // The dialer: a call to bob, without the coach (no speech model here).
        click(&client, "[data-testid=nav-phone]").await?;
        let coach = wait_css(&client, "[data-testid=dialer-coach]").await?;
        if coach.is_selected().await? {
            coach.click().await?;
        }
        type_into(
            &client,
            "[data-testid=dialer-target]",
            &format!("sip:bob@{}", kam.domain()),
        )
        .await?;
        click(&client, "[data-testid=dialer-call]").await?;
        wait_until(&client, "the call connects", async |c: &Client| {
            Ok(text_of(c, "[data-testid=in-call-state]")
                .await?
                .starts_with("Connected"))
        })
        .await?;
        bob.wait_event("CALL_ESTABLISHED", WAIT)?;
        wait_until(
            &client,
            "the quality indicator reads",
            async |c: &Client| {
                Ok(text_of(c, "[data-testid=in-call-quality]")
                    .await?
                    .contains("Call quality: Good"))
            },
        )
        .await?;
        wait_until(&client, "the timer runs", async |c: &Client| {
            Ok(text_of(c, "[data-testid=in-call-timer]").await?.trim() >= "0:02")
        })
        .await?;
        let status = text_of(&client, "[data-testid=phone-status]").await?;
        assert!(status.starts_with("Online as alice@"), "{status}");
        save_screenshot(&xvfb, "phone-in-call.png")?;

        // Mute, then a keypad digit that baresip hears.
        click(&client, "[data-testid=in-call-mute]").await?;
        wait_until(&client, "the call is muted", async |c: &Client| {
            Ok(text_of(c, "[data-testid=in-call-mute]").await? == "Unmute")
        })
        .await?;
        click(&client, "[data-testid=in-call-keypad]").await?;
        click(&client, "[data-testid=in-call-pad-7]").await?;
        let digit = bob.wait_event("CALL_DTMF_START", WAIT)?;
        assert_eq!(digit.param.as_deref(), Some("7"));

        click(&client, "[data-testid=in-call-hangup]").await?;
        bob.wait_event("CALL_CLOSED", WAIT)?;
        wait_css(&client, "[data-testid=dialer]").await?;
        wait_until(&client, "the recent calls show it", async |c: &Client| {
            Ok(text_of(c, "[data-testid=recent-calls]")
                .await?
                .contains("Completed"))
        })
        .await?;

        // An incoming call rings over whatever screen is open.
        click(&client, "[data-testid=nav-contacts]").await?;
        bob.dial(&kam.aor("alice"))?;
        wait_css(&client, "[data-testid=incoming-call]").await?;
        let caller = text_of(&client, "[data-testid=incoming-call]").await?;
        assert!(caller.contains("bob"), "{caller}");
        save_screenshot(&xvfb, "phone-incoming.png")?;
        click(&client, "[data-testid=incoming-answer]").await?;
        wait_until(&client, "the incoming call connects", async |c: &Client| {
            Ok(text_of(c, "[data-testid=in-call-state]")
                .await?
                .starts_with("Connected"))
        })
        .await?;
        bob.wait_event("CALL_ESTABLISHED", WAIT)?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        bob.hangup()?;
        wait_css(&client, "[data-testid=dialer]").await?;

        // Both calls are in the call log.
        click(&client, "[data-testid=nav-calllog]").await?;
        wait_until(&client, "the log has both calls", async |c: &Client| {
            Ok(text_of(c, "[data-testid=call-log-row]")
                .await?
                .lines()
                .count()
                == 2)
        })
        .await?;
        let rows = text_of(&client, "[data-testid=call-log-row]").await?;
        let rows: Vec<&str> = rows.lines().collect();
        assert!(
            rows[0].contains("Incoming") && rows[0].contains("Completed"),
            "{rows:?}"
        );
        assert!(
            rows[1].contains("Outgoing") && rows[1].contains("Completed"),
            "{rows:?}"
        );
        save_screenshot(&xvfb, "phone-call-log.png")?;

        // Twilio: the Domain, the credential list with alice's login, both mappings.
        // Twilio wants a strong SIP password (12+ characters, mixed case, a digit), which
        // the test registrar's is not: a new one is saved first.
        click(&client, "[data-testid=nav-phonesettings]").await?;
        type_into(&client, "[data-testid=phone-domain]", "acme-sales").await?;
        type_into(&client, "[data-testid=phone-password]", "Sales-Floor-2026").await?;
        click(&client, "[data-testid=phone-save]").await?;
        // A finished save clears the typed password (it is in the keychain now).
        wait_until(&client, "the new login is saved", async |c: &Client| {
            Ok(c.find(Locator::Css("[data-testid=phone-password]"))
                .await?
                .prop("value")
                .await?
                .as_deref()
                == Some(""))
        })
        .await?;
        type_into(&client, "[data-testid=twilio-sid]", standin::ACCOUNT_SID).await?;
        type_into(&client, "[data-testid=twilio-token]", standin::AUTH_TOKEN).await?;
        type_into(
            &client,
            "[data-testid=twilio-voice-url]",
            "https://voice.example.com/dial",
        )
        .await?;
        client
            .find(Locator::Css("[data-testid=twilio-settings] summary"))
            .await?
            .click()
            .await?;
        type_into(&client, "[data-testid=twilio-base-url]", &twilio.base_url()).await?;
        click(&client, "[data-testid=twilio-setup]").await?;
        wait_until(&client, "the Domain is set up", async |c: &Client| {
            Ok(text_of(c, "[data-testid=twilio-result]")
                .await?
                .contains("the Domain now asks for the list on calls"))
        })
        .await?;
        let report = text_of(&client, "[data-testid=twilio-result]").await?;
        assert!(
            report.contains("created the SIP Domain acme-sales.sip.twilio.com")
                && report.contains("added the SIP login alice"),
            "{report}"
        );
        assert!(twilio.violations().is_empty(), "{:?}", twilio.violations());
        assert!(
            twilio
                .requests()
                .iter()
                .any(|r| r.method == "POST" && r.path.ends_with("/SIP/Domains.json")),
            "the Domain was created over REST"
        );
        save_screenshot(&xvfb, "phone-twilio-setup.png")?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = save_screenshot(&xvfb, "phone-failure.png");
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result.context("the phone end to end")
}
