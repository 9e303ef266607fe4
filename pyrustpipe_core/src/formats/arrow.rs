//! In-memory Arrow input: a stream of record batches (a DataFrame or table handed over through
//! the Arrow C stream interface) validated as one source, without writing it anywhere.
//!
//! Batches are cut into slices of at most [`UNIT_ROWS`] rows (slicing shares the buffers), each a
//! unit of work, of equal sizes spread evenly over the workers. Their columns are read as text
//! exactly like Parquet's, so a table gives the same report as the same rows in a file. The
//! outputs are Parquet; the batches are kept for them, and dropped as soon as they are checked
//! when no output needs them.

use std::sync::{Mutex, PoisonError};

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayAccessor, ArrayRef, GenericStringArray, OffsetSizeTrait, RecordBatch,
    RecordBatchReader,
};
use arrow_schema::{DataType, Schema, SchemaRef};

use crate::check::{as_u32, InPlace, Rows, TextRef};
use crate::error::{Error, Result};
use crate::plan::SourceLayout;
use crate::spec::DType;

/// Rows per unit of work at most: a single large batch still spreads over every worker.
pub const UNIT_ROWS: usize = 64 * 1024;

/// A stream of record batches to validate, and the name reports give it.
pub struct ArrowSource {
    pub name: String,
    pub reader: Box<dyn RecordBatchReader + Send>,
}

/// The batches of an in-memory source, indexed by unit of work.
pub struct BatchStore {
    schema: SchemaRef,
    batches: Mutex<Vec<Option<RecordBatch>>>,
    /// Keep checked batches for the outputs (else drop them once checked).
    keep: bool,
}

impl BatchStore {
    pub fn new(schema: SchemaRef, keep: bool) -> Self {
        BatchStore {
            schema,
            batches: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// The table's schema (also when it has no batches).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Store one unit's batch; returns the unit number.
    pub fn push(&self, batch: RecordBatch) -> u64 {
        let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        batches.push(Some(batch));
        batches.len() as u64 - 1
    }

    /// The batch of `unit`, for the worker that checks it.
    pub fn get(&self, unit: u64) -> Option<RecordBatch> {
        let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = batches.get_mut(usize::try_from(unit).ok()?)?;
        if self.keep {
            slot.clone()
        } else {
            slot.take()
        }
    }

    /// Every kept batch, in order (empty unless the store keeps them).
    pub fn kept(&self) -> Vec<RecordBatch> {
        let batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        batches.iter().flatten().cloned().collect()
    }
}

/// Cut `batch` into zero-copy slices of at most [`UNIT_ROWS`] rows, each a whole number of
/// `check::TYPED_SLICE_ROWS` slices (a part slice costs a pass of its own) and within one slice
/// of the others; a batch cut at all is cut into a multiple of `workers` units, unless that
/// leaves a unit less than a slice. Cut greedily, a million rows were fifteen
/// full units and a short one: one of two workers checked its last full unit alone (3 ms of a
/// 56 ms run). A batch of at most `UNIT_ROWS` stays whole: a table of many small batches keeps
/// the workers busy without cutting them smaller.
pub fn units(batch: &RecordBatch, workers: usize) -> impl Iterator<Item = RecordBatch> + '_ {
    let rows = batch.num_rows();
    let slice = crate::check::TYPED_SLICE_ROWS;
    let fewest = rows.div_ceil(UNIT_ROWS).max(1);
    let even = fewest.next_multiple_of(workers.max(1));
    let count = if fewest > 1 && rows / even >= slice {
        even
    } else {
        fewest
    };
    let slices = rows.div_ceil(slice);
    let start = move |unit: usize| (unit * slices / count * slice).min(rows);
    (0..count)
        .map(move |unit| (start(unit), start(unit + 1)))
        .filter(|(from, to)| from < to)
        .map(|(from, to)| batch.slice(from, to - from))
}

/// Column names, and which columns hold typed dates, times or timestamps (read as ISO text).
pub fn describe_schema(schema: &Schema) -> (Vec<String>, Vec<bool>) {
    let names = schema.fields().iter().map(|f| f.name().clone()).collect();
    let temporal = schema
        .fields()
        .iter()
        .map(|f| {
            matches!(
                f.data_type(),
                DataType::Date32
                    | DataType::Date64
                    | DataType::Timestamp(_, _)
                    | DataType::Time32(_)
                    | DataType::Time64(_)
            )
        })
        .collect();
    (names, temporal)
}

/// How a batch's columns are read for the plan's columns.
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    /// The plan columns' types.
    pub dtypes: &'a [DType],
    /// Typed columns are read where they lie (`Rows::in_place`): a `str` column's strings, and
    /// values with a native meaning for the column's type (`typed::native_column`). Without it
    /// every column is read as text (as profiling reads).
    pub typed: bool,
}

