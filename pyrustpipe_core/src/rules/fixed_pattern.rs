//! A fast path for the most common pattern shape in data contracts: anchored, fixed length,
//! made of literals and ASCII classes (`^TX[0-9]{10}$`, `^\+2547[0-9]{8}$`, `^[A-Z]{2}$`). Such a
//! pattern is a per-position byte table; matching is a length check and one lookup per byte,
//! several times faster than a general regex search on short values. The result is identical to
//! the regex's: non-ASCII characters never match an ASCII class, and literals compare as UTF-8.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Patterns longer than this use the regex engine.
const MAX_SLOTS: usize = 256;

#[derive(Debug, Clone)]
pub struct FixedPattern {
    slots: Vec<[bool; 256]>,
    /// When every position accepts one range of ASCII bytes and the pattern is at least eight
    /// long: the same test eight positions at a time (a literal is the range `b..=b`).
    words: Option<Vec<RangeWord>>,
    /// When every position accepts one range of ASCII bytes and the pattern is at most twelve
    /// long: the test of an Arrow string view that inlines its value.
    view: Option<ViewPattern>,
    /// When every position accepts one range of ASCII bytes and the pattern is 13 to 16 long
    /// (a phone number's shape): the test as two words, no table and no loop.
    two_words: Option<TwoWordPattern>,
}

/// The eight byte lanes of a word, each accepting `lo..=hi` (ASCII), tested together; a lane
/// outside `care` is not tested. For an ASCII byte `b`, `b + (0x7F - hi)` reaches the high bit
/// exactly when `b > hi`, and `b + (0x80 - lo)` exactly when `b >= lo`; neither sum leaves its
/// byte, so no lane disturbs another.
#[derive(Debug, Clone, Copy, Default)]
struct LaneRanges {
    above_hi: u64,
    from_lo: u64,
    care: u64,
}

const LOWS: u64 = 0x7F7F_7F7F_7F7F_7F7F;

impl LaneRanges {
    /// Lane `lane` accepts `lo..=hi`, for each `(lane, (lo, hi))`.
    fn of(lanes: impl IntoIterator<Item = (usize, (u8, u8))>) -> Self {
        let mut word = LaneRanges::default();
        for (lane, (lo, hi)) in lanes {
            word.above_hi |= u64::from(0x7F - hi) << (8 * lane);
            word.from_lo |= u64::from(0x80 - lo) << (8 * lane);
            word.care |= 0x80 << (8 * lane);
        }
        word
    }

    #[inline(always)]
    fn passes(&self, x: u64) -> bool {
        self.failing(x) == 0
    }

    /// The high bit of each lane of `x` that fails, none other: two words' are or-ed and
    /// tested once.
    #[inline(always)]
    fn failing(&self, x: u64) -> u64 {
        let low = x & LOWS;
        // A non-ASCII byte has its own high bit set.
        (x | (low + self.above_hi) | !(low + self.from_lo)) & self.care
    }
}

/// Eight consecutive positions from `offset`, tested together.
#[derive(Debug, Clone, Copy)]
struct RangeWord {
    offset: usize,
    lanes: LaneRanges,
}

impl RangeWord {
    #[inline(always)]
    fn passes(&self, text: &[u8]) -> bool {
        let Some(chunk) = text.get(self.offset..self.offset + 8) else {
            return false;
        };
        self.lanes
            .passes(u64::from_le_bytes(chunk.try_into().expect("8 bytes")))
    }
}

/// A pattern of at most twelve positions tested on a string view (Arrow's `Utf8View`) itself:
/// the view's first four bytes are the value's length, and a value that short is inlined in
/// the next twelve, so the view alone decides, as two words of lanes (the length's four bytes
/// are lanes that accept exactly the pattern's length), with no load and no branch. Bytes past
/// the length are never tested.
#[derive(Debug, Clone, Copy)]
pub struct ViewPattern {
    /// The view's bytes 0..8 (the length, positions 0..4) and 8..16 (positions 4..12).
    low: LaneRanges,
    high: LaneRanges,
}

impl ViewPattern {
    fn of(ranges: &[(u8, u8)]) -> Option<Self> {
        let len = u8::try_from(ranges.len()).ok().filter(|&len| len <= 12)?;
        let view_lanes: Vec<(u8, u8)> = [(len, len), (0, 0), (0, 0), (0, 0)]
            .into_iter()
            .chain(ranges.iter().copied())
            .collect();
        let word = |lanes: &[(u8, u8)]| LaneRanges::of(lanes.iter().copied().enumerate());
        Some(ViewPattern {
            low: word(&view_lanes[..8.min(view_lanes.len())]),
            high: word(view_lanes.get(8..).unwrap_or_default()),
        })
    }

    /// Whether the value of `view` matches.
    #[inline(always)]
    pub fn passes(&self, view: u128) -> bool {
        self.low.failing(view as u64) | self.high.failing((view >> 64) as u64) == 0
    }
}

