//! Parquet: a source is split by row group, and a file of fewer row groups than the workers can
//! share has its row groups cut into parts of rows (each part a unit of work). Columns are read as Arrow
//! arrays (strings as views) and checked where they lie when their type has a native meaning for
//! the column's, as text by the same loop as CSV otherwise, so a rule means the same thing in
//! every format. Date, timestamp and time columns are typed already: their ISO text is read as
//! ISO even when the schema gives a text `format`.

use std::fs::File;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::arrow_writer::ArrowWriter;
use parquet::arrow::ProjectionMask;

use crate::check::Rows;
use crate::error::{Error, Position, Result};
use crate::formats::arrow::Reading;
use crate::formats::sink::AtomicFile;
use crate::plan::SourceLayout;
use crate::storage::local::Staged;

/// Rows decoded at a time: pass 1 checks each batch as it comes (`check::TYPED_SLICE_ROWS`).
const BATCH_ROWS: usize = crate::check::TYPED_SLICE_ROWS;

fn storage(path: &str, err: impl std::fmt::Display) -> Error {
    Error::data(
        "parquet",
        format!("cannot read Parquet: {err}"),
        Position::in_source(path.to_owned()),
    )
}

fn builder(path: &str) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let file = File::open(path).map_err(|e| Error::storage("open", path, e))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| storage(path, e))
}

/// A reader of `path` that hands its string columns over as `Utf8View`: a short value lies in
/// its 16-byte view, a long one is not copied into one contiguous buffer, and pass 1 checks a
/// view column straight from its views (`check/views.rs`). The outputs (pass 2) keep the file's
/// own types.
fn builder_with_string_views(path: &str) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let file = File::open(path).map_err(|e| Error::storage("open", path, e))?;
    let plain = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| storage(path, e))?;
    let fields: Vec<Field> = plain
        .schema()
        .fields()
        .iter()
        .map(|field| match field.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 => {
                field.as_ref().clone().with_data_type(DataType::Utf8View)
            }
            _ => field.as_ref().clone(),
        })
        .collect();
    let viewed = Schema::new_with_metadata(fields, plain.schema().metadata().clone());
    let options = ArrowReaderOptions::new().with_schema(Arc::new(viewed));
    let metadata = ArrowReaderMetadata::try_new(plain.metadata().clone(), options)
        .map_err(|e| storage(path, e))?;
    Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(
        file, metadata,
    ))
}

/// Column names, typed-temporal flags and each row group's row count, from the footer.
pub fn describe(path: &str) -> Result<(Vec<String>, Vec<bool>, Vec<usize>)> {
    let builder = builder(path)?;
    let (names, temporal) = crate::formats::arrow::describe_schema(builder.schema());
    let rows = (builder.metadata().row_groups().iter())
        .map(|group| usize::try_from(group.num_rows()).unwrap_or(0))
        .collect();
    Ok((names, temporal, rows))
}

/// A unit of work of a Parquet source: `rows` rows of row group `row_group` after its first
/// `skip`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowGroupPart {
    pub row_group: usize,
    pub skip: usize,
    pub rows: usize,
}

/// The fewest rows a row group is cut into parts of: four of pass 1's batches.
const PART_ROWS_MIN: usize = 4 * BATCH_ROWS;

/// The units of work of the file at `path`, whose row groups hold `group_rows` rows each, for
/// `workers` workers: a row group each when there are at least two a worker, else each row
/// group cut into even parts of rows, so that every worker has two. pyarrow and pandas write a
/// million rows to one row group, which one worker would read alone.
///
/// A part's reader skips the pages before it unread (a page without repetition levels says how
/// many rows it holds) but decompresses the whole page it starts in, which the part before it
/// read too: a part spans at least two of the row group's largest pages (polars writes 100K
/// rows of a float column to one page, which three parts would decompress three times).
pub fn parts(path: &str, group_rows: &[usize], workers: usize) -> Vec<RowGroupPart> {
    cut(group_rows, cuts(group_rows.len(), workers), |row_group| {
        // A page header that cannot be read is the reader's to report.
        largest_page_rows(path, row_group).unwrap_or(usize::MAX)
    })
}

