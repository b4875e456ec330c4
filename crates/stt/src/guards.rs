//! Guards against whisper's hallucinations.
//!
//! Whisper was trained on subtitles, so on silence, noise or the tail of a window it can
//! invent text: stock phrases ("Thank you.", "Thanks for watching!"), bracketed
//! annotations ("[BLANK_AUDIO]", "(music)"), or a loop repeating the last phrase. The
//! local engine only decodes audio the voice detector calls speech; these checks clean
//! what still gets through.

use crate::WordTiming;

/// Per-segment evidence whisper gives about its own output.
#[derive(Clone, Copy, Debug)]
pub struct SegmentStats {
    /// Probability of the no-speech token at the segment start.
    pub no_speech_prob: f32,
    /// Mean log-probability of the segment's text tokens.
    pub avg_logprob: f32,
}

/// Phrases whisper produces on silence. Compared after [`crate::wer::normalize`].
const STOCK_PHRASES: &[&str] = &[
    "you",
    "thank you",
    "thanks",
    "thank you very much",
    "thanks for watching",
    "thank you for watching",
    "thanks for listening",
    "please subscribe",
    "subscribe",
    "bye",
    "so",
    "the end",
    "i'm sorry",
    "uh",
    "um",
    "hmm",
];

/// Whether `text` is one of the phrases whisper makes up on silence.
pub fn is_stock_phrase(text: &str) -> bool {
    let words = crate::wer::normalize(text).join(" ");
    STOCK_PHRASES.contains(&words.as_str())
}

/// Whether a decoded segment should be thrown away.
///
/// - OpenAI's rule: no-speech probability above 0.6 with a low mean log-probability.
/// - A stock phrase is kept only when whisper was confident there was speech: "thank
///   you" is common on sales calls, so it is not dropped outright.
/// - Text that is nothing but annotations is dropped by the word filter below.
pub fn drop_segment(text: &str, stats: SegmentStats) -> bool {
    if stats.no_speech_prob > 0.6 && stats.avg_logprob < -1.0 {
        return true;
    }
    is_stock_phrase(text) && (stats.no_speech_prob > 0.3 || stats.avg_logprob < -0.9)
}

/// Words of a hypothesis that must match the prompt for it to count as an echo.
const ECHO_WORDS: usize = 4;
/// How far back in the prompt an echo is looked for, in words.
const ECHO_LOOKBACK: usize = 40;

