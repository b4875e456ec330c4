//! Test helpers (feature `test-support`): the whisper test models and two-speaker
//! dialogue synthesised with espeak-ng.

use crate::audio_file::Clip;
use crate::{Channel, SAMPLE_RATE};
use cuecard_audio::resample::resample_clip;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `scripts/dev.sh` puts the CTranslate2 test models (`tiny.en-ct2`, `base-ct2`).
pub fn test_assets_dir() -> PathBuf {
    std::env::var_os("CUECARD_TEST_ASSETS").map_or_else(
        || {
            dirs_home()
                .join(".cache")
                .join("cuecard")
                .join("test-assets")
        },
        PathBuf::from,
    )
}

fn dirs_home() -> PathBuf {
    std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

/// The ggml file of test model `name` (`tiny.en` or `base`), converted from its
/// CTranslate2 form on first use and cached beside it. Panics with the set-up command
/// when the test models were not fetched.
pub fn test_model(name: &str) -> PathBuf {
    let assets = test_assets_dir();
    let ct2 = assets.join(format!("{name}-ct2"));
    let ggml = assets.join("ggml").join(format!("{name}.bin"));
    if ggml.exists() {
        return ggml;
    }
    assert!(
        ct2.join("model.bin").exists(),
        "test model {name} is missing at {}: run `scripts/dev.sh test-models` (part of the README's test command)",
        ct2.display()
    );
    std::fs::create_dir_all(ggml.parent().unwrap_or(&assets)).expect("create the ggml cache");
    // Convert to a private name, then rename: tests running in parallel may race here.
    let tmp = ggml.with_extension(format!("{}.part", std::process::id()));
    cuecard_models::convert::convert_ct2_dir(&ct2, &tmp).expect("convert the test model");
    std::fs::rename(&tmp, &ggml).expect("move the converted model in place");
    ggml
}

/// One turn of a scripted dialogue.
#[derive(Clone, Debug)]
pub struct Turn {
    pub channel: Channel,
    pub text: String,
    pub start_ms: u32,
    pub end_ms: u32,
}

/// A dialogue rendered to audio: the rep on one channel, the prospect on the other.
#[derive(Clone, Debug)]
pub struct Dialogue {
    pub turns: Vec<Turn>,
    /// Two channels, each silent while the other speaks.
    pub stereo: Clip,
    /// Both voices in one track.
    pub mixed: Vec<f32>,
}

impl Dialogue {
    /// Everything said on `channel`, in order.
    pub fn reference(&self, channel: Channel) -> String {
        self.turns
            .iter()
            .filter(|t| t.channel == channel)
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Everything said, in order.
    pub fn reference_all(&self) -> String {
        self.turns
            .iter()
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The repository's `assets/speech/sales-dialogue.txt`.
pub fn sales_dialogue_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/speech/sales-dialogue.txt")
}

/// The sales dialogue as a transcript without audio: one segment per turn, each 4 s
/// long, turns 5 s apart — what `cuecard transcribe --json` would write for it.
pub fn sales_dialogue_transcript() -> Vec<crate::Segment> {
    let text = std::fs::read_to_string(sales_dialogue_script()).expect("read the dialogue script");
    let mut segments = Vec::new();
    let mut start_ms = 0;
    for line in text.lines() {
        let (channel, words) = match (line.strip_prefix("rep:"), line.strip_prefix("prospect:")) {
            (Some(w), _) => (Channel::Rep, w.trim()),
            (_, Some(w)) => (Channel::FarEnd, w.trim()),
            _ => continue,
        };
        segments.push(crate::Segment {
            channel,
            speaker: None,
            start_ms,
            end_ms: start_ms + 4_000,
            text: words.to_owned(),
            confidence: None,
            words: Vec::new(),
        });
        start_ms += 5_000;
    }
    segments
}

/// Renders a script of `rep:` / `prospect:` lines with espeak-ng: one voice per side,
/// `gap_ms` of silence between turns.
pub fn render_dialogue(script: &Path, gap_ms: u32) -> Dialogue {
    let text = std::fs::read_to_string(script).expect("read the dialogue script");
    let mut turns = Vec::new();
    let mut rep = Vec::new();
    let mut far = Vec::new();
    let gap = (gap_ms * SAMPLE_RATE / 1000) as usize;
    rep.resize(gap, 0.0);
    far.resize(gap, 0.0);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (channel, voice, words) = if let Some(w) = line.strip_prefix("rep:") {
            (Channel::Rep, "en-us", w.trim())
        } else if let Some(w) = line.strip_prefix("prospect:") {
            (Channel::FarEnd, "en-us+f3", w.trim())
        } else {
            panic!("dialogue line without rep:/prospect: {line:?}");
        };
        let audio = speak(words, voice);
        let start = rep.len();
        let (own, other) = match channel {
            Channel::Rep => (&mut rep, &mut far),
            Channel::FarEnd => (&mut far, &mut rep),
        };
        own.extend_from_slice(&audio);
        other.resize(own.len(), 0.0);
        let end = rep.len();
        rep.resize(end + gap, 0.0);
        far.resize(end + gap, 0.0);
        turns.push(Turn {
            channel,
            text: words.to_owned(),
            start_ms: crate::samples_to_ms(start),
            end_ms: crate::samples_to_ms(end),
        });
    }
    let mixed = rep.iter().zip(&far).map(|(a, b)| a + b).collect();
    Dialogue {
        turns,
        stereo: Clip {
            channels: vec![(Channel::Rep, rep), (Channel::FarEnd, far)],
        },
        mixed,
    }
}

/// Writes 16-bit PCM WAV at `rate`, one track per channel (shorter ones padded).
pub fn write_wav(path: &Path, channels: &[&[f32]], rate: u32) {
    let spec = hound::WavSpec {
        channels: u16::try_from(channels.len()).expect("channel count"),
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    let frames = channels.iter().map(|c| c.len()).max().unwrap_or(0);
    for i in 0..frames {
        for c in channels {
            let s = c.get(i).copied().unwrap_or(0.0);
            w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
                .expect("write sample");
        }
    }
    w.finalize().expect("finalize wav");
}

/// Real recorded speech with transcripts from Debian's `pocketsphinx-testdata`: five
/// LibriVox excerpts. `$CUECARD_LIBRIVOX_DIR` overrides the directory.
pub fn librivox_dir() -> PathBuf {
    std::env::var_os("CUECARD_LIBRIVOX_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/pocketsphinx/test/data/librivox"))
}

/// The LibriVox excerpts: each WAV with its reference text (the package's
/// `transcription`, `<s> words </s> (file id)` per line).
pub fn librivox_excerpts() -> Vec<(PathBuf, String)> {
    let dir = librivox_dir();
    let listing = std::fs::read_to_string(dir.join("transcription")).unwrap_or_else(|e| {
        panic!(
            "{}: {e} — install pocketsphinx-testdata (scripts/dev.sh deps)",
            dir.display()
        )
    });
    listing
        .lines()
        .filter_map(|line| {
            let (text, id) = line.rsplit_once('(')?;
            let id = id.trim().trim_end_matches(')');
            let text = text.replace("<s>", "").replace("</s>", "");
            Some((dir.join(format!("{id}.wav")), text.trim().to_owned()))
        })
        .collect()
}

/// Speaks `text` with espeak-ng in `voice`, as 16 kHz mono.
pub fn speak(text: &str, voice: &str) -> Vec<f32> {
    let dir = tempfile_dir();
    let wav = dir.join("speech.wav");
    let status = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "165", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/dev.sh deps)");
    assert!(status.success(), "espeak-ng failed");
    let mut reader = hound::WavReader::open(&wav).expect("espeak wav");
    let rate = reader.spec().sample_rate;
    let samples: Vec<f32> = reader
        .samples::<i16>()
        .map(|s| f32::from(s.expect("sample")) / 32768.0)
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    resample_clip(&samples, rate, SAMPLE_RATE).expect("resample")
}

fn tempfile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cuecard-stt-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
