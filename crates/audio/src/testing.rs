//! Test support (feature `test-support`), for this crate's tests and the crates above it:
//! - [`PulseServer`]: a private PulseAudio daemon for one test process. Null sinks stand
//!   in for a microphone (`mic_feed`, whose monitor is the default input) and for the
//!   speakers (`far_end`, the default output). Audio is played into them with `paplay`
//!   and captured through cpal like any real device.
//! - [`speech`]: real speech from espeak-ng.

use crate::resample::{downmix_into, resample_clip};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PulseServer {
    child: Child,
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl PulseServer {
    /// Starts the daemon and points this process at it (`PULSE_SERVER`).
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = dir.path().join("native");
        let config = dir.path().join("default.pa");
        std::fs::write(
            &config,
            format!(
                "load-module module-native-protocol-unix socket={} auth-anonymous=1\n\
                 load-module module-null-sink sink_name=far_end rate=48000 channels=2 \
                 sink_properties=device.description=Speakers\n\
                 load-module module-null-sink sink_name=mic_feed rate=48000 channels=1 \
                 sink_properties=device.description=Microphone\n\
                 set-default-sink far_end\n\
                 set-default-source mic_feed.monitor\n",
                socket.display()
            ),
        )
        .expect("config");
        let child = Command::new("pulseaudio")
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--disable-shm=yes",
                "--use-pid-file=no",
                "--log-target=stderr",
                "-F",
            ])
            .arg(&config)
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pulseaudio is installed (scripts/dev.sh deps)");
        let server = Self { child, dir, socket };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.pactl(&["info"]).status.success() {
            assert!(Instant::now() < deadline, "pulseaudio did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: set before this test starts any thread that reads the environment;
        // nextest runs each test in its own process.
        unsafe { std::env::set_var("PULSE_SERVER", server.address()) };
        server
    }

    pub fn address(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn pactl(&self, args: &[&str]) -> std::process::Output {
        Command::new("pactl")
            .args(args)
            .env("PULSE_SERVER", self.address())
            .output()
            .expect("pactl is installed")
    }

    /// Starts playing mono 16 kHz samples into `sink`.
    pub fn play(&self, sink: &str, samples: &[f32]) -> Playing {
        let wav = self.dir().join(format!("play-{}.wav", samples.len()));
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&wav, spec).expect("wav");
        for &s in samples {
            writer
                .write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
                .expect("sample");
        }
        writer.finalize().expect("finalize");
        let child = Command::new("paplay")
            .arg(format!("--device={sink}"))
            .arg(&wav)
            .env("PULSE_SERVER", self.address())
            .spawn()
            .expect("paplay is installed");
        Playing(Some(child))
    }
}

/// A `paplay` in progress; stopped (and reaped) when dropped.
pub struct Playing(Option<Child>);

impl Playing {
    /// True once the clip has finished playing (or `paplay` has exited).
    pub fn finished(&mut self) -> bool {
        match self.0.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Waits for the clip to finish.
    pub fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        match self.0.take() {
            Some(mut child) => child.wait(),
            None => Err(std::io::Error::other("already waited")),
        }
    }
}

impl Drop for Playing {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PulseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Speaks `text` with espeak-ng and returns it as mono f32 at `rate`.
pub fn speech(text: &str, rate: u32) -> Vec<f32> {
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("speech.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/dev.sh deps)");
    assert!(status.success(), "espeak-ng failed");
    let (samples, source_rate) = read_wav_mono(&wav);
    resample_clip(&samples, source_rate, rate).expect("resample")
}

pub fn read_wav_mono(path: &Path) -> (Vec<f32>, u32) {
    let mut reader = hound::WavReader::open(path).expect("wav");
    let spec = reader.spec();
    let scale = 1.0 / f32::from(i16::MAX);
    let samples: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) * scale)
        .collect();
    let mut mono = Vec::new();
    downmix_into(&samples, usize::from(spec.channels), &mut mono);
    (mono, spec.sample_rate)
}
