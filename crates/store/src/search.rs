//! Full-text search (SQLite FTS5) across contacts, call transcripts and notes.
//!
//! User input never reaches FTS5's query syntax: [`fts_query`] turns it into quoted
//! prefix terms, so a stray quote or `AND` cannot produce a syntax error.

use crate::Store;
use crate::error::Result;
use crate::sql;
use cuecard_core::{CallId, ContactId};
use serde::{Deserialize, Serialize};

/// What a search result points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SearchHitKind {
    Contact,
    Transcript,
    Note,
}

/// One search result with a snippet: for transcripts and notes the matching words are
/// wrapped in `[` `]`; for contacts it is the name and company.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SearchHit {
    pub kind: SearchHitKind,
    pub contact_id: Option<ContactId>,
    pub call_id: Option<CallId>,
    /// Id of the matching row (contact, utterance or note).
    pub ref_id: String,
    pub snippet: String,
}

/// Builds an FTS5 query from free text: every word becomes a quoted prefix term, all
/// required. Text that looks like a phone number becomes one run of digits. `None` when
/// nothing searchable is left.
pub fn fts_query(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let phone_like = trimmed.chars().any(|c| c.is_ascii_digit())
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let terms: Vec<String> = if phone_like {
        // Trunk and international prefixes ("0 98123…", "00 91…") are not in the index.
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        let digits = digits.trim_start_matches('0');
        if digits.is_empty() {
            return None;
        }
        vec![digits.to_owned()]
    } else {
        trimmed
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    if terms.is_empty() {
        return None;
    }
    Some(
        terms
            .iter()
            .map(|t| format!("\"{t}\"*"))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

impl Store {
    /// Searches contacts, transcripts and notes; best matches of each kind first.
    pub fn search(&self, text: &str, limit_per_kind: u32) -> Result<Vec<SearchHit>> {
        let Some(query) = fts_query(text) else {
            return Ok(Vec::new());
        };
        let mut hits = Vec::new();
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.name || coalesce(' — ' || c.company, '')
             FROM contacts_fts JOIN contacts c ON c.rowid = contacts_fts.rowid
             WHERE contacts_fts MATCH ?1 AND c.deleted_at IS NULL
             ORDER BY contacts_fts.rank LIMIT ?2",
        )?;
        for row in stmt.query_map((&query, limit_per_kind), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })? {
            let (id, snippet) = row?;
            hits.push(SearchHit {
                kind: SearchHitKind::Contact,
                contact_id: Some(sql::parse_id("contact id", &id)?),
                call_id: None,
                ref_id: id,
                snippet,
            });
        }
        let mut stmt = conn.prepare_cached(
            "SELECT u.id, u.call_id, calls.contact_id, snippet(utterances_fts, 0, '[', ']', '…', 12)
             FROM utterances_fts JOIN utterances u ON u.rowid = utterances_fts.rowid
             LEFT JOIN calls ON calls.id = u.call_id
             WHERE utterances_fts MATCH ?1 ORDER BY utterances_fts.rank LIMIT ?2",
        )?;
        for row in stmt.query_map((&query, limit_per_kind), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })? {
            let (id, call_id, contact_id, snippet) = row?;
            hits.push(SearchHit {
                kind: SearchHitKind::Transcript,
                contact_id: contact_id
                    .map(|c| sql::parse_id("contact id", &c))
                    .transpose()?,
                call_id: call_id.map(|c| sql::parse_id("call id", &c)).transpose()?,
                ref_id: id,
                snippet,
            });
        }
        let mut stmt = conn.prepare_cached(
            "SELECT n.id, n.contact_id, n.call_id, snippet(notes_fts, 0, '[', ']', '…', 12)
             FROM notes_fts JOIN notes n ON n.rowid = notes_fts.rowid
             WHERE notes_fts MATCH ?1 ORDER BY notes_fts.rank LIMIT ?2",
        )?;
        for row in stmt.query_map((&query, limit_per_kind), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
            ))
        })? {
            let (id, contact_id, call_id, snippet) = row?;
            hits.push(SearchHit {
                kind: SearchHitKind::Note,
                contact_id: Some(sql::parse_id("contact id", &contact_id)?),
                call_id: call_id.map(|c| sql::parse_id("call id", &c)).transpose()?,
                ref_id: id,
                snippet,
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn free_text_becomes_quoted_prefix_terms() {
        assert_eq!(fts_query("Asha ra").as_deref(), Some("\"Asha\"* \"ra\"*"));
        assert_eq!(
            fts_query("a\"b OR c").as_deref(),
            Some("\"a\"* \"b\"* \"OR\"* \"c\"*")
        );
        assert_eq!(fts_query("  ** ").as_deref(), None);
    }

    #[test]
    fn phone_like_text_becomes_one_digit_run() {
        assert_eq!(
            fts_query("+1 (415) 555-01").as_deref(),
            Some("\"141555501\"*")
        );
    }
}
