//! SDES key exchange for SRTP (RFC 4568): the `a=crypto` attribute's value, with a
//! fresh random master key and salt for our side and a strict parser for the peer's.
//!
//! Supported suites are `AES_CM_128_HMAC_SHA1_80` and `AES_CM_128_HMAC_SHA1_32`. A
//! key lifetime (`|2^31`) is accepted; an MKI (`|1:4`) is refused, because our packets
//! carry none. The keys become an [`SrtpSession`](crate::SrtpSession) via
//! [`SrtpSession::new`](crate::SrtpSession::new).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::RngCore as _;

/// Bytes of an AES-128 master key.
pub const MASTER_KEY_LEN: usize = 16;
/// Bytes of a master salt.
pub const MASTER_SALT_LEN: usize = 14;
/// Bytes of the inline key-salt (key then salt).
pub const KEY_SALT_LEN: usize = MASTER_KEY_LEN + MASTER_SALT_LEN;

/// An SRTP crypto suite we can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpSuite {
    /// AES-128 counter mode, HMAC-SHA1 with an 80-bit tag (the common default).
    AesCm128HmacSha1_80,
    /// AES-128 counter mode, HMAC-SHA1 with a 32-bit SRTP tag (SRTCP keeps 80 bits).
    AesCm128HmacSha1_32,
}

impl SrtpSuite {
    /// Every suite we accept, our preference first.
    pub const ALL: [SrtpSuite; 2] = [
        SrtpSuite::AesCm128HmacSha1_80,
        SrtpSuite::AesCm128HmacSha1_32,
    ];

    /// The suite's name in the `a=crypto` attribute.
    pub fn name(self) -> &'static str {
        match self {
            SrtpSuite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            SrtpSuite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    /// The suite with this attribute name (exact, as RFC 4568 registers them).
    pub fn from_name(name: &str) -> Option<SrtpSuite> {
        SrtpSuite::ALL.into_iter().find(|s| s.name() == name)
    }

    pub(crate) fn protection_profile(self) -> srtp::protection_profile::ProtectionProfile {
        use srtp::protection_profile::ProtectionProfile;
        match self {
            SrtpSuite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            SrtpSuite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        }
    }
}

impl std::fmt::Display for SrtpSuite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What was wrong with an `a=crypto` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdesError {
    #[error("crypto attribute is missing its {0}")]
    Missing(&'static str),
    #[error("crypto attribute tag {0:?} is not a number of 1 to 9 digits")]
    BadTag(String),
    #[error("crypto suite {0:?} is not supported (we speak AES_CM_128_HMAC_SHA1_80 and _32)")]
    UnsupportedSuite(String),
    #[error("key method {0:?} is not supported (only inline:)")]
    UnsupportedKeyMethod(String),
    #[error("inline key is not valid base64")]
    BadBase64,
    #[error("inline key-salt is {0} bytes; the suite needs {KEY_SALT_LEN}")]
    BadKeyLength(usize),
    #[error("key lifetime {0:?} is not a number or a power of two (2^n)")]
    BadLifetime(String),
    #[error("the key carries an MKI ({0:?}), which this engine does not support")]
    MkiUnsupported(String),
    #[error(
        "more than one key in one crypto attribute needs MKIs, which this engine does not support"
    )]
    MultipleKeys,
    #[error("session parameter {0:?} is not supported")]
    UnsupportedSessionParam(String),
}

/// One side's SRTP master key and salt, with the attribute tag and suite that carry it.
///
/// `Debug` shows the tag and suite only: the key never reaches a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct SdesKey {
    tag: u32,
    suite: SrtpSuite,
    key_salt: [u8; KEY_SALT_LEN],
    lifetime: Option<u64>,
}

impl SdesKey {
    /// A fresh random master key and salt from the thread's cryptographic RNG.
    pub fn generate(tag: u32, suite: SrtpSuite) -> SdesKey {
        let mut key_salt = [0u8; KEY_SALT_LEN];
        rand::rng().fill_bytes(&mut key_salt);
        SdesKey {
            tag,
            suite,
            key_salt,
            lifetime: None,
        }
    }

    /// A key from known material (tests, or keys stored elsewhere).
    pub fn from_parts(
        tag: u32,
        suite: SrtpSuite,
        master_key: [u8; MASTER_KEY_LEN],
        master_salt: [u8; MASTER_SALT_LEN],
    ) -> SdesKey {
        let mut key_salt = [0u8; KEY_SALT_LEN];
        key_salt[..MASTER_KEY_LEN].copy_from_slice(&master_key);
        key_salt[MASTER_KEY_LEN..].copy_from_slice(&master_salt);
        SdesKey {
            tag,
            suite,
            key_salt,
            lifetime: None,
        }
    }

