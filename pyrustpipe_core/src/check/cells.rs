//! The row pass's cells of a column checked whole (every row of it read in place): read back
//! from its Arrow arrays a chunk at a time, each judged as its check judged it, with nothing
//! counted again.

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayAccessor};
use arrow_schema::DataType;

use super::{native_text, plain_inlined, Block, InPlaceRead};
use crate::formats::typed::native_reader;
use crate::value::{Cell, Native, Value};

impl<'a> Block<'a> {
    /// Column `index`'s cells for the rows of `chunk`, into `cells` (the chunk's, row by row).
    pub(super) fn fill_cells(
        &self,
        index: usize,
        chunk: std::ops::Range<usize>,
        cells: &mut [Cell<'a>],
    ) {
        let width = self.plan.columns.len();
        let start = chunk.start;
        self.for_each_cell(index, chunk, |row, cell| {
            cells[(row - start) * width + index] = cell;
        });
    }

    /// Column `index`'s cell of each row of `rows` (that an array holds), in row order.
    #[inline(always)]
    pub(super) fn for_each_cell(
        &self,
        index: usize,
        rows: std::ops::Range<usize>,
        mut put: impl FnMut(usize, Cell<'a>),
    ) {
        for read in &self.in_place[index] {
            let rows = read.rows_within(rows.clone());
            self.for_each_cell_of(read, index, rows, &mut put);
        }
    }

    /// `for_each_cell` for the rows `rows` of one of column `index`'s arrays (`read`).
    #[inline(always)]
    pub(super) fn for_each_cell_of(
        &self,
        read: &InPlaceRead<'a>,
        index: usize,
        rows: std::ops::Range<usize>,
        mut put: impl FnMut(usize, Cell<'a>),
    ) {
        let (array, first) = (&read.part.array, read.part.first);
        match array.data_type() {
            DataType::Utf8 => {
                let strings = array.as_string::<i32>();
                rows.for_each(|row| put(row, self.str_cell(index, strings, row - first)));
            }
            DataType::LargeUtf8 => {
                let strings = array.as_string::<i64>();
                rows.for_each(|row| put(row, self.str_cell(index, strings, row - first)));
            }
            DataType::Utf8View => {
                let strings = array.as_string_view();
                let views = strings.views();
                let bytes: &'a [u8] = views.inner().as_slice();
                for row in rows {
                    let at = row - first;
                    let (view, len) = (views[at], views[at] as u32 as usize);
                    // The common case first: a non-empty value inlined in its view, ASCII
                    // without NUL, is a `str` value when only the empty text is a null.
                    let plain = !self.text_nulls && plain_inlined(view);
                    let cell = if plain && strings.is_valid(at) {
                        Cell::Ok(Value::Str(&bytes[16 * at + 4..16 * at + 4 + len]))
                    } else {
                        self.str_cell(index, strings, at)
                    };
                    put(row, cell);
                }
            }
            _ => {
                let dtype = self.plan.columns[index].dtype;
                let Some(natives) = native_reader(array, dtype) else {
                    return;
                };
                for row in rows {
                    put(row, self.native_cell(natives.get(row - first), dtype));
                }
            }
        }
    }

    /// Value `at` of a `str` column's string array as a cell (`check_strings`' judgement).
    #[inline(always)]
    pub(super) fn str_cell(
        &self,
        index: usize,
        strings: impl ArrayAccessor<Item = &'a str>,
        at: usize,
    ) -> Cell<'a> {
        if strings.is_null(at) {
            return Cell::Null;
        }
        let text = strings.value(at).as_bytes();
        if (text.is_empty() || self.text_nulls) && self.plan.is_null(text) {
            return Cell::Null;
        }
        match self.parsers[index].parse(text) {
            Some(value) => Cell::Ok(value),
            None => Cell::Invalid,
        }
    }

    /// A typed value as a cell (`check_natives`' judgement).
    #[inline(always)]
    fn native_cell(&self, native: Option<Native>, dtype: crate::spec::DType) -> Cell<'a> {
        match native {
            None => Cell::Null,
            Some(native) if self.text_nulls && self.plan.is_null(&native_text(native)) => {
                Cell::Null
            }
            Some(native) => native.value(dtype).map_or(Cell::Invalid, Cell::Ok),
        }
    }
}
