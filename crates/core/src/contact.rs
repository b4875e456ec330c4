//! Contacts: the people a rep calls, with their numbers, addresses, deal and flags.

use crate::{ContactId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A person in the rep's book.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Contact {
    pub id: ContactId,
    #[serde(flatten)]
    pub fields: ContactFields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the contact is deleted; the row stays so sync can propagate the delete.
    pub deleted_at: Option<Timestamp>,
}

/// Everything about a contact that a user can edit. Creating and editing both take this.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ContactFields {
    pub name: String,
    pub company: Option<String>,
    pub title: Option<String>,
    pub phones: Vec<Phone>,
    pub emails: Vec<Email>,
    pub tags: Vec<String>,
    pub deal_stage: DealStage,
    pub deal_value: Option<Money>,
    pub custom_fields: BTreeMap<String, String>,
    /// IANA time zone name (e.g. `Asia/Kolkata`), derived from the number when unambiguous.
    pub time_zone: Option<String>,
    pub do_not_call: bool,
    pub do_not_email: bool,
    /// The user who owns the contact (a user id or e-mail on the team backend).
    pub owner: Option<String>,
}

/// A phone number in E.164 form with an optional label ("mobile", "work", …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Phone {
    pub e164: String,
    pub label: Option<String>,
}

/// An e-mail address (stored lower-cased) with an optional label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Email {
    pub address: String,
    pub label: Option<String>,
}

/// An amount of money in minor units (cents, paise) of an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Money {
    /// Minor units (cents, paise).
    pub minor_units: i64,
    pub currency: String,
}

/// Where a contact stands in the sales pipeline.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    specta::Type,
)]
#[serde(rename_all = "snake_case")]
pub enum DealStage {
    #[default]
    Lead,
    Contacted,
    Qualified,
    Proposal,
    Negotiation,
    Won,
    Lost,
}

impl DealStage {
    /// Every stage in pipeline order.
    pub const ALL: [DealStage; 7] = [
        DealStage::Lead,
        DealStage::Contacted,
        DealStage::Qualified,
        DealStage::Proposal,
        DealStage::Negotiation,
        DealStage::Won,
        DealStage::Lost,
    ];

    /// The stable lower-case name used in storage, CSV and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            DealStage::Lead => "lead",
            DealStage::Contacted => "contacted",
            DealStage::Qualified => "qualified",
            DealStage::Proposal => "proposal",
            DealStage::Negotiation => "negotiation",
            DealStage::Won => "won",
            DealStage::Lost => "lost",
        }
    }
}

impl fmt::Display for DealStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deal-stage name that is not one of [`DealStage::ALL`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unknown deal stage {0:?}: expected one of lead, contacted, qualified, proposal, negotiation, won, lost"
)]
pub struct UnknownDealStage(pub String);

impl FromStr for DealStage {
    type Err = UnknownDealStage;
    /// Accepts the stable names and the common CRM spellings ("closed won", "new", …).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        Ok(match key.as_str() {
            "" | "lead" | "new" | "open" | "prospect" => DealStage::Lead,
            "contacted" | "attempted" | "working" => DealStage::Contacted,
            "qualified" | "sql" | "mql" | "discovery" => DealStage::Qualified,
            "proposal" | "proposalsent" | "quote" | "quoted" | "demo" => DealStage::Proposal,
            "negotiation" | "negotiating" | "contract" => DealStage::Negotiation,
            "won" | "closedwon" | "customer" => DealStage::Won,
            "lost" | "closedlost" | "dead" | "disqualified" => DealStage::Lost,
            _ => return Err(UnknownDealStage(s.to_owned())),
        })
    }
}

/// A contact that cannot be saved as it stands.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContactInvalid {
    #[error("a contact needs a name, a phone number or an e-mail address")]
    Empty,
    #[error("phone {0:?} is not in E.164 form (+ and 8 to 15 digits)")]
    PhoneNotE164(String),
    #[error("e-mail {0:?} is not an address")]
    BadEmail(String),
    #[error("tag {0:?} is empty or longer than 64 characters")]
    BadTag(String),
    #[error("currency {0:?} is not a three-letter ISO 4217 code")]
    BadCurrency(String),
}

