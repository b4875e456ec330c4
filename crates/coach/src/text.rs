//! The normalisation trigger phrases and transcripts share: lower case, letters and
//! digits kept, apostrophes kept inside words ("don't"), everything else a word break,
//! words joined by single spaces with a space at each end — so a phrase matches only
//! whole words (" price " is in " the price is ", not in " priceless ").

/// `text` as space-separated lower-case words, padded with a space at both ends.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut pending_space = false;
    let mut chars = text.chars().peekable();
    let mut prev_alnum = false;
    while let Some(c) = chars.next() {
        let keep_apostrophe = (c == '\'' || c == '’')
            && prev_alnum
            && chars.peek().is_some_and(|n| n.is_alphanumeric());
        if c.is_alphanumeric() || keep_apostrophe {
            if pending_space && out.len() > 1 {
                out.push(' ');
            }
            pending_space = false;
            if keep_apostrophe {
                out.push('\'');
            } else {
                out.extend(c.to_lowercase());
            }
            prev_alnum = c.is_alphanumeric();
        } else {
            pending_space = true;
            prev_alnum = false;
        }
    }
    out.push(' ');
    out
}

/// The words of `text` after [`normalize`].
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(' ').filter(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_and_case_become_single_spaces() {
        assert_eq!(
            normalize("It's too EXPENSIVE, honestly!"),
            " it's too expensive honestly "
        );
        assert_eq!(normalize("  "), "  ");
        assert_eq!(
            normalize("We're with Gong.io — for now"),
            " we're with gong io for now "
        );
        assert_eq!(normalize("'quoted'"), " quoted ");
        assert_eq!(normalize("Don’t"), " don't ");
    }
}
