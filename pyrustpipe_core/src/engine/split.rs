//! One huge object, many workers: a split's byte range resolved to the records that start in it,
//! their whole-object row and line numbers, and the unique keys each split hands the gate.
//!
//! A split owns every record whose first byte is in `[start, end)`. The quote state at an
//! arbitrary offset of a CSV object is unknowable from nearby bytes alone (a quoted field may
//! hold line breaks that look exactly like record ends), so a split walks the records from the
//! first data byte with the engine's own parser up to its end: its boundaries are the same
//! record boundaries a whole-object run sees, and the walk counts the rows and lines before the
//! split on the way (numbers are global without a renumbering step). The walk only cuts records
//! (no field is checked), so it runs at parser speed over the prefix.

use std::collections::hash_map::Entry;
use std::io::Write;

use serde::{Deserialize, Serialize};

use super::merge::{Failures, Merger};
use crate::error::{Error, Position, Result};
use crate::formats::csv::block::{parse_records, BlockEnd, RecordBytes};
use crate::formats::csv::parser::{Dialect, Parser};
use crate::formats::csv::reader::{line_breaks, BlockReader};
use crate::formats::{Codec, Format};
use crate::plan::Plan;
use crate::rules::unique::{FirstSeen, HashTable};
use crate::spec::{Keep, Severity};
use crate::storage::{SourceObject, Storage};

/// A split as the caller asks for it: a byte range of one object.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitOptions {
    pub start: u64,
    pub end: u64,
    /// Where the split writes its unique keys for the gate (a local path).
    #[serde(default)]
    pub keys_output: Option<String>,
}

/// A split resolved to record boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Resolved {
    /// Object offset of the split's first byte (a record boundary).
    pub data_start: u64,
    /// Object offset just past the split's last record.
    pub data_end: u64,
    /// Records of the object before the split.
    pub rows_before: u64,
    /// 1-based line of `data_start`.
    pub first_line: u64,
}

/// What the report says about a split run.
#[derive(Debug, Clone, Serialize)]
pub struct SplitSummary {
    pub start: u64,
    pub end: u64,
    #[serde(flatten)]
    pub resolved: Resolved,
    pub keys_output: Option<String>,
}

/// One planned split: a byte range of `uri`, `index` of `parts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedSplit {
    pub uri: String,
    pub start: u64,
    pub end: u64,
    pub index: usize,
    pub parts: usize,
}

/// Cut `object` into `parts` byte ranges of (nearly) equal size. Only its size is needed: each
/// split finds its own record boundaries when it runs.
pub fn plan(object: &SourceObject, parts: usize) -> Result<Vec<PlannedSplit>> {
    if parts == 0 {
        return Err(Error::option("parts", "parts must be at least 1"));
    }
    let kind = crate::formats::detect(&object.uri);
    if parts > 1 {
        if kind.codec != Codec::None {
            return Err(Error::data(
                "split_compressed",
                format!(
                    "a {} object cannot be split (its byte offsets are not record offsets); use parts=1",
                    kind.codec.name()
                ),
                Position::in_source(object.uri.clone()),
            ));
        }
        if !matches!(kind.format, Format::Csv | Format::Ndjson) {
            return Err(Error::option(
                "parts",
                format!(
                    "{} is {}: only CSV and NDJSON objects are split by bytes; use parts=1",
                    object.uri,
                    kind.format.name()
                ),
            ));
        }
    }
    let size = u128::from(object.size);
    let parts_wide = parts as u128;
    Ok((0..parts)
        .map(|index| {
            let at = |i: usize| u64::try_from(size * i as u128 / parts_wide).unwrap_or(u64::MAX);
            PlannedSplit {
                uri: object.uri.clone(),
                start: at(index),
                end: at(index + 1),
                index,
                parts,
            }
        })
        .collect())
}

