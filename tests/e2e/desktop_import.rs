//! The real desktop app under Xvfb, driven through tauri-driver and WebKitWebDriver:
//! import a CSV through the import wizard and see the contacts in the list; open the app
//! on a corrupt database and recover from it. Keeps a screenshot of the main window.

use anyhow::Result;
use cuecard_e2e::*;
use fantoccini::{Client, Locator};
use std::time::Duration;

const MESSY: &[u8] = include_bytes!("../../crates/contacts/tests/fixtures/messy.csv");

/// Gives the file input a file, as a user picking it in the file chooser would.
async fn choose_file(client: &Client, name: &str, bytes: &[u8]) -> Result<()> {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    wait_css(client, "[data-testid=import-file]").await?;
    client
        .execute(
            r#"const [name, b64] = arguments;
               const raw = atob(b64);
               const bytes = new Uint8Array(raw.length);
               for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
               const input = document.querySelector('[data-testid=import-file]');
               const transfer = new DataTransfer();
               transfer.items.add(new File([bytes], name, { type: 'text/csv' }));
               input.files = transfer.files;
               input.dispatchEvent(new Event('change', { bubbles: true }));"#,
            vec![serde_json::json!(name), serde_json::json!(encoded)],
        )
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn import_a_csv_through_the_wizard_and_see_the_contacts() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    let data = tempfile::tempdir()?;
    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let result = async {
        // A fresh database: the empty contacts list.
        wait_css(&client, "[data-testid=contacts-list]").await?;
        assert_eq!(
            client
                .find_all(Locator::Css("[data-testid=contact-row]"))
                .await?
                .len(),
            0
        );

        click(&client, "[data-testid=nav-import]").await?;
        wait_css(&client, "[data-testid=import-wizard]").await?;
        choose_file(&client, "messy.csv", MESSY).await?;

        // The preview: counts and every bad row with its number, before anything is written.
        let summary = text_of(&client, "[data-testid=import-summary]").await?;
        assert!(summary.contains('6'), "summary: {summary}");
        let errors = client
            .find_all(Locator::Css("[data-testid=import-error-row]"))
            .await?;
        let mut error_texts = Vec::new();
        for e in &errors {
            error_texts.push(e.text().await?);
        }
        save_screenshot(&xvfb, "import-preview.png")?;
        assert_eq!(error_texts.len(), 4, "{error_texts:?}");
        assert!(
            error_texts[0].contains("Row 7") && error_texts[0].contains("12345"),
            "{error_texts:?}"
        );

        click(&client, "[data-testid=import-run-button]").await?;
        let report = text_of(&client, "[data-testid=import-report]").await?;
        assert!(report.contains('6'), "report: {report}");
        click(&client, "[data-testid=import-done-button]").await?;

        // The contacts are in the list.
        wait_until(&client, "six contacts are listed", async |c: &Client| {
            Ok(c.find_all(Locator::Css("[data-testid=contact-row]"))
                .await?
                .len()
                == 6)
        })
        .await?;
        save_screenshot(&xvfb, "after-import.png")?;
        let list = text_of(&client, "[data-testid=contacts-list]").await?;
        for name in ["Rao, Asha", "Ben Carter", "Chen Wei", "Eve Email Only"] {
            assert!(list.contains(name), "{name} missing from the list:\n{list}");
        }
        assert!(!list.contains("Bad Number"));

        // Search narrows the list.
        let search = client
            .find(Locator::Css("[data-testid=contact-search]"))
            .await?;
        search.send_keys("globex").await?;
        wait_until(&client, "search shows one contact", async |c: &Client| {
            let rows = c
                .find_all(Locator::Css("[data-testid=contact-row]"))
                .await?;
            Ok(rows.len() == 1
                && text_of(c, "[data-testid=contact-row]")
                    .await?
                    .contains("Ben Carter"))
        })
        .await?;

        // The contact's page shows its timeline.
        click(&client, "[data-testid=contact-row] td").await?;
        let timeline = text_of(&client, "[data-testid=timeline]").await?;
        assert!(
            timeline.contains("Imported from messy.csv (row 3)"),
            "timeline: {timeline}"
        );
        save_screenshot(&xvfb, "contact-detail.png")?;

        click(&client, "[data-testid=nav-contacts]").await?;
        let search = wait_css(&client, "[data-testid=contact-search]").await?;
        // Select all and delete, as a user would (a WebDriver "clear" fires no input event).
        search.send_keys("\u{E009}a\u{E009}").await?;
        search.send_keys("\u{E003}").await?;
        wait_until(&client, "the full list is back", async |c: &Client| {
            Ok(c.find_all(Locator::Css("[data-testid=contact-row]"))
                .await?
                .len()
                == 6)
        })
        .await?;
        let png = save_screenshot(&xvfb, "main-window.png")?;

        // Export writes a CSV of every contact to the Downloads folder and says where.
        click(&client, "[data-testid=export-button]").await?;
        let toast = text_of(&client, "[data-testid=toast]").await?;
        assert!(toast.contains("Exported 6 contacts to"), "toast: {toast}");
        assert!(png.starts_with(b"\x89PNG"));

        // Asha asks not to be called: her number goes on the list, as typed locally.
        click(&client, "[data-testid=nav-dnc]").await?;
        wait_css(&client, "[data-testid=dnc-count]").await?;
        client
            .find(Locator::Css("[data-testid=dnc-number]"))
            .await?
            .send_keys("098123 45678")
            .await?;
        client
            .find(Locator::Css("[data-testid=dnc-reason]"))
            .await?
            .send_keys("Asked on the renewal call")
            .await?;
        click(&client, "[data-testid=dnc-add]").await?;
        wait_until(&client, "the number is listed", async |c: &Client| {
            Ok(text_of(c, "[data-testid=dnc-message]")
                .await?
                .contains("1 contact flagged"))
        })
        .await?;
        let rows = text_of(&client, "[data-testid=dnc-row]").await?;
        assert!(
            rows.contains("+919812345678") && rows.contains("Asked on the renewal call"),
            "{rows}"
        );
        save_screenshot(&xvfb, "do-not-call.png")?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result?;

    // What the UI showed is what the database holds, and what the export holds.
    let store = cuecard_store::Store::open(data.path().join(cuecard_store::DB_FILE_NAME))?;
    assert_eq!(store.contact_count()?, 6);
    let exported: Vec<_> = std::fs::read_dir(data.path().join("Downloads"))?
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(exported.len(), 1);
    let csv = std::fs::read_to_string(exported[0].path())?;
    assert_eq!(csv.lines().count(), 1 + 6, "{csv}");
    assert!(csv.contains("Rao, Asha") && csv.contains("+14155552671"));
    // The do-not-call screen wrote the list and flagged the contact.
    assert!(store.dnc_entry("+919812345678")?.is_some());
    let asha = store
        .query_contacts(&cuecard_store::ContactQuery {
            text: Some("Asha".into()),
            ..Default::default()
        })?
        .contacts;
    assert!(asha[0].fields.do_not_call, "{asha:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_database_is_kept_and_the_app_starts_fresh_on_request() -> Result<()> {
    let Some(app) = prerequisites() else {
        return Ok(());
    };
    let data = tempfile::tempdir()?;
    let garbage = b"not a database at all, but someone's precious file".repeat(40);
    let db_path = data.path().join(cuecard_store::DB_FILE_NAME);
    std::fs::write(&db_path, &garbage)?;
    let xvfb = Xvfb::start()?;
    let driver = TauriDriver::start(&xvfb.display, data.path())?;
    let client = connect(&driver, &app).await?;
    let result = async {
        let message = text_of(&client, "[data-testid=database-unavailable]").await?;
        assert!(
            message.contains("not a readable Cuecard database"),
            "{message}"
        );
        assert_eq!(
            std::fs::read(&db_path)?,
            garbage,
            "the app must not touch the file"
        );
        click(&client, "[data-testid=move-aside-button]").await?;
        wait_css(&client, "[data-testid=contacts-list]").await?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(10), client.close()).await;
    result?;
    let moved: Vec<_> = std::fs::read_dir(data.path())?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".unreadable-"))
        .collect();
    assert_eq!(moved.len(), 1);
    assert_eq!(
        std::fs::read(moved[0].path())?,
        garbage,
        "the old file is kept, byte for byte"
    );
    Ok(())
}