impl ContactFields {
    /// Trims text, lower-cases e-mails, drops duplicate numbers, addresses and tags, and
    /// checks what must hold for every stored contact.
    pub fn normalized(mut self) -> Result<Self, ContactInvalid> {
        self.name = self.name.trim().to_owned();
        for text in [
            &mut self.company,
            &mut self.title,
            &mut self.owner,
            &mut self.time_zone,
        ] {
            if let Some(value) = text {
                *value = value.trim().to_owned();
                if value.is_empty() {
                    *text = None;
                }
            }
        }
        let mut seen = Vec::new();
        self.phones.retain(|p| {
            let fresh = !seen.contains(&p.e164);
            seen.push(p.e164.clone());
            fresh
        });
        for phone in &self.phones {
            if !is_e164(&phone.e164) {
                return Err(ContactInvalid::PhoneNotE164(phone.e164.clone()));
            }
        }
        for email in &mut self.emails {
            email.address = email.address.trim().to_lowercase();
            if !is_plausible_email(&email.address) {
                return Err(ContactInvalid::BadEmail(email.address.clone()));
            }
        }
        let mut seen = Vec::new();
        self.emails.retain(|e| {
            let fresh = !seen.contains(&e.address);
            seen.push(e.address.clone());
            fresh
        });
        let mut tags: Vec<String> = Vec::with_capacity(self.tags.len());
        for tag in self.tags.drain(..) {
            let tag = tag.trim().to_owned();
            if tag.is_empty() || tag.chars().count() > 64 {
                return Err(ContactInvalid::BadTag(tag));
            }
            if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                tags.push(tag);
            }
        }
        self.tags = tags;
        if let Some(money) = &mut self.deal_value {
            money.currency = money.currency.trim().to_ascii_uppercase();
            if money.currency.len() != 3 || !money.currency.chars().all(|c| c.is_ascii_uppercase())
            {
                return Err(ContactInvalid::BadCurrency(money.currency.clone()));
            }
        }
        self.custom_fields = std::mem::take(&mut self.custom_fields)
            .into_iter()
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .collect();
        if self.name.is_empty() && self.phones.is_empty() && self.emails.is_empty() {
            return Err(ContactInvalid::Empty);
        }
        Ok(self)
    }

    /// The name to show: the name, else the company, else the first number or address.
    pub fn display_name(&self) -> String {
        if !self.name.is_empty() {
            return self.name.clone();
        }
        self.company
            .clone()
            .or_else(|| self.phones.first().map(|p| p.e164.clone()))
            .or_else(|| self.emails.first().map(|e| e.address.clone()))
            .unwrap_or_default()
    }
}

/// `+` followed by 8 to 15 digits, the first not zero.
pub fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// A light syntactic check: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_plausible_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == ';')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> ContactFields {
        ContactFields {
            name: "  Asha Rao ".into(),
            phones: vec![
                Phone {
                    e164: "+919812345678".into(),
                    label: None,
                },
                Phone {
                    e164: "+919812345678".into(),
                    label: Some("mobile".into()),
                },
            ],
            emails: vec![Email {
                address: " Asha@Example.COM ".into(),
                label: None,
            }],
            tags: vec!["vip".into(), "VIP".into(), " q3 ".into()],
            company: Some("   ".into()),
            ..Default::default()
        }
    }

    #[test]
    fn normalising_trims_dedupes_and_lowercases() {
        let f = fields().normalized().expect("valid");
        assert_eq!(f.name, "Asha Rao");
        assert_eq!(f.phones.len(), 1);
        assert_eq!(f.emails[0].address, "asha@example.com");
        assert_eq!(f.tags, vec!["vip".to_string(), "q3".to_string()]);
        assert_eq!(f.company, None);
    }

    #[test]
    fn invalid_contacts_are_named() {
        assert_eq!(
            ContactFields::default().normalized(),
            Err(ContactInvalid::Empty)
        );
        let mut f = fields();
        f.phones[0].e164 = "98123".into();
        assert_eq!(
            f.normalized(),
            Err(ContactInvalid::PhoneNotE164("98123".into()))
        );
        let mut f = fields();
        f.emails[0].address = "nobody".into();
        assert!(matches!(f.normalized(), Err(ContactInvalid::BadEmail(_))));
    }

    #[test]
    fn deal_stages_parse_crm_spellings() {
        assert_eq!("Closed Won".parse(), Ok(DealStage::Won));
        assert_eq!("proposal-sent".parse(), Ok(DealStage::Proposal));
        assert_eq!("".parse(), Ok(DealStage::Lead));
        assert!("sideways".parse::<DealStage>().is_err());
        for stage in DealStage::ALL {
            assert_eq!(stage.as_str().parse(), Ok(stage));
        }
    }

    #[test]
    fn contacts_serialise_with_flat_fields() {
        let contact = Contact {
            id: ContactId::new(),
            fields: fields().normalized().expect("valid"),
            created_at: crate::now(),
            updated_at: crate::now(),
            deleted_at: None,
        };
        let json = serde_json::to_value(&contact).expect("serialise");
        assert_eq!(json["name"], "Asha Rao");
        assert_eq!(json["deal_stage"], "lead");
        let back: Contact = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back, contact);
    }
}
