//! `cuecard keys list|set|remove`: the cloud API keys in the OS keychain.
//!
//! `set` reads the key from standard input (a prompt without echo on a terminal, or a
//! pipe), never from the command line, where it would land in the shell history and the
//! process list.

use crate::output::Output;
use anyhow::{Context, Result};
use clap::Subcommand;
use cuecard_secrets::{SecretName, SecretSource, Secrets};
use serde::Serialize;
use std::io::{IsTerminal, Read};

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Which keys are set, and where (keychain or environment).
    List,
    /// Store a key in the keychain, read from standard input: deepgram, openai, llm,
    /// twilio-auth-token, twilio-api-key-secret or sip (the SIP password).
    Set { name: SecretName },
    /// Remove a key from the keychain (the same names as `set`).
    Remove { name: SecretName },
}

#[derive(Serialize)]
struct KeyLine {
    name: SecretName,
    label: &'static str,
    source: Option<SecretSource>,
    env_var: &'static str,
}

pub fn run(cmd: KeysCommand, out: &Output) -> Result<()> {
    let secrets = Secrets::new();
    match cmd {
        KeysCommand::List => {
            let lines = SecretName::ALL
                .into_iter()
                .map(|name| {
                    Ok(KeyLine {
                        name,
                        label: name.label(),
                        source: secrets.source(name)?,
                        env_var: name.env_var(),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            out.print(&lines, |lines| {
                for l in lines {
                    let state = match l.source {
                        Some(SecretSource::Keychain) => "set (keychain)".to_owned(),
                        Some(SecretSource::Environment) => format!("set (${})", l.env_var),
                        None => "not set".to_owned(),
                    };
                    println!("{:<18} {state}", l.label);
                }
            })
        }
        KeysCommand::Set { name } => {
            let value = if std::io::stdin().is_terminal() {
                rpassword::prompt_password(format!("{}: ", name.label()))
                    .context("reading the key")?
            } else {
                let mut value = String::new();
                std::io::stdin()
                    .read_to_string(&mut value)
                    .context("reading the key from standard input")?;
                value
            };
            secrets.set(name, &value)?;
            out.print(&serde_json::json!({ "stored": name }), |_| {
                println!("Stored the {} in the keychain.", name.label())
            })
        }
        KeysCommand::Remove { name } => {
            let removed = secrets.delete(name)?;
            out.print(&serde_json::json!({ "removed": removed }), |_| {
                if removed {
                    println!("Removed the {} from the keychain.", name.label());
                } else {
                    println!("No {} was stored in the keychain.", name.label());
                }
            })
        }
    }
}