/// Resolve `split` of `source` to record boundaries.
pub(super) fn resolve(
    split: &SplitOptions,
    source: &SourceObject,
    storage: &Storage,
    plan: &Plan,
    chunk_size: usize,
    max_record: usize,
) -> Result<Resolved> {
    let uri = &source.uri;
    if split.start > split.end {
        return Err(Error::option(
            "split",
            format!("start {} is after end {}", split.start, split.end),
        ));
    }
    let kind = crate::formats::detect(uri);
    if kind.codec != Codec::None {
        return Err(Error::data(
            "split_compressed",
            "a compressed object cannot be split (its byte offsets are not record offsets); validate it whole (parts=1)",
            Position::in_source(uri.clone()),
        ));
    }
    let size = source.size;
    match kind.format {
        Format::Csv => {
            let parser = Parser::new(Dialect {
                delimiter: super::produce::text_delimiter(plan, kind),
                quote: plan.quote,
            });
            let mut reader = BlockReader::from_reader(uri, storage.open(source)?, chunk_size)
                .with_max_record(max_record);
            let header = if plan.header {
                reader.header(&parser)?
            } else {
                reader.no_header(plan.declared_names())?
            };
            let Some(header) = header else {
                return Ok(Resolved {
                    data_start: size,
                    data_end: size,
                    rows_before: 0,
                    first_line: 1,
                });
            };
            let begin = reader.offset();
            let mut records =
                |buf: &[u8], eof: bool, out: &mut Vec<RecordBytes>| match parse_records(
                    &parser, buf, eof, out,
                )
                .end
                {
                    BlockEnd::Unterminated { record_start, .. } => Some(record_start),
                    _ => None,
                };
            let bounds = Bounds {
                begin,
                first_line: header.next_line,
                size,
                start: split.start,
                end: split.end,
            };
            walk(&mut reader, &bounds, max_record, &mut records)
        }
        Format::Ndjson => {
            let head_len = size.min(64 << 10);
            let mut head = Vec::new();
            std::io::Read::read_to_end(&mut storage.open_range(source, 0, head_len)?, &mut head)
                .map_err(|e| crate::formats::read_error(uri, e))?;
            let begin = if head.starts_with(b"\xEF\xBB\xBF") {
                3
            } else {
                0
            };
            if head[begin..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
                return Err(Error::data(
                    "split_json_array",
                    "a top-level JSON array cannot be split by bytes; validate it whole (parts=1) or write it as JSON lines",
                    Position::in_source(uri.clone()),
                ));
            }
            let begin = begin as u64;
            let stream = storage.open_range(source, begin, size)?;
            let mut reader = BlockReader::from_reader(uri, stream, chunk_size)
                .with_max_record(max_record)
                .starting_at(begin, 1);
            let mut records = |buf: &[u8], _eof: bool, out: &mut Vec<RecordBytes>| {
                crate::formats::ndjson::parse_records(buf, out);
                None
            };
            let bounds = Bounds {
                begin,
                first_line: 1,
                size,
                start: split.start,
                end: split.end,
            };
            walk(&mut reader, &bounds, max_record, &mut records)
        }
        other => Err(Error::option(
            "split",
            format!(
                "{uri} is {}: only CSV and NDJSON objects are split by bytes",
                other.name()
            ),
        )),
    }
}

/// Where the data of an object lies and which byte range a split asks for.
struct Bounds {
    /// Offset of the first data byte (after a header or BOM).
    begin: u64,
    /// Line of `begin`.
    first_line: u64,
    /// The object's size.
    size: u64,
    start: u64,
    end: u64,
}

/// Lists a buffer's complete records (the buffer ends the object when the flag is set) and
/// returns the start of an unterminated last one.
type RecordsOf<'a> = dyn FnMut(&[u8], bool, &mut Vec<RecordBytes>) -> Option<usize> + 'a;

