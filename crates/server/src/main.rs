//! The `cuecard-server` binary: serve, create an organisation, mint a new epoch.

use anyhow::Context;
use clap::{Parser, Subcommand};
use cuecard_server::{AppState, Config, accounts, db::redact};

#[derive(Debug, Parser)]
#[command(
    name = "cuecard-server",
    version,
    about = "Cuecard's sync backend and managers' dashboard"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Config),
    /// Create an organisation and print its first admin's invitation.
    CreateOrg {
        #[command(flatten)]
        config: Config,
        /// The organisation's name.
        #[arg(long)]
        name: String,
        /// The first admin's email.
        #[arg(long)]
        admin_email: String,
    },
    /// After restoring a backup: mint a new server epoch so apps re-sync what was lost.
    NewEpoch(Config),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(Config::parse_default()));
    match command {
        Command::Serve(config) => serve(config).await,
        Command::CreateOrg {
            config,
            name,
            admin_email,
        } => {
            init_logs(&config);
            let state = AppState::open(config).await?;
            let (org, token) = accounts::create_org(&state, &name, &admin_email)
                .await
                .map_err(|e| anyhow::anyhow!(e.message))?;
            println!("organisation {org} created");
            println!("invitation for {admin_email} (admin), valid 7 days:");
            println!("{token}");
            Ok(())
        }
        Command::NewEpoch(config) => {
            init_logs(&config);
            let state = AppState::open(config).await?;
            let epoch = state.db.new_epoch().await?;
            println!("new server epoch {epoch}: apps will re-sync on their next pull");
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    init_logs(&config);
    let url = redact(&config.database_url);
    let running = cuecard_server::serve(config, shutdown_signal())
        .await
        .with_context(|| format!("starting the server on {url}"))?;
    tracing::info!(addr = %running.addr, database = %url, "cuecard-server listening");
    running.task.await??;
    tracing::info!("cuecard-server stopped");
    Ok(())
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

trait ParseDefault {
    fn parse_default() -> Self;
}

impl ParseDefault for Config {
    /// The settings with no flags (environment variables still apply).
    fn parse_default() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        Only::parse_from(["cuecard-server"]).config
    }
}
