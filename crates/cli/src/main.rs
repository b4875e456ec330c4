//! `cuecard`: the headless command line over Cuecard's crates.
//!
//! Exit codes: 0 success, 1 error, 2 usage (clap's own). Every command prints
//! human-readable text, or JSON with `--json`.

mod analyze;
mod audio;
mod cloud;
mod contacts;
mod db;
mod dnc;
mod keys;
mod models;
mod output;
mod phone;
mod transcribe;

/// The desktop app's allocator (see `src-tauri/src/main.rs`), so commands run as fast.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cuecard",
    version,
    about = "Cuecard from the command line: contacts, do-not-call list, database, audio, models, keys, transcription, call analysis, the softphone"
)]
struct Cli {
    /// The database file (default: the desktop app's, in the platform's app-data directory).
    #[arg(long, global = true, env = "CUECARD_DB")]
    db: Option<PathBuf>,
    /// The whisper models directory (default: `models/` in the app's data directory).
    #[arg(long, global = true, env = "CUECARD_MODELS_DIR")]
    models_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// The phone settings file (default: the desktop app's `phone.json`).
    #[arg(long, global = true, env = "CUECARD_PHONE_SETTINGS")]
    phone_settings: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import, list, show and export contacts.
    #[command(subcommand)]
    Contacts(contacts::ContactsCommand),
    /// Manage the do-not-call list.
    #[command(subcommand)]
    Dnc(dnc::DncCommand),
    /// Where the database is, and upgrading it.
    #[command(subcommand)]
    Db(db::DbCommand),
    /// Audio devices, recording and level meter.
    #[command(subcommand)]
    Audio(audio::AudioCommand),
    /// Whisper models for speech-to-text: list, import, remove.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Cloud API keys in the OS keychain: list, set, remove.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// What the coach shows on a call (cards, warnings, metrics), from audio or a transcript.
    Analyze(analyze::AnalyzeArgs),
    /// Transcribe an audio file (local whisper, Deepgram or an OpenAI-compatible API).
    Transcribe(transcribe::TranscribeArgs),
    /// The softphone: SIP login, registration test, answering a call.
    #[command(subcommand)]
    Phone(phone::PhoneCommand),
    /// Call a number or SIP address, playing and recording WAV files.
    Call(phone::CallArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The PulseAudio client logs its own disconnect at exit as an error.
                .unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("warn,pulseaudio::client::reactor=off")
                }),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let out = output::Output { json: cli.json };
    let result: Result<()> = (|| {
        // Only the commands that need the database look for it.
        let db_path = || -> Result<PathBuf> {
            match cli.db.clone() {
                Some(path) => Ok(path),
                None => cuecard_store::default_db_path().ok_or_else(|| {
                    anyhow::anyhow!("no data directory on this system: pass --db PATH")
                }),
            }
        };
        match cli.command {
            Command::Contacts(cmd) => contacts::run(cmd, &db_path()?, &out),
            Command::Dnc(cmd) => dnc::run(cmd, &db_path()?, &out),
            Command::Db(cmd) => db::run(cmd, &db_path()?, &out),
            Command::Audio(cmd) => audio::run(cmd, &out),
            Command::Models(cmd) => models::run(cmd, models::models_dir(cli.models_dir)?, &out),
            Command::Keys(cmd) => keys::run(cmd, &out),
            Command::Analyze(args) => {
                let db = (args.save || args.contact.is_some())
                    .then(db_path)
                    .transpose()?;
                analyze::run(args, models::models_dir(cli.models_dir)?, db, &out)
            }
            Command::Transcribe(args) => {
                transcribe::run(args, models::models_dir(cli.models_dir)?, &out)
            }
            Command::Phone(cmd) => {
                let settings = phone::settings_path(cli.phone_settings.clone())?;
                let db = cli.db.clone().or_else(cuecard_store::default_db_path);
                phone::run(cmd, &settings, db, &out)
            }
            Command::Call(args) => {
                let settings = phone::settings_path(cli.phone_settings.clone())?;
                let db = cli.db.clone().or_else(cuecard_store::default_db_path);
                phone::call(args, &settings, db, &out)
            }
        }
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            out.error(&error);
            ExitCode::from(1)
        }
    }
}
