//! `X-Twilio-Signature`: how a webhook (the voice URL, a status callback) proves it came
//! from Twilio. Twilio appends each POST parameter's name and value, sorted by name, to
//! the full URL it called, takes the HMAC-SHA1 of that with the account's auth token,
//! and sends it base64-encoded.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio would send for this URL and these POST parameters.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `header` is Twilio's signature of this request. The comparison takes the
/// same time whatever the header holds.
pub fn is_valid(auth_token: &str, url: &str, params: &[(String, String)], header: &str) -> bool {
    let Ok(claimed) = STANDARD.decode(header.trim()) else {
        return false;
    };
    mac(auth_token, url, params).verify_slice(&claimed).is_ok()
}

fn mac(auth_token: &str, url: &str, params: &[(String, String)]) -> HmacSha1 {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = match HmacSha1::new_from_slice(auth_token.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(url.as_bytes());
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in Twilio's webhook security documentation.
    fn documented() -> (String, Vec<(String, String)>) {
        let params = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        ("https://mycompany.com/myapp.php?foo=1&bar=2".into(), params)
    }

    #[test]
    fn twilios_documented_example_signs_and_validates() {
        let (url, params) = documented();
        assert_eq!(
            signature("12345", &url, &params),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert!(is_valid(
            "12345",
            &url,
            &params,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
        // Parameter order on the wire does not matter.
        let mut shuffled = params.clone();
        shuffled.reverse();
        assert!(is_valid(
            "12345",
            &url,
            &shuffled,
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        ));
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let (url, params) = documented();
        let good = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
        assert!(!is_valid("54321", &url, &params, good), "another token");
        assert!(!is_valid(
            "12345",
            "https://mycompany.com/myapp.php?foo=1",
            &params,
            good
        ));
        let mut tampered = params.clone();
        tampered[2].1 = "9999".into();
        assert!(!is_valid("12345", &url, &tampered, good), "a changed digit");
        assert!(
            !is_valid("12345", &url, &params, "not base64!"),
            "garbage header"
        );
        assert!(!is_valid("12345", &url, &params, ""), "no header");
    }
}