/// Walk the records from `bounds.begin`: the boundary before the first record starting at or
/// after `start`, and the one before the first starting at or after `end` (the object's end when
/// none does). `records` lists a buffer's complete records and returns the start of an
/// unterminated last one (it starts a record too: the split owning it reports the error).
fn walk(
    reader: &mut BlockReader,
    bounds: &Bounds,
    max_record: usize,
    records: &mut RecordsOf<'_>,
) -> Result<Resolved> {
    let mut found: Option<(u64, u64, u64)> = None;
    // A range ending before the first data byte (in the header) owns no record.
    if bounds.end <= bounds.begin {
        return Ok(Resolved {
            data_start: bounds.begin,
            data_end: bounds.begin,
            rows_before: 0,
            first_line: bounds.first_line,
        });
    }
    if bounds.start <= bounds.begin {
        found = Some((bounds.begin, 0, bounds.first_line));
    }
    // A split reaching the object's end needs no walk past its start.
    if let Some((data_start, rows_before, first_line)) = found.filter(|_| bounds.end >= bounds.size)
    {
        return Ok(Resolved {
            data_start,
            data_end: bounds.size,
            rows_before,
            first_line,
        });
    }
    let mut buf: Vec<u8> = Vec::new();
    // Object offset of `buf[0]`: always a record boundary.
    let mut buf_at = bounds.begin;
    let mut rows = 0u64;
    // Line of `buf_at`.
    let mut line = bounds.first_line;
    let mut spans = Vec::new();
    while let Some(block) = reader.next_block()? {
        if buf.is_empty() {
            buf = block.buf;
            buf_at = block.offset;
        } else {
            buf.extend_from_slice(&block.buf);
        }
        spans.clear();
        let unterminated = records(&buf, block.eof, &mut spans);
        let starts = spans
            .iter()
            .map(|r| (r.start as usize, r.next as usize))
            .chain(unterminated.map(|start| (start, buf.len())));
        // Bytes of `buf` before the next record boundary.
        let mut boundary = 0usize;
        for (record_start, record_next) in starts {
            let at = buf_at + record_start as u64;
            if found.is_none() && at >= bounds.start {
                let line_here = line + line_breaks(&buf[..boundary]);
                found = Some((buf_at + boundary as u64, rows, line_here));
            }
            if at >= bounds.end {
                let (data_start, rows_before, first_line) = found.expect("start <= end");
                return Ok(Resolved {
                    data_start,
                    data_end: buf_at + boundary as u64,
                    rows_before,
                    first_line,
                });
            }
            rows += 1;
            boundary = record_next;
        }
        // The bytes after the last complete record start the next parse.
        line += line_breaks(&buf[..boundary]);
        buf.drain(..boundary);
        buf_at += boundary as u64;
        if block.eof {
            break;
        }
        if buf.len() > max_record.saturating_mul(2).saturating_add(64 << 20) {
            return Err(Error::data(
                "record_too_long",
                format!("a record is longer than {max_record} bytes, or a quote is never closed"),
                Position {
                    path: None,
                    line: Some(line),
                    byte: Some(buf_at),
                    column: None,
                },
            ));
        }
    }
    // No record starts at or after `end`: the split runs to the object's end; trailing blank
    // lines belong to the split holding the last record.
    let data_end = buf_at + buf.len() as u64;
    let (data_start, rows_before, first_line) =
        found.unwrap_or((data_end, rows, line + line_breaks(&buf)));
    Ok(Resolved {
        data_start,
        data_end,
        rows_before,
        first_line,
    })
}

/// The keys file's first bytes, with its format's version: 2 hashes keys of at most 12 bytes
/// by packing them (`rules::unique::key_hash`), where 1 hashed every key with xxh3, so the
/// gate must not merge a file of each.
const KEYS_MAGIC: &[u8] = b"PYRUSTPIPE-SPLIT-KEYS-2\n";
const KEYS_MAGIC_STEM: &[u8] = b"PYRUSTPIPE-SPLIT-KEYS-";

