//! Parse one block of CSV records into `Rows` (pass 1) or record spans (pass 2).

use super::parser::{
    strict_issue, unescape_onto, FieldSpan, Parser, RecordSpan, RunRecord, RunSink, Step,
};
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

/// Where the records [`walk`] finds go.
trait RecordSink {
    /// A record and its fields; `line` is its first line's offset from the block's first line.
    fn record(&mut self, record: &RecordSpan, fields: &[FieldSpan], line: u64);

    /// Take the simple records from `pos` on (see [`Parser::plain_run`]); the first is on line
    /// `line`. A sink that needs only what [`RecordSink::record`] is given takes none.
    fn plain_run(&mut self, _parser: &Parser, _buf: &[u8], pos: usize, _line: u64) -> PlainRun {
        PlainRun {
            next: pos,
            lines: 0,
            longest: 0,
        }
    }
}

/// What a plain run took: the records up to `next`, over `lines` lines, the longest `longest`
/// bytes.
struct PlainRun {
    next: usize,
    lines: u64,
    longest: usize,
}

impl PlainRun {
    /// One more record taken.
    fn take(&mut self, record: &RunRecord) {
        self.lines += 1 + u64::from(record.inner_breaks);
        self.longest = self.longest.max((record.end - record.start) as usize);
    }
}

/// Walk the records of `buf` into `sink`.
fn walk(parser: &Parser, buf: &[u8], eof: bool, sink: &mut impl RecordSink) -> BlockParse {
    let mut fields = Vec::with_capacity(32);
    let mut record = RecordSpan::default();
    let mut pos = 0;
    let mut lines = 0u64;
    let mut blank = 0u64;
    let mut garbage = 0u64;
    let mut longest = 0usize;
    loop {
        let run = sink.plain_run(parser, buf, pos, lines);
        pos = run.next;
        lines += run.lines;
        longest = longest.max(run.longest);
        match parser.next_record(buf, pos, eof, &mut fields, &mut record) {
            Step::Record => {
                lines += u64::from(record.blank_lines_before);
                blank += u64::from(record.blank_lines_before);
                longest = longest.max(record.end - record.start);
                sink.record(&record, &fields, lines);
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

/// Pass 1's sink: each record's cells as text spans per plan column.
struct RowsSink<'a> {
    layout: &'a SourceLayout,
    /// Plan column `i` is field `i` of the source, for every field: a plain record's spans are
    /// its cells as they come.
    identity: bool,
    strict: bool,
    quote: u8,
    buf: &'a [u8],
    rows: &'a mut Rows,
    /// A plain run's record's cells, for a layout that is not the identity.
    cells: Vec<TextRef>,
}

impl RowsSink<'_> {
    /// A record of `fields` fields could not be split as the header says: its row is broken.
    fn push_broken(&mut self, broken: Broken) {
        self.rows.break_last(broken);
        self.rows.texts.extend(std::iter::repeat_n(
            TextRef::Absent,
            self.layout.field_of.len(),
        ));
    }

    /// A plain run's records into `rows`, cells as they come for the `IDENTITY` layout.
    fn take_run<const IDENTITY: bool>(
        &mut self,
        parser: &Parser,
        buf: &[u8],
        pos: usize,
        line: u64,
    ) -> PlainRun {
        // The texts and the arena out of `rows` for the run, vectors of their own: pushed
        // through `rows`, the texts' length was stored and reloaded for every field.
        let texts = std::mem::take(&mut self.rows.texts);
        let arena = std::mem::take(&mut self.rows.arena);
        let kept = texts.len();
        self.cells.clear();
        let mut cells = RunCells::<IDENTITY> {
            texts,
            arena,
            cells: &mut self.cells,
            buf,
            quote: self.quote,
            taken: Taken {
                layout: self.layout,
                rows: &mut *self.rows,
                kept,
                line,
                run: PlainRun {
                    next: pos,
                    lines: 0,
                    longest: 0,
                },
            },
        };
        let next = parser.plain_run(buf, pos, &mut cells);
        let RunCells {
            mut texts,
            arena,
            taken,
            ..
        } = cells;
        texts.truncate(taken.kept);
        let run = taken.run;
        self.rows.texts = texts;
        self.rows.arena = arena;
        PlainRun { next, ..run }
    }
}

impl RecordSink for RowsSink<'_> {
    fn record(&mut self, record: &RecordSpan, fields: &[FieldSpan], line: u64) {
        self.rows.push_line(line);
        if self.strict {
            if let Some((field, issue)) = strict_issue(self.buf, fields, record, self.quote) {
                let code = issue.code();
                return self.push_broken(Broken::Csv { code, field });
            }
        }
        if fields.len() != self.layout.width {
            return self.push_broken(Broken::FieldCount(fields.len()));
        }
        // One `extend` over the layout: one capacity check per record, not one per cell.
        let (buf, quote) = (self.buf, self.quote);
        let arena = &mut self.rows.arena;
        self.rows
            .texts
            .extend(self.layout.field_of.iter().map(|field| match field {
                None => TextRef::Absent,
                Some(index) => text_of(fields[*index], buf, quote, arena),
            }));
    }

    fn plain_run(&mut self, parser: &Parser, buf: &[u8], pos: usize, line: u64) -> PlainRun {
        match self.identity {
            true => self.take_run::<true>(parser, buf, pos, line),
            false => self.take_run::<false>(parser, buf, pos, line),
        }
    }
}

/// A plain run's cells, going to `texts` (the run's, out of `rows`): as they come for the
/// `IDENTITY` layout, through `cells` and the layout for another.
struct RunCells<'a, const IDENTITY: bool> {
    texts: Vec<TextRef>,
    arena: Vec<u8>,
    cells: &'a mut Vec<TextRef>,
    buf: &'a [u8],
    quote: u8,
    taken: Taken<'a>,
}

