//! The LocalAgreement commit policy for streaming: a word becomes final once two
//! successive hypotheses of the growing window agree on it (and on everything before it).
//!
//! Each decode re-transcribes the whole window, so a hypothesis repeats the words already
//! committed from that window. They are found by aligning the hypothesis against those
//! words by text (an edit-distance alignment), not by time: whisper's word times wobble
//! between decodes and can be far off at the end of a window.

use crate::WordTiming;
use crate::wer::normalize;

/// LocalAgreement-2 state for one utterance.
#[derive(Debug, Default)]
pub struct Agreement {
    committed_end_ms: Option<u32>,
    /// Committed words still inside the decoded window, normalised.
    inside: Vec<String>,
    /// The previous hypothesis, minus what was committed.
    previous: Vec<WordTiming>,
}

/// What one hypothesis changed.
#[derive(Debug, Default, PartialEq)]
pub struct Update {
    /// Words to send as final, in order.
    pub committed: Vec<WordTiming>,
    /// The rest of the hypothesis: the next partial.
    pub tentative: Vec<WordTiming>,
}

fn key(word: &WordTiming) -> String {
    normalize(&word.word).join(" ")
}

/// How many words at the head of `hypothesis` re-state `committed`: the prefix length
/// with the smallest edit distance to it. Ties go to a prefix ending on the last
/// committed word, else to the one closest to the committed length (a re-spelling such
/// as "manager's" → "managers" is the same word, not a new one).
fn committed_prefix(committed: &[String], hypothesis: &[String]) -> usize {
    if committed.is_empty() {
        return 0;
    }
    // row[p] = edit distance between committed[..i] and hypothesis[..p].
    let mut row: Vec<usize> = (0..=hypothesis.len()).collect();
    for (i, c) in committed.iter().enumerate() {
        let mut next = vec![i + 1; hypothesis.len() + 1];
        for p in 1..=hypothesis.len() {
            let sub = row[p - 1] + usize::from(*c != hypothesis[p - 1]);
            next[p] = sub.min(row[p] + 1).min(next[p - 1] + 1);
        }
        row = next;
    }
    let best = row.iter().copied().min().unwrap_or(0);
    let last = committed.last();
    let ties: Vec<usize> = (0..=hypothesis.len()).filter(|&p| row[p] == best).collect();
    ties.iter()
        .copied()
        .find(|&p| p > 0 && Some(&hypothesis[p - 1]) == last)
        .or_else(|| {
            ties.iter()
                .copied()
                .min_by_key(|&p| p.abs_diff(committed.len()))
        })
        .unwrap_or(0)
}

impl Agreement {
    /// End (ms) of the last committed word.
    pub fn committed_end_ms(&self) -> Option<u32> {
        self.committed_end_ms
    }

    /// The words of `hypothesis` that are not already committed.
    fn fresh(&self, mut hypothesis: Vec<WordTiming>) -> Vec<WordTiming> {
        let keys: Vec<String> = hypothesis.iter().map(key).collect();
        let n = committed_prefix(&self.inside, &keys);
        hypothesis.drain(..n);
        hypothesis
    }

    /// The window now starts after the committed words ending at or before `ms`: they
    /// will not be in the next hypotheses. `count` is how many of them there are.
    pub fn cut(&mut self, count: usize) {
        let n = count.min(self.inside.len());
        self.inside.drain(..n);
    }

    fn commit(&mut self, words: &[WordTiming]) {
        if let Some(last) = words.last() {
            self.committed_end_ms = Some(last.end_ms.max(self.committed_end_ms.unwrap_or(0)));
        }
        self.inside.extend(words.iter().map(key));
    }

    /// Takes the latest hypothesis of the window (absolute times) and commits the prefix
    /// it shares with the previous one, except words ending after `settled_ms`: a word
    /// at the very end of the window may be cut off mid-way, and two decodes can agree
    /// on the same wrong guess of it.
    pub fn update(&mut self, hypothesis: Vec<WordTiming>, settled_ms: u32) -> Update {
        let fresh = self.fresh(hypothesis);
        let agreed = self
            .previous
            .iter()
            .zip(&fresh)
            .take_while(|(a, b)| key(a) == key(b) && !key(a).is_empty() && b.end_ms <= settled_ms)
            .count();
        let mut tentative = fresh;
        let committed: Vec<WordTiming> = tentative.drain(..agreed).collect();
        self.commit(&committed);
        self.previous = tentative.clone();
        Update {
            committed,
            tentative,
        }
    }

