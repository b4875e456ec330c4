//! Harness for end-to-end tests and the cold-start benchmark: starts a private Xvfb
//! display, `tauri-driver` in front of WebKitWebDriver, and the real desktop app with
//! its own data directory; cleans everything up on drop.

use anyhow::{Context, Result, bail};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The desktop binary under test: `$CUECARD_APP`, else `cuecard-desktop` next to the
/// test executable's profile directory (built by `cargo build -p cuecard-desktop`).
pub fn app_binary() -> Result<PathBuf> {
    built_binary(
        "cuecard-desktop",
        "CUECARD_APP",
        "run `cargo build -p cuecard-desktop` (scripts/dev.sh test does)",
    )
}

/// The `cuecard` command line, built beside the test binaries (`cargo nextest run
/// --workspace` builds it for its own tests); `CUECARD_CLI` overrides.
pub fn cli_binary() -> Result<PathBuf> {
    built_binary("cuecard", "CUECARD_CLI", "run `cargo build -p cuecard-cli`")
}

/// The `cuecard-server` binary, built beside the test binaries (`cargo nextest run
/// --workspace` builds it for the server's own tests); `CUECARD_SERVER` overrides.
pub fn server_binary() -> Result<PathBuf> {
    built_binary(
        "cuecard-server",
        "CUECARD_SERVER",
        "run `cargo build -p cuecard-server`",
    )
}

/// `$env`, else the binary `name` in a directory above the running test executable
/// (the Cargo profile directory).
fn built_binary(name: &str, env: &str, how_to_build: &str) -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe()?;
    for dir in exe.ancestors().skip(1) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!("{name} is not built: {how_to_build}")
}

/// Whether the tools the end-to-end tests drive are installed; lists the missing ones.
pub fn missing_tools() -> Vec<&'static str> {
    ["Xvfb", "tauri-driver", "WebKitWebDriver"]
        .into_iter()
        .filter(|tool| which(tool).is_none())
        .collect()
}

