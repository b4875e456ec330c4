//! Word error rate: how far a transcript is from the truth, after normalising both the
//! way ASR evaluations do (case, punctuation, a few spelling variants).

/// Normalises text to comparable words: lower case, punctuation dropped (apostrophes
/// kept inside words), hyphens split, a few spelling variants unified, number words
/// up to ninety as digits.
pub fn normalize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || c == '-' || c == '—') {
        let word: String = raw
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '’')
            .map(|c| if c == '’' { '\'' } else { c })
            .flat_map(char::to_lowercase)
            .collect();
        let word = word.trim_matches('\'');
        if word.is_empty() {
            continue;
        }
        if let Some(n) = number_word(word) {
            words.push(n.to_string());
            continue;
        }
        match word {
            "ok" | "okay" => words.push("okay".to_string()),
            "percent" | "%" => words.push("percent".to_string()),
            "mr" => words.push("mister".to_string()),
            w => words.push(w.to_string()),
        }
    }
    words
}

/// A number word as digits ("twenty" → 20): whisper writes small numbers either way.
fn number_word(word: &str) -> Option<u32> {
    const ONES: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    if let Some(i) = ONES.iter().position(|w| *w == word) {
        return u32::try_from(i).ok();
    }
    TENS.iter()
        .position(|w| *w == word)
        .and_then(|i| u32::try_from(i * 10 + 20).ok())
}

/// Edit counts between a reference and a hypothesis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WerCounts {
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    pub reference_words: usize,
}

impl WerCounts {
    /// Errors over reference words; 0 for an empty reference and hypothesis.
    pub fn rate(&self) -> f64 {
        let errors = self.substitutions + self.deletions + self.insertions;
        if self.reference_words == 0 {
            return if errors == 0 { 0.0 } else { 1.0 };
        }
        errors as f64 / self.reference_words as f64
    }

    pub fn add(&mut self, other: WerCounts) {
        self.substitutions += other.substitutions;
        self.deletions += other.deletions;
        self.insertions += other.insertions;
        self.reference_words += other.reference_words;
    }
}

/// Levenshtein alignment over normalised words.
pub fn counts(reference: &str, hypothesis: &str) -> WerCounts {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    // cost, substitutions, deletions, insertions per cell, one row at a time.
    let mut prev: Vec<(usize, usize, usize, usize)> = (0..=h.len()).map(|j| (j, 0, 0, j)).collect();
    for i in 1..=r.len() {
        let mut row = vec![(i, 0, i, 0); h.len() + 1];
        for j in 1..=h.len() {
            let diag = prev[j - 1];
            let sub = if r[i - 1] == h[j - 1] {
                diag
            } else {
                (diag.0 + 1, diag.1 + 1, diag.2, diag.3)
            };
            let up = prev[j];
            let del = (up.0 + 1, up.1, up.2 + 1, up.3);
            let left = row[j - 1];
            let ins = (left.0 + 1, left.1, left.2, left.3 + 1);
            row[j] = [sub, del, ins]
                .into_iter()
                .min_by_key(|c| c.0)
                .unwrap_or(sub);
        }
        prev = row;
    }
    let (_, substitutions, deletions, insertions) = prev[h.len()];
    WerCounts {
        substitutions,
        deletions,
        insertions,
        reference_words: r.len(),
    }
}

/// Word error rate of `hypothesis` against `reference`, 0.0 = perfect.
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    counts(reference, hypothesis).rate()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_ignores_case_and_punctuation() {
        assert_eq!(
            normalize("Hello, World! It's OK."),
            ["hello", "world", "it's", "okay"]
        );
        assert_eq!(wer("Hello, world.", "hello world"), 0.0);
        assert_eq!(
            wer(
                "the pricing for twenty seats in ten minutes",
                "The pricing for 20 seats in 10 minutes."
            ),
            0.0
        );
        assert_eq!(
            normalize("Zero one nineteen ninety"),
            ["0", "1", "19", "90"]
        );
    }

    #[test]
    fn counts_each_kind_of_error() {
        let c = counts("send the deck on monday", "send deck on monday please");
        assert_eq!(
            (
                c.substitutions,
                c.deletions,
                c.insertions,
                c.reference_words
            ),
            (0, 1, 1, 5)
        );
        assert!((c.rate() - 0.4).abs() < 1e-9);
        let c = counts("send the deck", "send a deck");
        assert_eq!((c.substitutions, c.deletions, c.insertions), (1, 0, 0));
        assert_eq!(wer("", ""), 0.0);
        assert_eq!(wer("", "noise"), 1.0);
        assert_eq!(wer("two words", ""), 1.0);
    }
}
