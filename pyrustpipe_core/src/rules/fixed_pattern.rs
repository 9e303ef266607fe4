//! A fast path for the most common pattern shape in data contracts: anchored, fixed length,
//! made of literals and ASCII classes (`^TX[0-9]{10}$`, `^\+2547[0-9]{8}$`, `^[A-Z]{2}$`). Such a
//! pattern is a per-position byte table; matching is a length check and one lookup per byte,
//! or, when each position accepts one range, sixteen positions at once in one SIMD register —
//! several times faster than a general regex search on short values. The result is identical to
//! the regex's: non-ASCII characters never match an ASCII class, and literals compare as UTF-8.

use arrow_buffer::Buffer;
use regex_syntax::hir::{Class, Hir, HirKind, Look};
use wide::u8x16;

/// Patterns longer than this use the regex engine.
const MAX_SLOTS: usize = 256;

#[derive(Debug, Clone)]
pub struct FixedPattern {
    slots: Vec<[bool; 256]>,
    /// When every position accepts one range of ASCII bytes and the pattern is longer than
    /// sixteen: the same test sixteen positions at a time (a literal is the range `b..=b`).
    windows: Option<Vec<RangeWindow>>,
    /// When every position accepts one range of ASCII bytes and the pattern is at most twelve
    /// long: the test of an Arrow string view that inlines its value.
    view: Option<ViewPattern>,
    /// When every position accepts one range of ASCII bytes and the pattern is 8 to 16 long
    /// (a phone number's shape): the test as two words, no table and no loop.
    two_words: Option<TwoWordPattern>,
    /// Every text it matches is a `str` value by itself (`matches_only_plain_text`), found once:
    /// a column's check loop asks it every chunk.
    only_plain: bool,
}

/// Sixteen byte lanes, each accepting `lo..=hi`, tested together in one SIMD register: a byte
/// clamped into its lane's range is itself exactly when it lies in the range. A lane not tested
/// accepts `0..=255`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SixteenLanes {
    lo: u8x16,
    hi: u8x16,
}

impl SixteenLanes {
    /// Lane `k` accepts `lo[k]..=hi[k]` (a table built at compile time).
    pub(crate) const fn of_bounds(lo: [u8; 16], hi: [u8; 16]) -> Self {
        SixteenLanes {
            lo: u8x16::new(lo),
            hi: u8x16::new(hi),
        }
    }

    /// Lane `lane` accepts `lo..=hi`, for each `(lane, (lo, hi))`; the others any byte.
    fn of(lanes: impl IntoIterator<Item = (usize, (u8, u8))>) -> Self {
        let (mut lo, mut hi) = ([0u8; 16], [u8::MAX; 16]);
        for (lane, range) in lanes {
            (lo[lane], hi[lane]) = range;
        }
        SixteenLanes::of_bounds(lo, hi)
    }

    #[inline(always)]
    pub(crate) fn passes(&self, bytes: [u8; 16]) -> bool {
        let x = u8x16::new(bytes);
        x.max(self.lo).min(self.hi).simd_eq(x).to_bitmask() == 0xFFFF
    }
}

/// A pattern of at most twelve positions tested on a string view (Arrow's `Utf8View`) itself:
/// the view's first four bytes are the value's length, and a value that short is inlined in
/// the next twelve, so the view alone decides, as sixteen lanes (the length's four bytes are
/// lanes that accept exactly the pattern's length), with no load and no branch. Bytes past
/// the length are never tested.
#[derive(Debug, Clone, Copy)]
pub struct ViewPattern {
    lanes: SixteenLanes,
    /// The same lanes for the word form, per half of the view: each byte's `lo`, `0x80 | hi`,
    /// and `0xFF` where any byte passes, else `0x7F` (`half_passes`).
    halves: [(u64, u64, u64); 2],
}

