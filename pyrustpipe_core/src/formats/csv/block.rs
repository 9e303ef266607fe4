//! Parse one block of CSV records into `Rows` (pass 1) or record spans (pass 2).

use super::parser::{strict_issue, unescape, FieldKind, FieldSpan, Parser, RecordSpan, Step};
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
    /// Bytes of the block's longest complete record (terminator excluded): the merge holds it
    /// against `max_record_bytes`, so the limit holds for a file read in one piece too.
    pub longest_record: usize,
}

impl BlockParse {
    /// A unit of work without lines (Parquet) or with nothing in it.
    pub fn clean() -> BlockParse {
        BlockParse {
            end: BlockEnd::Clean,
            line_breaks: 0,
            blank_lines: 0,
            quote_garbage: 0,
            longest_record: 0,
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
    let mut longest = 0usize;
    loop {
        match parser.next_record(buf, pos, eof, &mut fields, &mut record) {
            Step::Record => {
                lines += u64::from(record.blank_lines_before);
                blank += u64::from(record.blank_lines_before);
                longest = longest.max(record.end - record.start);
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
                    longest_record: longest,
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
                    longest_record: longest,
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
        if parser.strict {
            if let Some((field, issue)) = strict_issue(buf, fields, record, quote) {
                rows.broken.push(Some(Broken::Csv {
                    code: issue.code(),
                    field,
                }));
                rows.texts
                    .extend(std::iter::repeat_n(TextRef::Absent, width));
                return;
            }
        }
        if fields.len() != layout.width {
            rows.broken.push(Some(Broken::FieldCount(fields.len())));
            rows.texts
                .extend(std::iter::repeat_n(TextRef::Absent, width));
            return;
        }
        rows.broken.push(None);
        // One `extend` over the layout: one capacity check per record, not one per cell.
        let arena = &mut rows.arena;
        rows.texts
            .extend(layout.field_of.iter().map(|field| match field {
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
                            let start = arena.len();
                            arena.extend_from_slice(&scratch);
                            TextRef::Arena(as_u32(start), as_u32(arena.len()))
                        }
                    }
                }
            }));
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

/// The first complete record of `buf` longer than `max` bytes: its start and its line offset
/// from the block's first line. Only called once a block's `longest_record` is over the limit.
pub fn first_longer_than(
    parser: &Parser,
    buf: &[u8],
    eof: bool,
    max: usize,
) -> Option<(usize, u64)> {
    let mut found = None;
    walk(parser, buf, eof, |record, _, line| {
        if found.is_none() && record.end - record.start > max {
            found = Some((record.start, line));
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::csv::parser::Dialect;
    use crate::plan::Plan;

    fn layout(names: &[&str]) -> (Plan, SourceLayout) {
        crate::plan::str_columns("t.csv", names)
    }

    /// A row's outcome: `None` when it parsed, or its code and field (or field count).
    type Outcome = Option<(&'static str, usize)>;

    /// Per row: `None` when it parsed, or its strict code and field.
    fn strict_rows(input: &[u8], strict: bool) -> Vec<Outcome> {
        let (_, layout) = layout(&["a", "b"]);
        let parser = Parser::new(Dialect::default()).with_strict(strict);
        let mut rows = Rows::default();
        parse_rows(&parser, &layout, input, true, &mut rows);
        rows.broken
            .iter()
            .map(|b| match b {
                None => None,
                Some(Broken::Csv { code, field }) => Some((*code, *field)),
                Some(Broken::FieldCount(n)) => Some(("field_count", *n)),
                Some(other) => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn strict_mode_names_the_first_offending_field() {
        let bare = Some(("csv:bare_quote", 0));
        let after = Some(("csv:text_after_quote", 1));
        // (input, rows in strict mode)
        let cases: &[(&[u8], &[Outcome])] = &[
            (b"1,2\n", &[None]),
            (b"\"1\",\"2\"\r\n", &[None]),
            (b"\"a\"\"b\",\"\"\n", &[None]),
            (b"\"a\nb\",c\n", &[None]),
            (b",\n", &[None]),
            (b"5\"inch,x\n", &[bare]),
            (b"x,\"ab\"cd\n", &[after]),
            (b"x,\"a\"\"b\"c\n", &[after]),
            (b"5\"in,\"ab\"cd\n", &[bare]),
            (
                b"ok,1\n\"a\"b,2\n3,4\n",
                &[None, Some(("csv:text_after_quote", 0)), None],
            ),
            // Ragged and strict: the strict reason wins.
            (b"5\"inch,x,y\n", &[bare]),
            (b"a,b,c\n", &[Some(("field_count", 3))]),
        ];
        for (input, expected) in cases {
            let got = strict_rows(input, true);
            assert_eq!(&got, expected, "{:?}", String::from_utf8_lossy(input));
            let lenient = strict_rows(input, false);
            let ragged = lenient
                .iter()
                .flatten()
                .all(|(code, _)| *code == "field_count");
            assert!(ragged, "{input:?}");
        }
    }

    #[test]
    fn the_longest_record_is_measured_without_its_terminator() {
        let parser = Parser::new(Dialect::default());
        // (input, longest, first record longer than 3: (start, line offset))
        type Case<'a> = (&'a [u8], usize, Option<(usize, u64)>);
        let cases: &[Case] = &[
            (b"a,b\n1,2\n", 3, None),
            (b"a,b\r\n\r\nxx,yy\r\n1\r\n", 5, Some((7, 2))),
            (b"\"a\nbc\",d\nlong,er\n", 8, Some((0, 0))),
            (b"1\n22\n4444\n55555", 5, Some((5, 2))),
            (b"", 0, None),
        ];
        for (input, longest, first) in cases {
            let mut records = Vec::new();
            let parse = parse_records(&parser, input, true, &mut records);
            assert_eq!(parse.longest_record, *longest, "{input:?}");
            assert_eq!(
                first_longer_than(&parser, input, true, 3),
                *first,
                "{input:?}"
            );
        }
    }

    #[test]
    fn an_incomplete_last_record_is_not_measured() {
        let parser = Parser::new(Dialect::default());
        let mut records = Vec::new();
        let parse = parse_records(&parser, b"1,2\n\"long quoted\nfield", false, &mut records);
        assert_eq!(parse.end, BlockEnd::Incomplete { record_start: 4 });
        assert_eq!(parse.longest_record, 3);
    }
}
