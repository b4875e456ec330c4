//! GPT-2 byte-level BPE tokens back to the raw bytes whisper.cpp's vocabulary holds.
//!
//! Byte-level BPE writes every byte as a printable character: the 188 printable Latin-1
//! bytes as themselves, and the other 68 (controls, space, 0x7F–0xA0, 0xAD), in order,
//! as U+0100, U+0101, … So `Ġthe` is " the" and `Ċ` is a newline.

use std::collections::HashMap;

fn char_to_byte() -> HashMap<char, u8> {
    let printable = |b: u8| matches!(b, 0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut map = HashMap::with_capacity(256);
    let mut next = 0u32;
    for b in 0..=255u8 {
        let c = if printable(b) {
            char::from(b)
        } else {
            let c = char::from_u32(0x100 + next).unwrap_or('\u{FFFD}');
            next += 1;
            c
        };
        map.insert(c, b);
    }
    map
}

/// Decodes tokens to bytes; `Err(index)` names the first token with a character outside
/// the byte alphabet.
pub fn decode_tokens(tokens: &[String]) -> Result<Vec<Vec<u8>>, usize> {
    let map = char_to_byte();
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| t.chars().map(|c| map.get(&c).copied().ok_or(i)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode_to_bytes() {
        let tokens: Vec<String> = ["Ġthe", "Ċ", "hello", "Ã©", "ĠâĢĶ"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let bytes = decode_tokens(&tokens).expect("decode");
        assert_eq!(bytes[0], b" the");
        assert_eq!(bytes[1], b"\n");
        assert_eq!(bytes[2], b"hello");
        assert_eq!(String::from_utf8(bytes[3].clone()).expect("utf-8"), "é");
        assert_eq!(String::from_utf8(bytes[4].clone()).expect("utf-8"), " —");
        assert_eq!(decode_tokens(&["ok".into(), "日本".into()]), Err(1));
    }
}