impl<const IDENTITY: bool> RunSink for RunCells<'_, IDENTITY> {
    #[inline(always)]
    fn field(&mut self, field: FieldSpan, record: Option<RunRecord>) {
        let text = text_of(field, self.buf, self.quote, &mut self.arena);
        if IDENTITY {
            self.texts.push(text);
            if let Some(record) = record {
                let fields = self.texts.len() - self.taken.kept;
                self.taken.record(&mut self.texts, &record, fields, &[]);
            }
        } else {
            self.cells.push(text);
            if let Some(record) = record {
                self.taken
                    .record(&mut self.texts, &record, self.cells.len(), self.cells);
                self.cells.clear();
            }
        }
    }
}

/// A field's text: where it lies in the block (a plain field, or a quoted one without `""`: no
/// copy), or its unescaped value copied to `arena`.
#[inline(always)]
fn text_of(field: FieldSpan, buf: &[u8], quote: u8, arena: &mut Vec<u8>) -> TextRef {
    match field.verbatim() {
        Some((start, end)) => TextRef::Buf(start, end),
        None => unescaped(&buf[field.start as usize..field.end as usize], quote, arena),
    }
}

/// The quoted field `raw`'s value appended to `arena`, its `""` unescaped (most fields need no
/// copy).
#[cold]
fn unescaped(raw: &[u8], quote: u8, arena: &mut Vec<u8>) -> TextRef {
    let start = arena.len();
    unescape_onto(raw, quote, arena);
    TextRef::Arena(as_u32(start), as_u32(arena.len()))
}

/// The rows a plain run has taken so far.
struct Taken<'a> {
    layout: &'a SourceLayout,
    rows: &'a mut Rows,
    /// The cells of the records taken whole; a record the run leaves unfinished is dropped.
    kept: usize,
    /// The run's first line.
    line: u64,
    run: PlainRun,
}

impl Taken<'_> {
    /// `record`, of `fields` fields, taken: its line, its breakage, and (for a layout that is
    /// not the identity) its cells from `cells`, in `texts` (the run's, out of `rows`).
    fn record(
        &mut self,
        texts: &mut Vec<TextRef>,
        record: &RunRecord,
        fields: usize,
        cells: &[TextRef],
    ) {
        let rows = &mut *self.rows;
        rows.push_line(self.line + self.run.lines);
        self.run.take(record);
        if fields != self.layout.width {
            texts.truncate(self.kept);
            rows.break_last(Broken::FieldCount(fields));
            texts.extend(std::iter::repeat_n(
                TextRef::Absent,
                self.layout.field_of.len(),
            ));
        } else if !cells.is_empty() {
            texts.extend(self.layout.field_of.iter().map(|field| match field {
                None => TextRef::Absent,
                Some(index) => cells[*index],
            }));
        }
        self.kept = texts.len();
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
    rows.width = layout.field_of.len();
    let identity = layout.field_of.len() == layout.width
        && layout
            .field_of
            .iter()
            .enumerate()
            .all(|(column, field)| *field == Some(column));
    let mut sink = RowsSink {
        layout,
        identity,
        strict: parser.strict,
        quote: parser.dialect.quote,
        buf,
        rows,
        cells: Vec::new(),
    };
    walk(parser, buf, eof, &mut sink)
}

