//! Cold-start benchmark: launch the real desktop app under Xvfb on a database of 10,000
//! contacts and time process start → the contacts list painted (the UI reports its first
//! paint through the `ui_ready` command, which logs `cold_start_ms`). Five runs, median.
//!
//! Run: `cargo run --release -p cuecard-e2e --bin cold-start-bench -- [PATH_TO_APP]`.

use anyhow::{Context, Result, bail};
use cuecard_core::{ContactFields, Email, Phone};
use cuecard_e2e::{Guard, Xvfb, app_binary, own_group};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONTACTS: usize = 10_000;
const RUNS: usize = 5;

fn main() -> Result<()> {
    let app = match std::env::args_os().nth(1) {
        Some(path) => path.into(),
        None => app_binary()?,
    };
    let data = tempfile::tempdir()?;
    {
        let mut store = cuecard_store::Store::open(data.path().join(cuecard_store::DB_FILE_NAME))?;
        store.write(|w| {
            for i in 0..CONTACTS {
                let fields = ContactFields {
                    name: format!("Contact {i:05}"),
                    company: Some(format!("Company {}", i % 300)),
                    phones: vec![Phone {
                        e164: format!("+9198{i:08}"),
                        label: None,
                    }],
                    emails: vec![Email {
                        address: format!("c{i}@example.com"),
                        label: None,
                    }],
                    ..Default::default()
                };
                w.create_contact(fields, &cuecard_store::Provenance::Manual)?;
            }
            Ok(())
        })?;
    }
    let xvfb = Xvfb::start()?;
    let mut painted = Vec::new();
    let mut wall = Vec::new();
    for run in 0..=RUNS {
        let started = Instant::now();
        let child = own_group(&mut Command::new(&app))
            .env("DISPLAY", &xvfb.display)
            .env("CUECARD_DATA_DIR", data.path())
            .env("XDG_DATA_HOME", data.path().join("xdg"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", app.display()))?;
        let mut guard = Guard(child);
        let stderr = guard.0.stderr.take().context("stderr")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(ms) = line.split("cold_start_ms=").nth(1) {
                    let ms: String = ms.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(ms.parse::<u64>().unwrap_or(0));
                    return;
                }
            }
        });
        let Ok(ms) = rx.recv_timeout(Duration::from_secs(30)) else {
            bail!("run {run}: the app did not report painting the contacts list within 30 s");
        };
        let elapsed = started.elapsed();
        drop(guard);
        if run == 0 {
            println!("warm-up run: {ms} ms (not counted: first run fills the page cache)");
            continue;
        }
        println!(
            "run {run}: painted {ms} ms after process start ({:.0} ms wall from spawn)",
            elapsed.as_secs_f64() * 1000.0
        );
        painted.push(ms);
        wall.push(elapsed);
    }
    painted.sort();
    wall.sort();
    println!(
        "cold start to contacts list painted ({CONTACTS} contacts, Xvfb): median {} ms (wall {:.0} ms), worst {} ms",
        painted[RUNS / 2],
        wall[RUNS / 2].as_secs_f64() * 1000.0,
        painted[RUNS - 1]
    );
    Ok(())
}