/// Whether a decode copied its prompt: its first words (at least [`ECHO_WORDS`], up to
/// six) occur word for word among the prompt's last [`ECHO_LOOKBACK`] words. A speaker
/// who really repeats a phrase is only decoded twice; the retry without the prompt
/// transcribes it again.
pub fn echoes_prompt(prompt: &str, words: &[WordTiming]) -> bool {
    let text: String = words
        .iter()
        .map(|w| w.word.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let hyp = crate::wer::normalize(&text);
    if hyp.len() < ECHO_WORDS {
        return false;
    }
    let head = &hyp[..hyp.len().min(6)];
    let prompt = crate::wer::normalize(prompt);
    let tail = &prompt[prompt.len().saturating_sub(ECHO_LOOKBACK)..];
    tail.windows(head.len()).any(|w| w == head)
}

/// Whether a word is an annotation rather than speech: `[BLANK_AUDIO]`, `(music)`,
/// `*laughs*`, `♪`.
pub fn is_annotation(word: &str) -> bool {
    let w = word.trim();
    w.is_empty()
        || w.chars().all(|c| !c.is_alphanumeric())
        || (w.starts_with('[') || w.starts_with('(') || w.starts_with('*'))
            && (w.ends_with(']') || w.ends_with(')') || w.ends_with('*'))
        || w.contains('♪')
}

/// Removes annotations that span several words ("(upbeat music)") and single ones.
pub fn strip_annotations(words: &mut Vec<WordTiming>) {
    let mut out = Vec::with_capacity(words.len());
    let mut depth: Option<char> = None;
    for w in words.drain(..) {
        let t = w.word.trim();
        if let Some(close) = depth {
            if t.ends_with(close) {
                depth = None;
            }
            continue;
        }
        let opener = match t.chars().next() {
            Some('[') => Some(']'),
            Some('(') => Some(')'),
            _ => None,
        };
        if let Some(close) = opener
            && !t.ends_with(close)
        {
            depth = Some(close);
            continue;
        }
        if !is_annotation(t) {
            out.push(w);
        }
    }
    *words = out;
}

/// Cuts a repetition loop: when a run of 1–8 words repeats back to back more than
/// `max_repeats` times, the extra copies and everything after them go (a loop never
/// recovers within the window).
pub fn truncate_repetition(words: &mut Vec<WordTiming>, max_repeats: usize) {
    let keys: Vec<String> = words
        .iter()
        .map(|w| crate::wer::normalize(&w.word).join(" "))
        .collect();
    let n = keys.len();
    for start in 0..n {
        for len in 1..=8usize {
            if start + len * (max_repeats + 1) > n {
                break;
            }
            let unit = &keys[start..start + len];
            if unit.iter().all(String::is_empty) {
                continue;
            }
            let mut repeats = 1;
            while start + len * (repeats + 1) <= n
                && &keys[start + len * repeats..start + len * (repeats + 1)] == unit
            {
                repeats += 1;
            }
            if repeats > max_repeats {
                tracing::debug!(
                    unit = %unit.join(" "),
                    repeats,
                    "cut a repetition loop"
                );
                words.truncate(start + len * max_repeats);
                return;
            }
        }
    }
}

/// Shortest phrase whose immediate repeat counts as a hallucination.
const REPEATED_PHRASE_WORDS: usize = 6;

/// Removes a long phrase said twice in a row ("What happens when a new rep hears an
/// objection? What happens when a new rep hears an objection?"). Whisper does this when
/// a window starts mid-turn; people almost never repeat six words or more verbatim
/// back to back. The second copy goes and the words after it stay.
pub fn drop_repeated_phrases(words: &mut Vec<WordTiming>) {
    let keys: Vec<String> = words
        .iter()
        .map(|w| crate::wer::normalize(&w.word).join(" "))
        .collect();
    let mut start = 0;
    let mut keep = vec![true; keys.len()];
    while start < keys.len() {
        let longest = (keys.len() - start) / 2;
        let repeat = (REPEATED_PHRASE_WORDS..=longest).find(|&len| {
            let unit = &keys[start..start + len];
            unit.iter().filter(|k| !k.is_empty()).count() >= REPEATED_PHRASE_WORDS
                && unit == &keys[start + len..start + 2 * len]
        });
        match repeat {
            Some(len) => {
                tracing::debug!(
                    phrase = %keys[start..start + len].join(" "),
                    "dropped a repeated phrase"
                );
                keep[start + len..start + 2 * len].fill(false);
                start += 2 * len;
            }
            None => start += 1,
        }
    }
    let mut i = 0;
    words.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<WordTiming> {
        text.split_whitespace()
            .enumerate()
            .map(|(i, w)| WordTiming {
                word: w.into(),
                start_ms: i as u32 * 100,
                end_ms: i as u32 * 100 + 90,
                confidence: None,
            })
            .collect()
    }

    fn text(words: &[WordTiming]) -> String {
        words
            .iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_decode_that_starts_with_the_prompts_last_sentence_is_an_echo() {
        let prompt = "Honestly we do not have much. What happens when a new rep hears an objection they have never handled before?";
        let echo = words("What happens when a new rep hears an objection? They usually freeze.");
        assert!(echoes_prompt(prompt, &echo));
        let fresh = words("They usually freeze, and then they promise to send an email later.");
        assert!(!echoes_prompt(prompt, &fresh));
        // Short answers ("Yes, I do.") are never called echoes.
        assert!(!echoes_prompt("Do you? Yes, I do.", &words("Yes, I do.")));
        // Only the prompt's recent words count.
        let old = format!("We do not have much. {}", "word ".repeat(60));
        assert!(!echoes_prompt(&old, &words("We do not have much money")));
    }

    #[test]
    fn a_long_phrase_said_twice_in_a_row_keeps_one_copy() {
        let q = "What happens when a new rep hears an objection?";
        let mut w = words(&format!("Okay. {q} {q} They usually freeze."));
        drop_repeated_phrases(&mut w);
        assert_eq!(text(&w), format!("Okay. {q} They usually freeze."));
        // Short repeats are speech, not hallucination.
        let mut w = words("No, no, no. I said no, no, no.");
        drop_repeated_phrases(&mut w);
        assert_eq!(w.len(), 8);
        // The same phrase apart is kept.
        let mut w = words(&format!("{q} Good question. {q}"));
        drop_repeated_phrases(&mut w);
        assert_eq!(w.len(), 20);
    }

    #[test]
    fn loops_are_cut_after_the_allowed_repeats() {
        let mut w = words("I think so. I think so. I think so. I think so. I think so.");
        truncate_repetition(&mut w, 2);
        assert_eq!(text(&w), "I think so. I think so.");

        let mut w = words("no no no no no no no no");
        truncate_repetition(&mut w, 3);
        assert_eq!(text(&w), "no no no");

        let mut ok = words("we need it, we need it now");
        truncate_repetition(&mut ok, 2);
        assert_eq!(text(&ok), "we need it, we need it now");
    }

    #[test]
    fn annotations_go() {
        let mut w = words("[BLANK_AUDIO] hello (upbeat music) there ♪ *laughs* friend");
        strip_annotations(&mut w);
        assert_eq!(text(&w), "hello there friend");
    }

    #[test]
    fn stock_phrases_go_only_when_whisper_doubts_speech() {
        let doubtful = SegmentStats {
            no_speech_prob: 0.5,
            avg_logprob: -0.5,
        };
        let confident = SegmentStats {
            no_speech_prob: 0.01,
            avg_logprob: -0.2,
        };
        assert!(drop_segment(" Thank you.", doubtful));
        assert!(!drop_segment(" Thank you.", confident));
        assert!(!drop_segment("Thank you for the demo.", doubtful));
        assert!(drop_segment(
            "anything",
            SegmentStats {
                no_speech_prob: 0.9,
                avg_logprob: -1.5
            }
        ));
    }
}
