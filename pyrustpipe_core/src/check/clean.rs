//! `str` values proven valid once per buffer, not once per cell: the buffer's clean prefix.

/// The longest prefix of a buffer that is valid UTF-8 without NUL. A span of it is a valid `str`
/// value exactly when both its ends are character boundaries; when the prefix is all ASCII,
/// every offset in it is one, so a span's test is its end's comparison with the length.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CleanPrefix<'a> {
    bytes: &'a [u8],
    ascii: bool,
}

impl<'a> CleanPrefix<'a> {
    /// The clean prefix of `bytes`: one pass for ASCII text, a UTF-8 validation otherwise.
    pub(super) fn of(bytes: &'a [u8]) -> Self {
        let before_nul = &bytes[..memchr::memchr(0, bytes).unwrap_or(bytes.len())];
        if before_nul.is_ascii() {
            return CleanPrefix {
                bytes: before_nul,
                ascii: true,
            };
        }
        let valid = match simdutf8::compat::from_utf8(before_nul) {
            Ok(text) => text.len(),
            Err(error) => error.valid_up_to(),
        };
        CleanPrefix {
            bytes: &before_nul[..valid],
            ascii: false,
        }
    }

    /// The prefix's bytes.
    #[cfg(test)]
    fn bytes(self) -> &'a [u8] {
        self.bytes
    }

    /// The prefix's length in bytes.
    #[cfg(test)]
    pub(super) fn len(self) -> usize {
        self.bytes.len()
    }

    /// Whether the prefix is all ASCII.
    #[cfg(test)]
    pub(super) fn is_ascii(self) -> bool {
        self.ascii
    }

    /// Whether `start..end` of the buffer is a valid `str` value: both ends are character
    /// boundaries of the prefix (false when either is past it).
    #[inline(always)]
    pub(super) fn holds(self, start: usize, end: usize) -> bool {
        if self.ascii {
            start <= self.bytes.len() && end <= self.bytes.len()
        } else {
            self.boundary(start) && self.boundary(end)
        }
    }

    /// [`CleanPrefix::holds`] for a text span's `u32` offsets.
    #[inline(always)]
    pub(super) fn holds_span(self, start: u32, end: u32) -> bool {
        self.holds(start as usize, end as usize)
    }

    /// Whether `at` is a character boundary of the prefix: its end, or an offset in it whose
    /// byte does not continue a character (`str::is_char_boundary`'s test).
    fn boundary(self, at: usize) -> bool {
        match self.bytes.get(at) {
            Some(&byte) => (byte as i8) >= -0x40,
            None => at == self.bytes.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::TypeParser;

    #[test]
    fn a_span_proven_clean_is_a_valid_str_and_the_fast_path_misses_no_bad_cell() {
        // Every span of each buffer: proven by the block test → the per-cell parser agrees.
        let buffers: &[&[u8]] = &[
            b"plain,ascii\n",
            "caf\u{e9},na\u{ef}ve,\u{1F600}x".as_bytes(),
            b"ok,\xff\xfe,ok",
            b"a\0b,c",
            b"ab\xc3",
            b"\xe2\x82",
            b"ascii then \xc3\xa9",
            b"\x7f\x80",
            b"",
        ];
        for buf in buffers {
            let clean = CleanPrefix::of(buf);
            assert!(buf.starts_with(clean.bytes()), "{buf:?}");
            assert!(std::str::from_utf8(clean.bytes()).is_ok(), "{buf:?}");
            for start in 0..=buf.len() {
                for end in start..=buf.len() {
                    let text = &buf[start..end];
                    let proven = clean.holds(start, end);
                    let valid = TypeParser::Str.parse(text).is_some();
                    assert!(!proven || valid, "{buf:?}[{start}..{end}]");
                    // Inside the clean prefix the fast path decides every non-empty span itself
                    // (an empty span inside a character falls back to the per-cell test).
                    if start < end && end <= clean.bytes().len() {
                        assert_eq!(proven, valid, "{buf:?}[{start}..{end}]");
                    }
                    // The ASCII shortcut answers as the boundary test would.
                    let text_prefix = std::str::from_utf8(clean.bytes()).unwrap_or_default();
                    let boundaries =
                        text_prefix.is_char_boundary(start) && text_prefix.is_char_boundary(end);
                    assert_eq!(proven, boundaries, "{buf:?}[{start}..{end}]");
                }
            }
        }
        let prefix = |buf: &'static [u8]| CleanPrefix::of(buf).bytes();
        assert_eq!(prefix(b"ab\xc3"), b"ab");
        assert_eq!(prefix(b"a\0b"), b"a");
        assert_eq!(prefix(b"\xc3\xa9\xff"), "\u{e9}".as_bytes());
        assert!(CleanPrefix::of(b"plain,ascii\n").ascii);
        assert!(!CleanPrefix::of("caf\u{e9}".as_bytes()).ascii);
    }

    proptest::proptest! {
        /// Buffers long enough for the vector validation: the clean prefix ends where std's
        /// validation and the first NUL say, whatever invalid byte lies past a long valid run.
        #[test]
        fn a_long_buffers_clean_prefix_ends_where_std_says(
            text in "[a-zé€😀 ]{0,300}",
            bad in proptest::option::of((0usize..1200, proptest::num::u8::ANY)),
        ) {
            let mut buf = text.into_bytes();
            if let Some((at, byte)) = bad {
                if let Some(slot) = buf.get_mut(at) {
                    *slot = byte;
                }
            }
            let before_nul = &buf[..memchr::memchr(0, &buf).unwrap_or(buf.len())];
            let valid = match std::str::from_utf8(before_nul) {
                Ok(text) => text.len(),
                Err(error) => error.valid_up_to(),
            };
            let clean = CleanPrefix::of(&buf);
            proptest::prop_assert_eq!(clean.len(), valid);
            proptest::prop_assert_eq!(clean.is_ascii(), before_nul.is_ascii());
        }
    }
}
