//! Rows judged 64 at a time: a per-row test gathered into a word of bits, so its loop has no
//! branch a row, and only the rows it rejects visited one by one.

use arrow_buffer::NullBuffer;

/// A test of row `i`, always inlined into the word loops: a closure's call is not once its body
/// holds a probe or a pattern (then every row pays a call), so the hot tests are types of their
/// own (`views::OnView`, ...); any `Fn(usize) -> bool` is one too.
pub(super) trait RowTest {
    fn holds(&self, i: usize) -> bool;

    /// Rows `start..start + 64` gathered into a word (the first row in the low bit): a test
    /// with a many-lane form overrides it.
    #[inline(always)]
    fn word(&self, start: usize) -> u64 {
        gathered(self, start..start + 64)
    }
}

/// `test` of rows `rows` (at most 64), row by row, the first in the low bit.
#[inline(always)]
pub(super) fn gathered(test: &(impl RowTest + ?Sized), rows: std::ops::Range<usize>) -> u64 {
    let start = rows.start;
    rows.fold(0, |held, i| held | u64::from(test.holds(i)) << (i - start))
}

impl<F: Fn(usize) -> bool> RowTest for F {
    #[inline(always)]
    fn holds(&self, i: usize) -> bool {
        self(i)
    }
}

/// The validity of rows `from..from + len` of an array with `nulls`, one word per 64 rows (the
/// last padded with zeros); nothing when no row is null. Gathered first: the word loops take
/// a word at a time, and a chained iterator over the bitmap's chunks was a call a word.
pub(super) fn valid_words(
    nulls: Option<&NullBuffer>,
    from: usize,
    len: usize,
) -> std::vec::IntoIter<u64> {
    let mut words = Vec::new();
    if let Some(nulls) = nulls.filter(|n| n.null_count() > 0) {
        let bits = (nulls.inner().inner()).bit_chunks(nulls.offset() + from, len);
        words.reserve(len.div_ceil(64));
        words.extend(bits.iter());
        if bits.remainder_len() > 0 {
            words.push(bits.remainder_bits());
        }
    }
    words.into_iter()
}

/// The word loop: for each 64 rows from `start` (the last word may be short), `holds` gathered
/// into a word, the first row in the low bit; `pick(word, held, in_range)` gives the rows to
/// visit (`in_range`: the word's rows), and `visit` sees each, in order.
#[inline(always)]
fn each_picked(
    len: usize,
    holds: impl RowTest,
    mut pick: impl FnMut(usize, u64, u64) -> u64,
    visit: &mut impl FnMut(usize),
) {
    for (word, start) in (0..len).step_by(64).enumerate() {
        let held = if len - start >= 64 {
            holds.word(start)
        } else {
            gathered(&holds, start..len)
        };
        let mut picked = pick(word, held, word_rows(len, word));
        while picked != 0 {
            visit(start + picked.trailing_zeros() as usize);
            picked &= picked - 1;
        }
    }
}

/// Calls `visit` on each row of `0..len`, in order, that fails `holds` or whose bit of
/// `valid_words` is clear (one word per 64 rows, the first row in the low bit; an exhausted
/// iterator: every row valid).
#[inline(always)]
pub(super) fn each_clear(
    len: usize,
    holds: impl RowTest,
    valid_words: &mut impl Iterator<Item = u64>,
    visit: &mut impl FnMut(usize),
) {
    let pick = |_, held: u64, in_range| !(held & valid_words.next().unwrap_or(u64::MAX)) & in_range;
    each_picked(len, holds, pick, visit);
}

/// Calls `visit` on each row of `0..len`, in order, that fails `holds` and whose bit of
/// `skipped` (one word per 64 rows) is clear.
#[inline(always)]
pub(super) fn each_failing(
    len: usize,
    holds: impl RowTest,
    skipped: &[u64],
    visit: &mut impl FnMut(usize),
) {
    let pick = |word: usize, held: u64, in_range| !(held | skipped[word]) & in_range;
    each_picked(len, holds, pick, visit);
}

/// `each_clear`, or where the null rows are settled already (`settled`: their bits, one word
/// per 64 rows, `null_words`), `each_failing` over the rest.
#[inline(always)]
pub(super) fn each_unsettled(
    len: usize,
    holds: impl RowTest,
    (settled, valid_words): (Option<&[u64]>, &mut impl Iterator<Item = u64>),
    visit: &mut impl FnMut(usize),
) {
    match settled {
        Some(settled) => each_failing(len, holds, settled, visit),
        None => each_clear(len, holds, valid_words, visit),
    }
}

/// The null rows among rows `from..from + len` of an array with `nulls`, one word per 64 rows
/// (no bit past `len`).
pub(super) fn null_words(nulls: Option<&NullBuffer>, from: usize, len: usize) -> Vec<u64> {
    let mut words = vec![0u64; len.div_ceil(64)];
    for (w, valid) in valid_words(nulls, from, len).enumerate() {
        words[w] = !valid & word_rows(len, w);
    }
    words
}

/// The rows whose bit of `words` (one word per 64 rows) is set, in order: a word's rows found
/// by its bits.
pub(super) fn set_rows(words: &[u64]) -> BitRows<'_, true> {
    BitRows::new(words, 64 * words.len())
}

/// The bits of word `w` (rows `64 * w..`) that stand for rows of `0..len`.
fn word_rows(len: usize, w: usize) -> u64 {
    match len.saturating_sub(64 * w) {
        64.. => u64::MAX,
        rows => (1 << rows) - 1,
    }
}

