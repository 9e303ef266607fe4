//! A dictionary column's checks decided once a dictionary value, each row then reading its
//! value's outcome by its key (a polars Categorical, a pandas category, a pyarrow dictionary).

use arrow_array::cast::AsArray;
use arrow_array::types::UInt32Type;
use arrow_array::{Array, ArrayRef, StringViewArray};
use arrow_schema::DataType;

use super::bits::RowTest;

/// Rows a dictionary value at least, for its checks to be decided by value: deciding each check
/// once a value then costs at most an eighth of a test a row.
const ROWS_A_VALUE: usize = 8;

/// The most values a dictionary's checks are decided by: those a whole slice allows.
const MOST_VALUES: usize = super::TYPED_SLICE_ROWS / ROWS_A_VALUE;

/// Whether `rows` rows are enough to decide a check once a value of a dictionary of `values`.
pub(super) fn by_value(values: usize, rows: usize) -> bool {
    values * ROWS_A_VALUE <= rows
}

/// The rows of a dictionary of strings as their keys into its values.
pub(super) struct DictionaryRows {
    /// Per row of the part, its value's place in `values` (a null row's is any place).
    keys: Vec<u32>,
    values: StringViewArray,
}

impl DictionaryRows {
    /// `array`'s keys and values, when it is a dictionary of strings with at least one value
    /// and few enough for a slice's checks to be decided by value (`MOST_VALUES`): a larger one
    /// is read as its views, and its keys are not copied for nothing.
    pub(super) fn of(array: &ArrayRef) -> Option<Self> {
        let DataType::Dictionary(_, value_type) = array.data_type() else {
            return None;
        };
        if !matches!(
            **value_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return None;
        }
        let dictionary = array.as_any_dictionary_opt()?;
        if dictionary.values().is_empty() || dictionary.values().len() > MOST_VALUES {
            return None;
        }
        let values = arrow_cast::cast(dictionary.values(), &DataType::Utf8View).ok()?;
        // A null row's key may be anything, even past the values or negative: clamped, as it
        // is never asked. (`normalized_keys` gives `usize`s, 9 instructions a row against 1.)
        let last = u32::try_from(values.len() - 1).ok()?;
        let keys = arrow_cast::cast(dictionary.keys(), &DataType::UInt32).ok()?;
        let keys = (keys.as_primitive::<UInt32Type>().values().iter())
            .map(|&key| key.min(last))
            .collect();
        Some(DictionaryRows {
            keys,
            values: values.as_string_view().clone(),
        })
    }

    /// How many values the dictionary holds: deciding a check on each costs that many tests.
    pub(super) fn values(&self) -> usize {
        self.values.len()
    }

    /// `passes` of each value, a bit a value: a null value is not asked (its rows are nulls,
    /// which no check sees) and holds nothing.
    pub(super) fn outcomes(&self, passes: impl Fn(&[u8]) -> bool) -> Vec<u64> {
        let mut outcomes = vec![0u64; self.values.len().div_ceil(64)];
        for (value, text) in self.values.iter().enumerate() {
            let held = text.is_some_and(|text| passes(text.as_bytes()));
            outcomes[value / 64] |= u64::from(held) << (value % 64);
        }
        outcomes
    }

    /// Rows `from..from + len` under the `outcomes` of their values.
    pub(super) fn by_key<'d>(
        &'d self,
        (from, len): (usize, usize),
        outcomes: &'d [u64],
    ) -> ByKey<'d> {
        ByKey {
            keys: &self.keys[from..from + len],
            outcomes,
        }
    }
}

/// A check's outcome a row, read by the row's key from its outcome a value.
#[derive(Clone, Copy)]
pub(super) struct ByKey<'d> {
    keys: &'d [u32],
    outcomes: &'d [u64],
}

impl RowTest for ByKey<'_> {
    #[inline(always)]
    fn holds(&self, i: usize) -> bool {
        let key = self.keys[i] as usize;
        self.outcomes[key / 64] >> (key % 64) & 1 == 1
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::types::Int8Type;
    use arrow_array::{DictionaryArray, Int8Array, LargeStringArray};

    use super::*;

    /// Each row holds what its value holds; a null value is never asked and holds nothing; a
    /// null row's key, even one past the values, reads a value in range (no panic).
    #[test]
    fn a_row_holds_what_its_value_holds() {
        let values = LargeStringArray::from(vec![Some("KES"), None, Some("a long category name")]);
        let keys = Int8Array::from(vec![Some(0), Some(2), None, Some(1), Some(2), Some(0)]);
        let mut data = DictionaryArray::<Int8Type>::try_new(keys, Arc::new(values))
            .expect("a dictionary")
            .into_data()
            .into_builder();
        // A null row's key past the values, as a producer may leave it.
        data = data.buffers(vec![arrow_buffer::Buffer::from_slice_ref([
            0i8, 2, 9, 1, 2, 0,
        ])]);
        let array: ArrayRef = Arc::new(DictionaryArray::<Int8Type>::from(
            data.build().expect("valid"),
        ));
        let rows = DictionaryRows::of(&array).expect("a dictionary of strings");
        assert_eq!(rows.values(), 3);
        let asked = std::cell::RefCell::new(Vec::new());
        let outcomes = rows.outcomes(|text| {
            asked.borrow_mut().push(text.to_vec());
            text.len() > 3
        });
        let long = rows.by_key((1, 5), &outcomes);
        assert_eq!(asked.borrow().len(), 2, "the null value is not asked");
        // Row 1 is null: its outcome is any (it is read, never used).
        let held: Vec<bool> = [0, 2, 3, 4].map(|i| long.holds(i)).to_vec();
        assert_eq!(held, [true, false, true, false]);
        long.holds(1);
    }

    #[test]
    fn only_a_dictionary_of_strings_with_values_is_read_by_key() {
        let texts: ArrayRef = Arc::new(LargeStringArray::from(vec!["KES"]));
        assert!(DictionaryRows::of(&texts).is_none());
        let empty = DictionaryArray::<Int8Type>::try_new(
            Int8Array::from(vec![None::<i8>]),
            Arc::new(LargeStringArray::from(Vec::<&str>::new())),
        )
        .expect("all null");
        assert!(DictionaryRows::of(&(Arc::new(empty) as ArrayRef)).is_none());
        let numbers = DictionaryArray::<Int8Type>::try_new(
            Int8Array::from(vec![0]),
            Arc::new(Int8Array::from(vec![5])),
        )
        .expect("a dictionary of numbers");
        assert!(DictionaryRows::of(&(Arc::new(numbers) as ArrayRef)).is_none());
    }
}
