//! The models on this machine: one directory of `ggml-<id>.bin` files (the app's data
//! directory's `models/`). Listing, importing a ggml file or a CTranslate2 directory,
//! and removing. Imports go through a temporary name and a rename, so a failed import
//! never leaves a half model that would later fail to load.

use crate::catalog;
use crate::error::{ModelError, Result};
use crate::ggml::{HParams, read_header};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// An installed model.
#[derive(Clone, Debug, PartialEq, Serialize, specta::Type)]
pub struct InstalledModel {
    pub id: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub hparams: HParams,
}

/// The models directory.
#[derive(Clone, Debug)]
pub struct ModelStore {
    dir: PathBuf,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !id.starts_with('.')
}

/// Copies `from` to `to` in 1 MiB pieces, reporting the fraction copied.
fn copy_with_progress(from: &Path, to: &Path, progress: &mut dyn FnMut(f32)) -> Result<()> {
    let read_err = |source| ModelError::Io {
        path: from.to_owned(),
        source,
    };
    let write_err = |source| ModelError::Io {
        path: to.to_owned(),
        source,
    };
    let mut input = std::fs::File::open(from).map_err(read_err)?;
    let total = input.metadata().map_err(read_err)?.len().max(1);
    let mut output = std::fs::File::create(to).map_err(write_err)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(read_err)?;
        if n == 0 {
            break;
        }
        std::io::Write::write_all(&mut output, &buf[..n]).map_err(write_err)?;
        done += n as u64;
        progress((done as f64 / total as f64).min(1.0) as f32);
    }
    output.sync_all().map_err(write_err)?;
    Ok(())
}

/// SHA-256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let io = |source| ModelError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

impl ModelStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where model `id` lives (whether or not it is installed).
    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("ggml-{id}.bin"))
    }

    /// Installed models, by id. Files that are not valid models are skipped (and logged).
    pub fn list(&self) -> Result<Vec<InstalledModel>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(ModelError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut models = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_prefix("ggml-"))
                .and_then(|n| n.strip_suffix(".bin"))
                .map(str::to_owned)
            else {
                continue;
            };
            match read_header(&path) {
                Ok(hparams) => models.push(InstalledModel {
                    bytes: entry.metadata().map(|m| m.len()).unwrap_or(0),
                    id,
                    path,
                    hparams,
                }),
                Err(e) => tracing::warn!(error = %e, "skipping a file that is not a model"),
            }
        }
        models.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(models)
    }

    /// The installed model `id`.
    pub fn get(&self, id: &str) -> Result<InstalledModel> {
        self.list()?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or_else(|| {
                let installed: Vec<String> = self
                    .list()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|m| m.id)
                    .collect();
                ModelError::Unknown(
                    id.to_owned(),
                    if installed.is_empty() {
                        "none installed".into()
                    } else {
                        installed.join(", ")
                    },
                )
            })
    }

    fn check_id(&self, id: &str) -> Result<()> {
        if valid_id(id) {
            Ok(())
        } else {
            Err(ModelError::Invalid {
                path: self.path_of(id),
                message: format!(
                    "{id:?} is not a usable model name (letters, digits, '.', '-', '_')"
                ),
            })
        }
    }

    fn prepare(&self, id: &str) -> Result<PathBuf> {
        self.check_id(id)?;
        std::fs::create_dir_all(&self.dir).map_err(|source| ModelError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let target = self.path_of(id);
        if target.exists() {
            return Err(ModelError::Invalid {
                path: target,
                message: format!("a model named {id:?} is already installed; remove it first"),
            });
        }
        Ok(target)
    }

    /// Imports a ggml file. The id defaults to the catalog's when the file is a published
    /// model (by SHA-256), else to its size name (`tiny.en`, `base`, …).
    pub fn import_ggml(&self, file: &Path, id: Option<&str>) -> Result<InstalledModel> {
        self.import_ggml_with_progress(file, id, &mut |_| {})
    }

    /// [`Self::import_ggml`], calling `progress` with the fraction copied (0.0–1.0).
    pub fn import_ggml_with_progress(
        &self,
        file: &Path,
        id: Option<&str>,
        progress: &mut dyn FnMut(f32),
    ) -> Result<InstalledModel> {
        let hparams = crate::ggml::validate(file)?;
        let id = match id {
            Some(id) => id.to_owned(),
            None => {
                let hash = sha256_file(file)?;
                catalog::CATALOG
                    .iter()
                    .find(|e| e.sha256 == hash)
                    .map(|e| e.id.to_owned())
                    .unwrap_or_else(|| hparams.size_name())
            }
        };
        let target = self.prepare(&id)?;
        let part = target.with_extension("part");
        let copied = copy_with_progress(file, &part, progress);
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
        std::fs::rename(&part, &target).map_err(|source| ModelError::Io {
            path: target.clone(),
            source,
        })?;
        self.get(&id)
    }

    /// Imports a CTranslate2 (faster-whisper) model directory by converting it.
    pub fn import_ct2(&self, dir: &Path, id: Option<&str>) -> Result<InstalledModel> {
        self.import_ct2_with_progress(dir, id, &mut |_| {})
    }

    /// [`Self::import_ct2`], calling `progress` with the fraction converted.
    pub fn import_ct2_with_progress(
        &self,
        dir: &Path,
        id: Option<&str>,
        progress: &mut dyn FnMut(f32),
    ) -> Result<InstalledModel> {
        // Convert first (into the models directory, under a temporary name) to learn
        // the model's size name, then claim the id.
        std::fs::create_dir_all(&self.dir).map_err(|source| ModelError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let staging = self.dir.join(format!(".import-{}.bin", std::process::id()));
        let hparams = crate::convert::convert_ct2_dir_with_progress(dir, &staging, progress)?;
        let id = id.map(str::to_owned).unwrap_or_else(|| hparams.size_name());
        let target = match self.prepare(&id) {
            Ok(target) => target,
            Err(e) => {
                let _ = std::fs::remove_file(&staging);
                return Err(e);
            }
        };
        std::fs::rename(&staging, &target).map_err(|source| ModelError::Io {
            path: target.clone(),
            source,
        })?;
        self.get(&id)
    }

    /// Imports whatever `path` is: a ggml file or a CTranslate2 directory.
    pub fn import(&self, path: &Path, id: Option<&str>) -> Result<InstalledModel> {
        self.import_with_progress(path, id, &mut |_| {})
    }

    /// [`Self::import`] with progress (0.0–1.0) as it copies or converts.
    pub fn import_with_progress(
        &self,
        path: &Path,
        id: Option<&str>,
        progress: &mut dyn FnMut(f32),
    ) -> Result<InstalledModel> {
        if path.is_dir() {
            self.import_ct2_with_progress(path, id, progress)
        } else {
            self.import_ggml_with_progress(path, id, progress)
        }
    }

    pub fn remove(&self, id: &str) -> Result<InstalledModel> {
        let model = self.get(id)?;
        std::fs::remove_file(&model.path).map_err(|source| ModelError::Io {
            path: model.path.clone(),
            source,
        })?;
        Ok(model)
    }
}
