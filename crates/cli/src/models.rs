//! `cuecard models list|import|remove`: the whisper models speech-to-text runs on.

use crate::output::Output;
use anyhow::{Context, Result};
use clap::Subcommand;
use cuecard_models::catalog::CATALOG;
use cuecard_models::store::{InstalledModel, ModelStore};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// The known models and which are installed.
    List,
    /// Download a model from the catalog (resumes an interrupted download).
    Download {
        name: String,
        /// Where models come from; `{file}` is replaced by the file name.
        #[arg(long, env = "CUECARD_MODELS_URL", default_value = cuecard_models::catalog::DEFAULT_URL_TEMPLATE)]
        url: String,
    },
    /// Install a model from a ggml file or a CTranslate2 (faster-whisper) directory.
    Import {
        path: PathBuf,
        /// Install under this name (default: the catalog name, or the model's size).
        #[arg(long)]
        name: Option<String>,
    },
    /// Delete an installed model.
    Remove { name: String },
}

/// The models directory: `--models-dir`, `CUECARD_MODELS_DIR`, or `models/` in the
/// app's data directory.
pub fn models_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    match flag {
        Some(dir) => Ok(dir),
        None => cuecard_store::models_dir()
            .context("no data directory on this system: pass --models-dir"),
    }
}

#[derive(Serialize)]
struct Listing {
    dir: PathBuf,
    installed: Vec<InstalledModel>,
    catalog: Vec<CatalogLine>,
}

#[derive(Serialize)]
struct CatalogLine {
    id: &'static str,
    english_only: bool,
    approx_mib: u32,
    parameters: &'static str,
    installed: bool,
}

pub fn run(cmd: ModelsCommand, dir: PathBuf, out: &Output) -> Result<()> {
    let store = ModelStore::new(dir);
    match cmd {
        ModelsCommand::List => {
            let installed = store.list()?;
            let catalog = CATALOG
                .iter()
                .map(|e| CatalogLine {
                    id: e.id,
                    english_only: e.english_only,
                    approx_mib: e.approx_mib,
                    parameters: e.parameters,
                    installed: installed.iter().any(|m| m.id == e.id),
                })
                .collect();
            let listing = Listing {
                dir: store.dir().to_owned(),
                installed,
                catalog,
            };
            out.print(&listing, |l| {
                println!("Models in {}", l.dir.display());
                if l.installed.is_empty() {
                    println!("  (none installed)");
                }
                for m in &l.installed {
                    println!(
                        "  {:<16} {:>6.1} MiB  {} layers, width {}",
                        m.id,
                        m.bytes as f64 / 1_048_576.0,
                        m.hparams.n_audio_layer,
                        m.hparams.n_audio_state
                    );
                }
                println!("\nAvailable:");
                for c in &l.catalog {
                    println!(
                        "  {} {:<16} ~{:>5} MiB  {:>6} params{}",
                        if c.installed { "*" } else { " " },
                        c.id,
                        c.approx_mib,
                        c.parameters,
                        if c.english_only { "  English only" } else { "" }
                    );
                }
                println!("\n* installed");
            })
        }
        ModelsCommand::Download { name, url } => {
            let entry = cuecard_models::catalog::find(&name).with_context(|| {
                let ids: Vec<&str> = CATALOG.iter().map(|e| e.id).collect();
                format!(
                    "no model {name:?} in the catalog; known: {}",
                    ids.join(", ")
                )
            })?;
            let options = cuecard_models::download::DownloadOptions {
                url_template: url,
                ..Default::default()
            };
            let json = out.json;
            let mut last_percent = None;
            let model = cuecard_models::download::download(
                &store,
                entry,
                &options,
                &cuecard_models::download::CancelToken::default(),
                |p| {
                    let percent = p.total.map(|t| p.downloaded * 100 / t.max(1));
                    if !json && percent != last_percent {
                        last_percent = percent;
                        match percent {
                            Some(pc) => eprint!(
                                "\r{name}: {pc:>3}% of {:.0} MiB",
                                p.total.unwrap_or(0) as f64 / 1_048_576.0
                            ),
                            None => {
                                eprint!("\r{name}: {:.0} MiB", p.downloaded as f64 / 1_048_576.0)
                            }
                        }
                    }
                },
            );
            if !json {
                eprintln!();
            }
            let model = model?;
            out.print(&model, |m| {
                println!("Installed {} at {}", m.id, m.path.display())
            })
        }
        ModelsCommand::Import { path, name } => {
            let json = out.json;
            let mut last_percent = None;
            let model = store
                .import_with_progress(&path, name.as_deref(), &mut |fraction| {
                    let percent = (fraction * 100.0) as u32;
                    if !json && last_percent != Some(percent) {
                        last_percent = Some(percent);
                        eprint!("\rimporting: {percent:>3}%");
                    }
                })
                .with_context(|| format!("importing {}", path.display()));
            if !json && last_percent.is_some() {
                eprintln!();
            }
            let model = model?;
            out.print(&model, |m| {
                println!(
                    "Installed {} ({:.1} MiB) at {}",
                    m.id,
                    m.bytes as f64 / 1_048_576.0,
                    m.path.display()
                );
            })
        }
        ModelsCommand::Remove { name } => {
            let model = store.remove(&name)?;
            out.print(&model, |m| println!("Removed {}", m.id))
        }
    }
}
