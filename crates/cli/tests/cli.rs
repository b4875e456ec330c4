//! The `cuecard` binary end to end: commands, JSON output and exit codes.

use std::path::Path;
use std::process::{Command, Output};

const MESSY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../contacts/tests/fixtures/messy.csv"
);
const LATIN1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../contacts/tests/fixtures/latin1.csv"
);

fn cuecard(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cuecard"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("CUECARD_REGION")
        .output()
        .expect("run cuecard")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn import_list_show_export_round() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("c.db");

    let dry = cuecard(&db, &["contacts", "import", MESSY, "--dry-run", "--json"]);
    assert_eq!(
        dry.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert_eq!(json(&dry)["committed"], false);
    let listed = json(&cuecard(&db, &["contacts", "list", "--json"]));
    assert_eq!(listed["total"], 0, "a dry run writes nothing");

    let out = cuecard(&db, &["contacts", "import", MESSY]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("6 created, 1 merged, 1 unchanged, 4 failed"),
        "{text}"
    );
    assert!(
        text.contains("row 7: invalid phone number \"12345\""),
        "{text}"
    );

    let found = json(&cuecard(
        &db,
        &["contacts", "list", "--search", "globex", "--json"],
    ));
    assert_eq!(found["total"], 1);
    assert_eq!(found["contacts"][0]["name"], "Ben Carter");

    let show = cuecard(&db, &["contacts", "show", "098123 45678"]);
    assert_eq!(show.status.code(), Some(0));
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.starts_with("Rao, Asha"), "{text}");
    assert!(text.contains("Asia/Kolkata"), "{text}");
    assert!(text.contains("Imported from messy.csv (row 2)"), "{text}");

    let export = cuecard(&db, &["contacts", "export"]);
    let csv = String::from_utf8_lossy(&export.stdout);
    assert_eq!(csv.lines().count(), 1 + 6, "{csv}");
    assert!(
        csv.lines()
            .next()
            .unwrap_or_default()
            .starts_with("id,name,company")
    );
}

#[test]
fn dnc_add_check_remove() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("c.db");
    let added = json(&cuecard(
        &db,
        &["dnc", "add", "098123 45678", "--reason", "asked", "--json"],
    ));
    assert_eq!(added["number"], "+919812345678");
    let check = json(&cuecard(
        &db,
        &["dnc", "check", "+91 98123 45678", "--json"],
    ));
    assert_eq!(check["listed"], true);
    assert_eq!(check["entry"]["reason"], "asked");
    // Contacts imported afterwards are flagged.
    cuecard(&db, &["contacts", "import", MESSY]);
    let dnc = json(&cuecard(&db, &["contacts", "list", "--dnc", "--json"]));
    assert_eq!(dnc["total"], 1);
    assert_eq!(dnc["contacts"][0]["name"], "Rao, Asha");
    let removed = json(&cuecard(&db, &["dnc", "remove", "+919812345678", "--json"]));
    assert_eq!(removed["removed"], true);
    assert_eq!(
        json(&cuecard(&db, &["dnc", "check", "+919812345678", "--json"]))["listed"],
        false
    );
}

#[test]
fn errors_exit_1_and_usage_exits_2() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("c.db");
    let bad = cuecard(&db, &["contacts", "import", LATIN1]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("latin1.csv: the file is not UTF-8") && err.contains("line 2"),
        "{err}"
    );
    let ok = cuecard(
        &db,
        &["contacts", "import", LATIN1, "--encoding", "windows-1252"],
    );
    assert_eq!(ok.status.code(), Some(0));

    let json_err = cuecard(&db, &["dnc", "add", "12", "--json"]);
    assert_eq!(json_err.status.code(), Some(1));
    assert!(
        json(&json_err)["error"]
            .as_str()
            .unwrap_or_default()
            .contains("12")
    );

    assert_eq!(
        cuecard(&db, &["contacts", "frobnicate"]).status.code(),
        Some(2)
    );
    assert_eq!(
        cuecard(&db, &["contacts", "list", "--stage", "sideways"])
            .status
            .code(),
        Some(2)
    );
    let missing = cuecard(&db, &["contacts", "show", "nobody@nowhere.com"]);
    assert_eq!(missing.status.code(), Some(1));
    let badmap = cuecard(&db, &["contacts", "import", MESSY, "--map", "Nope=phone"]);
    assert_eq!(badmap.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&badmap.stderr).contains("no column \"Nope\""));
}

#[test]
fn db_path_and_migrate_and_a_corrupt_file() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("c.db");
    let path = cuecard(&db, &["db", "path"]);
    assert_eq!(
        String::from_utf8_lossy(&path.stdout).trim(),
        db.display().to_string()
    );
    let migrate = json(&cuecard(&db, &["db", "migrate", "--json"]));
    assert_eq!(migrate["from_version"], 0);
    assert_eq!(migrate["version"], cuecard_store_latest());

    let corrupt = dir.path().join("bad.db");
    std::fs::write(&corrupt, b"definitely not a database, definitely not").expect("write");
    let out = cuecard(&corrupt, &["contacts", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a readable Cuecard database"));
    assert_eq!(
        std::fs::read(&corrupt).expect("read"),
        b"definitely not a database, definitely not"
    );
}

fn cuecard_store_latest() -> u32 {
    cuecard_store::LATEST_VERSION
}
