//! A string-view column (Arrow `Utf8View`, how polars holds strings) checked whole, straight
//! from its 16-byte views: a value is judged once, without the array's per-value decode, and a
//! membership check compares views, not bytes.

use std::borrow::Cow;

use arrow_array::{Array, StringViewArray};
use arrow_buffer::Buffer;

use super::bits::RowTest;
use super::dictionary::ByKey;
use super::{as_u32, plain_inlined, plain_inlined_halves, Block, Proven};
use crate::ledger::sketch::Sketch;
use crate::rules::fixed_pattern::{TwoWordPattern, ViewPattern};
use crate::rules::inlined::{inlined_chars, long_value};
use crate::rules::length::{self, Length};
use crate::rules::membership::{Membership, ViewSet};
use crate::rules::pattern::Pattern;
use crate::rules::{ColumnCheck, RuleId};
use crate::value::{TypeParser, Value};

/// Rows of one view array: value `i` is the array's value `first_at + i`.
struct Views<'a> {
    views: &'a [u128],
    /// The same views as their halves (`[low, high]`), which the word forms read: the
    /// compiler vectorizes a loop over them four views a step, where it takes `u128`s two at a
    /// time.
    halves: &'a [[u64; 2]],
    /// In `widest`'s AVX2 build: a test's word form (`ByView::word`) is taken there only, as
    /// the baseline build (SSE2, no 64-bit compare) runs it slower than the one-view test.
    vector_build: bool,
    /// The same views as bytes: an inlined value is a slice of them.
    bytes: &'a [u8],
    buffers: &'a [Buffer],
}

impl<'a> Views<'a> {
    fn new(array: &'a StringViewArray, first_at: usize, len: usize, vector_build: bool) -> Self {
        let all = array.views();
        let (halves, _) = all.inner().typed_data::<u64>().as_chunks::<2>();
        Views {
            views: &all[first_at..first_at + len],
            halves: &halves[first_at..first_at + len],
            vector_build,
            bytes: &all.inner().as_slice()[16 * first_at..16 * (first_at + len)],
            buffers: array.data_buffers(),
        }
    }

    /// The rows' views under a test each decides alone.
    fn on<'v, T: ByView>(&'v self, test: &'v T) -> OnView<'v, T> {
        OnView {
            test,
            views: self.views,
            halves: self.halves,
            vector_build: self.vector_build,
        }
    }

    /// Value `i`'s bytes; empty for a view that points outside its buffers (only a null's can:
    /// every other value was proven or parsed from the array itself).
    #[inline(always)]
    fn text(&self, i: usize) -> &'a [u8] {
        let view = self.views[i];
        let len = view as u32 as usize;
        if len <= 12 {
            &self.bytes[16 * i + 4..16 * i + 4 + len]
        } else {
            long_value(len, (view >> 64) as u64, self.buffers).unwrap_or_default()
        }
    }
}

/// Views `start..start + 64` of `halves`, which a word form reads.
#[inline(always)]
fn sixty_four(halves: &[[u64; 2]], start: usize) -> &[[u64; 2]; 64] {
    (halves[start..start + 64]).try_into().expect("64 views")
}

/// A test a view decides alone, with no look at its buffers.
trait ByView {
    fn passes(&self, view: u128) -> bool;

    /// 64 views' outcomes gathered into a word (the first in the low bit), where the test has
    /// a form of its own for that.
    #[inline(always)]
    fn word(&self, _views: &[[u64; 2]; 64]) -> Option<u64> {
        None
    }
}

impl ByView for ViewSet {
    #[inline(always)]
    fn passes(&self, view: u128) -> bool {
        ViewSet::passes(self, view)
    }

    #[inline(always)]
    fn word(&self, views: &[[u64; 2]; 64]) -> Option<u64> {
        ViewSet::word(self, views)
    }
}

impl ByView for ViewPattern {
    #[inline(always)]
    fn passes(&self, view: u128) -> bool {
        ViewPattern::passes(self, view)
    }

    #[inline(always)]
    fn word(&self, views: &[[u64; 2]; 64]) -> Option<u64> {
        Some(ViewPattern::word(self, views))
    }
}

/// A view passes a test it decides alone: it is in a set, or its short value matches a fixed
/// pattern.
struct OnView<'v, T> {
    test: &'v T,
    views: &'v [u128],
    halves: &'v [[u64; 2]],
    vector_build: bool,
}

// Not derived: the derive would ask `T: Copy` of a set or pattern held by reference.
impl<T> Clone for OnView<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for OnView<'_, T> {}

