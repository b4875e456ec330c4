//! The error every command returns to the UI: a kind to branch on and a message to show.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct CommandError {
    /// `not_found`, `invalid`, `import`, `database_unavailable`, `database`.
    pub kind: String,
    pub message: String,
}

impl CommandError {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            message: message.into(),
        }
    }
}

impl From<cuecard_store::StoreError> for CommandError {
    fn from(error: cuecard_store::StoreError) -> Self {
        use cuecard_store::StoreError as E;
        let kind = match &error {
            E::NotFound { .. } => "not_found",
            E::Invalid(_) => "invalid",
            E::Corrupt { .. } | E::TooNew { .. } => "database_unavailable",
            _ => "database",
        };
        tracing::warn!(%error, "command failed");
        Self::new(kind, error.to_string())
    }
}

impl From<cuecard_contacts::ImportError> for CommandError {
    fn from(error: cuecard_contacts::ImportError) -> Self {
        match error {
            cuecard_contacts::ImportError::Store(e) => e.into(),
            other => Self::new("import", other.to_string()),
        }
    }
}