/// Bit 7 of every byte.
pub(crate) const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether every byte of `half` lies in its lane's range, the lanes as `ViewPattern::halves`
/// keeps them: eight lanes in one word, with no SIMD (so that a loop over views vectorizes four
/// views a step). Each byte's bit 7, as no subtraction borrows across a byte (the ranges are
/// ASCII): of `(b | 0x80) - lo`, whether `b & 0x7F >= lo`; of `(0x80 | hi) - (b & 0x7F)`, whether
/// `b & 0x7F <= hi`; of `!b`, whether `b` is ASCII.
#[inline(always)]
fn half_passes(half: u64, (lo, high_hi, loose): (u64, u64, u64)) -> bool {
    let at_least_lo = (half | HIGH_BITS) - lo;
    let at_most_hi = high_hi - (half & !HIGH_BITS);
    (at_least_lo & at_most_hi & !half) | loose == u64::MAX
}

/// Sixteen lanes, the first accepting the first range, as two words for `half_passes`; lanes
/// past the ranges accept any byte.
fn word_lanes(ranges: impl IntoIterator<Item = (u8, u8)>) -> [(u64, u64, u64); 2] {
    let (mut lo, mut high_hi, mut loose) = ([0u8; 16], [0xFFu8; 16], [0xFFu8; 16]);
    for (lane, (from, to)) in ranges.into_iter().enumerate() {
        (lo[lane], high_hi[lane], loose[lane]) = (from, 0x80 | to, 0x7F);
    }
    let half = |bytes: [u8; 16], n: usize| {
        u64::from_le_bytes(bytes[8 * n..8 * n + 8].try_into().expect("eight bytes"))
    };
    [0, 1].map(|n| (half(lo, n), half(high_hi, n), half(loose, n)))
}

impl ViewPattern {
    fn of(ranges: &[(u8, u8)]) -> Option<Self> {
        let len = u8::try_from(ranges.len()).ok().filter(|&len| len <= 12)?;
        let view_lanes = [(len, len), (0, 0), (0, 0), (0, 0)]
            .into_iter()
            .chain(ranges.iter().copied());
        Some(ViewPattern {
            lanes: SixteenLanes::of(view_lanes.clone().enumerate()),
            halves: word_lanes(view_lanes),
        })
    }

    /// Whether the value of `view` matches.
    #[inline(always)]
    pub fn passes(&self, view: u128) -> bool {
        self.lanes.passes(view.to_le_bytes())
    }

    /// Whether each of 64 views (as their halves) passes, the first in the low bit
    /// (`half_passes`).
    #[inline(always)]
    pub fn word(&self, views: &[[u64; 2]; 64]) -> u64 {
        let mut word = 0u64;
        for (i, &[low, high]) in views.iter().enumerate() {
            let low = half_passes(low, self.halves[0]);
            let high = half_passes(high, self.halves[1]);
            word |= u64::from(low & high) << i;
        }
        word
    }
}

/// A pattern of 8 to 16 single-range positions (from 13, too long for a string view to inline),
/// tested as sixteen lanes: the first eight positions and the last eight (overlapping).
#[derive(Debug, Clone, Copy)]
pub struct TwoWordPattern {
    len: usize,
    lanes: SixteenLanes,
}

impl TwoWordPattern {
    fn of(ranges: &[(u8, u8)]) -> Option<Self> {
        let len = ranges.len();
        let head_and_tail = ranges
            .iter()
            .take(8)
            .chain(ranges.iter().skip(len.saturating_sub(8)));
        (8..=16).contains(&len).then(|| TwoWordPattern {
            len,
            lanes: SixteenLanes::of(head_and_tail.copied().enumerate()),
        })
    }