/// True when end-to-end tests may be skipped: only outside CI, and only when asked.
pub fn skip_requested() -> bool {
    std::env::var_os("CI").is_none() && std::env::var_os("CUECARD_SKIP_E2E").is_some()
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let home_cargo = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    std::env::split_paths(&path)
        .chain(home_cargo)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

/// A free TCP port on loopback.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A child process killed (and reaped) on drop, together with anything it started:
/// spawn it with [`own_group`] so it leads its own process group.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // The whole group: tauri-driver's WebKitWebDriver and the app it launched too.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .stderr(Stdio::null())
            .status();
        std::thread::sleep(Duration::from_millis(100));
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Makes the command's process the leader of a new process group.
pub fn own_group(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    command.process_group(0)
}

/// A private X display. Its framebuffer is kept in a file, so [`Xvfb::screenshot_png`]
/// can capture exactly what a user would see without asking the app.
pub struct Xvfb {
    pub display: String,
    fb_dir: tempfile::TempDir,
    _process: Guard,
}

impl Xvfb {
    pub fn start() -> Result<Xvfb> {
        let xvfb = which("Xvfb").context("Xvfb is not installed (apt-get install xvfb)")?;
        for number in 90..140 {
            let lock = PathBuf::from(format!("/tmp/.X{number}-lock"));
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            if lock.exists() || socket.exists() {
                continue;
            }
            let display = format!(":{number}");
            let fb_dir = tempfile::tempdir()?;
            let child = own_group(&mut Command::new(&xvfb))
                .args([
                    &display,
                    "-screen",
                    "0",
                    "1280x800x24",
                    "-nolisten",
                    "tcp",
                    "-fbdir",
                ])
                .arg(fb_dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("starting Xvfb")?;
            let mut guard = Guard(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if socket.exists() {
                    return Ok(Xvfb {
                        display,
                        fb_dir,
                        _process: guard,
                    });
                }
                if let Ok(Some(_)) = guard.0.try_wait() {
                    break; // lost a race for this display: try the next one
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        bail!("could not start Xvfb on any display :90–:139")
    }
}

impl Xvfb {
    /// The screen as a PNG, read from Xvfb's framebuffer file (XWD format, 24/32-bit).
    pub fn screenshot_png(&self) -> Result<Vec<u8>> {
        let xwd = std::fs::read(self.fb_dir.path().join("Xvfb_screen0"))
            .context("reading the Xvfb framebuffer")?;
        xwd_to_png(&xwd)
    }
}

/// Converts an XWD image with 32 bits per pixel (what Xvfb keeps for depth 24) to PNG.
pub fn xwd_to_png(xwd: &[u8]) -> Result<Vec<u8>> {
    let field = |index: usize| -> Result<u32> {
        let bytes = xwd
            .get(index * 4..index * 4 + 4)
            .context("XWD header is truncated")?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    let (header_size, width, height) = (field(0)? as usize, field(4)? as usize, field(5)? as usize);
    let (byte_order, bits_per_pixel, bytes_per_line) = (field(7)?, field(11)?, field(12)? as usize);
    let (red_mask, green_mask, blue_mask, colors) =
        (field(14)?, field(15)?, field(16)?, field(19)? as usize);
    if bits_per_pixel != 32 {
        bail!("XWD with {bits_per_pixel} bits per pixel is not supported");
    }
    let data = xwd
        .get(header_size + colors * 12..)
        .context("XWD has no pixel data")?;
    let channel = |pixel: u32, mask: u32| ((pixel & mask) >> mask.trailing_zeros()) as u8;
    let mut rgb = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let at = y * bytes_per_line + x * 4;
            let raw: [u8; 4] = data
                .get(at..at + 4)
                .context("XWD pixel data is truncated")?
                .try_into()?;
            let pixel = if byte_order == 0 {
                u32::from_le_bytes(raw)
            } else {
                u32::from_be_bytes(raw)
            };
            rgb.extend_from_slice(&[
                channel(pixel, red_mask),
                channel(pixel, green_mask),
                channel(pixel, blue_mask),
            ]);
        }
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, width as u32, height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&rgb)?;
    }
    Ok(png)
}

/// `tauri-driver` listening on a free port, driving WebKitWebDriver on another.
pub struct TauriDriver {
    pub url: String,
    _process: Guard,
}

impl TauriDriver {
    pub fn start(display: &str, data_dir: &Path) -> Result<TauriDriver> {
        let driver = which("tauri-driver")
            .context("tauri-driver is not installed (cargo install tauri-driver)")?;
        let native = which("WebKitWebDriver")
            .context("WebKitWebDriver is not installed (apt-get install webkit2gtk-driver)")?;
        let port = free_port()?;
        let native_port = free_port()?;
        // A private XDG config whose Downloads folder is inside the test's data dir.
        let config = data_dir.join("xdg-config");
        std::fs::create_dir_all(&config)?;
        std::fs::write(
            config.join("user-dirs.dirs"),
            format!(
                "XDG_DOWNLOAD_DIR=\"{}\"\n",
                data_dir.join("Downloads").display()
            ),
        )?;
        let child = own_group(&mut Command::new(driver))
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .arg("--native-driver")
            .arg(native)
            .env("DISPLAY", display)
            .env("CUECARD_DATA_DIR", data_dir)
            .env("XDG_DATA_HOME", data_dir.join("xdg-data"))
            .env("XDG_CONFIG_HOME", &config)
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting tauri-driver")?;
        let guard = Guard(child);
        // tauri-driver forwards to WebKitWebDriver, which it starts itself: both must listen.
        wait_for_port(port, Duration::from_secs(10))?;
        wait_for_port(native_port, Duration::from_secs(10))?;
        Ok(TauriDriver {
            url: format!("http://127.0.0.1:{port}"),
            _process: guard,
        })
    }
}

pub fn wait_for_port(port: u16, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("nothing listened on port {port} within {timeout:?}")
}

/// Connects a WebDriver session that launches `app`.
pub async fn connect(driver: &TauriDriver, app: &Path) -> Result<fantoccini::Client> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app.display().to_string() }),
    );
    caps.insert("browserName".into(), serde_json::json!("wry"));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = fantoccini::ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .context("opening a WebDriver session on the app")?;
    Ok(client)
}

/// Where test artifacts (screenshots) go: `$CUECARD_ARTIFACTS` or `<repo>/test-artifacts`.
pub fn artifacts_dir() -> PathBuf {
    std::env::var_os("CUECARD_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-artifacts"))
}

// Helpers for WebDriver tests.

/// The app binary, or `None` when the e2e tools are missing and `CUECARD_SKIP_E2E` is set
/// (otherwise missing tools fail the test).
pub fn prerequisites() -> Option<std::path::PathBuf> {
    let missing = missing_tools();
    if !missing.is_empty() && skip_requested() {
        eprintln!(
            "skipping end-to-end test: {} not installed (CUECARD_SKIP_E2E set)",
            missing.join(", ")
        );
        return None;
    }
    assert!(
        missing.is_empty(),
        "end-to-end tools missing: {} — run scripts/dev.sh deps",
        missing.join(", ")
    );
    Some(app_binary().expect("app binary"))
}

pub async fn wait_css(
    client: &fantoccini::Client,
    css: &str,
) -> Result<fantoccini::elements::Element> {
    client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(fantoccini::Locator::Css(css))
        .await
        .with_context(|| format!("waiting for {css}"))
}

/// The text in the first element matching `css` (its DOM text: WebKitWebDriver's
/// "visible text" leaves out table cells styled `overflow: hidden`).
pub async fn text_of(client: &fantoccini::Client, css: &str) -> Result<String> {
    wait_css(client, css).await?;
    let text = client
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.textContent).join('\\n');",
            vec![serde_json::json!(css)],
        )
        .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

