//! Byte ranges: a listener's `Range: bytes=…` header (RFC 9110 §14) and an uploader's
//! `Content-Range: bytes START-END/TOTAL`.

/// What to answer a `Range` header with, for content of `size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// No range, or one the server ignores (another unit, several ranges, malformed): the
    /// whole content with 200.
    Full,
    /// Bytes `start..=end` with 206.
    Partial { start: u64, end: u64 },
    /// A well-formed single range that no byte of the content satisfies: 416.
    Unsatisfiable,
}

/// Reads a `Range` header value against content of `size` bytes. Single ranges only
/// (`bytes=a-b`, `bytes=a-`, `bytes=-n`); anything else is served whole, as the RFC allows.
pub fn answer(header: Option<&str>, size: u64) -> Answer {
    let Some(spec) = header.and_then(|h| strip_prefix_ignore_case(h.trim(), "bytes=")) else {
        return Answer::Full;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return Answer::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Answer::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    match (number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (None, Some(n)) if first.is_empty() => {
            if n == 0 || size == 0 {
                Answer::Unsatisfiable
            } else {
                Answer::Partial {
                    start: size.saturating_sub(n),
                    end: size - 1,
                }
            }
        }
        // bytes=a-: from a to the end.
        (Some(start), None) if last.is_empty() => within(start, u64::MAX, size),
        // bytes=a-b.
        (Some(start), Some(end)) if start <= end => within(start, end, size),
        _ => Answer::Full,
    }
}

fn within(start: u64, end: u64, size: u64) -> Answer {
    if start >= size {
        Answer::Unsatisfiable
    } else {
        Answer::Partial {
            start,
            end: end.min(size - 1),
        }
    }
}

/// A chunk's place in the whole file, from `Content-Range: bytes START-END/TOTAL`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    /// Inclusive.
    pub end: u64,
    pub total: u64,
}

impl ContentRange {
    /// Parses the header value; `None` unless it is exactly `bytes START-END/TOTAL` with
    /// `START <= END`.
    pub fn parse(value: &str) -> Option<ContentRange> {
        let rest = strip_prefix_ignore_case(value.trim(), "bytes ")?.trim();
        let (span, total) = rest.split_once('/')?;
        let (start, end) = span.split_once('-')?;
        let range = ContentRange {
            start: number(start.trim())?,
            end: number(end.trim())?,
            total: number(total.trim())?,
        };
        (range.start <= range.end).then_some(range)
    }

    /// The chunk's length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Never: a content range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Decimal digits only (no sign, no spaces), within `u64`.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn single_ranges_are_answered_and_clamped() {
        let p = |start, end| Answer::Partial { start, end };
        assert_eq!(answer(None, 100), Answer::Full);
        assert_eq!(answer(Some("bytes=0-9"), 100), p(0, 9));
        assert_eq!(answer(Some("bytes=90-"), 100), p(90, 99));
        assert_eq!(answer(Some("bytes=-10"), 100), p(90, 99));
        assert_eq!(answer(Some("bytes=-1000"), 100), p(0, 99));
        assert_eq!(answer(Some("bytes=50-1000"), 100), p(50, 99));
        assert_eq!(answer(Some("Bytes= 5 - 6"), 100), p(5, 6));
        assert_eq!(answer(Some("bytes=100-"), 100), Answer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=100-200"), 100), Answer::Unsatisfiable);
        assert_eq!(answer(Some("bytes=-0"), 100), Answer::Unsatisfiable);
    }

    #[test]
    fn other_ranges_are_served_whole() {
        for header in [
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=9-2",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
            "",
        ] {
            assert_eq!(answer(Some(header), 100), Answer::Full, "{header}");
        }
    }

    #[test]
    fn content_ranges_are_strict() {
        assert_eq!(
            ContentRange::parse("bytes 0-99/1000"),
            Some(ContentRange {
                start: 0,
                end: 99,
                total: 1000
            })
        );
        assert_eq!(ContentRange::parse("bytes 5-5/6").map(|r| r.len()), Some(1));
        for bad in [
            "bytes 9-2/10",
            "bytes */10",
            "bytes 0-1",
            "bits 0-1/2",
            "bytes 0--1/2",
            "bytes 0-1/x",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn partial_answers_lie_inside_the_content(header in "(bytes=)?[0-9]{0,4}-[0-9]{0,4}", size in 1u64..5000) {
            if let Answer::Partial { start, end } = answer(Some(&header), size) {
                prop_assert!(start <= end && end < size);
            }
        }
    }
}
