//! CSV export of live contacts, in a shape the importer maps back without help.

use cuecard_core::Contact;
use std::collections::BTreeSet;
use std::io::Write;

/// Writes contacts as UTF-8 CSV: fixed columns, then one column per custom field key.
/// Several numbers or addresses share a cell, separated by `; `.
pub fn export_csv<W: Write>(contacts: &[Contact], out: W) -> Result<(), csv::Error> {
    let custom_keys: BTreeSet<&str> = contacts
        .iter()
        .flat_map(|c| c.fields.custom_fields.keys().map(String::as_str))
        .collect();
    let mut writer = csv::Writer::from_writer(out);
    let mut header = vec![
        "id",
        "name",
        "company",
        "title",
        "phones",
        "emails",
        "tags",
        "deal_stage",
        "deal_value",
        "currency",
        "time_zone",
        "do_not_call",
        "do_not_email",
        "owner",
    ];
    header.extend(custom_keys.iter().copied());
    writer.write_record(&header)?;
    for contact in contacts {
        let f = &contact.fields;
        let join = |items: Vec<&str>| items.join("; ");
        let mut record = vec![
            contact.id.to_string(),
            f.name.clone(),
            f.company.clone().unwrap_or_default(),
            f.title.clone().unwrap_or_default(),
            join(f.phones.iter().map(|p| p.e164.as_str()).collect()),
            join(f.emails.iter().map(|e| e.address.as_str()).collect()),
            join(f.tags.iter().map(String::as_str).collect()),
            f.deal_stage.to_string(),
            f.deal_value
                .as_ref()
                .map(|m| {
                    let sign = if m.minor_units < 0 { "-" } else { "" };
                    let abs = m.minor_units.unsigned_abs();
                    format!("{sign}{}.{:02}", abs / 100, abs % 100)
                })
                .unwrap_or_default(),
            f.deal_value
                .as_ref()
                .map(|m| m.currency.clone())
                .unwrap_or_default(),
            f.time_zone.clone().unwrap_or_default(),
            yes_no(f.do_not_call),
            yes_no(f.do_not_email),
            f.owner.clone().unwrap_or_default(),
        ];
        record.extend(
            custom_keys
                .iter()
                .map(|k| f.custom_fields.get(*k).cloned().unwrap_or_default()),
        );
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}
