//! A coached live call in the real desktop app under Xvfb, on real components: a private
//! PulseAudio daemon (its null sinks are the rep's mic and the speakers the call app
//! plays to), tiny.en transcribing both sides, the team's default playbook. From a
//! contact's page the rep starts coaching; the always-on-top overlay opens; the
//! prospect's objection, played through the speakers, comes up as a card; the keyboard
//! pins and dismisses it; "End & file" closes the overlay and files the call, recording
//! and scorecard under the contact.

use anyhow::{Context, Result, ensure};
use cuecard_audio::testing::PulseServer;
use cuecard_e2e::*;
use cuecard_stt::testing::speak;
use fantoccini::{Client, Locator, key::Key};
use std::time::Duration;

async fn cue_classes(client: &Client) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for cue in client.find_all(Locator::Css("[data-testid=cue]")).await? {
        out.push(cue.attr("class").await?.unwrap_or_default());
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_call_is_coached_in_the_overlay_and_filed_under_the_contact() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    // Before the driver starts, so the app inherits PULSE_SERVER.
    let pulse = PulseServer::start();
    let data = tempfile::tempdir()?;
    seed_dana_and_tiny_model(data.path())?;
    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let result = async {
        open_first_contact(&client).await?;
        wait_css(&client, "[data-testid=live-call]").await?;
        choose_option(&client, "[data-testid=live-call-far-end]", "speakers").await?;
        click(&client, "[data-testid=live-call-start]").await?;
        wait_css(&client, "[data-testid=live-call-status]").await?;
        let status = text_of(&client, "[data-testid=live-call-status]").await?;
        ensure!(
            status.contains("far_end.monitor"),
            "the speakers are the far end: {status}"
        );

        switch_to(&client, true).await?;
        wait_css(&client, "[data-testid=overlay]").await?;
        // The call: the rep opens, the prospect objects through the speakers.
        let rep = speak(
            "Hi Dana, this is Sam from Cuecard. Is now a good time to talk?",
            "en-us",
        );
        pulse.play("mic_feed", &rep).wait()?;
        let prospect = speak(
            "Honestly, it is too expensive for us right now.",
            "en-us+f3",
        );
        pulse.play("far_end", &prospect).wait()?;
        wait_until(&client, "the objection card shows", async |c: &Client| {
            Ok(
                c.find(Locator::Css("[data-testid=cue][data-kind=objection]"))
                    .await
                    .is_ok(),
            )
        })
        .await?;
        wait_until(
            &client,
            "both sides are in the transcript",
            async |c: &Client| {
                let t = text_of(c, "[data-testid=overlay-transcript]")
                    .await?
                    .to_lowercase();
                Ok(t.contains("expensive") && t.contains("you"))
            },
        )
        .await?;
        let talk = text_of(&client, "[data-testid=metric-talk]").await?;
        ensure!(talk.ends_with('%'), "the talk ratio shows: {talk:?}");
        save_screenshot(&xvfb, "live-coaching-overlay.png")?;

        // Keyboard: select the objection card, pin it, then dismiss it.
        let overlay = client.find(Locator::Css("[data-testid=overlay]")).await?;
        let objection = client
            .find(Locator::Css("[data-testid=cue][data-kind=objection]"))
            .await?;
        objection.click().await?;
        overlay.send_keys("p").await?;
        ensure!(
            cue_classes(&client).await?[0].contains("pinned"),
            "the pinned card leads: {:?}",
            cue_classes(&client).await?
        );
        let before = cue_classes(&client).await?.len();
        overlay
            .send_keys(&String::from(char::from(Key::Escape)))
            .await?;
        ensure!(
            cue_classes(&client).await?.len() == before - 1,
            "Escape dismissed the card"
        );

        click(&client, "[data-testid=overlay-end]").await?;
        switch_to(&client, false).await?;
        wait_until(
            &client,
            "the call is filed on the contact's page",
            async |c: &Client| {
                Ok(c.find(Locator::Css("[data-testid=call-open]"))
                    .await
                    .is_ok())
            },
        )
        .await?;
        let note = text_of(&client, "[data-testid=live-call-note]").await?;
        ensure!(note.contains("/100"), "the score is reported: {note}");
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = save_screenshot(&xvfb, "live-coaching-failure.png");
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result?;

    // The recording was moved in under the call's id, and the call is in the database.
    let recordings: Vec<_> = std::fs::read_dir(data.path().join("recordings"))
        .context("recordings directory")?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ensure!(
        recordings.len() == 1
            && recordings[0].ends_with(".ogg")
            && !recordings[0].starts_with("live-"),
        "{recordings:?}"
    );
    let store = cuecard_store::Store::open(data.path().join(cuecard_store::DB_FILE_NAME))?;
    let contact = store
        .all_contacts()?
        .into_iter()
        .next()
        .context("contact")?;
    let calls = store.calls_for_contact(contact.id)?;
    ensure!(calls.len() == 1, "{calls:?}");
    let transcript = store.transcript(calls[0].id)?;
    ensure!(
        transcript
            .iter()
            .any(|u| u.channel == cuecard_core::Channel::FarEnd
                && u.text.to_lowercase().contains("expensive")),
        "{transcript:?}"
    );
    ensure!(
        !store.scorecards_for(&calls[0].id.to_string())?.is_empty(),
        "scored"
    );
    Ok(())
}
