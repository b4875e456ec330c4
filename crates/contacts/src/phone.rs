//! Phone numbers: parse what people type ("098123 45678", "+1 (415) 555-0100 x12") into
//! E.164 with a default region, using the libphonenumber port `phonenumber`.

use phonenumber::Mode;
use phonenumber::country::Id;

/// Why a number could not be normalised.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("{0:?} is not a phone number")]
    Unparseable(String),
    #[error("{0:?} is not a valid number for its country")]
    Invalid(String),
    #[error("unknown default region {0:?}: expected an ISO 3166 code such as IN, US or GB")]
    UnknownRegion(String),
}

/// Parses an ISO 3166 alpha-2 region code ("in", "US").
pub fn region(code: &str) -> Result<Id, PhoneError> {
    code.trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| PhoneError::UnknownRegion(code.to_owned()))
}

/// Normalises a number to E.164. Numbers without a `+` country code are read as
/// numbers of `default_region`; `00` international prefixes are accepted.
pub fn normalize_phone(raw: &str, default_region: Id) -> Result<String, PhoneError> {
    normalize_phone_with_region(raw, default_region).map(|(e164, _)| e164)
}

/// As [`normalize_phone`], also returning the number's region (parsed once).
pub fn normalize_phone_with_region(
    raw: &str,
    default_region: Id,
) -> Result<(String, Option<Id>), PhoneError> {
    let trimmed = raw.trim();
    let text = match trimmed.strip_prefix("00") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit() && c != '0') => {
            format!("+{rest}")
        }
        _ => trimmed.to_owned(),
    };
    let number = phonenumber::parse(Some(default_region), &text)
        .map_err(|_| PhoneError::Unparseable(raw.trim().to_owned()))?;
    if !number.is_valid() {
        return Err(PhoneError::Invalid(raw.trim().to_owned()));
    }
    Ok((
        number.format().mode(Mode::E164).to_string(),
        number.country().id(),
    ))
}

/// The region (ISO 3166 alpha-2) a valid E.164 number belongs to.
pub fn region_of(e164: &str) -> Option<String> {
    let number = phonenumber::parse(None, e164).ok()?;
    number.country().id().map(|id| id.as_ref().to_owned())
}

/// Splits a cell that holds several numbers ("+1 415…; +1 650…", "a / b").
pub fn split_numbers(cell: &str) -> impl Iterator<Item = &str> {
    cell.split([';', ',', '/', '|', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_normalise() {
        let india = region("IN").expect("region");
        assert_eq!(
            normalize_phone("098123 45678", india).as_deref(),
            Ok("+919812345678")
        );
        assert_eq!(
            normalize_phone("+91-98123-45678", india).as_deref(),
            Ok("+919812345678")
        );
        assert_eq!(
            normalize_phone("0091 98123 45678", india).as_deref(),
            Ok("+919812345678")
        );
        assert_eq!(
            normalize_phone("+1 (415) 555-2671", india).as_deref(),
            Ok("+14155552671")
        );
        let us = region("us").expect("region");
        assert_eq!(
            normalize_phone("(415) 555-2671", us).as_deref(),
            Ok("+14155552671")
        );
    }

    #[test]
    fn bad_numbers_are_named() {
        let india = region("IN").expect("region");
        assert!(matches!(
            normalize_phone("12", india),
            Err(PhoneError::Invalid(_) | PhoneError::Unparseable(_))
        ));
        assert!(normalize_phone("call me maybe", india).is_err());
        assert!(matches!(region("XX"), Err(PhoneError::UnknownRegion(_))));
    }

    #[test]
    fn regions_of_numbers() {
        assert_eq!(region_of("+919812345678").as_deref(), Some("IN"));
        assert_eq!(region_of("+442079460000").as_deref(), Some("GB"));
    }
}
