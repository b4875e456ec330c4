//! `cuecard dnc add|remove|check`.

use crate::output::Output;
use anyhow::{Context, Result};
use clap::Subcommand;
use cuecard_core::DncSource;
use cuecard_store::Store;
use std::path::Path;

#[derive(Subcommand)]
pub enum DncCommand {
    /// Put a number on the do-not-call list (and flag contacts that hold it).
    Add {
        number: String,
        /// Why (e.g. "asked not to be called").
        #[arg(long)]
        reason: Option<String>,
        /// Region for numbers without a country code (ISO 3166).
        #[arg(long, default_value = "IN", env = "CUECARD_REGION")]
        region: String,
    },
    /// Take a number off the list.
    Remove {
        number: String,
        #[arg(long, default_value = "IN", env = "CUECARD_REGION")]
        region: String,
    },
    /// Say whether a number may be called (exit code 0 either way).
    Check {
        number: String,
        #[arg(long, default_value = "IN", env = "CUECARD_REGION")]
        region: String,
    },
}

fn e164(number: &str, region: &str) -> Result<String> {
    let region = cuecard_contacts::phone::region(region)?;
    cuecard_contacts::normalize_phone(number, region)
        .with_context(|| format!("cannot use {number:?}"))
}

pub fn run(cmd: DncCommand, db: &Path, out: &Output) -> Result<()> {
    let mut store = Store::open(db)?;
    match cmd {
        DncCommand::Add {
            number,
            reason,
            region,
        } => {
            let e164 = e164(&number, &region)?;
            let flagged =
                store.write(|w| w.add_dnc(&e164, reason.as_deref(), DncSource::Manual))?;
            let value =
                serde_json::json!({ "number": e164, "listed": true, "contacts_flagged": flagged });
            out.print(&value, |_| {
                println!("{e164} is on the do-not-call list ({flagged} contact(s) flagged)")
            })
        }
        DncCommand::Remove { number, region } => {
            let e164 = e164(&number, &region)?;
            let removed = store.write(|w| w.remove_dnc(&e164))?;
            let value = serde_json::json!({ "number": e164, "removed": removed });
            out.print(&value, |_| {
                if removed {
                    println!("{e164} removed from the do-not-call list");
                } else {
                    println!("{e164} was not on the do-not-call list");
                }
            })
        }
        DncCommand::Check { number, region } => {
            let e164 = e164(&number, &region)?;
            let entry = store.dnc_entry(&e164)?;
            let value =
                serde_json::json!({ "number": e164, "listed": entry.is_some(), "entry": entry });
            out.print(&value, |_| match &entry {
                Some(entry) => println!(
                    "{e164}: DO NOT CALL (since {}{})",
                    entry.added_at.format("%Y-%m-%d"),
                    entry
                        .reason
                        .as_deref()
                        .map(|r| format!(", {r}"))
                        .unwrap_or_default()
                ),
                None => println!("{e164}: not on the do-not-call list"),
            })
        }
    }
}
