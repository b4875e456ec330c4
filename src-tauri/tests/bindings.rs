//! The UI's TypeScript bindings must match the Rust commands. This test fails when
//! `ui/src/bindings.ts` is stale; `scripts/dev.sh bindings` (which sets
//! `CUECARD_UPDATE_BINDINGS=1`) rewrites it.

use std::path::PathBuf;

#[test]
fn typescript_bindings_are_current() {
    let checked_in = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
    let dir = tempfile::tempdir().expect("temp dir");
    let fresh_path = dir.path().join("bindings.ts");
    cuecard_desktop::export_bindings(&fresh_path).expect("export bindings");
    let fresh = std::fs::read_to_string(&fresh_path).expect("read fresh bindings");
    if std::env::var_os("CUECARD_UPDATE_BINDINGS").is_some() {
        std::fs::write(&checked_in, &fresh).expect("write ui/src/bindings.ts");
        return;
    }
    let current = std::fs::read_to_string(&checked_in).unwrap_or_default();
    assert!(
        current == fresh,
        "ui/src/bindings.ts is stale: run `scripts/dev.sh bindings` and commit the result"
    );
}

#[test]
fn app_identifier_matches_tauri_conf() {
    let conf = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tauri.conf.json"),
    )
    .expect("read tauri.conf.json");
    let conf: serde_json::Value = serde_json::from_str(&conf).expect("tauri.conf.json is JSON");
    assert_eq!(conf["identifier"], cuecard_store::APP_IDENTIFIER);
}
