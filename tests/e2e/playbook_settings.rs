//! Settings → Playbook in the real desktop app under Xvfb: the built-in playbook is
//! shown, a broken edit is refused with its location and nothing is written, a good edit
//! is saved as the team's file (where `cuecard analyze` finds it), and reset removes it.

use anyhow::{Result, ensure};
use cuecard_e2e::*;
use fantoccini::Client;
use std::time::Duration;

/// Replaces the editor's text, as typing would (React sees an input event).
async fn set_text(client: &Client, text: &str) -> Result<()> {
    client
        .execute(
            r#"const [text] = arguments;
               const area = document.querySelector('[data-testid=doc-text]');
               const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set;
               setter.call(area, text);
               area.dispatchEvent(new Event('input', { bubbles: true }));"#,
            vec![serde_json::json!(text)],
        )
        .await?;
    Ok(())
}

/// Waits until the summary line starts with `prefix`.
async fn summary_starts(client: &Client, what: &str, prefix: &str) -> Result<()> {
    wait_until(client, what, async |c: &Client| {
        Ok(text_of(c, "[data-testid=doc-summary]")
            .await?
            .starts_with(prefix))
    })
    .await
}

async fn editor_text(client: &Client) -> Result<String> {
    Ok(client
        .execute(
            "return document.querySelector('[data-testid=doc-text]').value;",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_playbook_is_edited_validated_saved_and_reset() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    let data = tempfile::tempdir()?;
    let file = data.path().join("playbook.toml");
    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let result = async {
        wait_css(&client, "[data-testid=contacts-list]").await?;
        click(&client, "[data-testid=nav-playbook]").await?;
        summary_starts(&client, "the playbook is loaded", "The built-in playbook").await?;
        // The playbook opens as a form; this test edits the TOML.
        wait_css(&client, "[data-testid=playbook-form]").await?;
        click(&client, "[data-testid=mode-toml]").await?;
        let original = editor_text(&client).await?;
        ensure!(original.contains("name = \"Generic B2B\""), "{original}");

        // Two cards with one id: refused, named, and nothing written.
        set_text(
            &client,
            &original.replace("id = \"objection-timing\"", "id = \"objection-price\""),
        )
        .await?;
        click(&client, "[data-testid=doc-save]").await?;
        wait_css(&client, "[data-testid=doc-message]").await?;
        let message = text_of(&client, "[data-testid=doc-message]").await?;
        ensure!(
            message.contains("card \"objection-price\": id: is used by another card or rule"),
            "{message}"
        );
        ensure!(!file.exists(), "a refused edit was written");

        set_text(
            &client,
            &original.replace("Generic B2B", "Acme inside sales"),
        )
        .await?;
        click(&client, "[data-testid=doc-save]").await?;
        summary_starts(&client, "the edit is saved", "Your team's playbook").await?;
        ensure!(std::fs::read_to_string(&file)?.contains("Acme inside sales"));
        save_screenshot(&xvfb, "playbook-settings.png")?;

        click(&client, "[data-testid=doc-reset]").await?;
        summary_starts(&client, "the default is back", "The built-in playbook").await?;
        ensure!(!file.exists(), "reset left the team's file");

        // The form: retitle the first card and save; the file has it, one version on.
        click(&client, "[data-testid=mode-form]").await?;
        let title = wait_css(&client, "[data-testid=card-title]").await?;
        title.clear().await?;
        title.send_keys("Price, budget or cost").await?;
        click(&client, "[data-testid=form-save]").await?;
        summary_starts(&client, "the form is saved", "Your team's playbook").await?;
        let saved = std::fs::read_to_string(&file)?;
        ensure!(saved.contains("Price, budget or cost"), "{saved}");
        let default = cuecard_coach_default_version();
        ensure!(
            saved.contains(&format!("version = {}", default + 1)),
            "version moves on from {default}: {saved}"
        );
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = save_screenshot(&xvfb, "playbook-settings-failure.png");
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result
}

/// The shipped playbook's version, read from the file the app embeds.
fn cuecard_coach_default_version() -> u32 {
    let text = include_str!("../../assets/playbooks/default-b2b.toml");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("version = "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}