/// The rows of `0..len` whose bit of `words` (one word per 64 rows) is clear, in order: a
/// word's rows found by its bits, not tested one by one.
pub(super) fn clear_rows(words: &[u64], len: usize) -> BitRows<'_, false> {
    BitRows::new(words, len)
}

/// `set_rows`' and `clear_rows`' iterator (`SET`: the rows whose bit is set, else clear): a
/// hand-written loop over the words, where a `flat_map` of one iterator a word took half again
/// the instructions a row.
pub(super) struct BitRows<'w, const SET: bool> {
    words: &'w [u64],
    len: usize,
    /// The word whose rows not yet given are `rows`.
    word: usize,
    rows: u64,
}

impl<'w, const SET: bool> BitRows<'w, SET> {
    fn new(words: &'w [u64], len: usize) -> Self {
        let mut bits = BitRows {
            words,
            len,
            word: 0,
            rows: 0,
        };
        bits.rows = bits.rows_of(0).unwrap_or(0);
        bits
    }

    /// Word `w`'s rows to give, `None` past the last word.
    #[inline(always)]
    fn rows_of(&self, w: usize) -> Option<u64> {
        let word = *self.words.get(w)?;
        Some(if SET { word } else { !word } & word_rows(self.len, w))
    }
}

impl<const SET: bool> Iterator for BitRows<'_, SET> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.rows == 0 {
            self.word += 1;
            self.rows = self.rows_of(self.word)?;
        }
        let bit = self.rows.trailing_zeros() as usize;
        self.rows &= self.rows - 1;
        Some(64 * self.word + bit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slice's null words hold exactly its null rows, whatever the slice's offset and length,
    /// and nothing past its end; no nulls, no bits.
    #[test]
    fn null_words_are_the_null_rows_of_the_slice() {
        let valid: Vec<bool> = (0..300).map(|i| i % 7 != 3 && i % 11 != 0).collect();
        let nulls = NullBuffer::from(valid.clone());
        for (from, len) in [(0, 300), (5, 64), (13, 130), (64, 65), (299, 1), (100, 0)] {
            let words = null_words(Some(&nulls), from, len);
            assert_eq!(words.len(), len.div_ceil(64));
            for (i, &is_valid) in valid[from..from + len].iter().enumerate() {
                assert_eq!(
                    words[i / 64] >> (i % 64) & 1 == 1,
                    !is_valid,
                    "{from} {len} {i}"
                );
            }
            let past: u32 = words.iter().map(|w| w.count_ones()).sum();
            assert_eq!(
                past as usize,
                valid[from..from + len].iter().filter(|v| !**v).count()
            );
        }
        assert!(null_words(None, 0, 100).iter().all(|&w| w == 0));
    }

    /// The set rows are exactly the rows whose bit is set, in order.
    #[test]
    fn set_rows_are_the_rows_whose_bit_is_set() {
        let words = [0u64, 1 | 1 << 63, u64::MAX, 0, 1 << 5];
        let set: Vec<usize> = set_rows(&words).collect();
        let expected: Vec<usize> = (0..64 * words.len())
            .filter(|&i| words[i / 64] >> (i % 64) & 1 == 1)
            .collect();
        assert_eq!(set, expected);
        assert_eq!(set_rows(&[]).count(), 0);
    }

    /// The clear rows are exactly the rows whose bit is clear, in order, none past `len`.
    #[test]
    fn clear_rows_are_the_rows_whose_bit_is_clear() {
        let bits: Vec<bool> = (0..256).map(|i| i % 3 == 0 || i % 64 == 63).collect();
        for len in [0usize, 1, 63, 64, 65, 128, 130, 200] {
            let words: Vec<u64> = (0..len.div_ceil(64))
                .map(|w| {
                    (0..64)
                        .filter(|b| bits[64 * w + b])
                        .fold(0, |x, b| x | 1 << b)
                })
                .collect();
            let clear: Vec<usize> = clear_rows(&words, len).collect();
            let expected: Vec<usize> = (0..len).filter(|&i| !bits[i]).collect();
            assert_eq!(clear, expected, "{len}");
        }
    }

    /// The rows visited are exactly those failing the test or clear in the words (`each_clear`),
    /// or failing it and clear in them (`each_failing`), in order, for lengths around word edges.
    #[test]
    fn visits_exactly_the_rows_that_fail_or_are_invalid() {
        for len in [0usize, 1, 63, 64, 65, 127, 128, 200] {
            let holds = |i: usize| !i.is_multiple_of(3);
            let words: Vec<u64> = (0..len.div_ceil(64))
                .map(|w| {
                    (0..64)
                        .filter(|b| !(w * 64 + b).is_multiple_of(5))
                        .fold(0, |x, b| x | 1 << b)
                })
                .collect();
            for valid in [Some(words.clone()), None] {
                let mut seen = Vec::new();
                let mut words_iter = valid.iter().flatten().copied();
                each_clear(len, holds, &mut words_iter, &mut |i| seen.push(i));
                let expected: Vec<usize> = (0..len)
                    .filter(|&i| !holds(i) || (valid.is_some() && i.is_multiple_of(5)))
                    .collect();
                assert_eq!(seen, expected, "{len} {}", valid.is_some());
            }
            let mut failing = Vec::new();
            each_failing(len, holds, &words, &mut |i| failing.push(i));
            let expected: Vec<usize> = (0..len)
                .filter(|&i| !holds(i) && i.is_multiple_of(5))
                .collect();
            assert_eq!(failing, expected, "{len}");
        }
    }
}
