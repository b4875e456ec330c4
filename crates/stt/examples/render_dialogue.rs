//! Renders the sales dialogue (assets/speech/sales-dialogue.txt) with espeak-ng to WAV
//! files, for benchmarks and for trying `cuecard transcribe`:
//! `cargo run -p cuecard-stt --features test-support --example render_dialogue -- OUT_DIR`
//! writes `dialogue-stereo.wav` (rep left, prospect right), `dialogue-mixed.wav` and
//! `dialogue-reference.txt`.

use cuecard_stt::SAMPLE_RATE;
use cuecard_stt::testing::{render_dialogue, sales_dialogue_script, write_wav};
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&out).expect("create output dir");
    let d = render_dialogue(&sales_dialogue_script(), 700);
    let rep = &d.stereo.channels[0].1;
    let far = &d.stereo.channels[1].1;
    write_wav(&out.join("dialogue-stereo.wav"), &[rep, far], SAMPLE_RATE);
    write_wav(&out.join("dialogue-mixed.wav"), &[&d.mixed], SAMPLE_RATE);
    std::fs::write(out.join("dialogue-reference.txt"), d.reference_all() + "\n").expect("write");
    println!(
        "{:.1} s of dialogue in {}",
        d.mixed.len() as f64 / 16000.0,
        out.display()
    );
}
