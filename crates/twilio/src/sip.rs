//! SIP Domains, credential lists, their credentials, and the mappings that make a Domain
//! ask for those credentials on REGISTER and on calls.

use crate::client::TwilioClient;
use crate::credentials::check_sid;
use crate::error::Result;
use serde::Deserialize;

/// A SIP Domain (`….sip.twilio.com`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SipDomain {
    pub sid: String,
    pub domain_name: String,
    pub friendly_name: Option<String>,
    /// Where Twilio asks what to do with a call the phone places.
    pub voice_url: Option<String>,
    pub voice_method: Option<String>,
    /// Whether phones may REGISTER to the Domain.
    pub sip_registration: Option<bool>,
    /// Whether the Domain requires TLS and SRTP.
    pub secure: Option<bool>,
    pub auth_type: Option<String>,
}

/// A list of SIP logins.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CredentialList {
    pub sid: String,
    pub friendly_name: Option<String>,
}

/// A SIP login in a credential list (Twilio never gives the password back).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SipCredential {
    pub sid: String,
    pub username: String,
    pub credential_list_sid: Option<String>,
}

/// A credential list mapped to a Domain, for registrations or for calls.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct CredentialListMapping {
    /// The credential list's SID.
    pub sid: String,
    pub friendly_name: Option<String>,
}

/// A new Domain's settings.
#[derive(Clone, Debug)]
pub struct NewSipDomain {
    /// The full name, ending `.sip.twilio.com`.
    pub domain_name: String,
    pub friendly_name: String,
    pub voice_url: String,
    pub secure: bool,
}

/// Which of a Domain's two credential mappings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MappingKind {
    /// Asked for on REGISTER.
    Registrations,
    /// Asked for on INVITE.
    Calls,
}

impl MappingKind {
    fn path(self, domain_sid: &str) -> String {
        let kind = match self {
            MappingKind::Registrations => "Registrations",
            MappingKind::Calls => "Calls",
        };
        format!("/SIP/Domains/{domain_sid}/Auth/{kind}/CredentialListMappings.json")
    }
}

impl TwilioClient {
    /// Every SIP Domain of the account.
    pub fn sip_domains(&self) -> Result<Vec<SipDomain>> {
        self.list("the SIP Domain list", "/SIP/Domains.json", "domains", &[])
    }

    /// Creates a Domain with registration on and the voice URL called with POST.
    pub fn create_sip_domain(&self, domain: &NewSipDomain) -> Result<SipDomain> {
        self.post(
            "creating the SIP Domain",
            "/SIP/Domains.json",
            &[
                ("DomainName", domain.domain_name.clone()),
                ("FriendlyName", domain.friendly_name.clone()),
                ("VoiceUrl", domain.voice_url.clone()),
                ("VoiceMethod", "POST".into()),
                ("SipRegistration", "true".into()),
                ("Secure", domain.secure.to_string()),
            ],
        )
    }

    /// Points a Domain at `voice_url` (POST), with registration on and `secure` as given.
    pub fn update_sip_domain(
        &self,
        domain_sid: &str,
        voice_url: &str,
        secure: bool,
    ) -> Result<SipDomain> {
        check_sid("SIP Domain SID", "SD", domain_sid)?;
        self.post(
            "updating the SIP Domain",
            &format!("/SIP/Domains/{domain_sid}.json"),
            &[
                ("VoiceUrl", voice_url.to_owned()),
                ("VoiceMethod", "POST".into()),
                ("SipRegistration", "true".into()),
                ("Secure", secure.to_string()),
            ],
        )
    }

    /// Every credential list of the account.
    pub fn credential_lists(&self) -> Result<Vec<CredentialList>> {
        self.list(
            "the credential list list",
            "/SIP/CredentialLists.json",
            "credential_lists",
            &[],
        )
    }

    pub fn create_credential_list(&self, friendly_name: &str) -> Result<CredentialList> {
        self.post(
            "creating the credential list",
            "/SIP/CredentialLists.json",
            &[("FriendlyName", friendly_name.to_owned())],
        )
    }

    /// The logins in a credential list.
    pub fn credentials(&self, list_sid: &str) -> Result<Vec<SipCredential>> {
        check_sid("credential list SID", "CL", list_sid)?;
        self.list(
            "the credential list's logins",
            &format!("/SIP/CredentialLists/{list_sid}/Credentials.json"),
            "credentials",
            &[],
        )
    }

    pub fn create_credential(
        &self,
        list_sid: &str,
        username: &str,
        password: &str,
    ) -> Result<SipCredential> {
        check_sid("credential list SID", "CL", list_sid)?;
        self.post(
            "adding the SIP login",
            &format!("/SIP/CredentialLists/{list_sid}/Credentials.json"),
            &[
                ("Username", username.to_owned()),
                ("Password", password.to_owned()),
            ],
        )
    }

    pub fn update_credential_password(
        &self,
        list_sid: &str,
        credential_sid: &str,
        password: &str,
    ) -> Result<SipCredential> {
        check_sid("credential list SID", "CL", list_sid)?;
        check_sid("credential SID", "CR", credential_sid)?;
        self.post(
            "changing the SIP password",
            &format!("/SIP/CredentialLists/{list_sid}/Credentials/{credential_sid}.json"),
            &[("Password", password.to_owned())],
        )
    }

    /// The credential lists a Domain asks for on registrations or calls.
    pub fn credential_list_mappings(
        &self,
        domain_sid: &str,
        kind: MappingKind,
    ) -> Result<Vec<CredentialListMapping>> {
        check_sid("SIP Domain SID", "SD", domain_sid)?;
        self.list(
            "the Domain's credential mappings",
            &kind.path(domain_sid),
            "contents",
            &[],
        )
    }

    pub fn map_credential_list(
        &self,
        domain_sid: &str,
        kind: MappingKind,
        list_sid: &str,
    ) -> Result<CredentialListMapping> {
        check_sid("SIP Domain SID", "SD", domain_sid)?;
        check_sid("credential list SID", "CL", list_sid)?;
        self.post(
            "mapping the credential list to the Domain",
            &kind.path(domain_sid),
            &[("CredentialListSid", list_sid.to_owned())],
        )
    }
}
