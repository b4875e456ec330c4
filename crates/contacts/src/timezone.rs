//! Time zone from a phone number, where the number's country has exactly one zone
//! (India, the UK, Germany…). Countries that span zones (the US, Brazil, Australia…)
//! give `None`: the user sets the zone on the contact.
//!
//! The country → zones table is the tz database's `zone.tab` (public domain), trimmed
//! to two columns and compiled in; zone names are checked against chrono-tz.

use std::collections::HashMap;
use std::sync::OnceLock;

const ZONE_TAB: &str = include_str!("../data/zone.tab");

fn zones_by_country() -> &'static HashMap<&'static str, Vec<&'static str>> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: HashMap<&str, Vec<&str>> = HashMap::new();
        for line in ZONE_TAB.lines().filter(|l| !l.starts_with('#')) {
            if let Some((country, zone)) = line.split_once('\t') {
                table.entry(country).or_default().push(zone);
            }
        }
        table
    })
}

/// The IANA zones of a country (ISO 3166 alpha-2).
pub fn zones_for_country(country: &str) -> &'static [&'static str] {
    zones_by_country()
        .get(country.to_ascii_uppercase().as_str())
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The zone of an E.164 number when its country has exactly one.
pub fn zone_for_number(e164: &str) -> Option<String> {
    zone_for_region(&crate::phone::region_of(e164)?)
}

/// The zone of a country (ISO 3166 alpha-2) when it has exactly one.
pub fn zone_for_region(country: &str) -> Option<String> {
    match zones_for_country(country) {
        [only] => Some((*only).to_owned()),
        _ => None,
    }
}

/// Whether `name` is a known IANA zone (`Asia/Kolkata`, `UTC`).
pub fn is_known_zone(name: &str) -> bool {
    name.parse::<chrono_tz::Tz>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_zone_countries_resolve() {
        assert_eq!(
            zone_for_number("+919812345678").as_deref(),
            Some("Asia/Kolkata")
        );
        assert_eq!(
            zone_for_number("+442079460000").as_deref(),
            Some("Europe/London")
        );
    }

    #[test]
    fn multi_zone_countries_stay_unset() {
        assert_eq!(zone_for_number("+14155552671"), None);
        assert!(zones_for_country("US").len() > 10);
    }

    #[test]
    fn every_tabled_zone_is_known_to_chrono_tz() {
        for zones in zones_by_country().values() {
            for zone in zones {
                assert!(is_known_zone(zone), "{zone}");
            }
        }
    }
}