/// The parts each of `groups` row groups is cut into at most, for `workers` workers: two units
/// a worker, or one a row group when there are that many already (or one worker).
fn cuts(groups: usize, workers: usize) -> usize {
    let wanted = 2 * workers.max(1);
    if workers <= 1 || groups == 0 || groups >= wanted {
        1
    } else {
        wanted.div_ceil(groups)
    }
}

/// Each row group of `group_rows` cut into at most `cuts` even parts, each of at least
/// `PART_ROWS_MIN` rows and two of its largest pages (`largest_page(row_group)`, asked only of a
/// row group that could be cut).
fn cut(
    group_rows: &[usize],
    cuts: usize,
    largest_page: impl Fn(usize) -> usize,
) -> Vec<RowGroupPart> {
    let mut parts = Vec::new();
    for (row_group, &rows) in group_rows.iter().enumerate() {
        let mut count = cuts.min(rows / PART_ROWS_MIN).max(1);
        if count > 1 {
            count = count
                .min(rows / largest_page(row_group).saturating_mul(2))
                .max(1);
        }
        let start = |part: usize| part * rows / count;
        parts.extend((0..count).map(|part| RowGroupPart {
            row_group,
            skip: start(part),
            rows: start(part + 1) - start(part),
        }));
    }
    parts
}

/// The most rows a data page of row group `row_group` holds, in any column, from the pages'
/// headers (their bodies are skipped). A page of repeated values counts its values.
fn largest_page_rows(path: &str, row_group: usize) -> Result<usize> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let file = File::open(path).map_err(|e| Error::storage("open", path, e))?;
    let reader = SerializedFileReader::new(file).map_err(|e| storage(path, e))?;
    let group = reader
        .get_row_group(row_group)
        .map_err(|e| storage(path, e))?;
    let mut most = 0;
    for column in 0..group.num_columns() {
        let mut pages = (group.get_column_page_reader(column)).map_err(|e| storage(path, e))?;
        while let Some(page) = pages.peek_next_page().map_err(|e| storage(path, e))? {
            if !page.is_dict {
                let rows = page.num_rows.or(page.num_levels).unwrap_or(usize::MAX);
                most = most.max(rows);
            }
            pages.skip_next_page().map_err(|e| storage(path, e))?;
        }
    }
    Ok(most)
}

/// Pass 1: the rows of one part of a row group, a batch at a time: `each(rows, first)` gets a
/// batch's rows as text per plan column, `first` being the part's row number of its first row;
/// `rows` is emptied before every batch.
pub fn parse_rows(
    path: &str,
    part: RowGroupPart,
    layout: &SourceLayout,
    reading: Reading<'_>,
    rows: &mut Rows,
    mut each: impl FnMut(&Rows, usize),
) -> Result<()> {
    rows.width = layout.field_of.len();
    let builder = builder_with_string_views(path)?;
    let mut wanted: Vec<usize> = layout.field_of.iter().flatten().copied().collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted.iter().copied());
    let reader = of_part(builder.with_projection(mask), part)
        .build()
        .map_err(|e| storage(path, e))?;
    let mut first = 0;
    for batch in reader {
        let batch = batch.map_err(|e| storage(path, e))?;
        let column_of = |field: usize| wanted.binary_search(&field).expect("projected above");
        rows.clear();
        crate::formats::arrow::append_batch(path, &batch, layout, reading, column_of, rows)?;
        each(rows, first);
        first += batch.num_rows();
    }
    Ok(())
}

/// `builder` reading only `part`, `BATCH_ROWS` rows at a time.
fn of_part(
    builder: ParquetRecordBatchReaderBuilder<File>,
    part: RowGroupPart,
) -> ParquetRecordBatchReaderBuilder<File> {
    let whole = builder.metadata().row_group(part.row_group).num_rows();
    let builder = builder
        .with_row_groups(vec![part.row_group])
        .with_batch_size(BATCH_ROWS);
    if usize::try_from(whole).ok() == Some(part.rows) {
        return builder;
    }
    let selection = vec![RowSelector::skip(part.skip), RowSelector::select(part.rows)];
    builder.with_row_selection(RowSelection::from(selection))
}

