//! The server's settings. Every one can come from a flag or an environment variable; see
//! `cuecard-server serve --help` and the README's "Sync server" section.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How the server runs.
#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Where to store data: sqlite://PATH (created if missing) or postgres://USER:PASS@HOST/DB.
    #[arg(
        long,
        env = "CUECARD_DATABASE_URL",
        default_value = "sqlite://cuecard-server.db"
    )]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(long, env = "CUECARD_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,

    /// Directory for uploaded call recordings: content-addressed files under `sha256/`,
    /// uploads in progress under `partial/`. Back it up together with the database.
    #[arg(long, env = "CUECARD_BLOB_DIR", default_value = "cuecard-blobs")]
    pub blob_dir: PathBuf,

    /// The largest call recording accepted, in bytes.
    #[arg(long, env = "CUECARD_MAX_RECORDING_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub max_recording_bytes: u64,

    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "CUECARD_ACCESS_TTL_SECS", default_value_t = 900)]
    pub access_ttl_secs: u64,

    /// Lifetime of a refresh token, in days.
    #[arg(long, env = "CUECARD_REFRESH_TTL_DAYS", default_value_t = 60)]
    pub refresh_ttl_days: u64,

    /// Sign-in, sign-up and refresh attempts allowed per client address per minute.
    #[arg(long, env = "CUECARD_AUTH_PER_MINUTE", default_value_t = 20)]
    pub auth_per_minute: u32,

    /// The most mutations one push may carry.
    #[arg(long, env = "CUECARD_MAX_PUSH", default_value_t = 5000)]
    pub max_push: usize,

    /// The largest request body accepted, in bytes (recording chunks have their own limit).
    #[arg(long, env = "CUECARD_MAX_BODY", default_value_t = 16 * 1024 * 1024)]
    pub max_body: usize,

    /// Log format: `json` (one object per line) or `text`.
    #[arg(long, env = "CUECARD_LOG_FORMAT", default_value = "json")]
    pub log_format: String,
}

impl Config {
    /// Settings for tests and benchmarks: a database URL, an ephemeral port, generous limits.
    pub fn for_tests(database_url: &str, blob_dir: PathBuf) -> Config {
        Config {
            database_url: database_url.to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            blob_dir,
            max_recording_bytes: 512 * 1024 * 1024,
            access_ttl_secs: 900,
            refresh_ttl_days: 60,
            auth_per_minute: 10_000,
            max_push: 5000,
            max_body: 16 * 1024 * 1024,
            log_format: "text".into(),
        }
    }
}