/// Append the rows of `batch` to `rows` per plan column, read as `reading` says. `column_of`
/// maps a field of the source (`layout.field_of`) to its column in `batch`.
pub fn append_batch(
    path: &str,
    batch: &RecordBatch,
    layout: &SourceLayout,
    reading: Reading<'_>,
    column_of: impl Fn(usize) -> usize,
    rows: &mut Rows,
) -> Result<()> {
    let Reading { dtypes, typed } = reading;
    let width = layout.field_of.len();
    rows.width = width;
    let first = rows.len();
    let count = batch.num_rows();
    rows.push_unlined(count);
    let in_place = |column: usize, array: &ArrayRef| {
        typed
            && match array.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    dtypes[column] == DType::Str
                }
                _ => super::typed::native_column(array, dtypes[column]).is_some(),
            }
    };
    let mut as_text = Vec::new();
    for (column, field) in layout.field_of.iter().enumerate() {
        let Some(field) = field else {
            as_text.push((column, None));
            continue;
        };
        let given = batch.column(column_of(*field));
        // A dictionary of strings is read as the views it stands for, and kept: its checks are
        // decided once a value.
        let views = (typed && dtypes[column] == DType::Str)
            .then(|| super::typed::string_dictionary_views(given))
            .flatten();
        let dictionary = views.is_some().then(|| given.clone());
        let array = views.unwrap_or_else(|| given.clone());
        if in_place(column, &array) {
            rows.in_place.push(InPlace {
                column,
                first,
                array,
                dictionary,
            });
        } else {
            as_text.push((column, Some(*field)));
        }
    }
    // A unit whose every column is read in place has no text spans at all.
    if as_text.is_empty() {
        return Ok(());
    }
    rows.texts.resize((first + count) * width, TextRef::Absent);
    for (column, field) in as_text {
        let Some(field) = field else { continue };
        let array = batch.column(column_of(field));
        let place = Place {
            first,
            width,
            column,
        };
        match array.data_type() {
            DataType::Utf8 => append_offset_texts(array.as_string::<i32>(), place, rows),
            DataType::LargeUtf8 => append_offset_texts(array.as_string::<i64>(), place, rows),
            DataType::Utf8View => append_texts(array.as_string_view(), place, rows),
            _ => {
                let name = &layout.names[field];
                super::typed::column_texts(path, name, array, dtypes[column], |row, text| {
                    append_value(row, text, place, rows);
                })?;
            }
        }
    }
    Ok(())
}

/// The rows of `batch` a slice of `check::TYPED_SLICE_ROWS` at a time, as Parquet's
/// `parse_rows` gives a row group's: `each(rows, first)` gets a slice's rows, `first` being the
/// batch's row number of its first row; `rows` is emptied before every slice.
pub fn parse_slices(
    path: &str,
    batch: &RecordBatch,
    layout: &SourceLayout,
    reading: Reading<'_>,
    rows: &mut Rows,
    mut each: impl FnMut(&Rows, usize),
) -> Result<()> {
    let size = crate::check::TYPED_SLICE_ROWS;
    for first in (0..batch.num_rows()).step_by(size) {
        let slice = batch.slice(first, size.min(batch.num_rows() - first));
        rows.clear();
        append_batch(path, &slice, layout, reading, |f| f, rows)?;
        each(rows, first);
    }
    Ok(())
}

/// Where a column's texts go in `Rows`: its first row, the row width, the plan column.
#[derive(Clone, Copy)]
struct Place {
    first: usize,
    width: usize,
    column: usize,
}

fn append_value(row: usize, text: Option<&[u8]>, place: Place, rows: &mut Rows) {
    let slot = (place.first + row) * place.width + place.column;
    rows.texts[slot] = match text {
        None => TextRef::Null,
        Some(bytes) => {
            let start = rows.arena.len();
            rows.arena.extend_from_slice(bytes);
            TextRef::Arena(as_u32(start), as_u32(rows.arena.len()))
        }
    };
}

/// A string column whose values lie end to end: its bytes join the arena in one copy and each
/// row points into them (one copy per column, not one per value).
fn append_offset_texts<O: OffsetSizeTrait>(
    text: &GenericStringArray<O>,
    place: Place,
    rows: &mut Rows,
) {
    let offsets = text.value_offsets();
    let (first, last) = (offsets[0].as_usize(), offsets[text.len()].as_usize());
    let base = rows.arena.len();
    rows.arena
        .extend_from_slice(&text.value_data()[first..last]);
    let at = |offset: O| as_u32(base + offset.as_usize() - first);
    for row in 0..text.len() {
        let slot = (place.first + row) * place.width + place.column;
        rows.texts[slot] = if text.is_null(row) {
            TextRef::Null
        } else {
            TextRef::Arena(at(offsets[row]), at(offsets[row + 1]))
        };
    }
}

fn append_texts<'a>(text: impl ArrayAccessor<Item = &'a str>, place: Place, rows: &mut Rows) {
    for row in 0..text.len() {
        let slot = (place.first + row) * place.width + place.column;
        rows.texts[slot] = if text.is_null(row) {
            TextRef::Null
        } else {
            let start = rows.arena.len();
            rows.arena.extend_from_slice(text.value(row).as_bytes());
            TextRef::Arena(as_u32(start), as_u32(rows.arena.len()))
        };
    }
}

