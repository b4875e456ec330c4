//! Renders the sales dialogue (assets/speech/sales-dialogue.txt) with espeak-ng to WAV
//! files, for benchmarks and for trying `cuecard transcribe`:
//! `cargo run -p cuecard-stt --features test-support --example render_dialogue -- OUT_DIR`
//! writes `dialogue-stereo.wav` (rep left, prospect right), `dialogue-mixed.wav` and
//! `dialogue-reference.txt`.

use cuecard_stt::testing::{render_dialogue, sales_dialogue_script};
use std::path::PathBuf;

fn write(path: &PathBuf, channels: &[&[f32]]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: cuecard_stt::SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    let frames = channels.iter().map(|c| c.len()).max().unwrap_or(0);
    for i in 0..frames {
        for c in channels {
            let s = c.get(i).copied().unwrap_or(0.0);
            w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
                .expect("write");
        }
    }
    w.finalize().expect("finalize");
}

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out).expect("create output dir");
    let d = render_dialogue(&sales_dialogue_script(), 700);
    let rep = &d.stereo.channels[0].1;
    let far = &d.stereo.channels[1].1;
    write(&out.join("dialogue-stereo.wav"), &[rep, far]);
    write(&out.join("dialogue-mixed.wav"), &[&d.mixed]);
    std::fs::write(out.join("dialogue-reference.txt"), d.reference_all() + "\n").expect("write");
    println!(
        "{:.1} s of dialogue in {}",
        d.mixed.len() as f64 / 16000.0,
        out.display()
    );
}
