//! The commands behind Settings → Phone → Twilio account: "Set up the SIP Domain" finds
//! or creates, over Twilio's REST API, the Domain the app registers to (registration on,
//! the voice URL, secure media when the phone requires it), the credential list with the
//! rep's SIP login, and the mappings that make the Domain ask for it. The account SID,
//! voice URL and API base URL are kept in the phone settings; the auth token goes to the
//! keychain. The work is `cuecard_twilio::setup`; this only gathers its inputs.

use crate::error::CommandError;
use cuecard_secrets::{SecretName, Secrets};
use cuecard_softphone::settings::{MediaEncryption, PhoneSettings, SipTransport, TwilioAccount};
use cuecard_twilio::setup::{SipSetup, ensure_sip_domain};
use cuecard_twilio::{Credentials, DEFAULT_BASE_URL, TwilioClient, TwilioError};
use serde::{Deserialize, Serialize};

type Result<T> = std::result::Result<T, CommandError>;

#[derive(Deserialize, specta::Type)]
pub struct TwilioSetupRequest {
    /// `AC…`.
    pub account_sid: String,
    /// Typed now (saved to the keychain first); `None` uses the saved token.
    pub auth_token: Option<String>,
    pub voice_url: String,
    /// `None`: `https://api.twilio.com`.
    pub base_url: Option<String>,
}

/// What the set-up did.
#[derive(Serialize, specta::Type)]
pub struct TwilioSetupResult {
    /// The Domain's full name (now also the phone's domain).
    pub domain: String,
    /// One line per step: "created …", "… already set".
    pub steps: Vec<String>,
    /// The phone settings as saved.
    pub settings: PhoneSettings,
}

fn twilio_error(error: TwilioError) -> CommandError {
    tracing::warn!(%error, "Twilio set-up failed");
    CommandError::new("twilio", error.to_string())
}

/// Whether a Twilio auth token is saved.
#[tauri::command]
#[specta::specta]
pub async fn twilio_token_saved() -> Result<bool> {
    Ok(matches!(
        Secrets::new().get(SecretName::TwilioAuthToken),
        Ok(Some(_))
    ))
}

/// Sets up the SIP Domain for the saved SIP login (run it again to repair).
#[tauri::command]
#[specta::specta]
pub async fn twilio_setup(request: TwilioSetupRequest) -> Result<TwilioSetupResult> {
    tauri::async_runtime::spawn_blocking(move || setup(request))
        .await
        .map_err(|e| CommandError::new("twilio", e.to_string()))?
}

fn setup(request: TwilioSetupRequest) -> Result<TwilioSetupResult> {
    let path = cuecard_store::phone_settings_path()
        .ok_or_else(|| CommandError::new("invalid", "no config directory on this system"))?;
    let mut settings =
        PhoneSettings::load(&path).map_err(|e| CommandError::new("invalid", e.to_string()))?;
    if settings.user.trim().is_empty() || settings.domain.trim().is_empty() {
        return Err(CommandError::new(
            "not_set_up",
            "save the SIP user name and Domain first: the set-up adds that login to the Domain",
        ));
    }
    let secrets = Secrets::new();
    let password = secrets
        .get(SecretName::SipPassword)?
        .ok_or_else(|| {
            CommandError::new(
                "not_set_up",
                "save the SIP password first: the set-up adds that login to the Domain",
            )
        })?
        .0;
    let voice_url = request.voice_url.trim().to_string();
    let base_url = request
        .base_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    if let Some(token) = request
        .auth_token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        secrets.set(SecretName::TwilioAuthToken, token.trim())?;
    }
    let credentials = Credentials::from_keychain(&secrets, request.account_sid.trim(), None)
        .map_err(twilio_error)?;
    let client = TwilioClient::new(base_url.as_deref().unwrap_or(DEFAULT_BASE_URL), credentials)
        .map_err(twilio_error)?;
    let report = ensure_sip_domain(
        &client,
        &SipSetup {
            domain: settings.domain.clone(),
            voice_url: voice_url.clone(),
            secure: settings.transport == SipTransport::Tls
                && settings.encryption == MediaEncryption::Required,
            username: settings.user.trim().to_string(),
            password: password.expose().to_string(),
        },
    )
    .map_err(twilio_error)?;
    settings.domain = report.domain.domain_name.clone();
    settings.twilio = TwilioAccount {
        account_sid: Some(request.account_sid.trim().to_string()),
        voice_url: Some(voice_url),
        base_url,
    };
    settings
        .save(&path)
        .map_err(|e| CommandError::new("invalid", e.to_string()))?;
    Ok(TwilioSetupResult {
        domain: report.domain.domain_name,
        steps: report.steps,
        settings,
    })
}