    /// Commits everything new in the last hypothesis of an utterance.
    pub fn flush(&mut self, hypothesis: Vec<WordTiming>) -> Vec<WordTiming> {
        let fresh = self.fresh(hypothesis);
        self.commit(&fresh);
        self.previous.clear();
        fresh
    }

    /// Commits the previous hypothesis but its last `keep` words without waiting for
    /// agreement: for a window that must be cut before two decodes agree.
    pub fn force(&mut self, keep: usize) -> Vec<WordTiming> {
        let n = self.previous.len().saturating_sub(keep);
        let forced: Vec<WordTiming> = self.previous.drain(..n).collect();
        self.commit(&forced);
        forced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyp(words: &[(&str, u32)]) -> Vec<WordTiming> {
        words
            .iter()
            .map(|&(w, start)| WordTiming {
                word: w.into(),
                start_ms: start,
                end_ms: start + 250,
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
    fn words_commit_when_two_hypotheses_agree() {
        let mut a = Agreement::default();
        let u = a.update(hyp(&[("we", 0), ("need", 300)]), u32::MAX);
        assert!(u.committed.is_empty());
        assert_eq!(text(&u.tentative), "we need");

        let u = a.update(hyp(&[("We", 0), ("need", 300), ("pricing", 600)]), u32::MAX);
        assert_eq!(text(&u.committed), "We need");
        assert_eq!(text(&u.tentative), "pricing");

        // The window still holds the committed words; they are not committed again.
        let u = a.update(
            hyp(&[("we", 10), ("need", 290), ("pricing,", 600), ("now", 900)]),
            u32::MAX,
        );
        assert_eq!(text(&u.committed), "pricing,");
        assert_eq!(text(&u.tentative), "now");

        let rest = a.flush(hyp(&[
            ("we", 0),
            ("need", 300),
            ("pricing", 600),
            ("now.", 900),
        ]));
        assert_eq!(text(&rest), "now.");
    }

    #[test]
    fn a_respelled_committed_word_is_not_new() {
        let mut a = Agreement::default();
        a.update(hyp(&[("the", 0), ("manager's", 300)]), u32::MAX);
        a.update(hyp(&[("the", 0), ("manager's", 300)]), u32::MAX);
        let rest = a.flush(hyp(&[("The", 0), ("managers", 300), ("listen", 600)]));
        assert_eq!(text(&rest), "listen");
    }

    #[test]
    fn words_at_the_end_of_the_window_wait() {
        let mut a = Agreement::default();
        a.update(hyp(&[("we", 0), ("need", 300)]), u32::MAX);
        // "need" ends at 550, past the settled point: it stays tentative.
        let u = a.update(hyp(&[("we", 0), ("need", 300)]), 400);
        assert_eq!(text(&u.committed), "we");
        assert_eq!(text(&u.tentative), "need");
    }

    #[test]
    fn a_changed_guess_is_not_committed() {
        let mut a = Agreement::default();
        a.update(hyp(&[("the", 0), ("price", 300)]), u32::MAX);
        let u = a.update(hyp(&[("the", 0), ("prize", 300)]), u32::MAX);
        assert_eq!(text(&u.committed), "the");
        assert_eq!(text(&u.tentative), "prize");
    }

    #[test]
    fn overlap_is_removed_by_text_when_times_wobble() {
        let mut a = Agreement::default();
        a.update(hyp(&[("send", 0), ("the", 300)]), u32::MAX);
        a.update(hyp(&[("send", 0), ("the", 300), ("deck", 600)]), u32::MAX);
        // "the" now starts after the committed end: the text overlap catches it.
        let u = a.update(
            hyp(&[("the", 560), ("deck", 700), ("today", 1000)]),
            u32::MAX,
        );
        assert_eq!(text(&u.committed), "deck");
        assert_eq!(text(&u.tentative), "today");
    }

    #[test]
    fn force_commits_all_but_the_tail() {
        let mut a = Agreement::default();
        a.update(hyp(&[("one", 0), ("two", 300), ("three", 600)]), u32::MAX);
        assert_eq!(text(&a.force(1)), "one two");
        let u = a.update(
            hyp(&[("one", 0), ("two", 300), ("three", 600), ("four", 900)]),
            u32::MAX,
        );
        assert_eq!(text(&u.committed), "three");
        assert_eq!(text(&u.tentative), "four");
    }
}
