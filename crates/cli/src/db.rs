//! `cuecard db path|migrate`.

use crate::output::Output;
use anyhow::Result;
use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum DbCommand {
    /// Print the database file's path.
    Path,
    /// Create the database or upgrade it to the current schema (a snapshot is kept first).
    Migrate,
}

pub fn run(cmd: DbCommand, db: &Path, out: &Output) -> Result<()> {
    match cmd {
        DbCommand::Path => out.print(&serde_json::json!({ "path": db }), |_| {
            println!("{}", db.display())
        }),
        DbCommand::Migrate => {
            let (store, report) = cuecard_store::Store::open_with_report(db)?;
            let value = serde_json::json!({
                "path": db,
                "from_version": report.from_version,
                "version": store.schema_version()?,
                "applied": report.applied,
                "snapshot": report.snapshot,
            });
            out.print(&value, |_| {
                if report.applied.is_empty() {
                    println!(
                        "{} is up to date (schema version {})",
                        db.display(),
                        report.from_version
                    );
                } else {
                    println!(
                        "{}: schema version {} → {}",
                        db.display(),
                        report.from_version,
                        report
                            .applied
                            .last()
                            .copied()
                            .unwrap_or(report.from_version)
                    );
                    if let Some(snapshot) = &report.snapshot {
                        println!("snapshot of the old database: {}", snapshot.display());
                    }
                }
            })
        }
    }
}
