//! The secrets round trip through a real Secret Service: a private D-Bus session bus
//! with gnome-keyring-daemon on it, started by the test (apt: dbus, gnome-keyring).

use cuecard_secrets::testing::KeyringDaemon;
use cuecard_secrets::{SecretName, SecretSource, Secrets, SecretsError};
use std::time::{Duration, Instant};

#[test]
fn secrets_round_trip_through_the_secret_service() {
    let daemon = KeyringDaemon::start();
    let secrets = Secrets::with_service("app.cuecard.test");

    assert!(secrets.get(SecretName::DeepgramApiKey).unwrap().is_none());
    secrets
        .set(SecretName::DeepgramApiKey, "  dg-key-123\n")
        .expect("store");
    let (value, source) = secrets.get(SecretName::DeepgramApiKey).unwrap().unwrap();
    assert_eq!(value.expose(), "dg-key-123", "stored trimmed");
    assert_eq!(source, SecretSource::Keychain);
    // Entries are separate per name and per service.
    assert!(secrets.get(SecretName::OpenaiApiKey).unwrap().is_none());
    assert!(
        Secrets::with_service("app.cuecard.other")
            .get(SecretName::DeepgramApiKey)
            .unwrap()
            .is_none()
    );
    // Replacing keeps one entry with the new value.
    secrets
        .set(SecretName::DeepgramApiKey, "dg-key-456")
        .unwrap();
    let (value, _) = secrets.get(SecretName::DeepgramApiKey).unwrap().unwrap();
    assert_eq!(value.expose(), "dg-key-456");

    // Bad values are refused and the stored one survives.
    for bad in ["", "   ", "two words", "line\u{7}bell"] {
        let err = secrets.set(SecretName::DeepgramApiKey, bad).unwrap_err();
        assert!(
            matches!(err, SecretsError::Invalid { .. }),
            "{bad:?}: {err}"
        );
        assert!(err.to_string().contains("Deepgram API key"), "{err}");
    }
    let (value, _) = secrets.get(SecretName::DeepgramApiKey).unwrap().unwrap();
    assert_eq!(value.expose(), "dg-key-456");

    assert!(secrets.delete(SecretName::DeepgramApiKey).unwrap());
    assert!(!secrets.delete(SecretName::DeepgramApiKey).unwrap());
    assert!(secrets.get(SecretName::DeepgramApiKey).unwrap().is_none());
    drop(daemon);
}

#[test]
fn without_a_secret_service_the_error_says_the_keychain_is_unavailable() {
    let _bus = KeyringDaemon::without_keyring();
    let secrets = Secrets::with_service("app.cuecard.test");
    let started = Instant::now();
    let err = secrets
        .set(SecretName::OpenaiApiKey, "sk-1")
        .expect_err("no keychain");
    let text = err.to_string();
    assert!(matches!(err, SecretsError::Unavailable(_)), "{text}");
    assert!(text.contains("keychain is not available"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn the_vendors_environment_variable_overrides_the_keychain() {
    let _daemon = KeyringDaemon::start();
    let secrets = Secrets::new();
    secrets
        .set(SecretName::OpenaiApiKey, "from-keychain")
        .unwrap();
    let (value, source) = secrets.get(SecretName::OpenaiApiKey).unwrap().unwrap();
    assert_eq!(
        (value.expose(), source),
        ("from-keychain", SecretSource::Keychain)
    );
    // SAFETY: one process per test (nextest); no other thread reads the environment.
    unsafe {
        std::env::set_var("OPENAI_API_KEY", "from-env");
    }
    let (value, source) = secrets.get(SecretName::OpenaiApiKey).unwrap().unwrap();
    assert_eq!(
        (value.expose(), source),
        ("from-env", SecretSource::Environment)
    );
    // Deleting removes the keychain entry; the environment still answers.
    assert!(secrets.delete(SecretName::OpenaiApiKey).unwrap());
    assert_eq!(
        secrets.source(SecretName::OpenaiApiKey).unwrap(),
        Some(SecretSource::Environment)
    );
}