impl<T: ByView> RowTest for OnView<'_, T> {
    #[inline(always)]
    fn holds(&self, i: usize) -> bool {
        self.test.passes(self.views[i])
    }

    #[inline(always)]
    fn word(&self, start: usize) -> u64 {
        let views = sixty_four(self.halves, start);
        match self.vector_build.then(|| self.test.word(views)).flatten() {
            Some(word) => word,
            None => super::bits::gathered(self, start..start + 64),
        }
    }
}

/// A test of a value's bytes.
trait ByText {
    fn passes(&self, text: &[u8]) -> bool;

    /// 64 views' outcomes gathered into a word (the first in the low bit), where the test has
    /// a form of its own for that.
    #[inline(always)]
    fn word(&self, _views: &[[u64; 2]; 64], _buffers: &[Buffer]) -> Option<u64> {
        None
    }
}

impl ByText for Pattern {
    #[inline(always)]
    fn passes(&self, text: &[u8]) -> bool {
        Pattern::passes(self, text)
    }
}

impl ByText for TwoWordPattern {
    #[inline(always)]
    fn passes(&self, text: &[u8]) -> bool {
        TwoWordPattern::passes(self, text)
    }

    #[inline(always)]
    fn word(&self, views: &[[u64; 2]; 64], buffers: &[Buffer]) -> Option<u64> {
        Some(TwoWordPattern::word(self, views, buffers))
    }
}

impl ByText for Membership {
    #[inline(always)]
    fn passes(&self, text: &[u8]) -> bool {
        self.passes_text(text)
    }
}

impl ByText for Length {
    #[inline(always)]
    fn passes(&self, text: &[u8]) -> bool {
        Length::passes(self, text)
    }

    /// An inlined value's characters counted in its view (`inlined_chars`); a long value decided
    /// by its length in bytes where that can (`Length::by_bytes`), else counted from its buffer.
    /// The first pass has no branch (the bounds in hand, both forms for every view), so that it
    /// vectorizes.
    #[inline(always)]
    fn word(&self, views: &[[u64; 2]; 64], buffers: &[Buffer]) -> Option<u64> {
        let bounds = self.bounds();
        let (mut word, mut uncounted) = (0u64, 0u64);
        for (i, &view) in views.iter().enumerate() {
            let bytes = u64::from(view[0] as u32);
            let inlined = bytes <= 12;
            let (by_bytes, decided) = length::by_bytes(bounds, bytes);
            let passes =
                (inlined & length::within(bounds, inlined_chars(view))) | (!inlined & by_bytes);
            let counted = inlined | decided;
            word |= u64::from(passes) << i;
            uncounted |= u64::from(!counted) << i;
        }
        for i in super::bits::set_rows(&[uncounted]) {
            let [low, high] = views[i];
            let text = long_value(low as u32 as usize, high, buffers).unwrap_or_default();
            word = word & !(1 << i) | u64::from(Length::passes(self, text)) << i;
        }
        Some(word)
    }
}

/// A view's value passes a test of its bytes (a pattern, a set of long keys).
struct Matches<'v, 'a, P> {
    test: &'v P,
    views: &'v Views<'a>,
}

// Not derived, as `OnView`'s.
impl<P> Clone for Matches<'_, '_, P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for Matches<'_, '_, P> {}

impl<P: ByText> RowTest for Matches<'_, '_, P> {
    #[inline(always)]
    fn holds(&self, i: usize) -> bool {
        self.test.passes(self.views.text(i))
    }

    #[inline(always)]
    fn word(&self, start: usize) -> u64 {
        let views = sixty_four(self.views.halves, start);
        match self.test.word(views, self.views.buffers) {
            Some(word) => word,
            None => super::bits::gathered(self, start..start + 64),
        }
    }
}

