//! A throw-away PostgreSQL cluster for tests: `initdb` into a temporary directory (Debian's
//! postgresql package), started with `pg_ctl`, listening only on a Unix socket in that
//! directory (so no port can clash), stopped and deleted when dropped.
//!
//! PostgreSQL refuses to run as root; when the tests do, the cluster runs as the
//! `postgres` system user the Debian package creates.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A running cluster with one database, `cuecard`.
pub struct TempCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    port: u16,
}

/// Why a cluster could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin): apt-get install postgresql"
    )]
    Missing,
    #[error("{step} failed: {detail}")]
    Step { step: &'static str, detail: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Where Debian keeps the server binaries (the newest installed version).
pub fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl TempCluster {
    /// Creates, starts and opens a cluster.
    pub fn start() -> Result<TempCluster, ClusterError> {
        let bin = bin_dir().ok_or(ClusterError::Missing)?;
        let as_postgres = is_root();
        let dir = tempfile::Builder::new().prefix("cuecard-pg-").tempdir()?;
        if as_postgres {
            run(
                "chown",
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(dir.path()),
            )?;
        }
        let cluster = TempCluster {
            dir,
            bin,
            as_postgres,
            port: 5432,
        };
        let data = cluster.data_dir();
        cluster.run_pg(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "cuecard",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        )?;
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -c port={} -c fsync=on -c max_connections=100",
            cluster.dir.path().display(),
            cluster.port
        );
        cluster.run_pg(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &cluster.dir.path().join("server.log").to_string_lossy(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )?;
        cluster.run_pg(
            "createdb",
            &[
                "-h",
                &cluster.dir.path().to_string_lossy(),
                "-p",
                &cluster.port.to_string(),
                "-U",
                "cuecard",
                "cuecard",
            ],
        )?;
        Ok(cluster)
    }

    /// A sqlx/libpq URL for the `cuecard` database over the Unix socket.
    pub fn url(&self) -> String {
        self.url_for("cuecard")
    }

    /// A sqlx/libpq URL for `database` (e.g. one a test created, or `postgres`).
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://cuecard@localhost/{database}?host={}&port={}",
            self.dir.path().display(),
            self.port
        )
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run_pg(&self, tool: &'static str, args: &[&str]) -> Result<Output, ClusterError> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.args(args).current_dir(self.dir.path());
        run(tool, &mut command)
    }
}

fn run(step: &'static str, command: &mut Command) -> Result<Output, ClusterError> {
    let output = command.output()?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(ClusterError::Step {
            step,
            detail: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.run_pg(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}