/// Write the split's unique keys for the gate: per key rule, each distinct key with its first
/// row and line (whole-object numbering) and whether it already repeated inside the split; then
/// the split's invalid rows, so the gate counts a row failing here and across splits once.
pub(super) fn write_keys(
    path: &str,
    plan: &Plan,
    merger: &Merger<'_>,
    failures: &Failures,
    resolved: &Resolved,
) -> Result<()> {
    if crate::storage::is_s3(path) {
        return Err(Error::option(
            "split.keys_output",
            "the split's keys file is written locally; give a local (or shared) path",
        ));
    }
    let file = std::fs::File::create(path).map_err(|e| Error::storage("create", path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut put = |bytes: &[u8]| out.write_all(bytes);
    let written = (|| -> std::io::Result<()> {
        put(KEYS_MAGIC)?;
        put(&(plan.ruleset_hash.len() as u32).to_le_bytes())?;
        put(plan.ruleset_hash.as_bytes())?;
        put(&(plan.unique_keys.len() as u32).to_le_bytes())?;
        for (key, table) in plan.unique_keys.iter().zip(merger.first_seen()) {
            let name = plan.rules[key.rule as usize].name.as_bytes();
            put(&(name.len() as u32).to_le_bytes())?;
            put(name)?;
            put(&[u8::from(key.keep == Keep::None)])?;
            put(&[u8::from(
                plan.rules[key.rule as usize].severity == Severity::Error,
            )])?;
            put(&(table.len() as u64).to_le_bytes())?;
            for (hash, seen) in table {
                put(&hash.to_le_bytes())?;
                // The run's 0-based row of a one-object run, as the object's 1-based row.
                put(&(seen.row() + 1 + resolved.rows_before).to_le_bytes())?;
                put(&seen.line().unwrap_or(u64::MAX).to_le_bytes())?;
                put(&[u8::from(seen.repeated())])?;
            }
        }
        let invalid: Vec<u64> = (0..failures.rows.len())
            .filter(|&i| {
                failures
                    .rules_of(i)
                    .iter()
                    .any(|&r| plan.rules[r as usize].severity == Severity::Error)
            })
            .map(|i| failures.rows[i] + 1 + resolved.rows_before)
            .collect();
        put(&(invalid.len() as u64).to_le_bytes())?;
        for row in invalid {
            put(&row.to_le_bytes())?;
        }
        Ok(())
    })();
    written
        .and_then(|()| out.flush())
        .map_err(|e| Error::storage("write", path, e))
}

/// A repeat that only the gate sees: a key whose rows lie in different splits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossSplitFailure {
    pub rule: String,
    /// 1-based row and line in the whole object.
    pub row: u64,
    pub line: Option<u64>,
    /// The split (0-based, in the order given) holding `row`.
    pub split: usize,
    /// The object's first row with the key, and its split.
    pub first_row: u64,
    pub first_split: usize,
    pub message: String,
}

/// A key rule in a keys file: name, `keep` none, error severity, entries.
type KeyRule = (String, bool, bool, Vec<(u128, u64, u64, bool)>);

struct KeyFile {
    ruleset_hash: String,
    rules: Vec<KeyRule>,
    /// The split's invalid rows (whole-object numbering), ascending.
    invalid: Vec<u64>,
}

fn read_keys(path: &str) -> Result<KeyFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::storage("read", path, e))?;
    let broken = || {
        Error::data(
            "split_keys",
            "not a pyrustpipe split keys file (or cut short)",
            Position::in_source(path.to_owned()),
        )
    };
    let mut at = 0usize;
    let mut take = |n: usize| -> Result<&[u8]> {
        let piece = bytes.get(at..at + n).ok_or_else(broken)?;
        at += n;
        Ok(piece)
    };
    let magic = take(KEYS_MAGIC.len())?;
    if magic != KEYS_MAGIC {
        if magic.starts_with(KEYS_MAGIC_STEM) {
            return Err(Error::data(
                "split_keys",
                "a split keys file of another pyrustpipe version: run every split and the gate \
                 with one version",
                Position::in_source(path.to_owned()),
            ));
        }
        return Err(broken());
    }
    let u32_at = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize;
    let u64_at = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| broken());
    let hash_len = u32_at(take(4)?);
    let ruleset_hash = text(take(hash_len)?)?;
    let rule_count = u32_at(take(4)?);
    let mut rules = Vec::with_capacity(rule_count);
    for _ in 0..rule_count {
        let name_len = u32_at(take(4)?);
        let name = text(take(name_len)?)?;
        let keep_none = take(1)?[0] == 1;
        let error = take(1)?[0] == 1;
        let count = usize::try_from(u64_at(take(8)?)).map_err(|_| broken())?;
        let mut entries = Vec::with_capacity(count.min(1 << 24));
        for _ in 0..count {
            let entry = take(33)?;
            entries.push((
                u128::from_le_bytes(entry[..16].try_into().expect("16 bytes")),
                u64_at(&entry[16..24]),
                u64_at(&entry[24..32]),
                entry[32] == 1,
            ));
        }
        rules.push((name, keep_none, error, entries));
    }
    let count = usize::try_from(u64_at(take(8)?)).map_err(|_| broken())?;
    let mut invalid = Vec::with_capacity(count.min(1 << 24));
    for _ in 0..count {
        invalid.push(u64_at(take(8)?));
    }
    Ok(KeyFile {
        ruleset_hash,
        rules,
        invalid,
    })
}