/// Pass 2's sink: where each record's bytes are.
struct RecordsSink<'a>(&'a mut Vec<RecordBytes>);

impl RecordSink for RecordsSink<'_> {
    fn record(&mut self, record: &RecordSpan, _: &[FieldSpan], _: u64) {
        self.0.push(RecordBytes {
            start: as_u32(record.start),
            end: as_u32(record.end),
            next: as_u32(record.next),
        });
    }

    fn plain_run(&mut self, parser: &Parser, buf: &[u8], pos: usize, _: u64) -> PlainRun {
        let mut bounds = RecordBounds {
            records: &mut *self.0,
            buf,
            run: PlainRun {
                next: pos,
                lines: 0,
                longest: 0,
            },
        };
        let next = parser.plain_run(buf, pos, &mut bounds);
        PlainRun { next, ..bounds.run }
    }
}

/// A plain run's records' bytes.
struct RecordBounds<'a> {
    records: &'a mut Vec<RecordBytes>,
    buf: &'a [u8],
    run: PlainRun,
}

impl RunSink for RecordBounds<'_> {
    #[inline(always)]
    fn field(&mut self, _: FieldSpan, record: Option<RunRecord>) {
        let Some(record) = record else { return };
        let end = record.end as usize;
        let crlf = self.buf[end] == b'\r' && self.buf.get(end + 1) == Some(&b'\n');
        self.records.push(RecordBytes {
            start: record.start,
            end: record.end,
            next: record.end + 1 + u32::from(crlf),
        });
        self.run.take(&record);
    }
}

/// Pass 2: only where each record's bytes are.
pub fn parse_records(
    parser: &Parser,
    buf: &[u8],
    eof: bool,
    records: &mut Vec<RecordBytes>,
) -> BlockParse {
    walk(parser, buf, eof, &mut RecordsSink(records))
}

/// Finds the first record longer than `max` bytes; takes no plain run, so it sees every record.
struct LongerThan {
    max: usize,
    found: Option<(usize, u64)>,
}

impl RecordSink for LongerThan {
    fn record(&mut self, record: &RecordSpan, _: &[FieldSpan], line: u64) {
        if self.found.is_none() && record.end - record.start > self.max {
            self.found = Some((record.start, line));
        }
    }
}

