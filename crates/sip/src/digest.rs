//! Digest authentication answers (RFC 3261 §22, RFC 7616, RFC 8760): read a
//! `WWW-Authenticate`/`Proxy-Authenticate` challenge and write the `Authorization` that
//! answers it. MD5 and SHA-256, their `-sess` forms, `qop=auth` (and `auth-int`), and a
//! nonce count per nonce so a reused nonce is never answered twice with the same `nc`.

use std::collections::HashMap;

use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::error::{Result, SipError};

/// The hash a challenge asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(text: &str) -> Result<Algorithm> {
        match text.to_ascii_uppercase().as_str() {
            "MD5" => Ok(Algorithm::Md5),
            "MD5-SESS" => Ok(Algorithm::Md5Sess),
            "SHA-256" => Ok(Algorithm::Sha256),
            "SHA-256-SESS" => Ok(Algorithm::Sha256Sess),
            other => Err(SipError::Challenge(format!(
                "unsupported algorithm {other:?} (MD5 and SHA-256 are)"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => {
                hex::encode(Sha256::digest(data.as_bytes()))
            }
        }
    }

    fn hash_bytes(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hex::encode(Sha256::digest(data)),
        }
    }

    fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Stronger first, for picking among several challenges (RFC 8760 §2.4).
    fn strength(self) -> u8 {
        match self {
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
        }
    }
}

/// The quality of protection chosen for an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qop {
    Auth,
    AuthInt,
}

/// One parsed `Digest` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// The qop values offered; empty for an RFC 2069 challenge.
    pub qop: Vec<String>,
    /// The server says the nonce expired but the credentials were fine.
    pub stale: bool,
}