/// A check whose accepted values are `str` values by themselves (an `isin`, a fixed-shape
/// ASCII pattern), as the row test it is over the views.
#[derive(Clone, Copy)]
enum Prover<'v, 'a> {
    Set(OnView<'v, ViewSet>),
    Inlined(OnView<'v, ViewPattern>),
    TwoWords(Matches<'v, 'a, TwoWordPattern>),
    Pattern(Matches<'v, 'a, Pattern>),
    Texts(Matches<'v, 'a, Membership>),
    /// A dictionary's rows, by their values' outcomes.
    ByKey(ByKey<'v>),
}

impl RowTest for Prover<'_, '_> {
    fn holds(&self, i: usize) -> bool {
        match self {
            Prover::Set(test) => test.holds(i),
            Prover::Inlined(test) => test.holds(i),
            Prover::TwoWords(test) => test.holds(i),
            Prover::Pattern(test) => test.holds(i),
            Prover::Texts(test) => test.holds(i),
            Prover::ByKey(test) => test.holds(i),
        }
    }
}

/// A pattern as the first check's row test over `views`: the views alone where it allows.
fn pattern_prover<'v, 'a>(pattern: &'v Pattern, views: &'v Views<'a>) -> Prover<'v, 'a> {
    match (pattern.view_pattern(), pattern.two_words()) {
        (Some(short), _) => Prover::Inlined(views.on(short)),
        (None, Some(test)) => Prover::TwoWords(Matches { test, views }),
        (None, None) => Prover::Pattern(Matches {
            test: pattern,
            views,
        }),
    }
}

/// A view's value is plain (`plain_view`).
struct Plain<'v, 'a> {
    views: &'v [u128],
    halves: &'v [[u64; 2]],
    proven: &'v [Proven<'a>],
    vector_build: bool,
}

impl RowTest for Plain<'_, '_> {
    #[inline(always)]
    fn holds(&self, i: usize) -> bool {
        plain_view(self.views[i], self.proven)
    }

    /// In the vector build, the inlined values four views a step (`plain_inlined_halves`), and
    /// the long ones: a few one by one, many (a column of long values) in one pass over the
    /// word's views, which spares each its own trip through the set bits.
    #[inline(always)]
    fn word(&self, start: usize) -> u64 {
        if !self.vector_build {
            return super::bits::gathered(self, start..start + 64);
        }
        let views = sixty_four(self.halves, start);
        let long = (views.iter().enumerate()).fold(0u64, |long, (i, view)| {
            long | u64::from(view[0] as u32 > 12) << i
        });
        let mut plain = 0u64;
        if long != u64::MAX {
            for (i, &view) in views.iter().enumerate() {
                plain |= u64::from(plain_inlined_halves(view)) << i;
            }
        }
        if long.count_ones() > 8 {
            let mut spanned = 0u64;
            for (i, &[low, high]) in views.iter().enumerate() {
                spanned |= u64::from(in_proven(low as u32 as usize, high, self.proven)) << i;
            }
            return plain & !long | spanned & long;
        }
        for i in super::bits::set_rows(&[long]) {
            plain |= u64::from(plain_view(self.views[start + i], self.proven)) << i;
        }
        plain
    }
}

/// Whether a view's value is a non-empty `str` value without looking further: inlined ASCII
/// without NUL, or a long value its buffer's proof holds (`in_proven`).
#[inline(always)]
fn plain_view(view: u128, proven: &[Proven<'_>]) -> bool {
    let len = view as u32 as usize;
    if len <= 12 {
        plain_inlined(view)
    } else {
        in_proven(len, (view >> 64) as u64, proven)
    }
}

/// Whether the long value of `len` bytes a view's high half (`buffer`, `offset`) points at is a
/// `str` value by its buffer's proof (`Proven::holds`: inside the buffer's clean bytes, both
/// ends character boundaries — any offset of ASCII is one).
#[inline(always)]
fn in_proven(len: usize, high: u64, proven: &[Proven<'_>]) -> bool {
    let (buffer, offset) = (high as u32 as usize, (high >> 32) as usize);
    proven
        .get(buffer)
        .is_some_and(|p| p.holds(offset, offset + len))
}

impl<'a> Block<'a> {
    /// `check_strings_by_check` for rows `rows` of a string-view array (whose first row is
    /// `first`; `vector_build`: in `widest`'s AVX2 build), with the same outcome: nulls, texts that
    /// are not `str` values, then each check over the values, failures in row order (a row's in
    /// check order). False, having done nothing, where it does not apply: a column whose values
    /// need more than their checks (a sketch), or null markers besides the empty text.
    #[inline(always)] // into `widest`'s vector build
    pub(super) fn check_views_by_check(
        &self,
        (array, proven, read): (
            &'a StringViewArray,
            impl Fn(usize) -> bool,
            &super::InPlaceRead<'a>,
        ),
        (index, first, rows): (usize, usize, std::ops::Range<usize>),
        vector_build: bool,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut super::BlockFindings,
    ) -> bool {
        let parser = self.parsers[index];
        if self.text_nulls
            || !matches!(parser, TypeParser::Str)
            || self.plan.sketches[index] != Sketch::Nothing
        {
            return false;
        }
        let column = &self.plan.columns[index];
        let failed_before = failures.len();
        let first_at = rows.start - first;
        let views = Views::new(array, first_at, rows.len(), vector_build);
        let nulls = array.nulls().filter(|nulls| nulls.null_count() > 0);
        // The first check, when a value it accepts is thereby a `str` value (an `isin`, a
        // fixed-shape ASCII pattern): it judges the values, and needs no pass of its own.
        let prover = match column.checks.first() {
            Some(ColumnCheck::Membership(membership)) => match membership.view_set() {
                Some(set) => set.proves_plain_text().then(|| Prover::Set(views.on(set))),
                None => membership
                    .proves_plain_text()
                    .then_some(Prover::Texts(Matches {
                        test: membership,
                        views: &views,
                    })),
            },
            Some(ColumnCheck::Pattern(pattern)) if pattern.accepts_only_plain_text() => {
                Some(pattern_prover(pattern, &views))
            }
            _ => None,
        };
        // A dictionary's rows where its values are few beside them: each check decided once a
        // value (the prover's outcome: a `str` value its check accepts), each row reading its
        // value's outcome by its key.
        let by_key =
            (read.dictionary()).filter(|d| super::dictionary::by_value(d.values(), rows.len()));
        let part = (first_at, rows.len());
        let prover_outcomes = match (&prover, by_key, column.checks.first()) {
            (Some(_), Some(dictionary), Some(check)) => Some(dictionary.outcomes(|text| {
                let null = text.is_empty() && self.plan.is_null(text);
                !null && parser.parse(text).is_some() && check.passes(&Value::Str(text))
            })),
            _ => None,
        };
        let prover = match (by_key, &prover_outcomes) {
            (Some(dictionary), Some(outcomes)) => {
                Some(Prover::ByKey(dictionary.by_key(part, outcomes)))
            }
            _ => prover,
        };
        // Without a prover, a value is proven from its bytes.
        let proven_buffers = if prover.is_none() { read.proven() } else { &[] };
        // Rows that are not values (nulls, texts that are not `str`s): no check sees them.
        let mut skipped = vec![0u64; rows.len().div_ceil(64)];
        // A null of a column without `not_null` is only counted: a word of rows at a time.
        let settled = column.not_null.is_none().then(|| {
            let null_words = super::bits::null_words(nulls, first_at, rows.len());
            out.stats[index].nulls += null_words
                .iter()
                .map(|w| u64::from(w.count_ones()))
                .sum::<u64>();
            skipped.copy_from_slice(&null_words);
            null_words
        });
        // A row that is not plain, or is null, is judged on its own (`judge`), as
        // `check_strings_by_check` judges every value; the rest need nothing more. Under a
        // prover the few rows its test rejects are parsed: proving the buffers (`proven`)
        // would read every view and long value for them.
        let mut judge = |i: usize| {
            let at = first_at + i;
            let row = rows.start + i;
            let value = if array.is_null(at) {
                self.null_cell(index, column, (row, &[]), failures, out);
                false
            } else {
                let text = array.value(at).as_bytes();
                if text.is_empty() && self.plan.is_null(text) {
                    self.null_cell(index, column, (row, text), failures, out);
                    false
                } else if prover.is_none() && proven(at) || parser.parse(text).is_some() {
                    true
                } else {
                    self.invalid_cell(column, (row, text), failures, out);
                    false
                }
            };
            if !value {
                skipped[i / 64] |= 1 << (i % 64);
            } else if let (Some(prover), Some(check)) = (&prover, column.checks.first()) {
                // A value the first check did not accept (its test, repeated off the hot path).
                if !prover.holds(i) {
                    self.fail_check_cell(check, index, (row, views.text(i)), out);
                    failures.push((as_u32(row), check.rule()));
                }
            }
        };
        let mut valid_words = super::bits::valid_words(nulls, first_at, rows.len());
        let nulls_seen = (settled.as_deref(), &mut valid_words);
        let len = views.views.len();
        // Each test its own loop, so the loop inlines it.
        match prover {
            Some(Prover::Set(test)) => {
                super::bits::each_unsettled(len, test, nulls_seen, &mut judge)
            }
            Some(Prover::Inlined(test)) => {
                super::bits::each_unsettled(len, test, nulls_seen, &mut judge);
            }
            Some(Prover::TwoWords(test)) => {
                super::bits::each_unsettled(len, test, nulls_seen, &mut judge);
            }
            Some(Prover::Pattern(test)) => {
                super::bits::each_unsettled(len, test, nulls_seen, &mut judge);
            }
            Some(Prover::Texts(test)) => {
                super::bits::each_unsettled(len, test, nulls_seen, &mut judge);
            }
            Some(Prover::ByKey(test)) => {
                super::bits::each_unsettled(len, test, nulls_seen, &mut judge);
            }
            None => {
                let plain = Plain {
                    views: views.views,
                    halves: views.halves,
                    proven: proven_buffers,
                    vector_build: views.vector_build,
                };
                super::bits::each_unsettled(len, plain, nulls_seen, &mut judge);
            }
        }
        let proved = usize::from(prover.is_some());
        for check in &column.checks[proved..] {
            let place = (index, rows.start, &views, &skipped[..]);
            if let Some(dictionary) = by_key {
                let outcomes = dictionary.outcomes(|text| check.passes(&Value::Str(text)));
                let passes = dictionary.by_key(part, &outcomes);
                self.fail_views(check, place, passes, failures, out);
                continue;
            }
            match check {
                ColumnCheck::Membership(membership) => match membership.view_set() {
                    Some(set) => {
                        self.fail_views(check, place, views.on(set), failures, out);
                    }
                    None => {
                        let views = &views;
                        let passes = Matches {
                            test: membership,
                            views,
                        };
                        self.fail_views(check, place, passes, failures, out);
                    }
                },
                ColumnCheck::Pattern(pattern) => {
                    match (pattern.view_pattern(), pattern.two_words()) {
                        (Some(short), _) => {
                            self.fail_views(check, place, views.on(short), failures, out);
                        }
                        (None, Some(test)) => {
                            let views = &views;
                            let passes = Matches { test, views };
                            self.fail_views(check, place, passes, failures, out);
                        }
                        (None, None) => {
                            let views = &views;
                            let passes = Matches {
                                test: pattern,
                                views,
                            };
                            self.fail_views(check, place, passes, failures, out);
                        }
                    }
                }
                ColumnCheck::Length(test) => {
                    let views = &views;
                    let passes = Matches { test, views };
                    self.fail_views(check, place, passes, failures, out);
                }
                _ => {
                    let passes = |i: usize| check.passes(&Value::Str(views.text(i)));
                    self.fail_views(check, place, passes, failures, out);
                }
            }
        }
        failures[failed_before..].sort_by_key(|&(row, _)| row);
        if self.key_logged_whole(index) {
            let skips = (index, rows.start, skipped);
            self.key_view_skips.borrow_mut().push(skips);
        }
        true
    }

    /// One check over view rows (the first of which is block row `start`; the `skipped` bits
    /// mark the rows that are not values). `passes` runs on every row, a null's too (its view
    /// is read safely, and its outcome dropped).
    #[inline(always)]
    fn fail_views(
        &self,
        check: &ColumnCheck,
        (index, start, views, skipped): (usize, usize, &Views<'a>, &[u64]),
        passes: impl RowTest,
        failures: &mut Vec<(u32, RuleId)>,
        out: &mut super::BlockFindings,
    ) {
        let place = (index, start, views.views.len(), skipped);
        let text_of = |i: usize| Cow::Borrowed(views.text(i));
        self.fail_unless(check, place, passes, text_of, failures, out);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::spec::{CheckKind, DType};

    proptest! {
        /// A length check's word of 64 views finds what it finds on each value's bytes: values
        /// inlined and long, ASCII and of two-, three- and four-byte characters, limits around
        /// their lengths.
        #[test]
        fn a_length_word_agrees_with_each_value(
            texts in proptest::collection::vec("[a-zé€😀]{0,30}", 64),
            limit in 0u64..35,
            is_min in proptest::bool::ANY,
        ) {
            let kind = if is_min { CheckKind::MinLength } else { CheckKind::MaxLength };
            let length = Length::compile(1, kind, Some(&json!(limit)), DType::Str, "c")
                .expect("compiles");
            let array = StringViewArray::from_iter_values(&texts);
            let views: &[u128; 64] = array.views()[..].try_into().expect("64 views");
            let each = (0..64).fold(0u64, |word, i| {
                word | u64::from(length.passes(texts[i].as_bytes())) << i
            });
            let word = ByText::word(&length, &crate::rules::view_halves(views), array.data_buffers());
            prop_assert_eq!(word, Some(each));
        }
    }
}
