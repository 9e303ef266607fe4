//! A block's key texts, one after another, each after its length (a `u32`), so that a
//! `KeyEntry` needs only where one starts.

/// Appends the text `write` writes; gives where it starts, for `KeyEntry::new`.
pub fn append(key_text: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>)) -> u32 {
    let start = key_text.len();
    key_text.extend_from_slice(&[0; 4]);
    write(key_text);
    let len = super::as_u32(key_text.len() - start - 4);
    key_text[start..start + 4].copy_from_slice(&len.to_le_bytes());
    super::as_u32(start)
}

/// The text `append` wrote at `start` (empty where none was: a bad `start` is a bug, not a
/// panic in a run).
pub fn at(key_text: &[u8], start: u32) -> &[u8] {
    let start = start as usize;
    let len = (key_text.get(start..start + 4))
        .and_then(|len| <[u8; 4]>::try_from(len).ok())
        .map_or(0, |len| u32::from_le_bytes(len) as usize);
    debug_assert!(
        start + 4 + len <= key_text.len(),
        "a key text out of its block"
    );
    key_text.get(start + 4..start + 4 + len).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each text comes back from where it was appended: the empty one, a long one, and the
    /// ones after them, each after its four-byte length.
    #[test]
    fn each_text_comes_back_from_where_it_starts() {
        let texts: [&[u8]; 4] = [b"TX0001", b"", &[b'k'; 300], b"a,b"];
        let mut key_text = Vec::new();
        let starts: Vec<u32> = (texts.iter())
            .map(|text| append(&mut key_text, |out| out.extend_from_slice(text)))
            .collect();
        for (text, &start) in texts.iter().zip(&starts) {
            assert_eq!(at(&key_text, start), *text);
        }
        assert_eq!(key_text.len(), 4 * 4 + 6 + 300 + 3);
    }
}