impl Challenge {
    pub fn parse(text: &str) -> Result<Challenge> {
        let text = text.trim();
        let (scheme, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(SipError::Challenge(format!(
                "unsupported scheme {scheme:?}"
            )));
        }
        let params = auth_params(rest)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let realm = get("realm").ok_or_else(|| SipError::Challenge("no realm".into()))?;
        let nonce = get("nonce").ok_or_else(|| SipError::Challenge("no nonce".into()))?;
        let algorithm = match get("algorithm") {
            Some(a) => Algorithm::parse(&a)?,
            None => Algorithm::Md5,
        };
        let qop = get("qop")
            .map(|q| {
                q.split(',')
                    .map(|v| v.trim().to_ascii_lowercase())
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let stale = get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true"));
        Ok(Challenge {
            realm,
            nonce,
            opaque: get("opaque"),
            algorithm,
            qop,
            stale,
        })
    }

    /// Of several challenges (one per header line), the one to answer: the strongest
    /// algorithm we support. Lines we cannot parse are skipped; none usable is an error.
    pub fn pick<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Challenge> {
        let mut best: Option<Challenge> = None;
        let mut last_error = None;
        for line in lines {
            match Challenge::parse(line) {
                Ok(c) => {
                    if best
                        .as_ref()
                        .is_none_or(|b| c.algorithm.strength() > b.algorithm.strength())
                    {
                        best = Some(c);
                    }
                }
                Err(e) => last_error = Some(e),
            }
        }
        best.ok_or_else(|| {
            last_error.unwrap_or_else(|| SipError::Challenge("no challenge in the answer".into()))
        })
    }

    fn chosen_qop(&self) -> Result<Option<Qop>> {
        if self.qop.is_empty() {
            return Ok(None);
        }
        if self.qop.iter().any(|q| q == "auth") {
            return Ok(Some(Qop::Auth));
        }
        if self.qop.iter().any(|q| q == "auth-int") {
            return Ok(Some(Qop::AuthInt));
        }
        Err(SipError::Challenge(format!(
            "no supported qop in {:?}",
            self.qop
        )))
    }
}

/// `name=value, name="quoted, value"` pairs.
fn auth_params(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (name, after) = rest.split_once('=').ok_or_else(|| {
            SipError::Challenge(format!(
                "bad parameter near {:?}",
                rest.chars().take(30).collect::<String>()
            ))
        })?;
        let after = after.trim_start();
        let (value, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut escaped = false;
            let mut end = None;
            for (i, c) in quoted.char_indices() {
                if escaped {
                    value.push(c);
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    end = Some(i);
                    break;
                } else {
                    value.push(c);
                }
            }
            let end = end.ok_or_else(|| SipError::Challenge("unclosed quoted value".into()))?;
            (value, &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.push((name.trim().to_string(), value));
        let remaining = remaining.trim_start();
        rest = match remaining.strip_prefix(',') {
            Some(r) => r.trim_start(),
            None if remaining.is_empty() => remaining,
            None => {
                return Err(SipError::Challenge(format!(
                    "junk after {:?}",
                    out.last().map(|p| &p.0)
                )));
            }
        };
    }
    Ok(out)
}

/// A SIP login that answers challenges, counting nonce uses.
#[derive(Debug)]
pub struct DigestClient {
    username: String,
    password: String,
    counts: HashMap<String, u32>,
}

/// What to sign: the request's method, Request-URI and body.
pub struct Signed<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub body: &'a [u8],
}

impl DigestClient {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        DigestClient {
            username: username.into(),
            password: password.into(),
            counts: HashMap::new(),
        }
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// The header value answering `challenge` for `request`, with a fresh client nonce.
    pub fn authorize(&mut self, challenge: &Challenge, request: Signed<'_>) -> Result<String> {
        let mut cnonce = [0u8; 12];
        getrandom::fill(&mut cnonce)
            .map_err(|e| SipError::Challenge(format!("no randomness: {e}")))?;
        self.authorize_with(challenge, request, &hex::encode(cnonce))
    }

    /// [`Self::authorize`] with a given client nonce (for test vectors).
    pub fn authorize_with(
        &mut self,
        challenge: &Challenge,
        request: Signed<'_>,
        cnonce: &str,
    ) -> Result<String> {
        let alg = challenge.algorithm;
        let qop = challenge.chosen_qop()?;
        let count = self.counts.entry(challenge.nonce.clone()).or_insert(0);
        *count += 1;
        let nc = format!("{count:08x}");
        let mut ha1 = alg.hash(&format!(
            "{}:{}:{}",
            self.username, challenge.realm, self.password
        ));
        if alg.is_session() {
            ha1 = alg.hash(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
        }
        let ha2 = match qop {
            Some(Qop::AuthInt) => alg.hash(&format!(
                "{}:{}:{}",
                request.method,
                request.uri,
                alg.hash_bytes(request.body)
            )),
            _ => alg.hash(&format!("{}:{}", request.method, request.uri)),
        };
        let response = match qop {
            Some(q) => {
                let q = if q == Qop::Auth { "auth" } else { "auth-int" };
                alg.hash(&format!(
                    "{ha1}:{}:{nc}:{cnonce}:{q}:{ha2}",
                    challenge.nonce
                ))
            }
            None => alg.hash(&format!("{ha1}:{}:{ha2}", challenge.nonce)),
        };
        let mut header = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
            quote(&self.username),
            quote(&challenge.realm),
            quote(&challenge.nonce),
            request.uri,
            alg.name()
        );
        if let Some(q) = qop {
            let q = if q == Qop::Auth { "auth" } else { "auth-int" };
            header.push_str(&format!(", cnonce=\"{cnonce}\", qop={q}, nc={nc}"));
        }
        if let Some(opaque) = &challenge.opaque {
            header.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
        }
        Ok(header)
    }
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field<'a>(header: &'a str, name: &str) -> &'a str {
        let start = header.find(&format!("{name}=")).unwrap() + name.len() + 1;
        let rest = &header[start..];
        let rest = rest.strip_prefix('"').unwrap_or(rest);
        &rest[..rest.find(['"', ',']).unwrap_or(rest.len())]
    }

    /// RFC 7616 §3.9.1, both algorithms (the method and URI are HTTP's; the maths is the same).
    #[test]
    fn rfc_7616_examples() {
        for (alg, expected) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let challenge = Challenge::parse(&format!(
                "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={alg}, \
                 nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                 opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
            ))
            .unwrap();
            let mut client = DigestClient::new("Mufasa", "Circle of Life");
            let header = client
                .authorize_with(
                    &challenge,
                    Signed {
                        method: "GET",
                        uri: "/dir/index.html",
                        body: b"",
                    },
                    "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                )
                .unwrap();
            assert_eq!(field(&header, "response"), expected, "{alg}");
            assert_eq!(field(&header, "nc"), "00000001");
            assert_eq!(field(&header, "qop"), "auth");
            assert_eq!(
                field(&header, "opaque"),
                "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
            );
        }
    }

