//! Pass 1's input side: the producers that cut each source into units of work, and the check
//! of one unit that the workers run.

use std::sync::Arc;

use super::keys::Grouped;
use super::merge::SamplesFull;
use super::pipeline::{Emit, Producer, Work};
use crate::check::{check_rows, BlockFindings, KeyEntry, Rows};
use crate::error::{Error, Position, Result};
use crate::formats::arrow::BatchStore;
use crate::formats::codec::ReadCounter;
use crate::formats::csv::block::{parse_rows, BlockParse};
use crate::formats::csv::parser::{Dialect, Parser};
use crate::formats::csv::reader::{BlockReader, Header};
use crate::formats::{Codec, Format};
use crate::plan::{Plan, SourceLayout};
use crate::storage::{SourceObject, Storage};

/// What the workers need to know about the source a block comes from.
pub struct SourceCtx {
    pub index: usize,
    pub path: String,
    pub format: Format,
    pub layout: Option<SourceLayout>,
    pub header: Option<Header>,
    pub bytes: u64,
    /// The field delimiter of a text source (a `.tsv` file's is a tab).
    pub delimiter: u8,
    /// For a compressed text source: the compressed bytes read so far (progress counts those).
    pub compressed_read: Option<crate::formats::codec::ReadCounter>,
    /// For Parquet: a local copy of the object (the file itself when it is local).
    pub local: Option<crate::storage::LocalCopy>,
    /// For an in-memory table: its batches, one per unit of work.
    pub batches: Option<BatchStore>,
    /// For a split run: the byte range read and the rows and lines before it.
    pub split: Option<super::split::Resolved>,
    /// For Parquet: its units of work, by unit number.
    pub parquet_parts: Vec<crate::formats::parquet::RowGroupPart>,
}

impl SourceCtx {
    /// The local file to read random-access formats from.
    pub fn data_path(&self) -> String {
        self.local
            .as_ref()
            .map_or_else(|| self.path.clone(), |l| l.path.display().to_string())
    }
}

pub(super) struct SourceProducer<'a> {
    pub(super) sources: &'a [SourceObject],
    pub(super) storage: &'a Storage,
    pub(super) plan: &'a Plan,
    pub(super) chunk_size: usize,
    pub(super) max_record_bytes: usize,
    pub(super) allow_empty: bool,
    pub(super) split: Option<super::split::Resolved>,
    /// The workers that share the units (a Parquet file's row groups are cut for them).
    pub(super) workers: usize,
}

impl<'a> SourceProducer<'a> {
    /// The producer for files and objects, in pass 1 and pass 2 alike.
    pub(super) fn new(
        sources: &'a [SourceObject],
        storage: &'a Storage,
        plan: &'a Plan,
        chunk_size: usize,
        workers: usize,
        options: &super::Options,
    ) -> Self {
        SourceProducer {
            sources,
            storage,
            plan,
            workers,
            chunk_size,
            max_record_bytes: options.max_record_bytes(),
            allow_empty: options.allow_empty,
            split: options.resolved_split,
        }
    }
}

/// The field delimiter of a text source: a `.tsv` file's is a tab unless the spec names one.
pub(super) fn text_delimiter(plan: &Plan, kind: crate::formats::SourceKind) -> u8 {
    if kind.tab_separated && plan.delimiter == b',' {
        b'\t'
    } else {
        plan.delimiter
    }
}

/// Marks the unit of work of a Parquet source without row groups.
const NO_ROW_GROUP: u64 = u64::MAX;

