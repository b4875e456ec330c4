//! Access and refresh tokens.
//!
//! Access tokens are short-lived JWTs (HS256) naming the user, organisation and device;
//! every request still checks that the user and device are active, so a revocation takes
//! effect at once. Refresh tokens are 256-bit random strings, stored only as SHA-256
//! hashes, single use, and chained in families: presenting a used one revokes its family.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The claims of an access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user.
    pub sub: Uuid,
    pub org: Uuid,
    pub device: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub access_ttl_secs: u64,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    pub fn new(secret: &[u8], access_ttl_secs: u64) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            access_ttl_secs,
        }
    }

    pub fn issue(
        &self,
        user: Uuid,
        org: Uuid,
        device: Uuid,
        now_secs: i64,
    ) -> Result<String, String> {
        let claims = Claims {
            sub: user,
            org,
            device,
            iat: now_secs,
            exp: now_secs + self.access_ttl_secs as i64,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| e.to_string())
    }

    /// The claims of a valid, unexpired token signed by us.
    pub fn check(&self, token: &str) -> Result<Claims, String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    "the access token has expired".to_owned()
                }
                _ => "the access token is not valid".to_owned(),
            })
    }
}

/// A new random secret token (refresh tokens, invitations, signing keys).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How a secret token is stored: its SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_only_with_the_right_key_and_in_time() {
        let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef", 900);
        let (user, org, device) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let now = chrono::Utc::now().timestamp();
        let token = keys.issue(user, org, device, now).unwrap_or_default();
        let claims = keys.check(&token).map_err(|e| e.to_string());
        assert_eq!(
            claims.map(|c| (c.sub, c.org, c.device)),
            Ok((user, org, device))
        );

        let other = TokenKeys::new(b"another key another key another!", 900);
        assert!(other.check(&token).is_err());

        let old = keys
            .issue(user, org, device, now - 1000)
            .unwrap_or_default();
        assert_eq!(
            keys.check(&old).err().as_deref(),
            Some("the access token has expired")
        );

        let mut tampered = token.clone();
        tampered.insert(tampered.len() / 2, 'x');
        assert!(keys.check(&tampered).is_err());
        assert!(keys.check("").is_err());
    }

    #[test]
    fn token_hashes_are_stable_and_distinct() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 64);
    }
}
