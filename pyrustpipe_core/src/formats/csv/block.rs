//! Parse one block of CSV records into `Rows` (pass 1) or record spans (pass 2).

use super::parser::{unescape, FieldKind, FieldSpan, Parser, RecordSpan, Step};
use crate::check::{as_u32, Broken, Rows, TextRef};
use crate::plan::SourceLayout;

/// How a block ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockEnd {
    Clean,
    /// The last record is incomplete from `record_start` on: the block was cut inside a quoted
    /// field, so the next block's records must be parsed again starting here.
    Incomplete {
        record_start: usize,
    },
    /// End of input inside a quoted field.
    Unterminated {
        record_start: usize,
        quote_at: usize,
        field_index: usize,
        line_offset: u64,
    },
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RecordBytes {
    pub start: u32,
    pub end: u32,
    pub next: u32,
}

#[derive(Debug)]
pub struct BlockParse {
    pub end: BlockEnd,
    /// Line breaks consumed up to the end of the last complete record (or the block).
    pub line_breaks: u64,
    pub blank_lines: u64,
    pub quote_garbage: u64,
}

impl BlockParse {
    /// A unit of work without lines (Parquet) or with nothing in it.
    pub fn clean() -> BlockParse {
        BlockParse {
            end: BlockEnd::Clean,
            line_breaks: 0,
            blank_lines: 0,
            quote_garbage: 0,
        }
    }
}

/// Walk the records of `buf`, calling `on_record` for each.
fn walk(
    parser: &Parser,
    buf: &[u8],
    eof: bool,
    mut on_record: impl FnMut(&RecordSpan, &[FieldSpan], u64),
) -> BlockParse {
    let mut fields = Vec::with_capacity(32);
    let mut record = RecordSpan::default();
    let mut pos = 0;
    let mut lines = 0u64;
    let mut blank = 0u64;
    let mut garbage = 0u64;
    loop {
        match parser.next_record(buf, pos, eof, &mut fields, &mut record) {
            Step::Record => {
                lines += u64::from(record.blank_lines_before);
                blank += u64::from(record.blank_lines_before);
                on_record(&record, &fields, lines);
                lines += u64::from(record.inner_line_breaks) + u64::from(record.next > record.end);
                garbage += u64::from(record.quote_garbage);
                pos = record.next;
            }
            Step::End { blank_lines, .. } => {
                return BlockParse {
                    end: BlockEnd::Clean,
                    line_breaks: lines + u64::from(blank_lines),
                    blank_lines: blank + u64::from(blank_lines),
                    quote_garbage: garbage,
                }
            }
            Step::Incomplete {
                record_start,
                quote_at,
                field_index,
                blank_lines_before,
            } => {
                lines += u64::from(blank_lines_before);
                blank += u64::from(blank_lines_before);
                let end = match (eof, quote_at) {
                    (true, Some(quote_at)) => BlockEnd::Unterminated {
                        record_start,
                        quote_at,
                        field_index,
                        line_offset: lines,
                    },
                    _ => BlockEnd::Incomplete { record_start },
                };
                return BlockParse {
                    end,
                    line_breaks: lines,
                    blank_lines: blank,
                    quote_garbage: garbage,
                };
            }
        }
    }
}

/// Pass 1: rows as text spans per plan column.
pub fn parse_rows(
    parser: &Parser,
    layout: &SourceLayout,
    buf: &[u8],
    eof: bool,
    rows: &mut Rows,
) -> BlockParse {
    let width = layout.field_of.len();
    rows.width = width;
    let quote = parser.dialect.quote;
    let mut scratch = Vec::new();
    walk(parser, buf, eof, |record, fields, line| {
        rows.lines.push(Some(line));
        if fields.len() != layout.width {
            rows.broken.push(Some(Broken::FieldCount(fields.len())));
            rows.texts
                .extend(std::iter::repeat_n(TextRef::Absent, width));
            return;
        }
        let _ = record;
        rows.broken.push(None);
        for field in &layout.field_of {
            let text = match field {
                None => TextRef::Absent,
                Some(index) => {
                    let span = fields[*index];
                    match span.kind {
                        FieldKind::Plain => TextRef::Buf(span.start, span.end),
                        FieldKind::Quoted => {
                            unescape(
                                &buf[span.start as usize..span.end as usize],
                                quote,
                                &mut scratch,
                            );
                            let start = rows.arena.len();
                            rows.arena.extend_from_slice(&scratch);
                            TextRef::Arena(as_u32(start), as_u32(rows.arena.len()))
                        }
                    }
                }
            };
            rows.texts.push(text);
        }
    })
}

/// Pass 2: only where each record's bytes are.
pub fn parse_records(
    parser: &Parser,
    buf: &[u8],
    eof: bool,
    records: &mut Vec<RecordBytes>,
) -> BlockParse {
    walk(parser, buf, eof, |record, _, _| {
        records.push(RecordBytes {
            start: as_u32(record.start),
            end: as_u32(record.end),
            next: as_u32(record.next),
        });
    })
}
