//! Twilio access tokens: a JWT signed (HS256) with an API key's secret, carrying the
//! identity and a voice grant. The Voice SDKs use them; Cuecard hands them to clients
//! that cannot hold the account's credentials (a browser dialer, a helper process).

use crate::credentials::check_sid;
use crate::error::{Result, TwilioError};
use cuecard_secrets::Secret;
use serde::Serialize;
use std::collections::BTreeMap;

/// Twilio's longest token lifetime: 24 hours.
pub const MAX_TTL_SECS: u64 = 24 * 60 * 60;

/// What a token allows for calls.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VoiceGrant {
    /// Calls to the identity may ring this client.
    pub incoming_allow: bool,
    /// The TwiML App (`AP…`) outgoing calls run, and the parameters it gets.
    pub outgoing_application_sid: Option<String>,
    pub outgoing_params: BTreeMap<String, String>,
}

/// A token to sign.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub account_sid: String,
    pub api_key_sid: String,
    pub api_key_secret: Secret,
    pub identity: String,
    pub ttl_secs: u64,
    pub voice: Option<VoiceGrant>,
}

#[derive(Serialize)]
struct Claims<'a> {
    jti: String,
    iss: &'a str,
    sub: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    grants: Grants<'a>,
}

#[derive(Serialize)]
struct Grants<'a> {
    identity: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    voice: Option<VoiceClaims<'a>>,
}

#[derive(Serialize)]
struct VoiceClaims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    incoming: Option<Incoming>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outgoing: Option<Outgoing<'a>>,
}

#[derive(Serialize)]
struct Incoming {
    allow: bool,
}

#[derive(Serialize)]
struct Outgoing<'a> {
    application_sid: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    params: &'a BTreeMap<String, String>,
}

impl AccessToken {
    /// The signed token, valid from `now` (seconds since the Unix epoch) for its TTL.
    pub fn to_jwt(&self, now: u64) -> Result<String> {
        check_sid("account SID", "AC", &self.account_sid)?;
        check_sid("API key SID", "SK", &self.api_key_sid)?;
        if self.identity.trim().is_empty() {
            return Err(TwilioError::invalid("token identity", "it is empty"));
        }
        if self.ttl_secs == 0 || self.ttl_secs > MAX_TTL_SECS {
            return Err(TwilioError::invalid(
                "token lifetime",
                format!("{} s: Twilio allows 1 s to 24 h", self.ttl_secs),
            ));
        }
        let voice = self.voice.as_ref().map(|v| VoiceClaims {
            incoming: v.incoming_allow.then_some(Incoming { allow: true }),
            outgoing: v
                .outgoing_application_sid
                .as_deref()
                .map(|application_sid| Outgoing {
                    application_sid,
                    params: &v.outgoing_params,
                }),
        });
        let claims = Claims {
            jti: format!("{}-{now}", self.api_key_sid),
            iss: &self.api_key_sid,
            sub: &self.account_sid,
            iat: now,
            nbf: now,
            exp: now + self.ttl_secs,
            grants: Grants {
                identity: &self.identity,
                voice,
            },
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.cty = Some("twilio-fpa;v=1".into());
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(self.api_key_secret.expose().as_bytes()),
        )
        .map_err(|e| TwilioError::invalid("access token", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> AccessToken {
        AccessToken {
            account_sid: format!("AC{}", "a".repeat(32)),
            api_key_sid: format!("SK{}", "b".repeat(32)),
            api_key_secret: Secret::new("key-secret"),
            identity: "rep-asha".into(),
            ttl_secs: 3600,
            voice: Some(VoiceGrant {
                incoming_allow: true,
                outgoing_application_sid: Some(format!("AP{}", "c".repeat(32))),
                outgoing_params: BTreeMap::from([("contact".into(), "42".into())]),
            }),
        }
    }

    #[test]
    fn the_token_verifies_with_the_key_secret_and_carries_the_grant() {
        let jwt = token().to_jwt(1_700_000_000).expect("signed");
        let header = jsonwebtoken::decode_header(&jwt).expect("header");
        assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
        assert_eq!(header.cty.as_deref(), Some("twilio-fpa;v=1"));
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &jwt,
            &jsonwebtoken::DecodingKey::from_secret(b"key-secret"),
            &validation,
        )
        .expect("verifies");
        let c = data.claims;
        assert_eq!(c["iss"], format!("SK{}", "b".repeat(32)));
        assert_eq!(c["sub"], format!("AC{}", "a".repeat(32)));
        assert_eq!(c["jti"], format!("SK{}-1700000000", "b".repeat(32)));
        assert_eq!(c["exp"], 1_700_003_600);
        assert_eq!(c["grants"]["identity"], "rep-asha");
        assert_eq!(c["grants"]["voice"]["incoming"]["allow"], true);
        assert_eq!(
            c["grants"]["voice"]["outgoing"]["application_sid"],
            format!("AP{}", "c".repeat(32))
        );
        assert_eq!(c["grants"]["voice"]["outgoing"]["params"]["contact"], "42");
        // Another secret does not verify it.
        assert!(
            jsonwebtoken::decode::<serde_json::Value>(
                &jwt,
                &jsonwebtoken::DecodingKey::from_secret(b"other"),
                &validation,
            )
            .is_err()
        );
    }

    #[test]
    fn bad_tokens_are_refused_before_signing() {
        let mut t = token();
        t.ttl_secs = MAX_TTL_SECS + 1;
        assert!(t.to_jwt(0).unwrap_err().to_string().contains("24 h"));
        let mut t = token();
        t.identity = " ".into();
        assert!(t.to_jwt(0).is_err());
        let mut t = token();
        t.api_key_sid = "SK1".into();
        assert!(t.to_jwt(0).unwrap_err().to_string().contains("API key SID"));
    }
}