    /// Whether each of 64 string views (as their halves) holds a matching value, the first in
    /// the low bit: its length, then its first eight bytes and its last eight as the sixteen
    /// lanes — from the view itself when it inlines the value (at most twelve bytes), else
    /// from `buffers` (a view pointing outside them does not match).
    #[inline(always)]
    pub fn word(&self, views: &[[u64; 2]; 64], buffers: &[Buffer]) -> u64 {
        // At most sixteen (as built), which the compiler learns here: a value's end in its
        // buffer cannot overflow.
        let len = self.len.min(16);
        let passes = |head: u64, tail: u64| {
            self.lanes
                .passes((u128::from(tail) << 64 | u128::from(head)).to_le_bytes())
        };
        let mut word = 0u64;
        if len <= 12 {
            for (i, &[low, high]) in views.iter().enumerate() {
                let value = (u128::from(high) << 64 | u128::from(low)) >> 32;
                let (head, tail) = (value as u64, (value >> (8 * (len - 8))) as u64);
                word |= u64::from(low as u32 as usize == len && passes(head, tail)) << i;
            }
        } else {
            for (i, &[low, high]) in views.iter().enumerate() {
                let (buffer, offset) = (high as u32 as usize, (high >> 32) as usize);
                let text = (buffers.get(buffer))
                    .and_then(|bytes| bytes.as_slice().get(offset..offset + len));
                let matches = match text.and_then(|t| Some((t.first_chunk()?, t.last_chunk()?))) {
                    Some((&head, &tail)) if low as u32 as usize == len => {
                        passes(u64::from_le_bytes(head), u64::from_le_bytes(tail))
                    }
                    _ => false,
                };
                word |= u64::from(matches) << i;
            }
        }
        word
    }

    /// Whether `text` matches.
    #[inline(always)]
    pub fn passes(&self, text: &[u8]) -> bool {
        match (text.first_chunk::<8>(), text.last_chunk::<8>()) {
            (Some(head), Some(tail)) if text.len() == self.len => {
                let mut both = [0u8; 16];
                both[..8].copy_from_slice(head);
                both[8..].copy_from_slice(tail);
                self.lanes.passes(both)
            }
            _ => false,
        }
    }
}

/// The one range `lo..=hi` a slot accepts, if it accepts exactly one (and only ASCII).
fn single_range(slot: &[bool; 256]) -> Option<(u8, u8)> {
    let lo = slot.iter().position(|&ok| ok)?;
    let hi = slot.iter().rposition(|&ok| ok)?;
    let contiguous = slot[lo..=hi].iter().all(|&ok| ok);
    (contiguous && hi <= 0x7F).then_some((lo as u8, hi as u8))
}

/// Sixteen consecutive positions from `offset`, tested together.
#[derive(Debug, Clone, Copy)]
struct RangeWindow {
    offset: usize,
    lanes: SixteenLanes,
}

impl RangeWindow {
    #[inline(always)]
    fn passes(&self, text: &[u8]) -> bool {
        match text
            .get(self.offset..)
            .and_then(|rest| rest.first_chunk::<16>())
        {
            Some(&window) => self.lanes.passes(window),
            None => false,
        }
    }
}

fn range_windows(ranges: &[(u8, u8)]) -> Option<Vec<RangeWindow>> {
    let len = ranges.len();
    if len <= 16 {
        return None;
    }
    // Windows of sixteen; the last may overlap the one before (testing a byte twice is
    // harmless).
    let mut offsets: Vec<usize> = (0..len - 15).step_by(16).collect();
    if !len.is_multiple_of(16) {
        offsets.push(len - 16);
    }
    Some(
        offsets
            .into_iter()
            .map(|offset| RangeWindow {
                offset,
                lanes: SixteenLanes::of(ranges[offset..offset + 16].iter().copied().enumerate()),
            })
            .collect(),
    )
}

impl FixedPattern {
    /// `Some` when `pattern` has the fixed shape; `None` means "use the regex".
    pub fn compile(pattern: &str) -> Option<FixedPattern> {
        let hir = regex_syntax::parse(pattern).ok()?;
        let HirKind::Concat(items) = hir.kind() else {
            return None;
        };
        let (first, rest) = items.split_first()?;
        let (last, middle) = rest.split_last()?;
        if !matches!(first.kind(), HirKind::Look(Look::Start))
            || !matches!(last.kind(), HirKind::Look(Look::End))
        {
            return None;
        }
        let mut slots = Vec::new();
        for item in middle {
            push_slots(item, &mut slots)?;
            if slots.len() > MAX_SLOTS {
                return None;
            }
        }
        let ranges: Option<Vec<(u8, u8)>> = slots.iter().map(single_range).collect();
        let only_plain = !slots.is_empty()
            && (slots.iter()).all(|slot| !slot[0] && slot[0x80..].iter().all(|&ok| !ok));
        Some(FixedPattern {
            windows: ranges.as_deref().and_then(range_windows),
            view: ranges.as_deref().and_then(ViewPattern::of),
            two_words: ranges.as_deref().and_then(TwoWordPattern::of),
            slots,
            only_plain,
        })
    }

