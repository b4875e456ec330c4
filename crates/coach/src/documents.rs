//! The team's coaching documents as files the app edits: the playbook and the scoring
//! rubric, each TOML, each falling back to the built-in default when the team has not
//! made its own. Saving validates first (errors name the item and field) and writes
//! atomically, so a bad edit never replaces a good file.

use crate::playbook::{Playbook, PlaybookError};
use crate::scorecard::Rubric;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Which document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Playbook,
    Rubric,
}

/// A document as the editor shows it.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct CoachDocument {
    pub kind: DocumentKind,
    pub toml: String,
    /// False while the built-in default is in use.
    pub custom: bool,
    /// "14 cards (7 objections, 2 battlecards), 3 rules, 5 stage guides · v2".
    pub summary: String,
}

const DEFAULT_PLAYBOOK: &str = include_str!("../../../assets/playbooks/default-b2b.toml");
const DEFAULT_RUBRIC: &str = include_str!("../../../assets/playbooks/rubric-default.toml");

impl DocumentKind {
    fn default_text(self) -> &'static str {
        match self {
            DocumentKind::Playbook => DEFAULT_PLAYBOOK,
            DocumentKind::Rubric => DEFAULT_RUBRIC,
        }
    }

    /// Validates `text` (`path` only names it in errors); a one-line summary.
    pub fn check(self, text: &str, path: &Path) -> Result<String, PlaybookError> {
        match self {
            DocumentKind::Playbook => {
                let p = Playbook::parse(text, path)?;
                let count = |kind| p.cards.iter().filter(|c| c.kind == kind).count();
                Ok(format!(
                    "{} cards ({} objections, {} battlecards), {} rules, {} stage guides · v{}",
                    p.cards.len(),
                    count(crate::playbook::CardKind::Objection),
                    count(crate::playbook::CardKind::Competitor),
                    p.rules.len(),
                    p.stages.len(),
                    p.playbook.version
                ))
            }
            DocumentKind::Rubric => {
                let r = Rubric::parse(text, path)?;
                Ok(format!(
                    "{} categories, {} checks · v{}",
                    r.categories.len(),
                    r.checks.len(),
                    r.rubric.version
                ))
            }
        }
    }
}

