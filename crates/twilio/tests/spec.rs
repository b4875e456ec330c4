//! The checker the stand-in uses, and the committed cut of Twilio's description.

use cuecard_twilio::standin::openapi::{Spec, subset};
use serde_json::json;
use std::path::PathBuf;

#[test]
fn the_spec_subset_is_cut_from_twilios_description() {
    let full_path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vendor-specs/twilio/twilio_api_v2010.json");
    let committed_path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spec/twilio_api_v2010.subset.json");
    let Ok(full) = std::fs::read_to_string(&full_path) else {
        eprintln!(
            "skipped: Twilio's full description is not at {} (the committed cut is used as is)",
            full_path.display()
        );
        return;
    };
    let full: serde_json::Value = serde_json::from_str(&full).expect("the full description");
    let cut = subset(&full).expect("every path and schema is in the description");
    if std::env::var_os("CUECARD_UPDATE_TWILIO_SPEC").is_some() {
        let text = serde_json::to_string_pretty(&cut).expect("json");
        std::fs::write(&committed_path, text + "\n").expect("write");
    }
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&committed_path).expect("committed"))
            .expect("committed cut");
    assert!(
        committed == cut,
        "spec/twilio_api_v2010.subset.json differs from the cut of Twilio's description; rerun with CUECARD_UPDATE_TWILIO_SPEC=1"
    );
}

#[test]
fn answers_that_stray_from_the_description_are_caught() {
    let spec = Spec::load().expect("spec");
    let op = spec
        .find("/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/SIP/Domains/SD0123456789abcdef0123456789abcdef.json")
        .expect("operation");
    assert_eq!(op.params["Sid"], "SD0123456789abcdef0123456789abcdef");
    let good = json!({
        "sid": "SD0123456789abcdef0123456789abcdef",
        "domain_name": "acme.sip.twilio.com",
        "sip_registration": true,
        "voice_method": "POST",
        "date_created": "Mon, 20 Jul 2015 17:27:10 +0000",
        "voice_url": null,
    });
    assert!(spec.check_response(&op, "GET", 200, Some(&good)).is_empty());
    let bad = json!({
        "sid": "XX0123",
        "sip_registration": "yes",
        "voice_method": "PUT",
        "date_created": "2015-07-20",
        "made_up_field": 1,
    });
    let problems = spec.check_response(&op, "GET", 200, Some(&bad)).join("\n");
    for expected in [
        "body.sid",
        "body.sip_registration",
        "body.voice_method",
        "body.date_created",
        "body.made_up_field",
    ] {
        assert!(problems.contains(expected), "{expected} not in {problems}");
    }
    assert!(
        !spec.check_response(&op, "GET", 201, Some(&good)).is_empty(),
        "undocumented status"
    );
    assert!(
        !spec.check_response(&op, "PUT", 200, Some(&good)).is_empty(),
        "no such operation"
    );
    assert!(spec.find("/2010-04-01/Accounts/AC1/Nothing.json").is_none());
}

#[test]
fn requests_are_checked_field_by_field() {
    let spec = Spec::load().expect("spec");
    let op = spec
        .find("/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Calls.json")
        .expect("operation");
    let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let ok = form(&[
        ("To", "+919812345678"),
        ("From", "+14155550100"),
        ("Url", "https://x.example/t"),
        ("Record", "true"),
    ]);
    assert_eq!(
        spec.check_request(&op, "POST", &[], &ok),
        Vec::<String>::new()
    );
    let problems = spec
        .check_request(
            &op,
            "POST",
            &[],
            &form(&[("To", "+91"), ("Record", "perhaps"), ("Timeout", "soon")]),
        )
        .join("\n");
    for expected in ["From: required", "Record", "Timeout"] {
        assert!(problems.contains(expected), "{expected} not in {problems}");
    }
    let bad_account = spec
        .find("/2010-04-01/Accounts/ACnothex/Calls.json")
        .expect("matches the template");
    assert!(
        !spec.check_request(&bad_account, "GET", &[], &[]).is_empty(),
        "AccountSid pattern"
    );
    let query = form(&[("PageSize", "20"), ("Nonsense", "1")]);
    let problems = spec.check_request(&op, "GET", &query, &[]).join("\n");
    assert!(
        problems.contains("Nonsense") && !problems.contains("PageSize"),
        "{problems}"
    );
}
