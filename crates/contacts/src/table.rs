//! Reading a CSV file into rows of text: encoding (UTF-8, UTF-8 with BOM, UTF-16 with
//! BOM, or a named legacy encoding), delimiter (comma, semicolon, tab), quoting and
//! ragged rows. Errors here are about the file as a whole and come before any write.

use encoding_rs::Encoding;
use serde::Serialize;

/// A decoded CSV: its header and data rows, each with its row number — the line the row
/// starts on, as a spreadsheet or text editor numbers it (the header is row 1). Wholly
/// empty lines are not rows; lines of empty cells (`,,,`) are, and count as blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
    pub delimiter: u8,
    /// The encoding the bytes were read as (`UTF-8`, `UTF-16LE`, `windows-1252`…).
    pub encoding: &'static str,
}

/// Why a file could not be read as a table.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TableError {
    #[error("the file is empty")]
    Empty,
    #[error(
        "the file is not UTF-8: byte 0x{byte:02X} on line {line} is not valid UTF-8. Save it as UTF-8 (CSV UTF-8 in Excel) or choose its encoding, e.g. windows-1252"
    )]
    NotUtf8 { line: u64, byte: u8 },
    #[error(
        "unknown encoding {label:?}: use a name such as utf-8, windows-1252, iso-8859-1 or utf-16le"
    )]
    UnknownEncoding { label: String },
    #[error("the file has a header row but no data rows")]
    NoRows,
    #[error("the header row is blank")]
    BlankHeader,
    #[error("the file is not readable CSV at line {line}: {detail}")]
    Malformed { line: u64, detail: String },
}

/// Decodes and parses `bytes`. `encoding` overrides detection (a WHATWG label such
/// as `windows-1252`); without it the file must be UTF-8 or carry a BOM.
pub fn read_table(bytes: &[u8], encoding: Option<&str>) -> Result<Table, TableError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(TableError::Empty);
    }
    let (text, encoding) = decode(bytes, encoding)?;
    let delimiter = sniff_delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut headers: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // Line numbers are counted here from byte offsets: the reader's own count skips blank
    // lines and is ambiguous with CRLF endings.
    let bytes_of = text.as_bytes();
    let (mut counted_to, mut line, mut previous_end) = (0usize, 1u64, 0usize);
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let end = reader.position().byte() as usize;
                let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
                match &headers {
                    None => {
                        if cells.iter().all(String::is_empty) {
                            return Err(TableError::BlankHeader);
                        }
                        headers = Some(cells);
                    }
                    Some(_) => {
                        let mut start = previous_end.max(counted_to).min(bytes_of.len());
                        while start < bytes_of.len() && matches!(bytes_of[start], b'\r' | b'\n') {
                            start += 1;
                        }
                        line += bytes_of[counted_to..start]
                            .iter()
                            .filter(|b| **b == b'\n')
                            .count() as u64;
                        counted_to = start;
                        rows.push((line, cells));
                    }
                }
                previous_end = end;
            }
            Err(error) => {
                let line = error.position().map(|p| p.line()).unwrap_or(0);
                return Err(TableError::Malformed {
                    line,
                    detail: error.to_string(),
                });
            }
        }
    }
    let headers = headers.ok_or(TableError::Empty)?;
    if rows.is_empty() {
        return Err(TableError::NoRows);
    }
    Ok(Table {
        headers,
        rows,
        delimiter,
        encoding,
    })
}

fn decode(bytes: &[u8], label: Option<&str>) -> Result<(String, &'static str), TableError> {
    if let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) {
        let encoding =
            Encoding::for_label(label.as_bytes()).ok_or_else(|| TableError::UnknownEncoding {
                label: label.to_owned(),
            })?;
        let (text, actual, _) = encoding.decode(bytes);
        return Ok((text.into_owned(), actual.name()));
    }
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return Ok((text.into_owned(), encoding.name()));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_owned(), "UTF-8")),
        Err(error) => {
            let at = error.valid_up_to();
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() as u64 + 1;
            Err(TableError::NotUtf8 {
                line,
                byte: bytes[at],
            })
        }
    }
}

/// Picks the delimiter that splits the header line into the most fields.
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut best = (b',', 0usize);
    for candidate in [b',', b';', b'\t', b'|'] {
        let mut count = 0;
        let mut quoted = false;
        for byte in header.bytes() {
            if byte == b'"' {
                quoted = !quoted;
            } else if byte == candidate && !quoted {
                count += 1;
            }
        }
        if count > best.1 {
            best = (candidate, count);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bom_quotes_and_semicolons() {
        let bytes = "\u{feff}Name;Phone\n\"Rao; Asha\";+91 98123 45678\n".as_bytes();
        let table = read_table(bytes, None).expect("table");
        assert_eq!(table.headers, vec!["Name", "Phone"]);
        assert_eq!(table.delimiter, b';');
        assert_eq!(
            table.rows,
            vec![(
                2,
                vec!["Rao; Asha".to_string(), "+91 98123 45678".to_string()]
            )]
        );
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "name,email\nZoë,zoe@example.com\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let table = read_table(&bytes, None).expect("table");
        assert_eq!(table.rows[0].1[0], "Zoë");
        assert_eq!(table.encoding, "UTF-16LE");
    }

    #[test]
    fn latin1_without_a_label_is_refused_with_its_line() {
        let bytes = b"name,email\nAna,ana@example.com\nJos\xe9,jose@example.com\n";
        assert_eq!(
            read_table(bytes, None),
            Err(TableError::NotUtf8 {
                line: 3,
                byte: 0xE9
            })
        );
        let table = read_table(bytes, Some("windows-1252")).expect("with label");
        assert_eq!(table.rows[1].1[0], "José");
    }

    #[test]
    fn empty_and_header_only_files() {
        assert_eq!(read_table(b"  \n", None), Err(TableError::Empty));
        assert_eq!(read_table(b"name,phone\n", None), Err(TableError::NoRows));
        assert!(matches!(
            read_table(b"a", Some("klingon")),
            Err(TableError::UnknownEncoding { .. })
        ));
    }
}