    /// The attribute's tag, which the answer must echo.
    pub fn tag(&self) -> u32 {
        self.tag
    }

    pub fn suite(&self) -> SrtpSuite {
        self.suite
    }

    pub fn master_key(&self) -> &[u8] {
        &self.key_salt[..MASTER_KEY_LEN]
    }

    pub fn master_salt(&self) -> &[u8] {
        &self.key_salt[MASTER_KEY_LEN..]
    }

    /// The key lifetime in packets, if the attribute gave one.
    pub fn lifetime(&self) -> Option<u64> {
        self.lifetime
    }

    /// The same key under another tag (an answer echoes the offer's tag).
    pub fn with_tag(mut self, tag: u32) -> SdesKey {
        self.tag = tag;
        self
    }

    /// The value of an `a=crypto:` line: `1 AES_CM_128_HMAC_SHA1_80 inline:<base64>`.
    pub fn to_attribute_value(&self) -> String {
        format!(
            "{} {} inline:{}",
            self.tag,
            self.suite.name(),
            BASE64.encode(self.key_salt)
        )
    }

    /// Parses the value of an `a=crypto:` line. A leading `a=crypto:` or `crypto:` is
    /// tolerated.
    pub fn parse(value: &str) -> Result<SdesKey, SdesError> {
        let value = value.trim();
        let value = value
            .strip_prefix("a=crypto:")
            .or_else(|| value.strip_prefix("crypto:"))
            .unwrap_or(value);
        let mut fields = value.split_ascii_whitespace();

        let tag_text = fields.next().ok_or(SdesError::Missing("tag"))?;
        let tag = parse_tag(tag_text)?;

        let suite_text = fields.next().ok_or(SdesError::Missing("crypto suite"))?;
        let suite = SrtpSuite::from_name(suite_text)
            .ok_or_else(|| SdesError::UnsupportedSuite(suite_text.to_owned()))?;

        let key_params = fields.next().ok_or(SdesError::Missing("key parameters"))?;
        if key_params.contains(';') {
            return Err(SdesError::MultipleKeys);
        }
        let (key_salt, lifetime) = parse_key_param(key_params)?;

        if let Some(param) = fields.find(|p| !is_harmless_session_param(p)) {
            return Err(SdesError::UnsupportedSessionParam(param.to_owned()));
        }

        Ok(SdesKey {
            tag,
            suite,
            key_salt,
            lifetime,
        })
    }
}

impl std::fmt::Debug for SdesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdesKey")
            .field("tag", &self.tag)
            .field("suite", &self.suite)
            .field("key_salt", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl std::str::FromStr for SdesKey {
    type Err = SdesError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SdesKey::parse(s)
    }
}

fn parse_tag(text: &str) -> Result<u32, SdesError> {
    let valid = (1..=9).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    if !valid {
        return Err(SdesError::BadTag(text.to_owned()));
    }
    text.parse().map_err(|_| SdesError::BadTag(text.to_owned()))
}

/// `inline:<key||salt base64>[|lifetime][|mki:length]`
fn parse_key_param(param: &str) -> Result<([u8; KEY_SALT_LEN], Option<u64>), SdesError> {
    let Some(info) = param.strip_prefix("inline:") else {
        let method = param.split(':').next().unwrap_or(param);
        return Err(SdesError::UnsupportedKeyMethod(method.to_owned()));
    };
    let mut parts = info.split('|');
    let encoded = parts.next().unwrap_or_default();
    let decoded = BASE64.decode(encoded).map_err(|_| SdesError::BadBase64)?;
    let key_salt: [u8; KEY_SALT_LEN] = decoded
        .as_slice()
        .try_into()
        .map_err(|_| SdesError::BadKeyLength(decoded.len()))?;

    let mut lifetime = None;
    for part in parts {
        if part.contains(':') {
            return Err(SdesError::MkiUnsupported(part.to_owned()));
        }
        if lifetime.is_some() {
            return Err(SdesError::BadLifetime(part.to_owned()));
        }
        lifetime = Some(parse_lifetime(part)?);
    }
    Ok((key_salt, lifetime))
}

fn parse_lifetime(text: &str) -> Result<u64, SdesError> {
    let bad = || SdesError::BadLifetime(text.to_owned());
    if let Some(exponent) = text.strip_prefix("2^") {
        let exponent: u32 = exponent.parse().map_err(|_| bad())?;
        // SRTP allows at most 2^48 packets under one key.
        if exponent > 48 {
            return Err(bad());
        }
        Ok(1u64 << exponent)
    } else {
        text.parse().map_err(|_| bad())
    }
}

