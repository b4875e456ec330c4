//! The whisper models Cuecard knows: the ggml conversions published with whisper.cpp,
//! with their SHA-256 (what a download must hash to) and approximate size.

use serde::Serialize;

/// A downloadable model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct CatalogEntry {
    /// The id users type: `tiny.en`, `base`, …
    pub id: &'static str,
    /// English-only models are smaller and more accurate on English.
    pub english_only: bool,
    /// About how big the file is, in MiB (for progress and disk-space checks).
    pub approx_mib: u32,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: &'static str,
    /// Encoder/decoder layers and width, for display.
    pub parameters: &'static str,
}

impl CatalogEntry {
    /// The file name, as whisper.cpp publishes it (`ggml-tiny.en.bin`).
    pub fn file_name(&self) -> String {
        format!("ggml-{}.bin", self.id)
    }
}

/// Where downloads come from unless configured otherwise: the model files published
/// with whisper.cpp. `{file}` is replaced by [`CatalogEntry::file_name`].
pub const DEFAULT_URL_TEMPLATE: &str =
    "https://huggingface.co/ggerganov/whisper.cpp/resolve/main/{file}";

pub const CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        id: "tiny.en",
        english_only: true,
        approx_mib: 75,
        sha256: "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f",
        parameters: "39 M",
    },
    CatalogEntry {
        id: "tiny",
        english_only: false,
        approx_mib: 75,
        sha256: "be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21",
        parameters: "39 M",
    },
    CatalogEntry {
        id: "base.en",
        english_only: true,
        approx_mib: 142,
        sha256: "a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002",
        parameters: "74 M",
    },
    CatalogEntry {
        id: "base",
        english_only: false,
        approx_mib: 142,
        sha256: "60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe",
        parameters: "74 M",
    },
    CatalogEntry {
        id: "small.en",
        english_only: true,
        approx_mib: 466,
        sha256: "c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d",
        parameters: "244 M",
    },
    CatalogEntry {
        id: "small",
        english_only: false,
        approx_mib: 466,
        sha256: "1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b",
        parameters: "244 M",
    },
    CatalogEntry {
        id: "medium.en",
        english_only: true,
        approx_mib: 1500,
        sha256: "cc37e93478338ec7700281a7ac30a10128929eb8f427dda2e865faa8f6da4356",
        parameters: "769 M",
    },
    CatalogEntry {
        id: "medium",
        english_only: false,
        approx_mib: 1500,
        sha256: "6c14d5adee5f86394037b4e4e8b59f1673b6cee10e3cf0b11bbdbee79c156208",
        parameters: "769 M",
    },
    CatalogEntry {
        id: "large-v3-turbo",
        english_only: false,
        approx_mib: 1550,
        sha256: "1fc70f774d38eb169993ac391eea357ef47c88757ef72ee5943879b7e8e2bc69",
        parameters: "809 M",
    },
    CatalogEntry {
        id: "large-v3",
        english_only: false,
        approx_mib: 2950,
        sha256: "64d182b440b98d5203c4f9bd541544d84c605196c4f7b845dfa11fb23594d1e2",
        parameters: "1550 M",
    },
];

/// The catalog entry with this id.
pub fn find(id: &str) -> Option<&'static CatalogEntry> {
    CATALOG.iter().find(|e| e.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_hashes_are_sha256_hex() {
        for (i, e) in CATALOG.iter().enumerate() {
            assert_eq!(e.sha256.len(), 64, "{}", e.id);
            assert!(
                e.sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            assert!(CATALOG[..i].iter().all(|o| o.id != e.id), "{}", e.id);
        }
        assert_eq!(
            find("base.en").map(|e| e.file_name()).as_deref(),
            Some("ggml-base.en.bin")
        );
        assert!(find("huge").is_none());
    }
}