/// The first complete record of `buf` longer than `max` bytes: its start and its line offset
/// from the block's first line. Only called once a block's `longest_record` is over the limit.
pub fn first_longer_than(
    parser: &Parser,
    buf: &[u8],
    eof: bool,
    max: usize,
) -> Option<(usize, u64)> {
    let mut sink = LongerThan { max, found: None };
    walk(parser, buf, eof, &mut sink);
    sink.found
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
        (0..rows.len())
            .map(|row| match rows.broken(row) {
                None => None,
                Some(Broken::Csv { code, field }) => Some((*code, *field)),
                Some(Broken::FieldCount(n)) => Some(("field_count", *n)),
                Some(other) => panic!("{other:?}"),
            })
            .collect()
    }

    /// Everything pass 1 and pass 2 make of a block: each row's texts, line and breakage, the
    /// block's counts, and the record spans.
    fn everything(parser: &Parser, layout: &SourceLayout, input: &[u8], eof: bool) -> String {
        let mut rows = Rows::default();
        let parse = parse_rows(parser, layout, input, eof, &mut rows);
        let texts: Vec<Option<&[u8]>> = rows
            .texts
            .iter()
            .map(|text| match *text {
                TextRef::Buf(s, e) => Some(&input[s as usize..e as usize]),
                TextRef::Arena(s, e) => Some(&rows.arena[s as usize..e as usize]),
                _ => None,
            })
            .collect();
        let mut records = Vec::new();
        let pass2 = parse_records(parser, input, eof, &mut records);
        let spans: Vec<_> = records.iter().map(|r| (r.start, r.end, r.next)).collect();
        format!(
            "{texts:?}\n{:?}\n{:?}\n{parse:?}\n{pass2:?}\n{spans:?}",
            (0..rows.len()).map(|r| rows.line(r)).collect::<Vec<_>>(),
            (0..rows.len()).map(|r| rows.broken(r)).collect::<Vec<_>>()
        )
    }

    proptest::proptest! {
        /// Plain runs change nothing: a block read with them gives the rows, lines, broken
        /// records, counts and record spans of the general walk alone, for any bytes, any cut,
        /// strict or not, with the source's fields in the plan's order or not.
        #[test]
        fn plain_runs_read_every_block_as_the_general_walk_does(
            input in proptest::collection::vec(
                proptest::sample::select(b"aaaabbbbccc,,,,,;;\n\n\n\r\"".to_vec()), 0..400),
            eof in proptest::bool::ANY,
            strict in proptest::bool::ANY,
            semicolon in proptest::bool::ANY,
            reordered in proptest::bool::ANY,
        ) {
            let dialect = Dialect { delimiter: if semicolon { b';' } else { b',' }, quote: b'"' };
            let (_, mut layout) = layout(&["a", "b", "c"]);
            if reordered {
                layout.field_of = vec![Some(2), None, Some(0)];
            }
            let fast = Parser::new(dialect).with_strict(strict);
            let general = Parser::new(dialect).general_only().with_strict(strict);
            proptest::prop_assert_eq!(
                everything(&fast, &layout, &input, eof),
                everything(&general, &layout, &input, eof)
            );
        }
    }

    /// Records of CSV's usual field shapes (plain, quoted with delimiters and line breaks
    /// inside, `""`, bare quotes, text after a closing quote (a quote too), long ones across
    /// the plain run's 64-byte chunks), any terminator, cut anywhere.
    fn shaped_records() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let fields: [&[u8]; 15] = [
            b"ab",
            b"",
            b"\"a,b\"",
            b"\"x\ny\"",
            b"\"\"",
            b"\"q\"\"q\"",
            b"\"a\r\nb\"",
            b"5\"in",
            b"\"ab\"cd",
            b"\"a\"b\"",
            // Three times: chunks without a quote after quoted fields.
            b"a long plain field of some forty bytes",
            b"a long plain field of some forty bytes",
            b"a long plain field of some forty bytes",
            b"\"a long quoted field, with a comma\nand an LF in it\"",
            b"\"\n\"",
        ];
        let terminators: [&[u8]; 3] = [b"\n", b"\r\n", b"\r"];
        let record = (
            proptest::collection::vec(proptest::sample::select(fields.to_vec()), 1..5),
            proptest::sample::select(terminators.to_vec()),
        );
        let records = proptest::collection::vec(record, 1..24);
        (records, any::<usize>(), 0..64usize).prop_map(|(records, cut, shift)| {
            // A first field of `shift` bytes moves the others across the chunks' edges.
            let mut input = vec![b'x'; shift];
            input.push(b',');
            for (fields, terminator) in records {
                input.extend_from_slice(&fields.join(&b','));
                input.extend_from_slice(terminator);
            }
            input.truncate(cut % (input.len() + 1));
            input
        })
    }

    proptest::proptest! {
        /// Plain runs read records of the usual shapes (most of them taken by the run, quoted
        /// or not) as the general walk does: rows, lines, counts and spans.
        #[test]
        fn plain_runs_read_quoted_records_as_the_general_walk_does(
            input in shaped_records(),
            eof in proptest::bool::ANY,
            strict in proptest::bool::ANY,
            reordered in proptest::bool::ANY,
        ) {
            let (_, mut layout) = layout(&["a", "b", "c"]);
            if reordered {
                layout.field_of = vec![Some(2), None, Some(0)];
            }
            let fast = Parser::new(Dialect::default()).with_strict(strict);
            let general = Parser::new(Dialect::default()).general_only().with_strict(strict);
            proptest::prop_assert_eq!(
                everything(&fast, &layout, &input, eof),
                everything(&general, &layout, &input, eof)
            );
        }
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