/// Pass 2: one row group's batches, for the outputs.
pub fn read_row_group(path: &str, row_group: usize) -> Result<Vec<RecordBatch>> {
    let reader = builder(path)?
        .with_row_groups(vec![row_group])
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| storage(path, e))?;
    reader.map(|b| b.map_err(|e| storage(path, e))).collect()
}

/// The Parquet valid and quarantine outputs; writers start with the first batch's schema.
pub struct ParquetSink {
    valid: Option<(String, Option<ArrowWriter<AtomicFile>>)>,
    quarantine: Option<(String, Option<ArrowWriter<AtomicFile>>)>,
    schema: Option<SchemaRef>,
}

fn writer(path: &str, schema: SchemaRef) -> Result<ArrowWriter<AtomicFile>> {
    let file = AtomicFile::create(path)?;
    ArrowWriter::try_new(file, schema, None).map_err(|e| Error::storage("write", path, e))
}

impl ParquetSink {
    pub fn new(valid: Option<&str>, quarantine: Option<&str>) -> Self {
        ParquetSink {
            valid: valid.map(|p| (p.to_owned(), None)),
            quarantine: quarantine.map(|p| (p.to_owned(), None)),
            schema: None,
        }
    }

    fn check_schema(&mut self, schema: &SchemaRef, source: &str) -> Result<()> {
        match &self.schema {
            None => self.schema = Some(schema.clone()),
            Some(first) if first.fields() != schema.fields() => {
                return Err(Error::data(
                    "mixed_schemas",
                    "sources have different Parquet schemas, so their rows cannot share one output file; validate them separately",
                    Position::in_source(source.to_owned()),
                ))
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// Route one batch: `quarantined[i]` holds the failed rule names of row `i`, when invalid.
    pub fn write(
        &mut self,
        batch: &RecordBatch,
        quarantined: &[Option<Vec<&str>>],
        first_row: u64,
        source: &str,
    ) -> Result<()> {
        self.check_schema(&batch.schema(), source)?;
        let keep: arrow_array::BooleanArray =
            quarantined.iter().map(|q| Some(q.is_none())).collect();
        if let Some((path, slot)) = &mut self.valid {
            let valid = arrow_select::filter::filter_record_batch(batch, &keep)
                .map_err(|e| Error::Internal(e.to_string()))?;
            if slot.is_none() {
                *slot = Some(writer(path, batch.schema())?);
            }
            let out = slot.as_mut().expect("created above");
            out.write(&valid)
                .map_err(|e| Error::storage("write", path.clone(), e))?;
        }
        if let Some((path, slot)) = &mut self.quarantine {
            let drop: arrow_array::BooleanArray =
                quarantined.iter().map(|q| Some(q.is_some())).collect();
            let bad = arrow_select::filter::filter_record_batch(batch, &drop)
                .map_err(|e| Error::Internal(e.to_string()))?;
            let mut errors = Vec::new();
            let mut rows = Vec::new();
            for (index, failed) in quarantined.iter().enumerate() {
                if let Some(names) = failed {
                    errors.push(serde_json::to_string(names).expect("names serialise"));
                    rows.push(first_row + index as u64 + 1);
                }
            }
            let schema = with_extra_columns(&bad.schema());
            let mut columns: Vec<ArrayRef> = bad.columns().to_vec();
            columns.push(Arc::new(StringArray::from(errors)));
            columns.push(Arc::new(UInt64Array::from(rows.clone())));
            columns.push(Arc::new(StringArray::from(vec![source; rows.len()])));
            let out_batch = RecordBatch::try_new(schema.clone(), columns)
                .map_err(|e| Error::Internal(e.to_string()))?;
            if slot.is_none() {
                *slot = Some(writer(path, schema)?);
            }
            let out = slot.as_mut().expect("created above");
            out.write(&out_batch)
                .map_err(|e| Error::storage("write", path.clone(), e))?;
        }
        Ok(())
    }

    /// Close both files (writing their footers), ready to publish.
    pub fn stage(self, empty_schema: Option<SchemaRef>) -> Result<Vec<Staged>> {
        let mut staged = Vec::new();
        for (path, slot, extra) in [(self.valid, false), (self.quarantine, true)]
            .into_iter()
            .filter_map(|(o, extra)| o.map(|(p, s)| (p, s, extra)))
        {
            let writer = match slot {
                Some(writer) => writer,
                None => {
                    // No rows reached this output: still write a valid, empty file.
                    let Some(schema) = self.schema.clone().or_else(|| empty_schema.clone()) else {
                        continue;
                    };
                    let schema = if extra {
                        with_extra_columns(&schema)
                    } else {
                        schema
                    };
                    writer(&path, schema)?
                }
            };
            let file = writer
                .into_inner()
                .map_err(|e| Error::storage("write", path.clone(), e))?;
            staged.push(file.stage()?);
        }
        Ok(staged)
    }
}

fn with_extra_columns(schema: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Arc<Field>> = schema.fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new(
        "_pyrustpipe_errors",
        DataType::Utf8,
        false,
    )));
    fields.push(Arc::new(Field::new(
        "_pyrustpipe_row",
        DataType::UInt64,
        false,
    )));
    fields.push(Arc::new(Field::new(
        "_pyrustpipe_source",
        DataType::Utf8,
        false,
    )));
    Arc::new(Schema::new(fields))
}

/// The schema of a source, for outputs of a run where no batch was read.
pub fn schema_of(path: &str) -> Result<SchemaRef> {
    Ok(builder(path)?.schema().clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, Int64Array, LargeStringArray, StringViewArray};

    proptest::proptest! {
        /// The parts cover every row group's rows once, in order; a file of at least two row
        /// groups a worker (or one worker) keeps a part a row group; a cut row group's parts
        /// are even and none is under `PART_ROWS_MIN` rows.
        #[test]
        fn parts_cover_the_row_groups_in_order(
            group_rows in proptest::collection::vec(
                proptest::prop_oneof![0usize..100, 0usize..300_000, proptest::strategy::Just(1 << 20)],
                0..6,
            ),
            page_rows in proptest::prop_oneof![1usize..200_000, proptest::strategy::Just(usize::MAX)],
            workers in 1usize..5,
        ) {
            let cuts = cuts(group_rows.len(), workers);
            if workers == 1 || group_rows.len() >= 2 * workers {
                proptest::prop_assert_eq!(cuts, 1);
            }
            let parts = cut(&group_rows, cuts, |_| page_rows);
            for (row_group, &rows) in group_rows.iter().enumerate() {
                let mine: Vec<&RowGroupPart> =
                    parts.iter().filter(|p| p.row_group == row_group).collect();
                proptest::prop_assert!(!mine.is_empty());
                let mut next = 0;
                for part in &mine {
                    proptest::prop_assert_eq!(part.skip, next);
                    next += part.rows;
                }
                proptest::prop_assert_eq!(next, rows);
                proptest::prop_assert!(mine.len() <= cuts);
                if mine.len() > 1 {
                    let sizes = mine.iter().map(|p| p.rows);
                    let (least, most) = (sizes.clone().min().unwrap(), sizes.max().unwrap());
                    proptest::prop_assert!(least >= PART_ROWS_MIN.max(page_rows.saturating_mul(2)));
                    proptest::prop_assert!(most - least <= 1);
                }
            }
            let order: Vec<(usize, usize)> = parts.iter().map(|p| (p.row_group, p.skip)).collect();
            proptest::prop_assert!(order.windows(2).all(|w| w[0] < w[1]));
        }
    }

    #[test]
    fn a_lone_row_group_is_cut_for_every_worker_in_parts_of_two_pages() {
        let rows = |group_rows: &[usize], cuts: usize, page: usize| {
            let parts = cut(group_rows, cuts, |_| page);
            parts.iter().map(|p| p.rows).collect::<Vec<_>>()
        };
        // A million rows of pyarrow's in pages of ~128K rows, for two workers.
        assert_eq!(rows(&[1_000_000], 4, 1 << 17), [333_333, 333_333, 333_334]);
        assert_eq!(rows(&[1_000_000], 4, 1000), [250_000; 4]);
        assert_eq!(rows(&[1_000_000], 1, 1000), [1_000_000]);
        // polars' 100K rows, a float column in one page: not cut.
        assert_eq!(rows(&[100_000], 4, 100_000), [100_000]);
        assert_eq!(rows(&[100_000, 30_000], 2, 1000), [50_000, 50_000, 30_000]);
        assert_eq!(rows(&[40_000], 4, 1000), [40_000]);
        assert_eq!(rows(&[1_000_000], 4, usize::MAX), [1_000_000]);
    }

    /// Each part of a row group reads its own rows: together, every row once, in order (the
    /// pages before a part skipped, the page it starts in decoded part way).
    #[test]
    fn the_parts_of_a_row_group_read_its_rows_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one_group.parquet");
        let rows = 3 * PART_ROWS_MIN + 77;
        let values: Vec<i64> = (0..rows as i64).collect();
        let batch = RecordBatch::try_from_iter([(
            "n",
            Arc::new(Int64Array::from(values.clone())) as ArrayRef,
        )])
        .unwrap();
        let properties = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(rows))
            .set_data_page_row_count_limit(1000)
            .set_write_batch_size(1000)
            .build();
        let file = File::create(&path).unwrap();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let path = path.to_str().unwrap();
        let (_, _, group_rows) = describe(path).unwrap();
        assert_eq!(group_rows, [rows]);
        assert_eq!(largest_page_rows(path, 0).unwrap(), 1000);
        let parts = parts(path, &group_rows, 2);
        assert_eq!(parts.len(), 3);
        let mut read = Vec::new();
        for part in parts {
            let batches = of_part(builder(path).unwrap(), part).build().unwrap();
            let before = read.len();
            for batch in batches {
                let batch = batch.unwrap();
                let column = batch.column(0).as_any().downcast_ref::<Int64Array>();
                read.extend(column.unwrap().values().iter().copied());
            }
            assert_eq!(read.len() - before, part.rows);
        }
        assert_eq!(read, values);
    }

    #[test]
    fn pass_one_reads_string_columns_as_views_and_keeps_the_other_types() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let path = path.to_str().unwrap();
        let long = "a value longer than twelve bytes";
        let batch = RecordBatch::try_from_iter([
            (
                "short",
                Arc::new(StringArray::from(vec![Some("KES"), None])) as ArrayRef,
            ),
            (
                "long",
                Arc::new(LargeStringArray::from(vec![long, ""])) as ArrayRef,
            ),
            ("n", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
        ])
        .unwrap();
        let writer = ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), None);
        let mut writer = writer.unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();

        let read: Vec<RecordBatch> = builder_with_string_views(path)
            .unwrap()
            .build()
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        let columns = read[0].columns();
        let types: Vec<&DataType> = columns.iter().map(|c| c.data_type()).collect();
        assert_eq!(
            types,
            [&DataType::Utf8View, &DataType::Utf8View, &DataType::Int64]
        );
        let short = columns[0]
            .as_any()
            .downcast_ref::<StringViewArray>()
            .unwrap();
        assert_eq!((short.value(0), short.is_null(1)), ("KES", true));
        let long_read = columns[1]
            .as_any()
            .downcast_ref::<StringViewArray>()
            .unwrap();
        assert_eq!((long_read.value(0), long_read.value(1)), (long, ""));
        // Pass 2 writes the outputs in the file's own types.
        let outputs = read_row_group(path, 0).unwrap();
        assert_eq!(outputs[0].schema(), batch.schema());
    }
}
