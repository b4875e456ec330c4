//! A private Secret Service for tests (feature `test-support`): a D-Bus session bus
//! with no service activation and an unlocked gnome-keyring-daemon on it, in a
//! temporary directory, stopped on drop (apt: dbus, gnome-keyring). Nothing on the
//! machine, such as a user's own keyring, is touched.

use crate::{SecretName, Secrets};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A session bus (and usually a keyring on it), stopped on drop.
pub struct KeyringDaemon {
    /// `DBUS_SESSION_BUS_ADDRESS` for processes that should use this keyring.
    pub address: String,
    bus: Child,
    keyring: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for KeyringDaemon {
    fn drop(&mut self) {
        for child in self
            .keyring
            .iter_mut()
            .chain(std::iter::once(&mut self.bus))
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Points this process's D-Bus clients at `address`.
fn use_bus(address: &str) {
    // SAFETY: called at the start of a test, before it starts threads; nextest runs
    // each test in its own process.
    unsafe {
        std::env::set_var("DBUS_SESSION_BUS_ADDRESS", address);
    }
}

fn start_bus(dir: &Path) -> (Child, String) {
    let config = dir.join("bus.conf");
    let conf = format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        dir.join("bus").display()
    );
    std::fs::write(&config, conf).expect("bus config");
    let mut bus = Command::new("dbus-daemon")
        .args(["--nofork", "--print-address=1"])
        .arg(format!("--config-file={}", config.display()))
        .stdout(Stdio::piped())
        .spawn()
        .expect("dbus-daemon (apt install dbus)");
    let mut line = String::new();
    BufReader::new(bus.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("bus address");
    (bus, line.trim().to_owned())
}

impl KeyringDaemon {
    /// A bus with an unlocked keyring, ready when this returns. Sets
    /// `DBUS_SESSION_BUS_ADDRESS` in this process; pass [`Self::address`] to children.
    pub fn start() -> KeyringDaemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let (bus, address) = start_bus(dir.path());
        use_bus(&address);
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("HOME", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon (apt install gnome-keyring)");
        // The login keyring's password, then end of input: it is created unlocked.
        let mut stdin = keyring.stdin.take().expect("stdin");
        stdin.write_all(b"test-password").expect("password");
        drop(stdin);
        let daemon = KeyringDaemon {
            address,
            bus,
            keyring: Some(keyring),
            _dir: dir,
        };
        let probe = Secrets::with_service("app.cuecard.test.probe");
        let deadline = Instant::now() + Duration::from_secs(10);
        while let Err(e) = probe.set(SecretName::DeepgramApiKey, "probe") {
            assert!(
                Instant::now() < deadline,
                "the keyring never became ready: {e}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        daemon
    }

    /// A bus with nothing on it: every keychain call fails as on a machine without a
    /// keyring.
    pub fn without_keyring() -> KeyringDaemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let (bus, address) = start_bus(dir.path());
        use_bus(&address);
        KeyringDaemon {
            address,
            bus,
            keyring: None,
            _dir: dir,
        }
    }
}