    #[test]
    fn a_reused_nonce_counts_up_and_a_new_one_starts_again() {
        let mut client = DigestClient::new("alice", "pw");
        let c = Challenge::parse(r#"Digest realm="r", nonce="n1", qop="auth""#).unwrap();
        let sign = || Signed {
            method: "REGISTER",
            uri: "sip:r",
            body: b"",
        };
        let first = client.authorize(&c, sign()).unwrap();
        let second = client.authorize(&c, sign()).unwrap();
        assert_eq!(field(&first, "nc"), "00000001");
        assert_eq!(field(&second, "nc"), "00000002");
        assert_ne!(field(&first, "cnonce"), field(&second, "cnonce"));
        let fresh = Challenge {
            nonce: "n2".into(),
            ..c
        };
        assert_eq!(
            field(&client.authorize(&fresh, sign()).unwrap(), "nc"),
            "00000001"
        );
    }

    #[test]
    fn session_variant_and_rfc2069_and_auth_int() {
        // HA1 for -sess folds in the nonces; checked against the formula written out.
        let c = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth", algorithm=MD5-sess"#)
            .unwrap();
        let mut client = DigestClient::new("u", "p");
        let header = client
            .authorize_with(
                &c,
                Signed {
                    method: "INVITE",
                    uri: "sip:x",
                    body: b"",
                },
                "c",
            )
            .unwrap();
        let h = |s: &str| hex::encode(Md5::digest(s.as_bytes()));
        let ha1 = h(&format!("{}:n:c", h("u:r:p")));
        let expected = h(&format!("{ha1}:n:00000001:c:auth:{}", h("INVITE:sip:x")));
        assert_eq!(field(&header, "response"), expected);
        assert_eq!(field(&header, "algorithm"), "MD5-sess");

        let old = Challenge::parse(r#"Digest realm="r", nonce="n""#).unwrap();
        let header = client
            .authorize_with(
                &old,
                Signed {
                    method: "BYE",
                    uri: "sip:x",
                    body: b"",
                },
                "c",
            )
            .unwrap();
        assert_eq!(
            field(&header, "response"),
            h(&format!("{}:n:{}", h("u:r:p"), h("BYE:sip:x")))
        );
        assert!(!header.contains("qop"), "no qop offered, none answered");

        let int = Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-int""#).unwrap();
        let header = client
            .authorize_with(
                &int,
                Signed {
                    method: "INVITE",
                    uri: "sip:x",
                    body: b"v=0",
                },
                "c",
            )
            .unwrap();
        let ha2 = h(&format!("INVITE:sip:x:{}", h("v=0")));
        assert_eq!(
            field(&header, "response"),
            // The third answer to nonce "n" from this client: nc counts on.
            h(&format!("{}:n:00000003:c:auth-int:{ha2}", h("u:r:p")))
        );
    }

    #[test]
    fn the_strongest_challenge_is_answered_and_bad_ones_are_named() {
        let picked = Challenge::pick([
            r#"Digest realm="r", nonce="a", algorithm=MD5"#,
            r#"Digest realm="r", nonce="b", algorithm=SHA-256"#,
            r#"Digest realm="r", nonce="c", algorithm=SHA-512-256"#,
        ])
        .unwrap();
        assert_eq!(picked.algorithm, Algorithm::Sha256);
        for (bad, says) in [
            ("Basic realm=\"r\"", "scheme"),
            ("Digest nonce=\"n\"", "realm"),
            ("Digest realm=\"r\"", "nonce"),
            (
                "Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256",
                "SHA-512-256",
            ),
            ("Digest realm=\"r, nonce=n", "unclosed"),
            ("Digest realm", "bad parameter"),
        ] {
            assert!(
                Challenge::parse(bad)
                    .unwrap_err()
                    .to_string()
                    .contains(says),
                "{bad}"
            );
        }
        let only_int_unknown =
            Challenge::parse(r#"Digest realm="r", nonce="n", qop="auth-conf""#).unwrap();
        let mut client = DigestClient::new("u", "p");
        assert!(
            client
                .authorize(
                    &only_int_unknown,
                    Signed {
                        method: "X",
                        uri: "y",
                        body: b""
                    }
                )
                .is_err()
        );
    }
}
