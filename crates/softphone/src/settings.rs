//! The phone settings (Settings → Phone): the SIP login and how to reach the SIP Domain.
//! Stored as JSON (`phone.json` in the app's config directory); the SIP password is not
//! here but in the OS keychain. Missing fields take defaults; a file that is not JSON is
//! an error naming the file and is never overwritten behind the user's back.

use std::path::Path;

use cuecard_sip::phone::PhoneConfig;
use cuecard_sip::sdp::SrtpPolicy;
use cuecard_sip::transport::TransportKind;
use serde::{Deserialize, Serialize};

use crate::{Result, SoftphoneError};

/// Signalling transport, as the settings name it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SipTransport {
    #[default]
    Udp,
    Tcp,
    Tls,
}

/// Media encryption, as the settings name it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MediaEncryption {
    Off,
    /// SRTP when the far end takes it.
    #[default]
    Optional,
    /// SRTP only (Twilio's "Secure Media" on the SIP Domain).
    Required,
}

/// What Settings → Phone edits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct PhoneSettings {
    /// The SIP user name of the rep's login on the Domain's credential list.
    pub user: String,
    /// The SIP Domain, e.g. `acme.sip.twilio.com`.
    pub domain: String,
    /// `host:port` to send to when it is not the domain itself (an edge or a test proxy).
    pub proxy: Option<String>,
    pub transport: SipTransport,
    pub encryption: MediaEncryption,
    /// The caller name shown to the far end.
    pub display_name: Option<String>,
    /// How long a registration lasts before it is refreshed, seconds.
    pub register_expires: u32,
    /// Extra CA certificate (PEM file) to trust for TLS, for a private proxy.
    pub tls_ca_file: Option<String>,
    /// The Twilio account the SIP Domain belongs to, for setting it up (the auth token
    /// is in the keychain).
    pub twilio: TwilioAccount,
}

/// The Twilio account behind the SIP Domain: what "Set up the SIP Domain" uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct TwilioAccount {
    /// `AC…`.
    pub account_sid: Option<String>,
    /// The URL Twilio asks what to do with the app's calls (it answers with TwiML that
    /// dials the number).
    pub voice_url: Option<String>,
    /// The REST API's base URL when it is not `https://api.twilio.com`.
    pub base_url: Option<String>,
}

impl Default for PhoneSettings {
    fn default() -> Self {
        PhoneSettings {
            user: String::new(),
            domain: String::new(),
            proxy: None,
            transport: SipTransport::Tls,
            encryption: MediaEncryption::Required,
            display_name: None,
            register_expires: 600,
            tls_ca_file: None,
            twilio: TwilioAccount::default(),
        }
    }
}

impl PhoneSettings {
    /// Reads the settings; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<PhoneSettings> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(PhoneSettings::default());
            }
            Err(source) => {
                return Err(SoftphoneError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|e| SoftphoneError::Settings {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Writes the settings (through a temporary file, so a crash leaves the old one).
    pub fn save(&self, path: &Path) -> Result<()> {
        let io = |source| SoftphoneError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| SoftphoneError::Settings {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The phone's configuration with the password from the keychain.
    pub fn to_config(&self, password: &str) -> Result<PhoneConfig> {
        if self.user.trim().is_empty() || self.domain.trim().is_empty() {
            return Err(SoftphoneError::NotSetUp(
                "no SIP login yet: set the user and SIP Domain in Settings → Phone (or `cuecard phone setup`)".into(),
            ));
        }
        let mut config = PhoneConfig::new(self.user.trim(), password, self.domain.trim());
        if let Some(proxy) = self
            .proxy
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            config.proxy = proxy.to_string();
        }
        config.transport = match self.transport {
            SipTransport::Udp => TransportKind::Udp,
            SipTransport::Tcp => TransportKind::Tcp,
            SipTransport::Tls => TransportKind::Tls,
        };
        config.srtp = match self.encryption {
            MediaEncryption::Off => SrtpPolicy::Off,
            MediaEncryption::Optional => SrtpPolicy::Optional,
            MediaEncryption::Required => SrtpPolicy::Mandatory,
        };
        config.display_name = self.display_name.clone();
        config.register_expires = self.register_expires.max(60);
        if let Some(file) = &self.tls_ca_file {
            let path = Path::new(file);
            config.tls_ca_pem = Some(std::fs::read(path).map_err(|source| SoftphoneError::Io {
                path: path.to_path_buf(),
                source,
            })?);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_a_broken_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("phone.json");
        assert_eq!(
            PhoneSettings::load(&path).unwrap(),
            PhoneSettings::default()
        );
        let settings = PhoneSettings {
            user: "rep1".into(),
            domain: "acme.sip.twilio.com".into(),
            ..PhoneSettings::default()
        };
        settings.save(&path).unwrap();
        assert_eq!(PhoneSettings::load(&path).unwrap(), settings);
        let config = settings.to_config("Secret-pass-1").unwrap();
        assert_eq!(config.proxy, "acme.sip.twilio.com");
        assert_eq!(config.srtp, SrtpPolicy::Mandatory);

        std::fs::write(&path, "{ not json").unwrap();
        let err = PhoneSettings::load(&path).unwrap_err().to_string();
        assert!(err.contains("phone.json"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{ not json",
            "never overwritten"
        );
        let empty = PhoneSettings::default()
            .to_config("x")
            .unwrap_err()
            .to_string();
        assert!(empty.contains("Settings → Phone"), "{empty}");
    }
}
