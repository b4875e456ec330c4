//! The account set-up a rep (or their admin) runs once from Settings → Phone: find or
//! create the SIP Domain the app registers to, with registration on and the voice URL
//! that turns the app's calls into PSTN calls; the credential list with the rep's SIP
//! login; and the two mappings that make the Domain ask for it on REGISTER and on
//! INVITE. Running it again changes only what differs, so it doubles as a repair.

use crate::client::TwilioClient;
use crate::error::{Result, TwilioError};
use crate::sip::{CredentialList, MappingKind, NewSipDomain, SipDomain};

/// The Domain suffix Twilio requires.
pub const DOMAIN_SUFFIX: &str = ".sip.twilio.com";

/// The credential list the app creates and keeps its logins in.
pub const CREDENTIAL_LIST_NAME: &str = "Cuecard";

/// What to set up.
#[derive(Clone, Debug)]
pub struct SipSetup {
    /// The Domain: `acme` or `acme.sip.twilio.com`.
    pub domain: String,
    /// The URL Twilio asks what to do with the app's calls (it answers with
    /// [`crate::twiml::dial`]).
    pub voice_url: String,
    /// Require TLS and SRTP (Twilio's "secure media").
    pub secure: bool,
    pub username: String,
    pub password: String,
}

/// What the set-up found and did.
#[derive(Clone, Debug)]
pub struct SetupReport {
    pub domain: SipDomain,
    pub credential_list: CredentialList,
    /// One line per step: "created …", "… already set".
    pub steps: Vec<String>,
}

/// Finds or creates everything in [`SipSetup`]; see the module documentation.
pub fn ensure_sip_domain(client: &TwilioClient, setup: &SipSetup) -> Result<SetupReport> {
    let domain_name = full_domain_name(&setup.domain)?;
    check_username(&setup.username)?;
    check_password(&setup.password)?;
    check_voice_url(&setup.voice_url)?;
    let mut steps = Vec::new();

    let existing = client
        .sip_domains()?
        .into_iter()
        .find(|d| d.domain_name.eq_ignore_ascii_case(&domain_name));
    let domain = match existing {
        None => {
            let domain = client.create_sip_domain(&NewSipDomain {
                domain_name: domain_name.clone(),
                friendly_name: "Cuecard".into(),
                voice_url: setup.voice_url.clone(),
                secure: setup.secure,
            })?;
            steps.push(format!("created the SIP Domain {domain_name}"));
            domain
        }
        Some(domain)
            if domain.voice_url.as_deref() == Some(setup.voice_url.as_str())
                && domain.voice_method.as_deref().unwrap_or("POST") == "POST"
                && domain.sip_registration == Some(true)
                && domain.secure == Some(setup.secure) =>
        {
            steps.push(format!("the SIP Domain {domain_name} is already set"));
            domain
        }
        Some(domain) => {
            let updated = client.update_sip_domain(&domain.sid, &setup.voice_url, setup.secure)?;
            steps.push(format!(
                "updated the SIP Domain {domain_name}: registration on, voice URL, secure media {}",
                if setup.secure { "on" } else { "off" }
            ));
            updated
        }
    };

    let list = match client
        .credential_lists()?
        .into_iter()
        .find(|l| l.friendly_name.as_deref() == Some(CREDENTIAL_LIST_NAME))
    {
        Some(list) => {
            steps.push(format!(
                "the credential list {CREDENTIAL_LIST_NAME:?} exists"
            ));
            list
        }
        None => {
            let list = client.create_credential_list(CREDENTIAL_LIST_NAME)?;
            steps.push(format!(
                "created the credential list {CREDENTIAL_LIST_NAME:?}"
            ));
            list
        }
    };

    match client
        .credentials(&list.sid)?
        .into_iter()
        .find(|c| c.username == setup.username)
    {
        // Twilio never reveals a stored password, so an existing login gets this one.
        Some(login) => {
            client.update_credential_password(&list.sid, &login.sid, &setup.password)?;
            steps.push(format!(
                "set the password of the SIP login {}",
                setup.username
            ));
        }
        None => {
            client.create_credential(&list.sid, &setup.username, &setup.password)?;
            steps.push(format!("added the SIP login {}", setup.username));
        }
    }

    for (kind, label) in [
        (MappingKind::Registrations, "registrations"),
        (MappingKind::Calls, "calls"),
    ] {
        let mapped = client
            .credential_list_mappings(&domain.sid, kind)?
            .iter()
            .any(|m| m.sid == list.sid);
        if mapped {
            steps.push(format!("the Domain already asks for the list on {label}"));
        } else {
            client.map_credential_list(&domain.sid, kind, &list.sid)?;
            steps.push(format!("the Domain now asks for the list on {label}"));
        }
    }
    tracing::info!(domain = %domain.domain_name, ?steps, "SIP Domain set up");
    Ok(SetupReport {
        domain,
        credential_list: list,
        steps,
    })
}

/// `acme` → `acme.sip.twilio.com`; the name Twilio accepts: letters, digits and `-`.
pub fn full_domain_name(domain: &str) -> Result<String> {
    let domain = domain.trim().to_ascii_lowercase();
    let label = domain.strip_suffix(DOMAIN_SUFFIX).unwrap_or(&domain);
    let valid = !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if valid {
        Ok(format!("{label}{DOMAIN_SUFFIX}"))
    } else {
        Err(TwilioError::invalid(
            "SIP Domain name",
            format!("{domain:?}: use letters, digits and \"-\" (e.g. acme-sales)"),
        ))
    }
}

/// SIP usernames: up to 32 characters (Twilio's limit) of letters, digits and `-_.+`,
/// which every SIP URI carries without escaping.
fn check_username(username: &str) -> Result<()> {
    let ok = !username.is_empty()
        && username.len() <= 32
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(TwilioError::invalid(
            "SIP username",
            format!("{username:?}: up to 32 letters, digits, '-', '_', '.' or '+'"),
        ))
    }
}

/// Twilio's rule for SIP passwords: at least 12 characters with an upper-case letter, a
/// lower-case letter and a digit.
fn check_password(password: &str) -> Result<()> {
    let ok = password.chars().count() >= 12
        && password.chars().any(|c| c.is_ascii_uppercase())
        && password.chars().any(|c| c.is_ascii_lowercase())
        && password.chars().any(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(TwilioError::invalid(
            "SIP password",
            "Twilio needs at least 12 characters with an upper-case letter, a lower-case letter and a digit",
        ))
    }
}

fn check_voice_url(url: &str) -> Result<()> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
        _ => Err(TwilioError::invalid(
            "voice URL",
            format!("{url:?} is not an http(s) URL Twilio can call"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names_get_the_suffix_and_bad_ones_are_refused() {
        assert_eq!(
            full_domain_name("Acme-Sales").unwrap(),
            "acme-sales.sip.twilio.com"
        );
        assert_eq!(
            full_domain_name("acme.sip.twilio.com").unwrap(),
            "acme.sip.twilio.com"
        );
        for bad in ["", "-acme", "acme_sales", "a b", ".sip.twilio.com"] {
            assert!(full_domain_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn weak_passwords_and_odd_usernames_are_refused_before_any_request() {
        assert!(check_password("Str0ngPassword").is_ok());
        for weak in [
            "short1A",
            "alllowercase123",
            "ALLUPPERCASE123",
            "NoDigitsHereAtAll",
        ] {
            assert!(check_password(weak).is_err(), "{weak}");
        }
        assert!(check_username("rep.asha").is_ok());
        assert!(check_username("asha rao").is_err());
        assert!(check_username(&"a".repeat(33)).is_err());
    }
}
