//! Contact workflows over the store: CSV import (encoding and delimiter detection,
//! column auto-mapping, preview, E.164 normalisation, dedupe-by-merge, do-not-call scrub,
//! a per-row error report), CSV export, and phone-number helpers (normalisation, time
//! zone from the number).

pub mod export;
pub mod import;
pub mod mapping;
pub mod phone;
pub mod table;
pub mod timezone;

pub use export::export_csv;
pub use import::{ImportError, ImportOptions, ImportReport, RowIssue, RowOutcome, import, preview};
pub use mapping::{ColumnMapping, FieldTarget, detect_mapping, detect_table_mapping};
pub use phone::{PhoneError, normalize_phone};
pub use table::{Table, TableError, read_table};
pub use timezone::zone_for_number;
