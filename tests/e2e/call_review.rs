//! A call filed by `cuecard analyze --contact` reviewed in the real desktop app under
//! Xvfb: open the contact, open the call, read the score and its breakdown, choose a
//! check and see the utterances behind it marked in the transcript.

use anyhow::{Context, Result, ensure};
use cuecard_e2e::*;
use fantoccini::{Client, Locator};
use std::time::Duration;

async fn count(client: &Client, css: &str) -> Result<usize> {
    Ok(client.find_all(Locator::Css(css)).await?.len())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scored_call_is_reviewed_with_its_evidence() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    let data = tempfile::tempdir()?;
    seed_scored_call(data.path())?;
    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let result = async {
        open_first_contact(&client).await?;
        click(&client, "[data-testid=call-open]").await?;
        wait_css(&client, "[data-testid=review-score]").await?;
        let score = text_of(&client, "[data-testid=review-score]").await?;
        ensure!(score.contains("rubric default v2"), "{score}");
        let summary = text_of(&client, "[data-testid=review-summary]").await?;
        ensure!(summary.contains("Next step: “"), "{summary}");
        ensure!(count(&client, "[data-testid=review-transcript] li").await? == 12);
        ensure!(count(&client, "[data-testid=review-transcript] li.evidence").await? == 0);
        // The price objection (turn 8) and the rep's answer (turn 9).
        click(&client, "[data-testid=check-objections-answered]").await?;
        wait_until(&client, "the evidence is marked", async |c: &Client| {
            Ok(count(c, "[data-testid=review-transcript] li.evidence").await? > 0)
        })
        .await?;
        let marked = text_of(&client, "[data-testid=review-transcript] li.evidence").await?;
        ensure!(marked.contains("the price is my main concern"), "{marked}");
        ensure!(count(&client, "[data-testid=review-transcript] li.evidence").await? == 2);
        save_screenshot(&xvfb, "call-review.png")?;
        // Back to the contact.
        click(&client, "[data-testid=review-back]").await?;
        wait_css(&client, "[data-testid=call-open]")
            .await
            .context("back on the contact")?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    if result.is_err() {
        let _ = save_screenshot(&xvfb, "call-review-failure.png");
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result
}
