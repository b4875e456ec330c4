//! Settings → Speech in the real desktop app under Xvfb, on real components: a private
//! Secret Service (gnome-keyring on a private D-Bus) for the API key, a private
//! PulseAudio daemon whose null sink is the mic, and the test set-up's tiny.en model
//! installed in the app's models directory. The key lands in the keychain (and in no
//! file), engine choices are saved, and speech played into the mic comes back as a
//! live transcript.

use anyhow::Result;
use cuecard_audio::SPEECH_RATE;
use cuecard_audio::testing::{PulseServer, speech};
use cuecard_e2e::*;
use cuecard_models::store::ModelStore;
use cuecard_secrets::testing::KeyringDaemon;
use cuecard_secrets::{SecretName, SecretSource, Secrets};
use fantoccini::{Client, Locator};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn speech_settings_keychain_key_engine_choice_and_live_mic_transcript() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    // Before the driver starts, so the app inherits PULSE_SERVER and the session bus.
    let pulse = PulseServer::start();
    let _keyring = KeyringDaemon::start();
    let data = tempfile::tempdir()?;
    let model = cuecard_stt::testing::test_model("tiny.en");
    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let said = "We show the right answer on screen while the customer is still talking.";
    let line = speech(said, SPEECH_RATE);
    let result = async {
        wait_css(&client, "[data-testid=contacts-list]").await?;
        click(&client, "[data-testid=nav-speech]").await?;

        // A path that is not a model is refused, and nothing is installed.
        let path = wait_css(&client, "[data-testid=model-import-path]").await?;
        path.send_keys("/etc/hostname").await?;
        click(&client, "[data-testid=model-import]").await?;
        wait_until(&client, "the import is refused", async |c: &Client| {
            Ok(text_of(c, "[data-testid=model-error]")
                .await?
                .contains("/etc/hostname"))
        })
        .await?;
        assert!(
            ModelStore::new(data.path().join("models"))
                .list()?
                .is_empty()
        );
        // The test set-up's tiny.en, imported through the screen.
        path.clear().await?;
        path.send_keys(&model.display().to_string()).await?;
        client
            .find(Locator::Css("[data-testid=model-import-name]"))
            .await?
            .send_keys("tiny.en")
            .await?;
        click(&client, "[data-testid=model-import]").await?;
        wait_until(
            &client,
            "the imported model is listed",
            async |c: &Client| {
                Ok(c.find(Locator::Css("[data-testid=model-remove-tiny\\.en]"))
                    .await
                    .is_ok())
            },
        )
        .await?;

        // The Deepgram key goes to the keychain.
        let input = wait_css(&client, "[data-testid=speech-key-input-deepgram_api_key]").await?;
        input.send_keys("dg-e2e-key-123").await?;
        click(&client, "[data-testid=speech-key-save-deepgram_api_key]").await?;
        wait_until(&client, "the key is saved", async |c: &Client| {
            Ok(
                text_of(c, "[data-testid=speech-key-state-deepgram_api_key]").await?
                    == "Saved in the system keychain",
            )
        })
        .await?;
        let (stored, source) = Secrets::new()
            .get(SecretName::DeepgramApiKey)?
            .expect("the key is in the keychain");
        assert_eq!(
            (stored.expose(), source),
            ("dg-e2e-key-123", SecretSource::Keychain)
        );

        // Post-call transcripts on the OpenAI-compatible engine, saved to speech.json.
        choose_option(&client, "[data-testid=speech-engine-post_call]", "openai").await?;
        wait_until(&client, "the choice is saved", async |c: &Client| {
            Ok(text_of(c, "[data-testid=speech-save-state]").await? == "Saved.")
        })
        .await?;
        let saved = std::fs::read_to_string(data.path().join("speech.json"))?;
        let json: serde_json::Value = serde_json::from_str(&saved)?;
        assert_eq!(json["post_call"]["engine"], "openai");
        assert!(!saved.contains("dg-e2e-key"), "no key in the settings file");

        // The live test: speech into the mic, words on screen.
        click(&client, "[data-testid=speech-test-start]").await?;
        wait_css(&client, "[data-testid=speech-test-device]").await?;
        let mut player = pulse.play("mic_feed", &line);
        wait_until(
            &client,
            "the transcript shows the words",
            async |c: &Client| {
                Ok(text_of(c, "[data-testid=speech-test-transcript]")
                    .await?
                    .to_lowercase()
                    .contains("customer"))
            },
        )
        .await?;
        let _ = player.wait();
        save_screenshot(&xvfb, "speech-settings.png")?;
        click(&client, "[data-testid=speech-test-stop]").await?;
        wait_css(&client, "[data-testid=speech-test-start]").await?;
        let heard = text_of(&client, "[data-testid=speech-test-transcript]").await?;
        let rate = cuecard_stt::wer::wer(said, &heard);
        assert!(rate <= 0.3, "WER {rate:.2}: {heard:?}");
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = save_screenshot(&xvfb, "speech-settings-failure.png");
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result
}
