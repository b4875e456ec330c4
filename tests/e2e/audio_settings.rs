//! Settings → Audio in the real desktop app under Xvfb, on real audio devices: a private
//! PulseAudio daemon whose null sinks are the mic and the speakers. The device pickers
//! list them, the level meter moves while speech plays into the mic, the mic test hears
//! it, and the echo test measures a real echo path (speakers that feed the mic).

use anyhow::Result;
use cuecard_audio::SPEECH_RATE;
use cuecard_audio::testing::{PulseServer, speech};
use cuecard_e2e::*;
use fantoccini::Client;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn audio_settings_meter_mic_test_and_echo_test() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    // Before the driver starts, so the app inherits PULSE_SERVER.
    let pulse = PulseServer::start();
    let data = tempfile::tempdir()?;
    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let line = speech(
        "Hello, this is a rep testing the microphone before a call with a prospect.",
        SPEECH_RATE,
    );
    let result = async {
        wait_css(&client, "[data-testid=contacts-list]").await?;
        click(&client, "[data-testid=nav-audio]").await?;

        // The pickers list the daemon's devices, defaults named.
        wait_until(&client, "the mic list is loaded", async |c: &Client| {
            Ok(text_of(c, "[data-testid=audio-mic] option")
                .await?
                .contains("Monitor of Microphone"))
        })
        .await?;
        let mics = text_of(&client, "[data-testid=audio-mic] option").await?;
        assert!(
            mics.starts_with("System default (Monitor of Microphone (loopback))"),
            "{mics}"
        );
        let outputs = text_of(&client, "[data-testid=audio-output] option").await?;
        assert!(
            outputs.starts_with("System default (Speakers)"),
            "{outputs}"
        );

        // Speech into the mic moves the meter and is recognised as speech.
        let mut player = pulse.play("mic_feed", &line);
        wait_until(&client, "the meter hears speech", async |c: &Client| {
            Ok(text_of(c, "[data-testid=audio-level]")
                .await?
                .contains("speech"))
        })
        .await?;
        save_screenshot(&xvfb, "audio-settings.png")?;
        let _ = player.wait();

        // The mic test, with the rep talking once it has started listening.
        click(&client, "[data-testid=audio-mic-test]").await?;
        let mut player = pulse.play("mic_feed", &line);
        wait_until(&client, "the mic test has a verdict", async |c: &Client| {
            Ok(!text_of(c, "[data-testid=audio-mic-result]")
                .await?
                .is_empty())
        })
        .await?;
        let _ = player.wait();
        let verdict = text_of(&client, "[data-testid=audio-mic-result]").await?;
        assert!(verdict.starts_with("Sounds good"), "{verdict}");

        // Speakers that the mic hears: the echo test finds the echo and measures it.
        choose_option(&client, "[data-testid=audio-output]", "pulseaudio:mic_feed").await?;
        click(&client, "[data-testid=audio-echo-test]").await?;
        wait_until(&client, "the echo test has a result", async |c: &Client| {
            Ok(!text_of(c, "[data-testid=audio-echo-result]")
                .await?
                .is_empty())
        })
        .await?;
        // The screen reports the echo it measured and what cancellation removed. How much
        // it removes (≥ 20 dB on this echo path) is asserted by the audio crate's own
        // echo test: here a host stall can slip the capture and cost the figure, not
        // the wiring this test is about.
        let echo = text_of(&client, "[data-testid=audio-echo-result]").await?;
        assert!(
            echo.starts_with("Your mic hears your speakers (echo at") && echo.contains(" dB"),
            "{echo}"
        );
        save_screenshot(&xvfb, "audio-echo-test.png")?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = save_screenshot(&xvfb, "audio-settings-failure.png");
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result
}