    /// Whether every text it matches is a `str` value by itself: no position accepts NUL or a
    /// non-ASCII byte, and the text is not empty (the empty text can be a null).
    #[inline]
    pub fn matches_only_plain_text(&self) -> bool {
        self.only_plain
    }

    /// The two-word test of a pattern too long for a view's inlined value, when it has one
    /// (`TwoWordPattern`).
    pub fn two_words(&self) -> Option<&TwoWordPattern> {
        self.two_words.as_ref()
    }

    /// The view test, when the pattern has one (`ViewPattern`).
    pub fn view_pattern(&self) -> Option<&ViewPattern> {
        self.view.as_ref()
    }

    #[inline]
    pub fn is_match(&self, text: &[u8]) -> bool {
        if let Some(two_words) = &self.two_words {
            return two_words.passes(text);
        }
        if text.len() != self.slots.len() {
            return false;
        }
        match &self.windows {
            Some(windows) => windows.iter().all(|window| window.passes(text)),
            None => self
                .slots
                .iter()
                .zip(text)
                .all(|(slot, &byte)| slot[usize::from(byte)]),
        }
    }
}

fn push_slots(hir: &Hir, slots: &mut Vec<[bool; 256]>) -> Option<()> {
    match hir.kind() {
        HirKind::Literal(literal) => {
            for &byte in literal.0.iter() {
                let mut slot = [false; 256];
                slot[usize::from(byte)] = true;
                slots.push(slot);
            }
        }
        HirKind::Class(class) => {
            let mut slot = [false; 256];
            match class {
                Class::Unicode(unicode) => {
                    for range in unicode.ranges() {
                        let (start, end) = (u32::from(range.start()), u32::from(range.end()));
                        if end > 0x7F {
                            return None;
                        }
                        for code in start..=end {
                            slot[code as usize] = true;
                        }
                    }
                }
                Class::Bytes(bytes) => {
                    for range in bytes.ranges() {
                        if range.end() > 0x7F {
                            return None;
                        }
                        for byte in range.start()..=range.end() {
                            slot[usize::from(byte)] = true;
                        }
                    }
                }
            }
            slots.push(slot);
        }
        HirKind::Repetition(repetition) => {
            if repetition.max != Some(repetition.min) || repetition.min as usize > MAX_SLOTS {
                return None;
            }
            let mut one = Vec::new();
            push_slots(&repetition.sub, &mut one)?;
            for _ in 0..repetition.min {
                slots.extend_from_slice(&one);
            }
        }
        HirKind::Capture(capture) => push_slots(&capture.sub, slots)?,
        HirKind::Concat(items) => {
            for item in items {
                push_slots(item, slots)?;
            }
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Only a pattern whose every position is ASCII without NUL, and that is not empty, vouches
    /// for the texts it matches as `str` values.
    #[test]
    fn plain_text_is_only_what_ascii_positions_match() {
        for (pattern, plain) in [
            (r"^TX[0-9]{10}$", true),
            (r"^[A-Z]{2}$", true),
            (r"^\+2547[0-9]{8}$", true),
            (r"^a\x00b$", false),
            (r"^[\x00-\x7F]$", false),
            ("^caf\u{e9}$", false),
            (r"^$", false),
        ] {
            let fixed = FixedPattern::compile(pattern).expect(pattern);
            assert_eq!(fixed.matches_only_plain_text(), plain, "{pattern}");
        }
    }

    #[test]
    fn longer_single_range_patterns_are_tested_sixteen_positions_at_a_time() {
        for (pattern, windows) in [
            (r"^[A-Z]{3}-[0-9]{10}-[a-z]{4}$", true),
            (r"^[0-9a-f]{32}$", false),
            (r"^[0-9]{17}$", true),
            (r"^\+2547[0-9]{8}$", false),
            (r"^[A-Z]{2}$", false),
            (r"^(?i)tx[0-9]{18}$", false),
        ] {
            let fixed = FixedPattern::compile(pattern).expect(pattern);
            assert_eq!(fixed.windows.is_some(), windows, "{pattern}");
        }
    }

    #[test]
    fn recognises_the_fixed_shapes() {
        for pattern in [
            r"^TX[0-9]{10}$",
            r"^\+2547[0-9]{8}$",
            r"^[A-Z]{2}$",
            r"^(ab)[x-z]{3}$",
            r"^(?-u:\d){4}$",
        ] {
            assert!(FixedPattern::compile(pattern).is_some(), "{pattern}");
        }
        for pattern in [
            r"TX[0-9]{10}",
            r"^[0-9]+$",
            r"^a|b$",
            r"^[0-9]{1,3}$",
            r"^é[a-z]$x",
            r"(?m)^a$",
            r"^\w{3}$",
            r"^\d{4}$",
        ] {
            assert!(FixedPattern::compile(pattern).is_none(), "{pattern}");
        }
    }

    /// A string view of `text` as Arrow lays it out: the length, then the text inlined (bytes
    /// past it `padding`, which a reader may not trust) or its prefix and where it lies.
    fn view_of(text: &[u8], padding: u8, (buffer, offset): (u32, u32)) -> u128 {
        let mut view = [padding; 16];
        view[..4].copy_from_slice(&u32::try_from(text.len()).unwrap().to_le_bytes());
        if text.len() <= 12 {
            view[4..4 + text.len()].copy_from_slice(text);
        } else {
            view[4..8].copy_from_slice(&text[..4]);
            view[8..12].copy_from_slice(&buffer.to_le_bytes());
            view[12..].copy_from_slice(&offset.to_le_bytes());
        }
        u128::from_le_bytes(view)
    }

    #[test]
    fn patterns_of_eight_to_sixteen_single_ranges_test_two_words() {
        for (pattern, two_words) in [
            (r"^\+2547[0-9]{8}$", true),
            (r"^\+[0-9]{15}$", true),
            (r"^\+[0-9]{16}$", false),
            (r"^TX[0-9]{10}$", true),
            (r"^[a-z]{8}$", true),
            (r"^[a-z]{7}$", false),
            (r"^(?i)tx[0-9]{11}$", false),
        ] {
            let fixed = FixedPattern::compile(pattern).expect(pattern);
            assert_eq!(fixed.two_words().is_some(), two_words, "{pattern}");
        }
    }

    #[test]
    fn short_single_range_patterns_test_views() {
        for (pattern, view) in [
            (r"^TX[0-9]{10}$", true),
            (r"^[A-Z]{2}$", true),
            (r"^$", true),
            (r"^[!-~]{12}$", true),
            (r"^\+2547[0-9]{8}$", false),
            (r"^(?i)tx[0-9]{8}$", false),
        ] {
            let fixed = FixedPattern::compile(pattern).expect(pattern);
            assert_eq!(fixed.view_pattern().is_some(), view, "{pattern}");
        }
    }

    proptest! {
        /// Matching values with one byte replaced by a neighbour of a range's ends (or any byte).
        #[test]
        fn agrees_with_the_regex_next_to_every_range_end(
            which in 0usize..7,
            digits in "[0-9]{10}",
            at in 0usize..20,
            byte in prop_oneof![
                Just(b'/'), Just(b':'), Just(b'0'), Just(b'9'), Just(b'@'), Just(b'['),
                Just(b'A'), Just(b'Z'), Just(b'`'), Just(b'{'), Just(b'a'), Just(b'z'),
                Just(0x7F), Just(0x80), Just(0xC3), Just(0xFF), Just(0), any::<u8>()
            ],
        ) {
            let (pattern, text) = [
                (r"^TX[0-9]{10}$", format!("TX{digits}")),
                (r"^\+2547[0-9]{8}$", format!("+2547{}", &digits[..8])),
                (r"^[a-z]{8}$", "abcdwxyz".to_owned()),
                (r"^[A-Z]{3}-[0-9]{6}$", format!("QAZ-{}", &digits[..6])),
                (r"^[A-Z]{3}-[0-9]{10}$", format!("QAZ-{digits}")),
                (r"^[A-Z]{3}-[0-9]{10}-[a-z]{2}$", format!("QAZ-{digits}-xy")),
                (r"^[0-9]{10}[a-z]{3}-[0-9]{6}$", format!("{digits}abc-{}", &digits[..6])),
            ][which].clone();
            let fixed = FixedPattern::compile(pattern).expect(pattern);
            prop_assert!(fixed.two_words.is_some() || fixed.windows.is_some());
            prop_assert!(fixed.is_match(text.as_bytes()));
            let mut bytes = text.into_bytes();
            if let Some(slot) = bytes.get_mut(at) {
                *slot = byte;
            }
            let regex = regex::bytes::Regex::new(pattern).unwrap();
            prop_assert_eq!(fixed.is_match(&bytes), regex.is_match(&bytes), "{} on {:?}", pattern, bytes);
            if let Some(two_words) = fixed.two_words() {
                prop_assert_eq!(two_words.passes(&bytes), regex.is_match(&bytes), "{} on {:?}", pattern, bytes);
            }
        }

        /// A view alone decides as the regex does on its text, whatever lies past the text
        /// in the view, and a value too long to inline never matches.
        #[test]
        fn a_view_agrees_with_the_regex(
            text in "(TX|tx|T|\\+2547)?[0-9A-Za-z+@\\[`{/:é\n\u{7f}\u{0} ]{0,14}",
            padding in any::<u8>(),
            place in (any::<u32>(), any::<u32>()),
        ) {
            for pattern in [r"^TX[0-9]{10}$", r"^[A-Z]{2}$", r"^[0-9]{3}$", r"^[a-z]{8}$", r"^[!-~]{12}$", r"^T[0-9]$", r"^$"] {
                let fixed = FixedPattern::compile(pattern).expect(pattern);
                let short = fixed.view_pattern().expect(pattern);
                let regex = regex::Regex::new(pattern).unwrap();
                let view = view_of(text.as_bytes(), padding, place);
                prop_assert_eq!(short.passes(view), regex.is_match(&text), "{} on {:?}", pattern, text);
            }
        }

        /// The word form of 64 views decides as each view alone does.
        #[test]
        fn a_word_of_views_agrees_with_each_view(
            texts in proptest::collection::vec(
                "(TX|tx|T|\\+2547)?[0-9A-Za-z+@\\[`{/:é\n\u{7f}\u{0} ]{0,14}", 64),
            paddings in proptest::collection::vec(any::<u8>(), 64),
            place in (any::<u32>(), any::<u32>()),
        ) {
            let views: Vec<u128> = (texts.iter().zip(&paddings))
                .map(|(text, &padding)| view_of(text.as_bytes(), padding, place))
                .collect();
            let views: &[u128; 64] = views[..].try_into().expect("64 views");
            for pattern in [r"^TX[0-9]{10}$", r"^[A-Z]{2}$", r"^[0-9]{3}$", r"^[!-~]{12}$", r"^T[0-9]$", r"^$", r"^[\x00-\x7f]{2}$"] {
                let fixed = FixedPattern::compile(pattern).expect(pattern);
                let short = fixed.view_pattern().expect(pattern);
                let each = (0..64).fold(0u64, |w, i| w | u64::from(short.passes(views[i])) << i);
                prop_assert_eq!(short.word(&crate::rules::view_halves(views)), each, "{}", pattern);
            }
        }

        /// Two words decide as the regex does, on texts of every length around the pattern's.
        #[test]
        fn two_words_agree_with_the_regex(
            text in "(\\+2547|\\+254|\\+|2547)?[0-9A-Za-z+@\\[`{/:é\n\u{7f}\u{0} ]{0,16}",
        ) {
            for pattern in [r"^\+2547[0-9]{8}$", r"^\+[0-9]{15}$", r"^[A-Z]{3}-[0-9]{10}$", r"^[!-~]{16}$", r"^TX[0-9]{10}$", r"^[a-z]{8}$", r"^\+[0-9]{8}$"] {
                let fixed = FixedPattern::compile(pattern).expect(pattern);
                let two_words = fixed.two_words().expect(pattern);
                let regex = regex::Regex::new(pattern).unwrap();
                prop_assert_eq!(two_words.passes(text.as_bytes()), regex.is_match(&text), "{} on {:?}", pattern, text);
            }
        }

        /// The word form of 64 views decides as the two words do on each view's text: values
        /// inlined (with any padding) or in buffers, and a view pointing outside them fails.
        #[test]
        fn a_word_of_two_words_agrees_with_each_text(
            texts in proptest::collection::vec((
                prop_oneof![
                    "\\+2547[0-9]{8}", "\\+[0-9]{15}", "[A-Z]{3}-[0-9]{10}", "[!-~]{16}",
                    "TX[0-9]{10}", "[a-z]{8}", "\\+[0-9]{8}",
                    "(\\+2547|\\+254|\\+|TX|2547)?[0-9A-Za-z+@\\[`{/:é\n\u{7f}\u{0} ]{0,16}",
                ],
                proptest::option::of((0usize..16, any::<u8>())),
            ), 64),
            paddings in proptest::collection::vec(any::<u8>(), 64),
            misplaced in proptest::collection::vec(0u8..12, 64),
        ) {
            // Each text with one byte replaced, sometimes.
            let texts: Vec<Vec<u8>> = texts.into_iter().map(|(text, replace)| {
                let mut bytes = text.into_bytes();
                if let Some((at, byte)) = replace {
                    if let Some(slot) = bytes.get_mut(at) {
                        *slot = byte;
                    }
                }
                bytes
            }).collect();
            // The long values in two buffers, every other one in each; a few views point past
            // their buffer's end, or at a buffer that is not there.
            let mut buffers = [Vec::new(), Vec::new()];
            let mut views = Vec::new();
            for (i, text) in texts.iter().enumerate() {
                let buffer = &mut buffers[i % 2];
                let mut place = (u32::try_from(i % 2).unwrap(), u32::try_from(buffer.len()).unwrap());
                if text.len() > 12 {
                    buffer.extend_from_slice(text);
                }
                match misplaced[i] {
                    0 => place.0 = 2,
                    1 => place.1 += 4096,
                    _ => {}
                }
                views.push(view_of(text, paddings[i], place));
            }
            let views: &[u128; 64] = views[..].try_into().expect("64 views");
            let buffers = buffers.map(Buffer::from_vec);
            let mut matched = false;
            for pattern in [r"^\+2547[0-9]{8}$", r"^\+[0-9]{15}$", r"^[A-Z]{3}-[0-9]{10}$", r"^[!-~]{16}$", r"^TX[0-9]{10}$", r"^[a-z]{8}$", r"^\+[0-9]{8}$"] {
                let fixed = FixedPattern::compile(pattern).expect(pattern);
                let two_words = fixed.two_words().expect(pattern);
                let each = (0..64).fold(0u64, |word, i| {
                    let readable = texts[i].len() <= 12 || misplaced[i] > 1;
                    let passes = readable && two_words.passes(&texts[i]);
                    word | u64::from(passes) << i
                });
                let word = two_words.word(&crate::rules::view_halves(views), &buffers);
                prop_assert_eq!(word, each, "{}", pattern);
                matched |= each != 0;
            }
            prop_assert!(matched, "no text matched: the test would prove nothing");
        }

        #[test]
        fn agrees_with_the_regex(text in "(TX|tx|T|\\+2547)?[0-9A-Za-z+@\\[`{/:é\n\u{7f} ]{0,20}") {
            for pattern in [r"^TX[0-9]{10}$", r"^\+2547[0-9]{8}$", r"^[A-Z]{2}$", r"^(?i)tx[0-9]{2}$", r"^[0-9]{3}$", r"^[a-z]{8}$", r"^[A-Z][0-9a-z]{9}$", r"^[!-~]{12}$", r"^[!-~]{20}$", r"^[0-9A-Za-z]{3}[ -~]{15}$"] {
                let fixed = FixedPattern::compile(pattern).expect(pattern);
                let regex = regex::Regex::new(pattern).unwrap();
                prop_assert_eq!(fixed.is_match(text.as_bytes()), regex.is_match(&text), "{} on {:?}", pattern, text);
            }
        }
    }
}
