//! Which CSV column feeds which contact field: detected from header names (with the
//! spellings common CRMs and spreadsheets use) and, failing that, from the values.

use serde::{Deserialize, Serialize};

/// A contact field a column can feed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(tag = "field", content = "key", rename_all = "snake_case")]
pub enum FieldTarget {
    Name,
    FirstName,
    LastName,
    Company,
    Title,
    /// A phone column; several phone columns are allowed (their headers become labels).
    Phone,
    Email,
    /// Tags separated by `;`, `,` or `|`.
    Tags,
    DealStage,
    /// A money amount ("₹1,20,000", "12000.50").
    DealValue,
    Currency,
    TimeZone,
    Owner,
    DoNotCall,
    DoNotEmail,
    /// Kept as a custom field under this key.
    Custom(String),
    /// Not imported.
    Ignore,
}

/// One column of the file and where its values go.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ColumnMapping {
    /// 0-based column index.
    pub column: u32,
    pub header: String,
    pub target: FieldTarget,
}

/// Guesses a target for every column from its header and sample values.
pub fn detect_mapping(headers: &[String], samples: &[&[String]]) -> Vec<ColumnMapping> {
    let mut mapping: Vec<ColumnMapping> = headers
        .iter()
        .enumerate()
        .map(|(index, header)| {
            let values: Vec<&str> = samples
                .iter()
                .filter_map(|row| row.get(index).map(String::as_str))
                .filter(|v| !v.is_empty())
                .collect();
            let target = by_header(header)
                .or_else(|| by_values(&values))
                .unwrap_or_else(|| {
                    let key = header.trim();
                    if key.is_empty() {
                        FieldTarget::Ignore
                    } else {
                        FieldTarget::Custom(key.to_owned())
                    }
                });
            ColumnMapping {
                column: index as u32,
                header: header.clone(),
                target,
            }
        })
        .collect();
    // One column per single-valued field: later duplicates become custom fields.
    let mut seen = Vec::new();
    for column in &mut mapping {
        let single = !matches!(
            column.target,
            FieldTarget::Phone
                | FieldTarget::Email
                | FieldTarget::Tags
                | FieldTarget::Custom(_)
                | FieldTarget::Ignore
        );
        if single {
            if seen.contains(&column.target) {
                column.target = FieldTarget::Custom(column.header.trim().to_owned());
            } else {
                seen.push(column.target.clone());
            }
        }
    }
    mapping
}

/// Guesses a mapping for a whole file from its header and first 50 rows.
pub fn detect_table_mapping(table: &crate::table::Table) -> Vec<ColumnMapping> {
    let samples: Vec<&[String]> = table
        .rows
        .iter()
        .take(50)
        .map(|(_, r)| r.as_slice())
        .collect();
    detect_mapping(&table.headers, &samples)
}

/// Whether a mapping can import anything: it needs a phone or an e-mail column.
pub fn has_contact_point(mapping: &[ColumnMapping]) -> bool {
    mapping
        .iter()
        .any(|m| matches!(m.target, FieldTarget::Phone | FieldTarget::Email))
}