/// Session parameters that do not change how packets are protected. Anything that
/// would (`UNENCRYPTED_SRTP`, `KDR=`, `WSH=`, …) is refused, as RFC 4568 asks of a
/// parameter an endpoint cannot honour.
fn is_harmless_session_param(param: &str) -> bool {
    param.starts_with("FEC_ORDER=") || param == "KDR=0"
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str =
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20";

    #[test]
    fn parses_rfc_4568_example_with_lifetime() {
        let key = SdesKey::parse(EXAMPLE).unwrap();
        assert_eq!(key.tag(), 1);
        assert_eq!(key.suite(), SrtpSuite::AesCm128HmacSha1_80);
        assert_eq!(key.lifetime(), Some(1 << 20));
        assert_eq!(key.master_key().len(), 16);
        assert_eq!(key.master_salt().len(), 14);
        assert_eq!(&key.master_key()[..4], b"=-n@");
    }

    #[test]
    fn formats_and_parses_back() {
        for suite in SrtpSuite::ALL {
            let key = SdesKey::generate(7, suite);
            let value = key.to_attribute_value();
            assert!(
                value.starts_with(&format!("7 {} inline:", suite.name())),
                "{value}"
            );
            assert_eq!(SdesKey::parse(&value).unwrap(), key);
            assert_eq!(SdesKey::parse(&format!("a=crypto:{value}")).unwrap(), key);
        }
    }

    #[test]
    fn generated_keys_differ() {
        let a = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_80);
        let b = SdesKey::generate(1, SrtpSuite::AesCm128HmacSha1_80);
        assert_ne!(a.master_key(), b.master_key());
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let key = SdesKey::parse(EXAMPLE).unwrap();
        let shown = format!("{key:?}");
        assert!(
            !shown.contains("PS1u") && shown.contains("redacted"),
            "{shown}"
        );
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        let key = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let cases = [
            ("", SdesError::Missing("tag")),
            ("1", SdesError::Missing("crypto suite")),
            (
                "1 AES_CM_128_HMAC_SHA1_80",
                SdesError::Missing("key parameters"),
            ),
            (
                "x AES_CM_128_HMAC_SHA1_80 inline:",
                SdesError::BadTag("x".into()),
            ),
            (
                "1234567890 AES_CM_128_HMAC_SHA1_80 inline:",
                SdesError::BadTag("1234567890".into()),
            ),
            (
                "1 F8_128_HMAC_SHA1_80 inline:",
                SdesError::UnsupportedSuite("F8_128_HMAC_SHA1_80".into()),
            ),
            (
                "1 AES_CM_128_HMAC_SHA1_80 uri:http://x",
                SdesError::UnsupportedKeyMethod("uri".into()),
            ),
            (
                "1 AES_CM_128_HMAC_SHA1_80 inline:!!!!",
                SdesError::BadBase64,
            ),
            (
                "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA",
                SdesError::BadKeyLength(3),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(SdesKey::parse(value), Err(expected), "{value:?}");
        }
        let with_mki = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{key}|2^31|1:1");
        assert_eq!(
            SdesKey::parse(&with_mki),
            Err(SdesError::MkiUnsupported("1:1".into()))
        );
        let two_keys = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{key}|1:4;inline:{key}|2:4");
        assert_eq!(SdesKey::parse(&two_keys), Err(SdesError::MultipleKeys));
        let unencrypted = format!("1 AES_CM_128_HMAC_SHA1_32 inline:{key} UNENCRYPTED_SRTP");
        assert_eq!(
            SdesKey::parse(&unencrypted),
            Err(SdesError::UnsupportedSessionParam(
                "UNENCRYPTED_SRTP".into()
            ))
        );
        let lifetime = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{key}|2^99");
        assert_eq!(
            SdesKey::parse(&lifetime),
            Err(SdesError::BadLifetime("2^99".into()))
        );
        // Error messages say what was wrong.
        assert!(
            SdesError::MkiUnsupported("1:1".into())
                .to_string()
                .contains("MKI")
        );
    }

    #[test]
    fn accepts_decimal_lifetime_and_harmless_params() {
        let key = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let value =
            format!("12 AES_CM_128_HMAC_SHA1_32 inline:{key}|1048576 KDR=0 FEC_ORDER=FEC_SRTP");
        let parsed = SdesKey::parse(&value).unwrap();
        assert_eq!(parsed.tag(), 12);
        assert_eq!(parsed.suite(), SrtpSuite::AesCm128HmacSha1_32);
        assert_eq!(parsed.lifetime(), Some(1_048_576));
    }
}
