//! `cuecard models …` with the test set-up's CTranslate2 tiny.en model.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cuecard(models: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .arg("--models-dir")
        .arg(models)
        .args(args)
        .output()
        .expect("run cuecard")
}

fn tiny_ct2() -> PathBuf {
    let dir = std::env::var_os("CUECARD_TEST_ASSETS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/cuecard/test-assets"))
        })
        .expect("HOME")
        .join("tiny.en-ct2");
    assert!(
        dir.join("model.bin").exists(),
        "run scripts/dev.sh deps to fetch the test models"
    );
    dir
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn import_list_and_remove_a_converted_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("models");
    let empty = json(&cuecard(&models, &["models", "list", "--json"]));
    assert_eq!(empty["installed"].as_array().map(Vec::len), Some(0));
    assert!(
        empty["catalog"]
            .as_array()
            .is_some_and(|c| c.iter().any(|e| e["id"] == "base.en"))
    );

    let tiny = tiny_ct2();
    let out = cuecard(
        &models,
        &["models", "import", tiny.to_str().expect("utf-8"), "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let model = json(&out);
    assert_eq!(model["id"], "tiny.en");
    assert_eq!(model["hparams"]["n_vocab"], 51864);

    let listing = json(&cuecard(&models, &["models", "list", "--json"]));
    assert_eq!(listing["installed"][0]["id"], "tiny.en");
    assert!(listing["catalog"].as_array().is_some_and(|c| {
        c.iter()
            .any(|e| e["id"] == "tiny.en" && e["installed"] == true)
    }));
    let text = String::from_utf8_lossy(&cuecard(&models, &["models", "list"]).stdout).to_string();
    assert!(
        text.contains("tiny.en") && text.contains("* installed"),
        "{text}"
    );

    // Importing again under the same name is refused; the installed file is untouched.
    let again = cuecard(
        &models,
        &["models", "import", tiny.to_str().expect("utf-8")],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already installed"));

    // The installed ggml file imports as a copy under another name.
    let ggml = models.join("ggml-tiny.en.bin");
    let copy = cuecard(
        &models,
        &[
            "models",
            "import",
            ggml.to_str().expect("utf-8"),
            "--name",
            "tiny-copy",
        ],
    );
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );

    assert!(
        cuecard(&models, &["models", "remove", "tiny-copy"])
            .status
            .success()
    );
    let gone = cuecard(&models, &["models", "remove", "tiny-copy"]);
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no model named \"tiny-copy\""));
}

#[test]
fn bad_model_files_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("models");
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"<html>rate limited</html>").expect("write");
    let out = cuecard(
        &models,
        &["models", "import", junk.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a ggml whisper model"));
    let out = cuecard(
        &models,
        &[
            "models",
            "import",
            junk.to_str().expect("utf-8"),
            "--name",
            "../escape",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    // Nothing was installed.
    let listing = json(&cuecard(&models, &["models", "list", "--json"]));
    assert_eq!(listing["installed"].as_array().map(Vec::len), Some(0));
}

#[test]
fn downloads_name_unknown_models_and_unreachable_servers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("models");
    let out = cuecard(&models, &["models", "download", "giant"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: tiny.en"));
    // Nothing listens on port 9 of localhost.
    let out = cuecard(
        &models,
        &[
            "models",
            "download",
            "tiny.en",
            "--url",
            "http://127.0.0.1:9/{file}",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("http://127.0.0.1:9/ggml-tiny.en.bin") && stderr.contains("cannot connect"),
        "{stderr}"
    );
}
