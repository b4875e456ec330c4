//! How the client signs in: the account SID with its auth token, or an API key. The
//! secret halves live in the OS keychain (`cuecard-secrets`) and never in files or logs.

use crate::error::{Result, TwilioError};
use cuecard_secrets::{Secret, SecretName, Secrets};

/// An account and the secret that opens it.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// `AC` and 32 hex digits.
    pub account_sid: String,
    pub auth: Auth,
}

/// The secret half. `Debug` never shows it.
#[derive(Clone, Debug)]
pub enum Auth {
    /// The account's auth token (also what signs webhooks).
    AuthToken(Secret),
    /// An API key (`SK…`) and its secret: what Twilio recommends for apps.
    ApiKey { sid: String, secret: Secret },
}

impl Credentials {
    /// Checks the SIDs' shape, so a typo is caught before a request is made.
    pub fn new(account_sid: &str, auth: Auth) -> Result<Self> {
        check_sid("account SID", "AC", account_sid)?;
        if let Auth::ApiKey { sid, .. } = &auth {
            check_sid("API key SID", "SK", sid)?;
        }
        Ok(Self {
            account_sid: account_sid.trim().to_owned(),
            auth,
        })
    }

    /// The account SID with the secret from the keychain: the API key secret when
    /// `api_key_sid` is given, else the auth token.
    pub fn from_keychain(
        secrets: &Secrets,
        account_sid: &str,
        api_key_sid: Option<&str>,
    ) -> Result<Self> {
        let missing = |name: SecretName| TwilioError::Invalid {
            what: name.label(),
            reason: "not set: add it in Settings → Phone".into(),
        };
        let auth = match api_key_sid {
            Some(sid) => Auth::ApiKey {
                sid: sid.trim().to_owned(),
                secret: secrets
                    .get(SecretName::TwilioApiKeySecret)?
                    .map(|(secret, _)| secret)
                    .ok_or_else(|| missing(SecretName::TwilioApiKeySecret))?,
            },
            None => Auth::AuthToken(
                secrets
                    .get(SecretName::TwilioAuthToken)?
                    .map(|(secret, _)| secret)
                    .ok_or_else(|| missing(SecretName::TwilioAuthToken))?,
            ),
        };
        Self::new(account_sid, auth)
    }

    /// The HTTP Basic user and password.
    pub(crate) fn basic(&self) -> (&str, &str) {
        match &self.auth {
            Auth::AuthToken(token) => (&self.account_sid, token.expose()),
            Auth::ApiKey { sid, secret } => (sid, secret.expose()),
        }
    }
}

/// A Twilio SID: a two-letter prefix and 32 hexadecimal digits.
pub(crate) fn check_sid(what: &'static str, prefix: &str, sid: &str) -> Result<()> {
    let sid = sid.trim();
    let ok = sid.len() == 34
        && sid.starts_with(prefix)
        && sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(TwilioError::invalid(
            what,
            format!("{sid:?} should be {prefix} followed by 32 hexadecimal digits"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_are_checked_before_anything_is_sent() {
        let token = || Auth::AuthToken(Secret::new("t"));
        assert!(Credentials::new(&format!("AC{}", "a".repeat(32)), token()).is_ok());
        let error = Credentials::new("AC123", token()).unwrap_err().to_string();
        assert!(
            error.contains("account SID") && error.contains("AC123"),
            "{error}"
        );
        let error = Credentials::new(
            &format!("AC{}", "a".repeat(32)),
            Auth::ApiKey {
                sid: format!("AC{}", "b".repeat(32)),
                secret: Secret::new("s"),
            },
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("API key SID"), "{error}");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credentials::new(
            &format!("AC{}", "a".repeat(32)),
            Auth::AuthToken(Secret::new("hunter2-token")),
        )
        .expect("valid");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