/// A pattern of 13 to 16 single-range positions (too long for a string view to inline), tested
/// as two overlapping words of lanes: the first eight positions and the last eight.
#[derive(Debug, Clone, Copy)]
pub struct TwoWordPattern {
    len: usize,
    head: LaneRanges,
    tail: LaneRanges,
}

impl TwoWordPattern {
    fn of(ranges: &[(u8, u8)]) -> Option<Self> {
        let len = ranges.len();
        let lanes =
            |from: usize| LaneRanges::of(ranges[from..from + 8].iter().copied().enumerate());
        (13..=16).contains(&len).then(|| TwoWordPattern {
            len,
            head: lanes(0),
            tail: lanes(len - 8),
        })
    }

    /// Whether `text` matches.
    #[inline(always)]
    pub fn passes(&self, text: &[u8]) -> bool {
        match (text.first_chunk::<8>(), text.last_chunk::<8>()) {
            (Some(&head), Some(&tail)) if text.len() == self.len => {
                let head = self.head.failing(u64::from_le_bytes(head));
                head | self.tail.failing(u64::from_le_bytes(tail)) == 0
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

fn range_words(ranges: &[(u8, u8)]) -> Option<Vec<RangeWord>> {
    let len = ranges.len();
    if len < 8 {
        return None;
    }
    // Windows of eight; the last may overlap the one before (testing a byte twice is harmless).
    let mut offsets: Vec<usize> = (0..len - 7).step_by(8).collect();
    if !len.is_multiple_of(8) {
        offsets.push(len - 8);
    }
    Some(
        offsets
            .into_iter()
            .map(|offset| RangeWord {
                offset,
                lanes: LaneRanges::of(ranges[offset..offset + 8].iter().copied().enumerate()),
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
        Some(FixedPattern {
            words: ranges.as_deref().and_then(range_words),
            view: ranges.as_deref().and_then(ViewPattern::of),
            two_words: ranges.as_deref().and_then(TwoWordPattern::of),
            slots,
        })
    }

    /// Whether every text it matches is a `str` value by itself: no position accepts NUL or a
    /// non-ASCII byte, and the text is not empty (the empty text can be a null).
    pub fn matches_only_plain_text(&self) -> bool {
        !self.slots.is_empty()
            && self
                .slots
                .iter()
                .all(|slot| !slot[0] && slot[0x80..].iter().all(|&ok| !ok))
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
        match &self.words {
            Some(words) => words.iter().all(|word| word.passes(text)),
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
    fn single_range_positions_are_tested_eight_at_a_time() {
        for (pattern, words) in [
            (r"^TX[0-9]{10}$", true),
            (r"^\+2547[0-9]{8}$", true),
            (r"^[A-Z]{2}$", false),
            (r"^(?i)tx[0-9]{8}$", false),
        ] {
            let fixed = FixedPattern::compile(pattern).expect(pattern);
            assert_eq!(fixed.words.is_some(), words, "{pattern}");
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
    fn patterns_of_thirteen_to_sixteen_single_ranges_test_two_words() {
        for (pattern, two_words) in [
            (r"^\+2547[0-9]{8}$", true),
            (r"^\+[0-9]{15}$", true),
            (r"^\+[0-9]{16}$", false),
            (r"^TX[0-9]{10}$", false),
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
            which in 0usize..5,
            digits in "[0-9]{10}",
            at in 0usize..15,
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
            ][which].clone();
            let fixed = FixedPattern::compile(pattern).expect(pattern);
            prop_assert!(fixed.words.is_some());
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

        /// Two words decide as the regex does, on texts of every length around the pattern's.
        #[test]
        fn two_words_agree_with_the_regex(
            text in "(\\+2547|\\+254|\\+|2547)?[0-9A-Za-z+@\\[`{/:é\n\u{7f}\u{0} ]{0,16}",
        ) {
            for pattern in [r"^\+2547[0-9]{8}$", r"^\+[0-9]{15}$", r"^[A-Z]{3}-[0-9]{10}$", r"^[!-~]{16}$"] {
                let fixed = FixedPattern::compile(pattern).expect(pattern);
                let two_words = fixed.two_words().expect(pattern);
                let regex = regex::Regex::new(pattern).unwrap();
                prop_assert_eq!(two_words.passes(text.as_bytes()), regex.is_match(&text), "{} on {:?}", pattern, text);
            }
        }

        #[test]
        fn agrees_with_the_regex(text in "(TX|tx|T|\\+2547)?[0-9A-Za-z+@\\[`{/:é\n\u{7f} ]{0,14}") {
            for pattern in [r"^TX[0-9]{10}$", r"^\+2547[0-9]{8}$", r"^[A-Z]{2}$", r"^(?i)tx[0-9]{2}$", r"^[0-9]{3}$", r"^[a-z]{8}$", r"^[A-Z][0-9a-z]{9}$", r"^[!-~]{12}$"] {
                let fixed = FixedPattern::compile(pattern).expect(pattern);
                let regex = regex::Regex::new(pattern).unwrap();
                prop_assert_eq!(fixed.is_match(text.as_bytes()), regex.is_match(&text), "{} on {:?}", pattern, text);
            }
        }
    }
}
