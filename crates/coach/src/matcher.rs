//! Finds every playbook phrase in an utterance with one pass: all trigger, negative and
//! rule phrases, normalised ([`crate::text`]), in one Aho-Corasick automaton. The cost
//! of a scan grows with the utterance, not with the number of cards.

use crate::playbook::Playbook;
use crate::text::normalize;
use aho_corasick::{AhoCorasick, MatchKind};

/// What a phrase belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A trigger of card `n` (index into `Playbook::cards`).
    Trigger(usize),
    /// A negative phrase of card `n`.
    Negative(usize),
    /// A phrase of rule `n`.
    Rule(usize),
}

/// One phrase found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub target: Target,
    /// Index of the phrase in the playbook item's list.
    pub phrase: usize,
}

/// The compiled phrases of a playbook.
pub struct Matcher {
    automaton: AhoCorasick,
    targets: Vec<Hit>,
}

impl Matcher {
    pub fn new(playbook: &Playbook) -> Result<Self, aho_corasick::BuildError> {
        let mut patterns = Vec::new();
        let mut targets = Vec::new();
        let mut add = |phrase: &str, hit: Hit| {
            patterns.push(normalize(phrase));
            targets.push(hit);
        };
        for (n, card) in playbook.cards.iter().enumerate() {
            for (i, p) in card.triggers.iter().enumerate() {
                add(
                    p,
                    Hit {
                        target: Target::Trigger(n),
                        phrase: i,
                    },
                );
            }
            for (i, p) in card.negatives.iter().enumerate() {
                add(
                    p,
                    Hit {
                        target: Target::Negative(n),
                        phrase: i,
                    },
                );
            }
        }
        for (n, rule) in playbook.rules.iter().enumerate() {
            for (i, p) in rule.phrases.iter().enumerate() {
                add(
                    p,
                    Hit {
                        target: Target::Rule(n),
                        phrase: i,
                    },
                );
            }
        }
        // Standard semantics so overlapping phrases ("the price", "price is") all count.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)?;
        Ok(Self { automaton, targets })
    }

    /// Every phrase in `text` (raw transcript text), in order of where it ends.
    pub fn scan(&self, text: &str) -> Vec<Hit> {
        let normalized = normalize(text);
        self.automaton
            .find_overlapping_iter(&normalized)
            .map(|m| self.targets[m.pattern().as_usize()])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_whole_words_only_and_overlap() {
        let playbook = Playbook::parse(
            r#"
            [playbook]
            id = "t"
            name = "t"
            version = 1
            [[cards]]
            id = "price"
            title = "Price"
            triggers = ["price", "the price is"]
            negatives = ["price is fine"]
            body = "b"
            "#,
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let m = Matcher::new(&playbook).unwrap();
        assert!(m.scan("That is priceless.").is_empty());
        let hits = m.scan("Honestly, the PRICE is fine.");
        assert!(hits.contains(&Hit {
            target: Target::Trigger(0),
            phrase: 0
        }));
        assert!(hits.contains(&Hit {
            target: Target::Trigger(0),
            phrase: 1
        }));
        assert!(hits.contains(&Hit {
            target: Target::Negative(0),
            phrase: 0
        }));
    }
}