fn normalized_header(header: &str) -> String {
    header
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

fn by_header(header: &str) -> Option<FieldTarget> {
    let key = normalized_header(header);
    let target = match key.as_str() {
        "name" | "fullname" | "contact" | "contactname" | "person" | "leadname"
        | "customername" => FieldTarget::Name,
        "id" | "contactid" | "recordid" | "uuid" => FieldTarget::Ignore,
        "firstname" | "first" | "givenname" | "fname" | "forename" => FieldTarget::FirstName,
        "lastname" | "last" | "surname" | "familyname" | "lname" => FieldTarget::LastName,
        "company" | "companyname" | "organization" | "organisation" | "org" | "account"
        | "accountname" | "business" | "employer" | "firm" => FieldTarget::Company,
        "title" | "jobtitle" | "position" | "role" | "designation" => FieldTarget::Title,
        "email" | "emailaddress" | "mail" | "workemail" | "personalemail" | "emails" | "email1"
        | "email2" | "primaryemail" => FieldTarget::Email,
        "tags" | "tag" | "labels" | "label" | "segments" | "lists" => FieldTarget::Tags,
        "dealstage" | "stage" | "status" | "leadstatus" | "pipelinestage" | "lifecyclestage" => {
            FieldTarget::DealStage
        }
        "dealvalue" | "value" | "amount" | "dealamount" | "dealsize" | "revenue"
        | "opportunityamount" => FieldTarget::DealValue,
        "currency" | "dealcurrency" | "currencycode" => FieldTarget::Currency,
        "timezone" | "tz" | "zone" => FieldTarget::TimeZone,
        "owner" | "leadowner" | "contactowner" | "rep" | "assignedto" | "salesrep" => {
            FieldTarget::Owner
        }
        "donotcall" | "dnc" | "nocall" | "optoutcall" | "donotphone" => FieldTarget::DoNotCall,
        "donotemail" | "emailoptout" | "unsubscribed" | "optoutemail" | "noemail" => {
            FieldTarget::DoNotEmail
        }
        _ if is_phone_header(&key) => FieldTarget::Phone,
        _ => return None,
    };
    Some(target)
}

fn is_phone_header(key: &str) -> bool {
    [
        "phone",
        "mobile",
        "cell",
        "tel",
        "telephone",
        "whatsapp",
        "landline",
        "contactnumber",
        "number",
        "phones",
        "mob",
    ]
    .iter()
    .any(|word| key == *word || key.contains("phone") || key.contains("mobile"))
}

/// Content sniffing for headers we do not know: mostly e-mails, or mostly phone-like.
fn by_values(values: &[&str]) -> Option<FieldTarget> {
    if values.is_empty() {
        return None;
    }
    let share = |test: &dyn Fn(&str) -> bool| {
        values.iter().filter(|v| test(v)).count() * 10 >= values.len() * 8
    };
    if share(&|v| cuecard_core::is_plausible_email(&v.to_lowercase())) {
        return Some(FieldTarget::Email);
    }
    let phone_like = |v: &str| {
        let digits = v.chars().filter(char::is_ascii_digit).count();
        (7..=15).contains(&digits)
            && v.chars()
                .all(|c| c.is_ascii_digit() || " +-().x".contains(c))
    };
    if share(&phone_like) {
        return Some(FieldTarget::Phone);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn headers_map_to_fields() {
        let headers = strings(&[
            "First Name",
            "Last Name",
            "E-mail Address",
            "Mobile Phone",
            "Work Phone",
            "Organisation",
            "Lead Status",
            "Shoe size",
        ]);
        let mapping = detect_mapping(&headers, &[]);
        let targets: Vec<_> = mapping.iter().map(|m| m.target.clone()).collect();
        assert_eq!(
            targets,
            vec![
                FieldTarget::FirstName,
                FieldTarget::LastName,
                FieldTarget::Email,
                FieldTarget::Phone,
                FieldTarget::Phone,
                FieldTarget::Company,
                FieldTarget::DealStage,
                FieldTarget::Custom("Shoe size".into()),
            ]
        );
        assert!(has_contact_point(&mapping));
    }

    #[test]
    fn unknown_headers_are_sniffed_from_values() {
        let headers = strings(&["col1", "col2", "col3"]);
        let rows = [
            strings(&["a@x.com", "+91 98123 45678", "hello"]),
            strings(&["b@y.org", "(415) 555-2671", "world"]),
        ];
        let samples: Vec<&[String]> = rows.iter().map(Vec::as_slice).collect();
        let mapping = detect_mapping(&headers, &samples);
        assert_eq!(mapping[0].target, FieldTarget::Email);
        assert_eq!(mapping[1].target, FieldTarget::Phone);
        assert_eq!(mapping[2].target, FieldTarget::Custom("col3".into()));
    }

    #[test]
    fn a_second_name_column_becomes_custom() {
        let mapping = detect_mapping(&strings(&["Name", "Contact Name", "Phone"]), &[]);
        assert_eq!(
            mapping[1].target,
            FieldTarget::Custom("Contact Name".into())
        );
    }

    #[test]
    fn no_phone_or_email_column_is_detected() {
        let mapping = detect_mapping(&strings(&["Name", "Company"]), &[]);
        assert!(!has_contact_point(&mapping));
    }
}
