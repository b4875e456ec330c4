//! Real recorded speech: the LibriVox excerpts (Jane Austen, *Sense and Sensibility*,
//! read by a volunteer) with their transcripts that Debian's `pocketsphinx-testdata`
//! package carries, transcribed by the test set-up's tiny.en. Espeak's voices are
//! clean and regular; a human reader is not.

use cuecard_stt::SpeechEngine;
use cuecard_stt::audio_file::{self, ChannelLayout};
use cuecard_stt::local::{LocalConfig, LocalEngine, WhisperModel};
use cuecard_stt::testing::{librivox_excerpts, test_model};
use cuecard_stt::wer::{WerCounts, counts};

#[test]
fn librivox_excerpts_are_transcribed_within_tiny_en_accuracy() {
    let excerpts = librivox_excerpts();
    assert_eq!(excerpts.len(), 5, "the package's five excerpts");
    let engine = LocalEngine::new(
        WhisperModel::load(&test_model("tiny.en")).expect("model"),
        LocalConfig::default(),
    );
    let mut total = WerCounts::default();
    for (wav, reference) in &excerpts {
        let clip = audio_file::load(wav, ChannelLayout::Mixed).expect("load");
        let segments = engine.transcribe(&clip, "en").expect("transcribe");
        let text: Vec<&str> = segments.iter().map(|s| s.text.as_str()).collect();
        let c = counts(reference, &text.join(" "));
        eprintln!("{:.0}% {:?}", c.rate() * 100.0, text.join(" "));
        total.add(c);
    }
    eprintln!(
        "LibriVox WER {:.1}% over {} words",
        total.rate() * 100.0,
        total.reference_words
    );
    assert!(total.rate() <= 0.15, "WER {:.1}%", total.rate() * 100.0);
}