/// A fingerprint of the table's content (schema, every column, batch boundaries), so a manifest
/// tells a rerun on the same table from a run on different data.
pub fn fingerprint(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<String> {
    struct Hashing(xxhash_rust::xxh3::Xxh3);
    impl std::io::Write for Hashing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let internal = |e: arrow_schema::ArrowError| Error::Internal(format!("fingerprint: {e}"));
    let mut writer =
        arrow_ipc::writer::StreamWriter::try_new(Hashing(xxhash_rust::xxh3::Xxh3::new()), schema)
            .map_err(internal)?;
    for batch in batches {
        // IPC writes a slice's own rows only, not the buffers it shares with its neighbours.
        writer.write(batch).map_err(internal)?;
    }
    writer.finish().map_err(internal)?;
    let hasher = writer.into_inner().map_err(internal)?;
    Ok(format!("xxh3:{:032x}", hasher.0.digest128()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, LargeStringArray, StringArray, StringViewArray};

    use super::*;

    /// The units cover the batch's rows once, in order, each at most `UNIT_ROWS`, whole slices
    /// (but the last) and within a slice of the others; a batch cut at all is cut into a
    /// multiple of the workers when each unit keeps a slice, else into the fewest that fit.
    #[test]
    fn units_cover_the_batch_evenly_over_the_workers() {
        let column: ArrayRef = Arc::new(arrow_array::Int32Array::from_iter_values(0..300_000));
        let whole = RecordBatch::try_from_iter([("n", column)]).unwrap();
        for (rows, workers, count) in [
            (0, 2, 1),
            (1, 2, 1),
            (10_000, 2, 1),
            (16_384, 2, 1),
            (65_536, 2, 1),
            (65_536, 1, 1),
            (65_537, 1, 2),
            (65_537, 3, 3),
            (100_000, 2, 2),
            (131_072, 2, 2),
            (131_073, 2, 4),
            (300_000, 2, 6),
            (300_000, 7, 7),
            (300_000, 64, 5),
        ] {
            let batch = whole.slice(0, rows);
            let units: Vec<RecordBatch> = units(&batch, workers).collect();
            let at = format!("{rows} rows, {workers} workers");
            assert_eq!(units.len().max(1), count, "{at}");
            let sizes: Vec<usize> = units.iter().map(RecordBatch::num_rows).collect();
            assert_eq!(sizes.iter().sum::<usize>(), rows, "{at}");
            assert!(sizes.iter().all(|&n| n <= UNIT_ROWS), "{at}");
            let slice = crate::check::TYPED_SLICE_ROWS;
            let whole = &sizes[..sizes.len().saturating_sub(1)];
            assert!(whole.iter().all(|n| n % slice == 0), "{at}");
            let (least, most) = (whole.iter().min(), whole.iter().max());
            assert!(least.zip(most).is_none_or(|(l, m)| m - l <= slice), "{at}");
            let firsts: Vec<i32> = units
                .iter()
                .map(|u| {
                    u.column(0)
                        .as_primitive::<arrow_array::types::Int32Type>()
                        .value(0)
                })
                .collect();
            let starts: Vec<i32> = sizes
                .iter()
                .scan(0, |at, n| Some(std::mem::replace(at, *at + *n as i32)))
                .collect();
            assert_eq!(firsts, starts, "{at}");
        }
    }

    /// Each row's text per column after `append_batch`, `None` for a null.
    fn texts_of(batch: &RecordBatch) -> Vec<Vec<Option<String>>> {
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let (plan, layout) = crate::plan::str_columns("t", &names);
        let mut rows = Rows::default();
        let dtypes = plan.dtypes();
        let reading = Reading {
            dtypes: &dtypes,
            typed: false,
        };
        append_batch("t", batch, &layout, reading, |f| f, &mut rows).unwrap();
        (0..rows.len())
            .map(|row| {
                (0..rows.width)
                    .map(|column| match rows.texts[row * rows.width + column] {
                        TextRef::Arena(s, e) => Some(
                            String::from_utf8(rows.arena[s as usize..e as usize].to_vec()).unwrap(),
                        ),
                        TextRef::Null => None,
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn string_columns_are_read_from_any_slice_of_any_layout() {
        let values = [
            Some("ab"),
            None,
            Some(""),
            Some("çé"),
            Some("long enough to not inline"),
        ];
        let small: ArrayRef = Arc::new(StringArray::from(values.to_vec()));
        let large: ArrayRef = Arc::new(LargeStringArray::from(values.to_vec()));
        let view: ArrayRef = Arc::new(StringViewArray::from(values.to_vec()));
        let batch = RecordBatch::try_from_iter([("s", small), ("l", large), ("v", view)]).unwrap();
        // A slice keeps its parent's buffers: its first offset is not zero.
        for (offset, length) in [(0, 5), (1, 4), (3, 2)] {
            let expected: Vec<Vec<Option<String>>> = values[offset..offset + length]
                .iter()
                .map(|v| vec![v.map(str::to_owned); 3])
                .collect();
            assert_eq!(
                texts_of(&batch.slice(offset, length)),
                expected,
                "{offset}+{length}"
            );
        }
    }
}