/// What the gate adds to the splits' reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrossSplit {
    /// The repeats across splits, in row order.
    pub failures: Vec<CrossSplitFailure>,
    /// Rows invalid only because of those repeats (valid in their own split's run).
    pub new_invalid_rows: u64,
}

/// The gate: merge the keys files of an object's splits (in split order) and list the repeats
/// across splits, in row order. Each split already counted the repeats inside itself; with
/// these added, every rule counts what a whole-object run counts.
pub fn merge_split_keys(paths: &[String]) -> Result<CrossSplit> {
    // The first file's ruleset hash and key rules: every split must have run the same rules.
    let mut first: Option<(String, Vec<String>)> = None;
    let mut invalid: Vec<Vec<u64>> = Vec::new();
    let mut error_rules = std::collections::HashSet::new();
    // Per key rule: each key's first split and first sighting.
    let mut tables: Vec<HashTable<(usize, FirstSeen)>> = Vec::new();
    let mut failures = Vec::new();
    for (split, path) in paths.iter().enumerate() {
        let mut file = read_keys(path)?;
        let signature = (
            file.ruleset_hash.clone(),
            file.rules.iter().map(|r| r.0.clone()).collect::<Vec<_>>(),
        );
        if let Some(first) = &first {
            if *first != signature {
                return Err(Error::option(
                    "split keys",
                    format!("{path} was written with other rules than {}", paths[0]),
                ));
            }
        } else {
            tables = file.rules.iter().map(|_| HashTable::default()).collect();
            first = Some(signature);
        }
        for ((name, keep_none, error, entries), table) in file.rules.iter().zip(tables.iter_mut()) {
            if *error {
                error_rules.insert(name.clone());
            }
            for &(hash, row, line, repeated) in entries {
                let line = (line != u64::MAX).then_some(line);
                match table.entry(hash) {
                    Entry::Vacant(slot) => {
                        let mut seen = FirstSeen::new(row, line);
                        if repeated {
                            seen.mark_repeated();
                        }
                        slot.insert((split, seen));
                    }
                    Entry::Occupied(mut slot) => {
                        let (first_split, seen) = slot.get_mut();
                        let fail = |row, line, split, message: &str| CrossSplitFailure {
                            rule: name.clone(),
                            row,
                            line,
                            split,
                            first_row: seen.row(),
                            first_split: *first_split,
                            message: message.to_owned(),
                        };
                        // Its split counted this row only if the key repeated there and every
                        // sighting fails (`keep` none); otherwise the row is a new failure.
                        if !(*keep_none && repeated) {
                            failures.push(fail(row, line, split, "repeats a key seen before"));
                        }
                        if *keep_none && !seen.repeated() {
                            failures.push(fail(
                                seen.row(),
                                seen.line(),
                                *first_split,
                                "key occurs more than once",
                            ));
                        }
                        seen.mark_repeated();
                    }
                }
            }
        }
        invalid.push(std::mem::take(&mut file.invalid));
    }
    failures.sort_by(|a, b| (a.row, &a.rule).cmp(&(b.row, &b.rule)));
    let mut new_rows: Vec<u64> = failures
        .iter()
        .filter(|f| {
            error_rules.contains(&f.rule) && invalid[f.split].binary_search(&f.row).is_err()
        })
        .map(|f| f.row)
        .collect();
    new_rows.dedup();
    Ok(CrossSplit {
        new_invalid_rows: new_rows.len() as u64,
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The split of `data` (a CSV object with a header) asked for as `start..end`.
    fn csv_split(data: &[u8], start: u64, end: u64, chunk_size: usize) -> Resolved {
        let parser = Parser::new(Dialect::default());
        let mut reader = BlockReader::from_reader(
            "t.csv",
            Box::new(std::io::Cursor::new(data.to_vec())),
            chunk_size,
        );
        let header = reader.header(&parser).unwrap().unwrap();
        let mut records = |buf: &[u8], eof: bool, out: &mut Vec<RecordBytes>| match parse_records(
            &parser, buf, eof, out,
        )
        .end
        {
            BlockEnd::Unterminated { record_start, .. } => Some(record_start),
            _ => None,
        };
        let bounds = Bounds {
            begin: reader.offset(),
            first_line: header.next_line,
            size: data.len() as u64,
            start,
            end,
        };
        walk(&mut reader, &bounds, 1 << 20, &mut records).unwrap()
    }

    fn r(data_start: u64, data_end: u64, rows_before: u64, first_line: u64) -> Resolved {
        Resolved {
            data_start,
            data_end,
            rows_before,
            first_line,
        }
    }

    #[test]
    fn a_split_owns_the_records_that_start_in_it() {
        // a,b\n = bytes 0..4; records start at 4, 8, 12 (each 4 bytes).
        let plain = b"a,b\n1,2\n3,4\n5,6\n";
        // A quoted field with a line break: the record at 8 runs to 16; its inner "\n" at 10
        // is no record start, so a split starting at 9 owns nothing and the next starts at 16.
        let quoted = b"a,b\n1,2\n\"x\ny\",4\n5,6\n";
        let crlf = b"a,b\r\n1,2\r\n\r\n3,4\r\n5,6";
        // (data, start, end, expected)
        let cases: &[(&[u8], u64, u64, Resolved)] = &[
            (plain, 0, 100, r(4, 16, 0, 2)),
            (plain, 0, 5, r(4, 8, 0, 2)),
            // A range inside the header owns nothing; the next split starts at the data.
            (plain, 0, 3, r(4, 4, 0, 2)),
            (plain, 2, 100, r(4, 16, 0, 2)),
            (plain, 5, 9, r(8, 12, 1, 3)),
            (plain, 8, 9, r(8, 12, 1, 3)),
            (plain, 9, 12, r(12, 12, 2, 4)),
            (plain, 13, 100, r(16, 16, 3, 5)),
            (plain, 100, 200, r(16, 16, 3, 5)),
            (quoted, 0, 9, r(4, 16, 0, 2)),
            (quoted, 8, 9, r(8, 16, 1, 3)),
            (quoted, 9, 13, r(16, 16, 2, 5)),
            (quoted, 13, 18, r(16, 20, 2, 5)),
            (quoted, 12, 100, r(16, 20, 2, 5)),
            // CRLF with a blank line: the blank line belongs to the split before.
            (crlf, 0, 6, r(5, 10, 0, 2)),
            (crlf, 6, 13, r(10, 17, 1, 3)),
            (crlf, 13, 100, r(17, 20, 2, 5)),
        ];
        for &(data, start, end, expected) in cases {
            for chunk_size in [1, 3, 7, 1 << 16] {
                assert_eq!(
                    csv_split(data, start, end, chunk_size),
                    expected,
                    "{:?} {start}..{end} chunk {chunk_size}",
                    String::from_utf8_lossy(data)
                );
            }
        }
    }

    #[test]
    fn splits_cover_every_record_once() {
        let data = b"id,t\n1,\"a\nb\"\n\n2,\"\"\"\"\n3,\"x\r\ny\"\r\n4,z\n\"5\",\"\n\n\"\n";
        let size = data.len() as u64;
        for parts in 1..=size {
            // The header "id,t\n" is 5 bytes.
            let (mut at, mut rows) = (5, 0);
            for index in 0..parts {
                let split = csv_split(data, size * index / parts, size * (index + 1) / parts, 4);
                assert_eq!((split.data_start, split.rows_before), (at, rows), "{parts}");
                rows += count(data, &split);
                at = split.data_end;
            }
            assert_eq!((at, rows), (size, 5), "{parts} parts");
        }
    }

    /// A keys file as `write_keys` lays it out: one key rule (`keep` none or first, error
    /// severity) with `(key, row, line, repeated inside the split)` entries, then invalid rows.
    fn keys_file(
        dir: &std::path::Path,
        split: usize,
        keep_none: bool,
        entries: &[KeyEntry],
        invalid: &[u64],
    ) -> String {
        let mut out = KEYS_MAGIC.to_vec();
        out.extend(3u32.to_le_bytes());
        out.extend(b"h:1");
        out.extend(1u32.to_le_bytes());
        out.extend(6u32.to_le_bytes());
        out.extend(b"id:key");
        out.extend([u8::from(keep_none), 1]);
        out.extend((entries.len() as u64).to_le_bytes());
        for &(key, row, repeated) in entries {
            out.extend(key.to_le_bytes());
            out.extend(row.to_le_bytes());
            out.extend((row + 1).to_le_bytes());
            out.push(u8::from(repeated));
        }
        out.extend((invalid.len() as u64).to_le_bytes());
        for row in invalid {
            out.extend(row.to_le_bytes());
        }
        let path = dir.join(format!("k{split}"));
        std::fs::write(&path, out).unwrap();
        path.display().to_string()
    }

    /// (key, row, repeated inside its split)
    type KeyEntry = (u128, u64, bool);
    /// (row, split, first row)
    type CrossFound = (u64, usize, u64);

    #[test]
    fn the_gate_finds_the_keys_repeated_across_splits() {
        let dir = tempfile::tempdir().unwrap();
        // Split 0: rows 1..=3, keys 7, 8 (8 repeated inside it: rows 2 and 3), row 2 invalid.
        // Split 1: rows 4..=5, keys 7 (row 4), 9.  Split 2: row 6, key 8.
        let splits: [(&[KeyEntry], &[u64]); 3] = [
            (&[(7, 1, false), (8, 2, true)], &[2, 3]),
            (&[(7, 4, false), (9, 5, false)], &[]),
            (&[(8, 6, false)], &[6]),
        ];
        // (keep none?, expected (row, split, first_row) failures, rows newly invalid)
        let cases: [(bool, &[CrossFound], u64); 2] = [
            // keep first: only the later sightings fail.
            (false, &[(4, 1, 1), (6, 2, 2)], 1),
            // keep none: the first sighting of 7 fails too; 8's first (row 2) was already
            // counted inside split 0, and row 6 was already invalid in split 2.
            (true, &[(1, 0, 1), (4, 1, 1), (6, 2, 2)], 2),
        ];
        for (keep_none, expected, new_invalid) in cases {
            let paths: Vec<String> = splits
                .iter()
                .enumerate()
                .map(|(i, (entries, invalid))| {
                    keys_file(dir.path(), i, keep_none, entries, invalid)
                })
                .collect();
            let merged = merge_split_keys(&paths).unwrap();
            let found: Vec<(u64, usize, u64)> = merged
                .failures
                .iter()
                .map(|f| (f.row, f.split, f.first_row))
                .collect();
            assert_eq!(found, expected, "keep none: {keep_none}");
            assert_eq!(
                merged.new_invalid_rows, new_invalid,
                "keep none: {keep_none}"
            );
            assert!(merged.failures.iter().all(|f| f.line == Some(f.row + 1)));
        }
    }

    #[test]
    fn the_gate_refuses_mixed_or_broken_keys_files() {
        let dir = tempfile::tempdir().unwrap();
        let good = keys_file(dir.path(), 0, true, &[(1, 1, false)], &[]);
        let broken = dir.path().join("broken");
        std::fs::write(&broken, &KEYS_MAGIC[..5]).unwrap();
        let error = merge_split_keys(&[good.clone(), broken.display().to_string()]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("not a pyrustpipe split keys file"),
            "{error}"
        );
        let other = dir.path().join("other");
        let mut bytes = std::fs::read(&good).unwrap();
        let at = KEYS_MAGIC.len() + 4;
        bytes[at..at + 3].copy_from_slice(b"h:2");
        std::fs::write(&other, bytes).unwrap();
        let error = merge_split_keys(&[good.clone(), other.display().to_string()]).unwrap_err();
        assert!(error.to_string().contains("other rules"), "{error}");
        // A file of the first format (every key hashed with xxh3) must not meet this one's.
        let older = dir.path().join("older");
        let mut bytes = std::fs::read(&good).unwrap();
        bytes[KEYS_MAGIC.len() - 2] = b'1';
        std::fs::write(&older, bytes).unwrap();
        let error = merge_split_keys(&[good, older.display().to_string()]).unwrap_err();
        assert!(
            error.to_string().contains("another pyrustpipe version"),
            "{error}"
        );
    }

    /// Records in a resolved range.
    fn count(data: &[u8], split: &Resolved) -> u64 {
        let mut out = Vec::new();
        parse_records(
            &Parser::new(Dialect::default()),
            &data[split.data_start as usize..split.data_end as usize],
            true,
            &mut out,
        );
        out.len() as u64
    }
}
