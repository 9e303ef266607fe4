//! Row-level work done a column at a time where its columns are read in place whole: a row rule
//! comparing two float, integer, date or datetime columns over their slices, a one-column unique
//! key logged from its array. What is left is done a row at a time (`check_row`), which joins
//! these rules' failures to their rows in rule order.

use arrow_array::cast::AsArray;
use arrow_array::{Array, StringViewArray};
use arrow_buffer::NullBuffer;
use wide::f64x4;

use super::bits::valid_words;
use super::floats::finite_four;
use super::row_batches::{self, ColumnValues, RowsPart, Values};
use super::{
    plain_inlined, record_failure, value_hash, widest, Block, BlockFindings, KeyEntry, RuleId,
};
use crate::formats::typed::{native_reader, Ordinals};
use crate::plan::RowRule;
use crate::spec::{BinaryOp, DType};
use crate::value::Cell;

/// How a key's log takes a row of a string-view column.
enum KeyRow {
    /// A short `str` value: hashed from its view.
    ShortView,
    /// Judged as its cell, and logged if a value.
    Judged,
}

/// A float column's values and nulls, and the block row of its first value.
type FloatPart<'a> = (usize, &'a [f64], Option<&'a NullBuffer>);

/// A row rule done whole, over its columns' parts, aligned.
pub(super) enum WholeRule<'a> {
    /// `x op y` over two float64 columns.
    Floats(BinaryOp, Vec<(FloatPart<'a>, FloatPart<'a>)>),
    /// `x op y` over two integer, date or datetime columns of one type, as their `i64`s, each
    /// pair's block row of its first value.
    Ordinals(BinaryOp, Vec<OrdinalPair<'a>>),
    /// Any other expression of numbers, instants and bools: a batch of rows at a time.
    Batched(Vec<RowsPart<'a>>),
}

type OrdinalPair<'a> = (usize, Ordinals<'a>, Ordinals<'a>);

/// The failures of the row rules done whole, each rule's rows ascending, and how far the row
/// pass has joined each to its rows.
#[derive(Default)]
pub(super) struct WholeRuleRows {
    failed: Vec<Option<Vec<u32>>>,
    next: Vec<usize>,
}

impl WholeRuleRows {
    /// Whether row rule `rule`, done whole, failed `row`; rows are asked in ascending order.
    pub(super) fn failed(&mut self, rule: usize, row: usize) -> bool {
        let Some(rows) = &self.failed[rule] else {
            return false;
        };
        let next = &mut self.next[rule];
        if rows.get(*next).is_some_and(|&r| r as usize == row) {
            *next += 1;
            return true;
        }
        false
    }
}

impl<'a> Block<'a> {
    /// Per row rule, how it is done whole, if it is: its columns read in place in the same
    /// arrays' rows, in a block without broken rows or null markers besides the empty text (a
    /// value's text could be one). A comparison of two float64 columns, or of two integer,
    /// date or datetime columns of one type, has a loop of its own; any other expression of
    /// numbers, instants and bools is evaluated a batch of rows at a time.
    pub(super) fn rules_done_whole(&self) -> Vec<Option<WholeRule<'a>>> {
        let whole = self.row_work_whole();
        self.plan
            .row_rules
            .iter()
            .map(|rule| {
                let done_whole = || {
                    (self.float_pair(rule))
                        .or_else(|| self.ordinal_pair(rule))
                        .or_else(|| self.batched_rule(rule))
                };
                whole.then(done_whole).flatten()
            })
            .collect()
    }

    /// Which unique keys are logged whole: one column, read in place for every row.
    pub(super) fn keys_done_whole(&self) -> Vec<bool> {
        let whole = self.row_work_whole();
        self.plan
            .unique_keys
            .iter()
            .map(|key| whole && matches!(key.columns[..], [column] if self.all_in_place[column]))
            .collect()
    }

    /// Whether column `index` is a one-column unique key logged whole.
    pub(super) fn key_logged_whole(&self, index: usize) -> bool {
        self.plan
            .unique_keys
            .iter()
            .zip(&self.keys_whole)
            .any(|(key, &whole)| whole && key.columns[..] == [index])
    }

    fn row_work_whole(&self) -> bool {
        !self.text_nulls && !self.rows.is_empty() && !self.any_broken
    }

    /// A float-pair rule's operator and its two columns' parts, aligned.
    fn float_pair(&self, rule: &RowRule) -> Option<WholeRule<'a>> {
        let (op, a, b) = rule.expr.column_pair()?;
        let float = |column: usize| {
            self.plan.columns[column].dtype == DType::Float && self.all_in_place[column]
        };
        if !float(a) || !float(b) || self.in_place[a].len() != self.in_place[b].len() {
            return None;
        }
        let floats = |part: &'a super::InPlace| {
            let (values, nulls) = native_reader(&part.array, DType::Float)?.floats()?;
            Some((part.first, values, nulls))
        };
        let mut parts = Vec::new();
        for (x, y) in self.in_place[a].iter().zip(&self.in_place[b]) {
            let (x, y) = (floats(x.part)?, floats(y.part)?);
            if x.0 != y.0 || x.1.len() != y.1.len() {
                return None;
            }
            parts.push((x, y));
        }
        Some(WholeRule::Floats(op, parts))
    }

    /// An ordinal-pair rule's operator and its two columns' parts, aligned.
    fn ordinal_pair(&self, rule: &RowRule) -> Option<WholeRule<'a>> {
        let (op, a, b) = rule.expr.column_pair()?;
        if !self.all_in_place[a]
            || !self.all_in_place[b]
            || self.in_place[a].len() != self.in_place[b].len()
        {
            return None;
        }
        let ordinals = |column: usize, part: &'a super::InPlace| {
            let dtype = self.plan.columns[column].dtype;
            native_reader(&part.array, dtype)?.ordinals(dtype, 0..part.array.len())
        };
        let mut parts = Vec::new();
        for (x, y) in self.in_place[a].iter().zip(&self.in_place[b]) {
            let (xs, ys) = (ordinals(a, x.part)?, ordinals(b, y.part)?);
            if x.part.first != y.part.first
                || xs.values.len() != ys.values.len()
                || !xs.comparable_with(&ys)
            {
                return None;
            }
            parts.push((x.part.first, xs, ys));
        }
        Some(WholeRule::Ordinals(op, parts))
    }

    /// A rule evaluated a batch of rows at a time: every column it reads a number, date,
    /// datetime or bool column read in place in the same arrays' rows, every node of its
    /// expression one `row_batches` evaluates.
    fn batched_rule(&self, rule: &RowRule) -> Option<WholeRule<'a>> {
        let columns = rule.expr.cells_read();
        let (&lead, count) = (columns.first()?, self.in_place[*columns.first()?].len());
        let aligned =
            |&column: &usize| self.all_in_place[column] && self.in_place[column].len() == count;
        let has = |index: usize| columns.contains(&index);
        if !columns.iter().all(aligned) || !row_batches::supported(&rule.expr.expr, &has) {
            return None;
        }
        let mut parts = Vec::with_capacity(count);
        for n in 0..count {
            let lead = self.in_place[lead][n].part;
            let (first, len) = (lead.first, lead.array.len());
            let mut values = Vec::with_capacity(columns.len());
            for &column in &columns {
                let part = self.in_place[column][n].part;
                if part.first != first || part.array.len() != len {
                    return None;
                }
                values.push(self.column_values(column, part)?);
            }
            parts.push(RowsPart {
                first,
                len,
                columns: values,
            });
        }
        Some(WholeRule::Batched(parts))
    }

    /// Column `index`'s values in one of its arrays, for `row_batches`: float64 values of a
    /// float column, the `i64`s of an integer, date or datetime column, or a bool column's.
    fn column_values(&self, column: usize, part: &'a super::InPlace) -> Option<ColumnValues<'a>> {
        let dtype = self.plan.columns[column].dtype;
        let natives = native_reader(&part.array, dtype)?;
        let values = match dtype {
            DType::Float => Values::Float(natives.floats()?.0),
            DType::Int => Values::Int(natives.ordinals(dtype, 0..part.array.len())?.values),
            DType::Date | DType::Datetime => {
                Values::Temporal(natives.ordinals(dtype, 0..part.array.len())?.values)
            }
            DType::Bool => Values::Bool(natives.bools()?),
            _ => return None,
        };
        Some(ColumnValues {
            column,
            values,
            nulls: natives.nulls(),
            from: 0,
        })
    }

    /// The row rules and unique keys done whole (`rules_whole`, `keys_whole`): each rule's
    /// failures counted and sampled in row order, each key's entries logged in row order.
    pub(super) fn check_rows_whole(&self, out: &mut BlockFindings) -> WholeRuleRows {
        let mut whole = WholeRuleRows::default();
        for (rule, whole_rule) in self.plan.row_rules.iter().zip(&self.rules_whole) {
            let failed = whole_rule.as_ref().map(|whole_rule| {
                let failed = match whole_rule {
                    WholeRule::Floats(op, parts) => widest(
                        #[inline(always)]
                        |_| failing_rows(*op, parts),
                    ),
                    WholeRule::Ordinals(op, parts) => widest(
                        #[inline(always)]
                        |_| failing_ordinal_rows(*op, parts),
                    ),
                    WholeRule::Batched(parts) => widest(
                        #[inline(always)]
                        |_| row_batches::failing_rows(&rule.expr, parts),
                    ),
                };
                for &row in &failed {
                    self.fail(out, rule.rule, row as usize, None, None, &|_| {
                        "row rule is false".to_owned()
                    });
                }
                failed
            });
            whole.failed.push(failed);
            whole.next.push(0);
        }
        for (key_index, key) in self.plan.unique_keys.iter().enumerate() {
            if self.keys_whole[key_index] {
                let column = key.columns[0];
                for read in &self.in_place[column] {
                    let rows = read.rows_within(0..self.rows.len());
                    match read.part.array.as_string_view_opt() {
                        Some(strings) => {
                            let part = (strings, read.part.first, rows);
                            self.log_view_keys(key_index, column, part, out);
                        }
                        None => self.for_each_cell_of(read, column, rows, |row, cell| {
                            if let Cell::Ok(value) = &cell {
                                self.log_key(key_index, row, value_hash(value), |_| &cell, out);
                            }
                        }),
                    }
                }
            }
        }
        whole
    }

    /// A one-column key's entries for rows `rows` of a string-view array (whose first row is
    /// block row `first`), as `log_key` logs each value's cell: the common value, inlined ASCII
    /// without NUL, is hashed and copied straight from its view, with no cell between.
    fn log_view_keys(
        &self,
        key_index: usize,
        column: usize,
        (strings, first, rows): (&'a StringViewArray, usize, std::ops::Range<usize>),
        out: &mut BlockFindings,
    ) {
        let at0 = rows.start - first;
        let views = &strings.views()[at0..rows.end - first];
        out.keys[key_index].reserve(views.len());
        let part = (strings, at0, rows.start, views);
        // Where the column's check found its rows that are not values, every other row is a
        // `str` value: a short one hashes from its view, as `key_hash` hashes its text.
        let skips = self.key_view_skips.borrow();
        let found = skips
            .iter()
            .find(|(c, start, _)| (*c, *start) == (column, rows.start));
        if let Some((_, _, skipped)) = found {
            let how = |_, view: u128| {
                if view as u32 as usize > crate::rules::unique::SHORT_KEY {
                    KeyRow::Judged
                } else {
                    KeyRow::ShortView
                }
            };
            if self.rows.have_lines() {
                let values = super::bits::clear_rows(skipped, views.len());
                return self.log_key_rows(key_index, column, part, values, how, out);
            }
            // No lines (a typed source): a word of 64 short values, the common word, is logged
            // in one `extend` (no capacity test or line lookup a row: 92 → 40 instructions a row
            // on the benchmark's typed key); any other word row by row.
            for (w, &skip) in skipped.iter().enumerate() {
                let word = 64 * w..views.len().min(64 * w + 64);
                let word_views = &views[word.clone()];
                let short = |&view: &u128| view as u32 as usize <= crate::rules::unique::SHORT_KEY;
                if skip == 0 && word_views.iter().all(short) {
                    // The word's rows fit a `u32` when its last one does: tested once, not a row.
                    let first = self.first_row + rows.start + word.start;
                    let first =
                        super::as_u32(first + word_views.len()) - super::as_u32(word_views.len());
                    out.keys[key_index].extend((first..).zip(word_views).map(|(row, &view)| {
                        let hash = crate::rules::unique::view_key_hash(view);
                        KeyEntry::short_text(hash, row)
                    }));
                } else {
                    let values = super::bits::clear_rows(&skipped[w..=w], word.len());
                    let values = values.map(|i| word.start + i);
                    self.log_key_rows(key_index, column, part, values, how, out);
                }
            }
            return;
        }
        let nulls = strings.nulls().filter(|nulls| nulls.null_count() > 0);
        // Validity a word of rows at a time (empty: no nulls).
        let valid: Vec<u64> = super::bits::valid_words(nulls, at0, views.len()).collect();
        let is_valid = |i: usize| valid.get(i / 64).is_none_or(|w| w >> (i % 64) & 1 == 1);
        // As `for_each_cell` judges a view: only the empty text can be a null here.
        let how = |i: usize, view: u128| {
            if plain_inlined(view) && is_valid(i) {
                KeyRow::ShortView
            } else {
                KeyRow::Judged
            }
        };
        self.log_key_rows(key_index, column, part, 0..views.len(), how, out);
    }

    /// A one-column key's entries for the `views` of `strings` from value `at0` (block row
    /// `start`): each of `rows` (in order; the rest are not values) as `how` says.
    fn log_key_rows(
        &self,
        key_index: usize,
        column: usize,
        (strings, at0, start, views): (&'a StringViewArray, usize, usize, &[u128]),
        rows: impl Iterator<Item = usize>,
        how: impl Fn(usize, u128) -> KeyRow,
        out: &mut BlockFindings,
    ) {
        for i in rows {
            let view = views[i];
            let row = start + i;
            match how(i, view) {
                // The view's own bytes hash as the text does, and the hash keeps the text.
                KeyRow::ShortView => out.keys[key_index].push(KeyEntry::short_text(
                    crate::rules::unique::view_key_hash(view),
                    super::as_u32(self.first_row + row),
                )),
                KeyRow::Judged => {
                    let cell = self.str_cell(column, strings, at0 + i);
                    if let Cell::Ok(value) = &cell {
                        self.log_key(key_index, row, value_hash(value), |_| &cell, out);
                    }
                }
            }
        }
    }

    /// Whether anything is left for the row pass besides joining failures: a row rule or key
    /// not done whole, row-level history, distinct counts, broken rows, a missing column.
    pub(super) fn row_pass_needed(&self) -> bool {
        self.rules_whole.iter().any(Option::is_none)
            || self.keys_whole.iter().any(|whole| !whole)
            || !self.plan.history_keys.is_empty()
            || !self.plan.distinct_columns.is_empty()
            || self.source_mismatch
            || self.any_broken
    }

    /// With nothing left for the row pass: every row's failures from the columns checked whole
    /// (`columns`, in column order) and the rules done whole, a row's in column then check
    /// order, then rule order.
    pub(super) fn join_failures(
        &self,
        columns: Vec<Vec<(u32, RuleId)>>,
        rules: &WholeRuleRows,
        out: &mut BlockFindings,
    ) {
        let mut all: Vec<(u32, RuleId)> = columns.into_iter().flatten().collect();
        for (rule, failed) in self.plan.row_rules.iter().zip(&rules.failed) {
            let rows = failed.as_deref().unwrap_or_default();
            all.extend(rows.iter().map(|&row| (row, rule.rule)));
        }
        // Stable: a row's failures keep the order they were gathered in.
        all.sort_by_key(|&(row, _)| row);
        let mut row_failed: Vec<RuleId> = Vec::new();
        for group in all.chunk_by(|x, y| x.0 == y.0) {
            row_failed.clear();
            row_failed.extend(group.iter().map(|&(_, rule)| rule));
            record_failure(out, self.first_row + group[0].0 as usize, &row_failed);
        }
    }
}

/// The rows where `x op y` is false for two values (a null or a float that is not finite is
/// not a value: the rule is unknown there, as `RowExpr::evaluate` says).
#[inline(always)] // into `widest`'s vector build
fn failing_rows(op: BinaryOp, parts: &[(FloatPart<'_>, FloatPart<'_>)]) -> Vec<u32> {
    match op {
        BinaryOp::Eq => failing(parts, |x, y| x == y, |x, y| x.simd_eq(y)),
        BinaryOp::Ne => failing(parts, |x, y| x != y, |x, y| x.simd_ne(y)),
        BinaryOp::Lt => failing(parts, |x, y| x < y, |x, y| x.simd_lt(y)),
        BinaryOp::Le => failing(parts, |x, y| x <= y, |x, y| x.simd_le(y)),
        BinaryOp::Gt => failing(parts, |x, y| x > y, |x, y| x.simd_gt(y)),
        _ => failing(parts, |x, y| x >= y, |x, y| x.simd_ge(y)),
    }
}

/// `failing_rows` for one operator, in its one-pair form `holds` and its four-lane form
/// `holds_four` (the same compare): four rows a step, and only a step with a failing lane looks
/// at its rows one by one.
#[inline(always)]
fn failing(
    parts: &[(FloatPart<'_>, FloatPart<'_>)],
    holds: impl Fn(f64, f64) -> bool,
    holds_four: impl Fn(f64x4, f64x4) -> f64x4,
) -> Vec<u32> {
    let mut failed = Vec::new();
    for &((first, xs, x_nulls), (_, ys, y_nulls)) in parts {
        let len = xs.len().min(ys.len());
        let (xs, ys) = (&xs[..len], &ys[..len]);
        // A row whose pair fails is listed unless a null stands in it.
        let mut fail = |i: usize| {
            if x_nulls.is_none_or(|n| n.is_valid(i)) && y_nulls.is_none_or(|n| n.is_valid(i)) {
                failed.push(super::as_u32(first + i));
            }
        };
        let ((x_quads, x_rest), (y_quads, y_rest)) = (xs.as_chunks::<4>(), ys.as_chunks::<4>());
        for (at, (&x, &y)) in x_quads.iter().zip(y_quads).enumerate() {
            let (x, y) = (f64x4::new(x), f64x4::new(y));
            let mut lanes = !holds_four(x, y).to_bitmask() & finite_four(x) & finite_four(y) & 0xF;
            while lanes != 0 {
                fail(4 * at + lanes.trailing_zeros() as usize);
                lanes &= lanes - 1;
            }
        }
        let rest_at = 4 * x_quads.len();
        for (i, (&x, &y)) in x_rest.iter().zip(y_rest).enumerate() {
            if !holds(x, y) && x.is_finite() && y.is_finite() {
                fail(rest_at + i);
            }
        }
    }
    failed
}

/// The rows where `x op y` is false for two ordinal values (not null).
#[inline(always)] // into `widest`'s vector build
fn failing_ordinal_rows(op: BinaryOp, parts: &[OrdinalPair<'_>]) -> Vec<u32> {
    match op {
        BinaryOp::Eq => failing_ordinals(parts, |x, y| x == y),
        BinaryOp::Ne => failing_ordinals(parts, |x, y| x != y),
        BinaryOp::Lt => failing_ordinals(parts, |x, y| x < y),
        BinaryOp::Le => failing_ordinals(parts, |x, y| x <= y),
        BinaryOp::Gt => failing_ordinals(parts, |x, y| x > y),
        _ => failing_ordinals(parts, |x, y| x >= y),
    }
}

/// `failing_ordinal_rows` for one operator: 64 rows a step gathered into a word with no branch,
/// the nulls masked off by the word.
#[inline(always)]
fn failing_ordinals(parts: &[OrdinalPair<'_>], holds: impl Fn(i64, i64) -> bool) -> Vec<u32> {
    let mut failed = Vec::new();
    for (first, xs, ys) in parts {
        let len = xs.values.len().min(ys.values.len());
        let (x_values, y_values) = (&xs.values[..len], &ys.values[..len]);
        let mut x_valid = valid_words(xs.nulls, xs.from, len);
        let mut y_valid = valid_words(ys.nulls, ys.from, len);
        for start in (0..len).step_by(64) {
            let end = (start + 64).min(len);
            let pairs = x_values[start..end].iter().zip(&y_values[start..end]);
            let mut word = (pairs.enumerate()).fold(0u64, |word, (k, (&x, &y))| {
                word | u64::from(!holds(x, y)) << k
            });
            word &= x_valid.next().unwrap_or(u64::MAX) & y_valid.next().unwrap_or(u64::MAX);
            while word != 0 {
                failed.push(super::as_u32(
                    first + start + word.trailing_zeros() as usize,
                ));
                word &= word - 1;
            }
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::check::floats::tests::float;

    /// `x op y` one pair at a time, the operators' own meaning.
    fn pair_holds<T: PartialOrd>(op: BinaryOp, x: T, y: T) -> bool {
        match op {
            BinaryOp::Eq => x == y,
            BinaryOp::Ne => x != y,
            BinaryOp::Lt => x < y,
            BinaryOp::Le => x <= y,
            BinaryOp::Gt => x > y,
            _ => x >= y,
        }
    }

    proptest! {
        /// The rows a float row rule fails, four at a time, are those one pair at a time fails:
        /// both sides values (not null, finite) and the compare false; for every operator, any
        /// length (a short last step included) and nulls on either side.
        #[test]
        fn four_rows_a_step_fail_what_one_at_a_time_fails(
            rows in prop::collection::vec((float(), float(), any::<bool>(), any::<bool>()), 0..80),
            op in 0..6usize,
            first in 0usize..1000,
            nulls in any::<bool>(),
        ) {
            let op = [BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge][op];
            let xs: Vec<f64> = rows.iter().map(|r| r.0).collect();
            let ys: Vec<f64> = rows.iter().map(|r| r.1).collect();
            let x_nulls = NullBuffer::from(rows.iter().map(|r| r.2 || !nulls).collect::<Vec<_>>());
            let y_nulls = NullBuffer::from(rows.iter().map(|r| r.3 || !nulls).collect::<Vec<_>>());
            let part = ((first, &xs[..], Some(&x_nulls)), (first, &ys[..], Some(&y_nulls)));
            let holds = |x: f64, y: f64| pair_holds(op, x, y);
            let expected: Vec<u32> = (0..rows.len())
                .filter(|&i| {
                    let (x, y) = (xs[i], ys[i]);
                    x_nulls.is_valid(i) && y_nulls.is_valid(i) && x.is_finite() && y.is_finite()
                        && !holds(x, y)
                })
                .map(|i| (first + i) as u32)
                .collect();
            prop_assert_eq!(failing_rows(op, &[part]), expected);
        }

        /// The rows an integer, date or datetime row rule fails, a word at a time, are those
        /// one pair at a time fails: both sides not null and the compare false; for every
        /// operator, a part starting anywhere in its arrays, and nulls on either side.
        #[test]
        fn a_word_of_ordinal_pairs_fails_what_one_at_a_time_fails(
            rows in prop::collection::vec((-3i64..3, -3i64..3, any::<bool>(), any::<bool>()), 0..200),
            op in 0..6usize,
            (first, from) in (0usize..1000, 0usize..70),
        ) {
            let op = [BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Lt, BinaryOp::Le, BinaryOp::Gt, BinaryOp::Ge][op];
            let from = from.min(rows.len());
            let array = |value: fn(&(i64, i64, bool, bool)) -> Option<i64>| -> arrow_array::ArrayRef {
                std::sync::Arc::new(arrow_array::Int64Array::from_iter(rows.iter().map(value)))
            };
            let xs = array(|r| r.2.then_some(r.0));
            let ys = array(|r| r.3.then_some(r.1));
            let ordinals = |array| {
                let column = native_reader(array, DType::Int).expect("an int array");
                column.ordinals(DType::Int, from..rows.len()).expect("ints")
            };
            let part = (first, ordinals(&xs), ordinals(&ys));
            let holds = |x: i64, y: i64| pair_holds(op, x, y);
            let expected: Vec<u32> = (from..rows.len())
                .filter(|&i| rows[i].2 && rows[i].3 && !holds(rows[i].0, rows[i].1))
                .map(|i| (first + i - from) as u32)
                .collect();
            prop_assert_eq!(failing_ordinal_rows(op, &[part]), expected);
        }
    }
}