/// Saves a screenshot of the display under test-artifacts/. (WebKitWebDriver's own
/// screenshot command hangs under Xvfb without a GPU, so the framebuffer is read.)
pub fn save_screenshot(xvfb: &Xvfb, name: &str) -> Result<Vec<u8>> {
    let png = xvfb.screenshot_png()?;
    let dir = artifacts_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), &png)?;
    Ok(png)
}

/// Polls `check` until it holds (20 s at most).
pub async fn wait_until(
    client: &fantoccini::Client,
    what: &str,
    check: impl AsyncFn(&fantoccini::Client) -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if check(client).await.unwrap_or(false) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("timed out waiting until {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Picks `value` in the `<select>` matching `css` the way React sees a user do it
/// (WebKitWebDriver cannot click native option lists under Xvfb).
pub async fn choose_option(client: &fantoccini::Client, css: &str, value: &str) -> Result<()> {
    client
        .execute(
            r#"const [css, value] = arguments;
               const el = document.querySelector(css);
               const setter = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set;
               setter.call(el, value);
               el.dispatchEvent(new Event('change', { bubbles: true }));"#,
            vec![serde_json::json!(css), serde_json::json!(value)],
        )
        .await?;
    Ok(())
}

/// Opens the first contact in the list (clicking its first cell: WebKitWebDriver cannot
/// click a table row) and waits for its page.
pub async fn open_first_contact(client: &fantoccini::Client) -> Result<()> {
    wait_css(client, "[data-testid=contact-row]").await?;
    client
        .find(fantoccini::Locator::Css("[data-testid=contact-row] td"))
        .await?
        .click()
        .await?;
    wait_css(client, "[data-testid=contact-detail]").await?;
    Ok(())
}

/// Waits for the first element matching `css` and clicks it.
pub async fn click(client: &fantoccini::Client, css: &str) -> Result<()> {
    wait_css(client, css).await?.click().await?;
    Ok(())
}

/// Switches the session to the overlay (`true`) or the main window, waiting for it to
/// open. Windows come and go meanwhile, so a failed switch is retried.
pub async fn switch_to(client: &fantoccini::Client, overlay: bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        for handle in client.windows().await.unwrap_or_default() {
            if client.switch_to_window(handle).await.is_err() {
                continue;
            }
            let Ok(url) = client.current_url().await else {
                continue;
            };
            if url.as_str().contains("overlay.html") == overlay {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("no {} window", if overlay { "overlay" } else { "main" });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The data directory of a coached call: one contact, Dana Lee (+1 415 555 0100),
/// imported through the CLI, and the tiny.en model installed.
pub fn seed_dana_and_tiny_model(data: &Path) -> Result<()> {
    let csv = data.join("contacts.csv");
    std::fs::write(
        &csv,
        "Name,Phone,Email\nDana Lee,+1 415 555 0100,dana@example.com\n",
    )?;
    let out = Command::new(cli_binary()?)
        .arg("--db")
        .arg(data.join(cuecard_store::DB_FILE_NAME))
        .args(["contacts", "import"])
        .arg(&csv)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "cuecard contacts import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    cuecard_models::store::ModelStore::new(data.join("models")).import(
        &cuecard_stt::testing::test_model("tiny.en"),
        Some("tiny.en"),
    )?;
    Ok(())
}

/// The data directory of a reviewed call: Dana Lee (+91 98123 45678,
/// dana@example.com) imported through the CLI, and the scripted sales dialogue filed
/// and scored under her by `cuecard analyze --contact`, as a rep would from the CLI.
pub fn seed_scored_call(data: &Path) -> Result<()> {
    seed_call(data, None)
}

/// The same call filed with `recording` (a WAV or Ogg Opus file) as its recording
/// (`cuecard analyze --recording`).
pub fn seed_scored_call_with_recording(data: &Path, recording: &Path) -> Result<()> {
    seed_call(data, Some(recording))
}

fn seed_call(data: &Path, recording: Option<&Path>) -> Result<()> {
    let cli = cli_binary()?;
    let db = data.join(cuecard_store::DB_FILE_NAME);
    let csv = data.join("contacts.csv");
    std::fs::write(
        &csv,
        "Name,Phone,Email\nDana Lee,+91 98123 45678,dana@example.com\n",
    )?;
    let segments = cuecard_stt::testing::sales_dialogue_transcript();
    let transcript = data.join("call.json");
    std::fs::write(
        &transcript,
        serde_json::json!({ "segments": segments }).to_string(),
    )?;
    for args in [
        vec![
            "contacts".into(),
            "import".into(),
            csv.display().to_string(),
        ],
        vec![
            "analyze".into(),
            transcript.display().to_string(),
            "--contact".into(),
            "dana@example.com".into(),
        ]
        .into_iter()
        .chain(
            recording
                .into_iter()
                .flat_map(|r| ["--recording".into(), r.display().to_string()]),
        )
        .collect(),
    ] {
        let out = Command::new(&cli)
            .arg("--db")
            .arg(&db)
            .args(&args)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "cuecard {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