/// Reads the document at `path`, or the default when there is no file.
pub fn load(kind: DocumentKind, path: &Path) -> Result<CoachDocument, PlaybookError> {
    let (toml, custom) = match std::fs::read_to_string(path) {
        Ok(text) => (text, true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            (kind.default_text().to_owned(), false)
        }
        Err(source) => {
            return Err(PlaybookError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let summary = kind.check(&toml, path)?;
    Ok(CoachDocument {
        kind,
        toml,
        custom,
        summary,
    })
}

/// Validates `toml` and writes it to `path` (through a temporary file and a rename).
pub fn save(kind: DocumentKind, path: &Path, toml: &str) -> Result<CoachDocument, PlaybookError> {
    let summary = kind.check(toml, path)?;
    let io = |source| PlaybookError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let temp = path.with_extension("toml.tmp");
    std::fs::write(&temp, toml).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)?;
    Ok(CoachDocument {
        kind,
        toml: toml.to_owned(),
        custom: true,
        summary,
    })
}

/// Saves a playbook edited as a form (the app's structured editor): the version is
/// moved past the one in force, so calls record which edit coached them; the playbook
/// is validated and written as TOML (without the comments a hand-written file had).
pub fn save_playbook(path: &Path, mut edited: Playbook) -> Result<CoachDocument, PlaybookError> {
    let current = playbook(Some(path))?;
    edited.playbook.version = edited
        .playbook
        .version
        .max(current.playbook.version.saturating_add(1));
    edited.validate(path)?;
    let toml = edited.to_toml().map_err(|e| PlaybookError::Syntax {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    save(DocumentKind::Playbook, path, &toml)
}

/// Imports a shared file as the team's document at `path`: read and validated (errors
/// name `source`), then saved; a bad file leaves the team's document as it was.
pub fn import(
    kind: DocumentKind,
    path: &Path,
    source: &Path,
) -> Result<CoachDocument, PlaybookError> {
    let text = std::fs::read_to_string(source).map_err(|e| PlaybookError::Io {
        path: source.to_owned(),
        source: e,
    })?;
    kind.check(&text, source)?;
    save(kind, path, &text)
}

/// Goes back to the built-in default (removes the team's file).
pub fn reset(kind: DocumentKind, path: &Path) -> Result<CoachDocument, PlaybookError> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(PlaybookError::Io {
                path: path.to_owned(),
                source,
            });
        }
    }
    load(kind, path)
}

/// The playbook in force: the team's file when there is one, else the default.
pub fn playbook(path: Option<&Path>) -> Result<Playbook, PlaybookError> {
    match path.filter(|p| p.exists()) {
        Some(path) => Playbook::load(path),
        None => Ok(Playbook::default_b2b()),
    }
}

/// The rubric in force: the team's file when there is one, else the default.
pub fn rubric(path: Option<&Path>) -> Result<Rubric, PlaybookError> {
    match path.filter(|p| p.exists()) {
        Some(path) => Rubric::load(path),
        None => Ok(Rubric::default_rubric()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_until_saved_and_a_bad_edit_keeps_the_good_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("playbook.toml");
        let doc = load(DocumentKind::Playbook, &path).expect("default");
        assert!(!doc.custom);
        assert!(doc.summary.contains("stage guides · v2"), "{}", doc.summary);

        let edited = doc
            .toml
            .replace("name = \"Generic B2B\"", "name = \"Acme team\"");
        let saved = save(DocumentKind::Playbook, &path, &edited).expect("save");
        assert!(saved.custom);
        assert_eq!(
            playbook(Some(&path)).expect("load").playbook.name,
            "Acme team"
        );

        // A broken edit is refused with the item and field, and the file is kept.
        let broken = edited.replace("id = \"objection-price\"", "id = \"objection-timing\"");
        let err = save(DocumentKind::Playbook, &path, &broken)
            .unwrap_err()
            .to_string();
        assert!(err.contains("card \"objection-timing\": id"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("kept"), edited);

        let back = reset(DocumentKind::Playbook, &path).expect("reset");
        assert!(!back.custom && !path.exists());
    }

    #[test]
    fn an_import_is_validated_against_its_own_file_name() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("playbook.toml");
        let shared = dir.path().join("team-playbook.toml");
        let err = import(DocumentKind::Playbook, &path, &shared)
            .unwrap_err()
            .to_string();
        assert!(err.contains("team-playbook.toml"), "{err}");
        std::fs::write(
            &shared,
            "[playbook]\nid = \"t\"\nname = \"\"\nversion = 1\n",
        )
        .expect("write");
        let err = import(DocumentKind::Playbook, &path, &shared)
            .unwrap_err()
            .to_string();
        assert!(err.contains("team-playbook.toml: playbook: name"), "{err}");
        assert!(!path.exists(), "a bad import wrote the team's file");
        std::fs::write(
            &shared,
            "[playbook]\nid = \"t\"\nname = \"Team\"\nversion = 1\n",
        )
        .expect("write");
        let doc = import(DocumentKind::Playbook, &path, &shared).expect("import");
        assert!(
            doc.custom && doc.summary.contains("0 cards"),
            "{}",
            doc.summary
        );
    }

    #[test]
    fn rubrics_are_checked_too() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("rubric.toml");
        let doc = load(DocumentKind::Rubric, &path).expect("default");
        assert!(doc.summary.ends_with("· v2"), "{}", doc.summary);
        let err = save(DocumentKind::Rubric, &path, "[rubric]\nid = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rubric.toml"), "{err}");
        assert!(!path.exists());
        assert_eq!(rubric(Some(&path)).expect("default").rubric.id, "default");
    }

    #[test]
    fn a_playbook_saved_from_the_form_moves_its_version_and_a_bad_one_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("playbook.toml");
        let mut edited = playbook(Some(&path)).expect("default");
        let before = edited.playbook.version;
        edited.cards[0].title = "Price, budget or cost".into();
        edited.cards[0].triggers.push("costs a fortune".into());
        let saved = save_playbook(&path, edited.clone()).expect("saved");
        assert!(saved.custom);
        let back = playbook(Some(&path)).expect("read back");
        assert_eq!(back.playbook.version, before + 1);
        assert_eq!(back.cards[0].title, "Price, budget or cost");
        assert!(
            back.cards[0]
                .triggers
                .contains(&"costs a fortune".to_owned())
        );

        let mut bad = back.clone();
        bad.cards[1].triggers.clear();
        let err = save_playbook(&path, bad)
            .expect_err("no triggers")
            .to_string();
        assert!(
            err.contains(&back.cards[1].id) && err.contains("triggers"),
            "{err}"
        );
        assert_eq!(playbook(Some(&path)).expect("kept"), back);
    }
}