impl SourceProducer<'_> {
    /// One unit of work per row group, or per part of one (`formats::parquet::parts`). `false`
    /// when the merge stopped early.
    fn produce_parquet(
        &self,
        index: usize,
        path: &str,
        emit: &mut Emit<'_, SourceCtx>,
    ) -> Result<bool> {
        let source = &self.sources[index];
        let bytes = source.size;
        // Parquet needs random access: an S3 object is downloaded once and read locally.
        let local = self.storage.local_copy(source)?;
        let local_path = local.path.display().to_string();
        let (names, temporal, group_rows) = crate::formats::parquet::describe(&local_path)?;
        let parts = crate::formats::parquet::parts(&local_path, &group_rows, self.workers);
        let mut layout = self.plan.layout(path, names)?;
        for (column, field) in layout.field_of.iter().enumerate() {
            if let Some(field) = field {
                layout.iso_text[column] = temporal[*field];
            }
        }
        let ctx = Arc::new(SourceCtx {
            index,
            path: path.to_owned(),
            format: Format::Parquet,
            layout: Some(layout),
            header: None,
            bytes,
            delimiter: self.plan.delimiter,
            compressed_read: None,
            local: Some(local),
            batches: None,
            split: None,
            parquet_parts: parts,
        });
        let units = ctx.parquet_parts.len();
        if units == 0 {
            return Ok(emit(ctx, &mut Vec::new(), NO_ROW_GROUP, true));
        }
        for unit in 0..units {
            if !emit(ctx.clone(), &mut Vec::new(), unit as u64, unit + 1 == units) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Producer<SourceCtx> for SourceProducer<'_> {
    fn produce(&mut self, emit: &mut Emit<'_, SourceCtx>) -> Result<()> {
        for (index, source) in self.sources.iter().enumerate() {
            let path = &source.uri;
            let kind = crate::formats::detect(path);
            if kind.format == Format::Parquet {
                if !self.produce_parquet(index, path, emit)? {
                    return Ok(());
                }
                continue;
            }
            let format = kind.format;
            let bytes = source.size;
            let delimiter = text_delimiter(self.plan, kind);
            let parser = Parser::new(Dialect {
                delimiter,
                quote: self.plan.quote,
            });
            let counter = ReadCounter::default();
            let (mut stream, codec) =
                crate::formats::open_text(path, self.storage.open(source)?, &counter)?;
            if format == Format::Ndjson {
                stream = crate::formats::ndjson::open(stream)
                    .map_err(|e| crate::formats::read_error(path, e))?;
            }
            let mut reader = BlockReader::from_reader(path, stream, self.chunk_size)
                .with_max_record(self.max_record_bytes);
            let (header, layout) = match format {
                Format::Csv => {
                    let header = if self.plan.header {
                        reader.header(&parser)?
                    } else {
                        reader.no_header(self.plan.declared_names())?
                    };
                    let layout = match &header {
                        Some(h) => Some(self.plan.layout(path, h.names.clone())?),
                        None => None,
                    };
                    (header, layout)
                }
                // NDJSON rows name their fields: every schema column is looked up by name.
                _ => (None, (bytes > 0).then(|| self.plan.named_layout())),
            };
            if layout.is_none() && !self.allow_empty {
                return Err(Error::data(
                    "empty_input",
                    "the file is empty; pass allow_empty=True to accept empty sources",
                    Position::in_source(path.clone()),
                ));
            }
            let ctx = Arc::new(SourceCtx {
                index,
                path: path.clone(),
                format,
                layout,
                header,
                bytes,
                delimiter,
                compressed_read: (codec != Codec::None).then_some(counter),
                local: None,
                batches: None,
                split: self.split,
                parquet_parts: Vec::new(),
            });
            // A split reads its own byte range after the object's header.
            if let Some(split) = self.split {
                let range = self
                    .storage
                    .open_range(source, split.data_start, split.data_end)?;
                reader = BlockReader::from_reader(path, range, self.chunk_size)
                    .with_max_record(self.max_record_bytes)
                    .starting_at(split.data_start, split.first_line);
            }
            let mut sent = false;
            while let Some(block) = reader.next_block()? {
                sent = true;
                let mut buf = block.buf;
                if !emit(ctx.clone(), &mut buf, block.offset, block.eof) {
                    return Ok(());
                }
                reader.recycle(buf);
            }
            // Every source passes through the merge, even one without data rows.
            if !sent && !emit(ctx.clone(), &mut Vec::new(), bytes, true) {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Produces the units of an in-memory table: its batches, cut into slices.
pub(super) struct ArrowProducer<'a> {
    pub(super) source: crate::formats::arrow::ArrowSource,
    pub(super) plan: &'a Plan,
    /// Keep the batches after checking, for the outputs.
    pub(super) keep: bool,
    /// The worker threads the units are spread over.
    pub(super) workers: usize,
}

impl Producer<SourceCtx> for ArrowProducer<'_> {
    fn produce(&mut self, emit: &mut Emit<'_, SourceCtx>) -> Result<()> {
        let name = self.source.name.clone();
        let (names, temporal) =
            crate::formats::arrow::describe_schema(&self.source.reader.schema());
        let mut layout = self.plan.layout(&name, names)?;
        for (column, field) in layout.field_of.iter().enumerate() {
            if let Some(field) = field {
                layout.iso_text[column] = temporal[*field];
            }
        }
        let ctx = Arc::new(SourceCtx {
            index: 0,
            path: name.clone(),
            format: Format::Arrow,
            layout: Some(layout),
            header: None,
            bytes: 0,
            delimiter: self.plan.delimiter,
            compressed_read: None,
            local: None,
            batches: Some(BatchStore::new(self.source.reader.schema(), self.keep)),
            split: None,
            parquet_parts: Vec::new(),
        });
        let store = ctx.batches.as_ref().expect("set above");
        let mut sent = false;
        for batch in self.source.reader.by_ref() {
            let batch = batch.map_err(|e| {
                Error::data(
                    "arrow_stream",
                    format!("cannot read the next batch of the table: {e}"),
                    Position::in_source(name.clone()),
                )
            })?;
            for unit in crate::formats::arrow::units(&batch, self.workers) {
                sent = true;
                let index = store.push(unit);
                if !emit(ctx.clone(), &mut Vec::new(), index, true) {
                    return Ok(());
                }
            }
        }
        // The source passes through the merge even without rows.
        if !sent {
            emit(ctx.clone(), &mut Vec::new(), NO_ROW_GROUP, true);
        }
        Ok(())
    }
}

impl Work<SourceCtx> {
    /// How far into its source this unit reaches, in bytes: a text block's end; a Parquet file
    /// counts once, at its last row group (an in-memory table has no byte size).
    pub(super) fn reached(&self) -> u64 {
        match self.source.format {
            Format::Csv | Format::Ndjson => match &self.source.compressed_read {
                // Decoded offsets run past the compressed size: count what was read.
                Some(counter) => counter.get().min(self.source.bytes),
                None => self.offset + self.buf.len() as u64,
            },
            Format::Parquet if self.eof => self.source.bytes,
            Format::Parquet | Format::Arrow => 0,
        }
    }
}

/// Pass-1 result of one block.
pub struct Checked {
    pub(super) parse: BlockParse,
    pub(super) findings: BlockFindings,
    /// Per unique key, the block's occurrences grouped by partition (`findings.keys` moved
    /// here, grouped in the worker so the run's resolution need not).
    pub(super) keys: Vec<Grouped>,
    pub(super) error: Option<Error>,
}

pub(super) fn check_block(
    plan: &Plan,
    (sample_size, samples_full): (usize, &SamplesFull),
    ctx: &SourceCtx,
    buf: &[u8],
    unit: u64,
    eof: bool,
) -> Checked {
    let mut findings = BlockFindings::new(plan);
    findings.sampled = samples_full.sampled();
    let Some(layout) = &ctx.layout else {
        return Checked {
            parse: BlockParse::clean(),
            findings,
            keys: Vec::new(),
            error: None,
        };
    };
    let parser = Parser::new(Dialect {
        delimiter: ctx.delimiter,
        quote: plan.quote,
    })
    .with_strict(plan.csv_strict);
    // Each worker reuses its row buffers: fresh ones per block cost page faults.
    thread_local! {
        static ROWS: std::cell::RefCell<Rows> = std::cell::RefCell::new(Rows::default());
        /// The key occurrences in row order, before grouping (`Grouped` keeps its own copy).
        static KEYS: std::cell::RefCell<Vec<Vec<KeyEntry>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    KEYS.with(|cell| {
        let mut spare = cell.borrow_mut();
        spare.resize_with(plan.unique_keys.len(), Vec::new);
        std::mem::swap(&mut findings.keys, &mut spare);
    });
    // Only typed blocks (Parquet, Arrow) read these.
    let typed = matches!(ctx.format, Format::Parquet | Format::Arrow);
    let dtypes = if typed { plan.dtypes() } else { Vec::new() };
    let reading = crate::formats::arrow::Reading {
        dtypes: &dtypes,
        typed: true,
    };
    let checked = ROWS.with(|cell| {
        let mut rows = cell.borrow_mut();
        rows.clear();
        let parse = match ctx.format {
            Format::Ndjson => crate::formats::ndjson::parse_rows(
                plan,
                buf,
                &mut rows,
                &mut findings.unknown_columns,
            ),
            Format::Parquet | Format::Arrow => {
                // A typed unit is checked a slice at a time as it is read.
                let check = |rows: &Rows, first: usize| {
                    check_rows(plan, layout, buf, (rows, first), sample_size, &mut findings);
                };
                let read = match ctx.format {
                    Format::Parquet if unit != NO_ROW_GROUP => crate::formats::parquet::parse_rows(
                        &ctx.data_path(),
                        ctx.parquet_parts[usize::try_from(unit).unwrap_or(usize::MAX)],
                        layout,
                        reading,
                        &mut rows,
                        check,
                    ),
                    Format::Arrow => match ctx.batches.as_ref().and_then(|store| store.get(unit)) {
                        Some(batch) => crate::formats::arrow::parse_slices(
                            &ctx.path, &batch, layout, reading, &mut rows, check,
                        ),
                        None => Ok(()),
                    },
                    _ => Ok(()),
                };
                if let Err(error) = read {
                    return Checked {
                        parse: BlockParse::clean(),
                        findings,
                        keys: Vec::new(),
                        error: Some(error),
                    };
                }
                BlockParse::clean()
            }
            Format::Csv => parse_rows(&parser, layout, buf, eof, &mut rows),
        };
        if !typed {
            check_rows(plan, layout, buf, (&rows, 0), sample_size, &mut findings);
            if !plan.unique_keys.is_empty() || !plan.history_keys.is_empty() {
                findings.key_lines.extend(rows.key_lines());
            }
        }
        let keys = findings.keys.iter().map(|k| Grouped::new(k)).collect();
        KEYS.with(|cell| {
            findings.keys.iter_mut().for_each(Vec::clear);
            std::mem::swap(&mut findings.keys, &mut cell.borrow_mut());
        });
        Checked {
            parse,
            findings,
            keys,
            error: None,
        }
    });
    // The arrays read in place are the caller's table: an idle worker must not keep them.
    ROWS.with(|cell| cell.borrow_mut().in_place.clear());
    checked
}
