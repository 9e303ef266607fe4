//! The per-row check loop shared by every format: a block's rows arrive as text spans per plan
//! column; this module parses them, runs the column checks, row rules and key hashing, and keeps
//! per-block counts, first samples and failing rows. It runs inside worker threads and touches
//! no shared state.

use crate::ledger::sketch::Sketch;
use crate::plan::{ColumnPlan, Plan, SourceLayout};
use crate::rules::dataset::{ColumnStats, Gather};
use crate::rules::RuleId;
use crate::value::{sample_text, type_failure_message, Cell, Native, TypeParser, Value};

/// Where a row's text for one plan column sits.
#[derive(Debug, Clone, Copy)]
pub enum TextRef {
    Absent,
    /// A null that has no text (a JSON `null` or missing key, an Arrow null).
    Null,
    Buf(u32, u32),
    Arena(u32, u32),
    /// A typed source's value, at this index of `Rows::natives`.
    Native(u32),
}

/// A block's rows, as text spans per plan column (`rows × width`).
#[derive(Debug, Default)]
pub struct Rows {
    pub width: usize,
    pub texts: Vec<TextRef>,
    /// Line offset of each row's start from the block's first line (`None`: no lines, Parquet).
    pub lines: Vec<Option<u64>>,
    /// For each row: why the reader could not split it into fields, if it could not.
    pub broken: Vec<Option<Broken>>,
    pub arena: Vec<u8>,
    pub natives: Vec<Native>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Empty, keeping the allocations for the next block.
    pub fn clear(&mut self) {
        self.texts.clear();
        self.lines.clear();
        self.broken.clear();
        self.arena.clear();
        self.natives.clear();
    }
}

/// A record the reader could not turn into fields; the row fails a `row:` rule and nothing else.
#[derive(Debug, Clone)]
pub enum Broken {
    /// A CSV record whose field count is not the header's.
    FieldCount(usize),
    /// An NDJSON line that is not a JSON object.
    Malformed(String),
    /// A CSV record that strict mode (`csv.strict`) rejects: `code` is stable
    /// (`csv:bare_quote`, `csv:text_after_quote`), `field` the 0-based offending field.
    Csv { code: &'static str, field: usize },
}

/// A sample before its block's position in the run is known.
#[derive(Debug, Clone)]
pub struct LocalSample {
    pub row: u64,
    pub line: Option<u64>,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

/// One key occurrence, hashed in the worker; `text` is the key's display text in `key_text`.
#[derive(Debug, Clone, Copy)]
pub struct KeyEntry {
    pub hash: u128,
    pub row: u32,
    /// Line offset of the row's start within the block (`None`: no lines).
    pub line: Option<u64>,
    pub text: (u32, u32),
}

/// What checking one block found.
#[derive(Debug, Default)]
pub struct BlockFindings {
    pub rows: u64,
    pub counts: Vec<u64>,
    pub samples: Vec<Vec<LocalSample>>,
    /// Rows (block-local, 0-based) that failed at least one rule, in order; their rules are
    /// `failed_rules[failure_starts[i]..failure_starts[i + 1]]`.
    pub failed_rows: Vec<u32>,
    pub failure_starts: Vec<u32>,
    pub failed_rules: Vec<RuleId>,
    pub keys: Vec<Vec<KeyEntry>>,
    /// Per row-level history check: each row's value (64-bit hash and text).
    pub history_keys: Vec<Vec<KeyEntry>>,
    pub key_text: Vec<u8>,
    pub distinct: Vec<Vec<u128>>,
    pub stats: Vec<ColumnStats>,
    /// Field names seen in rows that the schema does not name (NDJSON with `strict`).
    pub unknown_columns: std::collections::BTreeSet<String>,
}

impl BlockFindings {
    pub fn new(plan: &Plan) -> Self {
        BlockFindings {
            rows: 0,
            counts: vec![0; plan.rules.len()],
            samples: vec![Vec::new(); plan.rules.len()],
            failed_rows: Vec::new(),
            failure_starts: vec![0],
            failed_rules: Vec::new(),
            keys: vec![Vec::new(); plan.unique_keys.len()],
            history_keys: vec![Vec::new(); plan.history_keys.len()],
            key_text: Vec::new(),
            distinct: vec![Vec::new(); plan.distinct_columns.len()],
            stats: vec![ColumnStats::default(); plan.columns.len()],
            unknown_columns: std::collections::BTreeSet::new(),
        }
    }

    pub fn rules_of(&self, index: usize) -> &[RuleId] {
        let start = self.failure_starts[index] as usize;
        let end = self.failure_starts[index + 1] as usize;
        &self.failed_rules[start..end]
    }
}

/// Check every row of a block.
pub fn check_rows(
    plan: &Plan,
    layout: &SourceLayout,
    buf: &[u8],
    rows: &Rows,
    sample_size: usize,
    out: &mut BlockFindings,
) {
    let width = rows.width;
    let mut cells: Vec<Cell<'_>> = vec![Cell::Absent; plan.columns.len()];
    let mut texts: Vec<&[u8]> = vec![&[]; plan.columns.len()];
    // A typed value has no text until a sample, a key or a null marker needs it
    // (`Native::write_text`); only a marker other than the empty text can match one.
    let mut shown_native = Vec::new();
    let text_nulls = plan.null_values.iter().any(|marker| !marker.is_empty());
    let mut row_failed: Vec<RuleId> = Vec::new();
    let mut key_scratch = Vec::new();
    let numeric_stats = &plan.stats_columns;
    // A source without a declared column does not match the schema: none of its rows may flow
    // on as valid, so each carries the (per-source) schema rule without counting it again.
    let source_mismatch = !layout.missing.is_empty();
    // Decided once per block, not per cell: each column's parser (the ISO one for typed
    // temporal sources), whether it is the `str` test, and whether a valid value of it has
    // nothing more to do (a `str` column without checks, statistics or sketch).
    let parsers: Vec<(&TypeParser, bool, bool)> = plan
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            let parser = if layout.iso_text[index] {
                &plan.iso_parsers[index]
            } else {
                &column.parser
            };
            let is_str = matches!(parser, TypeParser::Str);
            let done_when_valid = is_str
                && column.checks.is_empty()
                && numeric_stats[index] == Gather::Nothing
                && plan.sketches[index] == Sketch::Nothing;
            (parser, is_str, done_when_valid)
        })
        .collect();
    // `str` cells are proven valid by one pass over the block's text, not a byte loop each.
    let any_str = parsers.iter().any(|&(_, is_str, _)| is_str);
    let (clean_buf, clean_arena) = if any_str {
        (clean_prefix(buf), clean_prefix(&rows.arena))
    } else {
        ("", "")
    };

    for row in 0..rows.len() {
        row_failed.clear();
        let line = rows.lines[row];
        // `message` gets the sensitive column's token to show in place of the value.
        let mut fail = |rule: RuleId,
                        column: Option<&ColumnPlan>,
                        text: Option<&[u8]>,
                        message: &dyn Fn(Option<&str>) -> String,
                        failed: &mut Vec<RuleId>| {
            failed.push(rule);
            out.counts[rule as usize] += 1;
            let samples = &mut out.samples[rule as usize];
            if samples.len() < sample_size {
                let token = column
                    .filter(|c| c.sensitive)
                    .and(text)
                    .map(|t| plan.masker.token(t));
                samples.push(LocalSample {
                    row: row as u64,
                    line,
                    column: column.map(|c| c.name.clone()),
                    value: token.clone().or_else(|| text.map(sample_text)),
                    message: message(token.as_deref()),
                });
            }
        };

        if let Some(broken) = &rows.broken[row] {
            match broken {
                Broken::FieldCount(fields) => {
                    let expected = layout.width;
                    fail(
                        plan.field_count_rule,
                        None,
                        None,
                        &|_| format!("expected {expected} fields, got {fields}"),
                        &mut row_failed,
                    );
                }
                Broken::Malformed(reason) => {
                    fail(
                        plan.malformed_rule,
                        None,
                        None,
                        &|_| reason.clone(),
                        &mut row_failed,
                    );
                }
                Broken::Csv { code, field } => {
                    let name = layout.names.get(*field).map(String::as_str);
                    let what = match *code {
                        "csv:bare_quote" => "a quote inside an unquoted field",
                        _ => "text after a closing quote",
                    };
                    let column = name.map_or_else(String::new, |n| format!(" `{n}`"));
                    let number = field + 1;
                    // The sample names the column when the schema declares it (an extra
                    // column is named in the message only).
                    let declared = name.and_then(|n| plan.columns.iter().find(|c| c.name == n));
                    fail(
                        plan.malformed_rule,
                        declared,
                        None,
                        &|_| format!("{code}: {what} (field {number}{column}; strict CSV)"),
                        &mut row_failed,
                    );
                }
            }
            if source_mismatch {
                row_failed.push(plan.missing_columns_rule);
            }
            record_failure(out, row, &row_failed);
            continue;
        }

        let row_texts = &rows.texts[row * width..row * width + parsers.len()];
        let columns = plan.columns.iter().zip(&parsers).zip(row_texts);
        for (index, ((column, &(parser, is_str, done_when_valid)), &text_ref)) in
            columns.enumerate()
        {
            let text: &[u8] = match text_ref {
                TextRef::Absent => {
                    cells[index] = Cell::Absent;
                    continue;
                }
                TextRef::Null => &[],
                TextRef::Buf(s, e) => &buf[s as usize..e as usize],
                TextRef::Arena(s, e) => &rows.arena[s as usize..e as usize],
                TextRef::Native(_) => &[],
            };
            texts[index] = text;
            let null_text = match text_ref {
                // A typed value is a null where its text would be (`NaN` among `null_values`).
                TextRef::Native(at) => {
                    text_nulls && native_is_null(plan, &rows.natives, at, &mut shown_native)
                }
                _ => plan.is_null(text),
            };
            if matches!(text_ref, TextRef::Null) || null_text {
                cells[index] = Cell::Null;
                out.stats[index].nulls += 1;
                if let Some(rule) = column.not_null {
                    let text = text_of(text, text_ref, &rows.natives, &mut shown_native);
                    fail(
                        rule,
                        Some(column),
                        Some(text),
                        &|_| "missing required value".to_owned(),
                        &mut row_failed,
                    );
                }
                continue;
            }
            let proven = match text_ref {
                TextRef::Buf(s, e) => within_clean(clean_buf, s, e),
                TextRef::Arena(s, e) => within_clean(clean_arena, s, e),
                TextRef::Absent | TextRef::Null | TextRef::Native(_) => false,
            };
            let value = if proven && is_str {
                if done_when_valid {
                    cells[index] = Cell::Ok(Value::Str(text));
                    continue;
                }
                Some(Value::Str(text))
            } else if let TextRef::Native(at) = text_ref {
                native_value(&rows.natives, at, column.dtype)
            } else {
                parser.parse(text)
            };
            match value {
                None => {
                    cells[index] = Cell::Invalid;
                    if let Some(rule) = column.type_rule {
                        let text = text_of(text, text_ref, &rows.natives, &mut shown_native);
                        let format = column.format.as_deref();
                        fail(
                            rule,
                            Some(column),
                            Some(text),
                            &|token| type_failure_message(column.dtype, format, text, token),
                            &mut row_failed,
                        );
                    }
                }
                Some(value) => {
                    cells[index] = Cell::Ok(value);
                    for check in &column.checks {
                        if !check.passes(&value) {
                            let text = text_of(text, text_ref, &rows.natives, &mut shown_native);
                            let shown = String::from_utf8_lossy(text);
                            fail(
                                check.rule(),
                                Some(column),
                                Some(text),
                                &|token| check.message(token.unwrap_or(&shown)),
                                &mut row_failed,
                            );
                        }
                    }
                    let gather = numeric_stats[index];
                    if gather != Gather::Nothing {
                        if let Some(number) = value.stat_f64() {
                            out.stats[index].add(number, gather);
                        }
                    }
                    let sketch = plan.sketches[index];
                    if sketch != Sketch::Nothing {
                        out.stats[index].sketch(&value, sketch);
                    }
                }
            }
        }

        for rule in &plan.row_rules {
            if rule.expr.evaluate(&cells) == Some(false) {
                fail(
                    rule.rule,
                    None,
                    None,
                    &|_| "row rule is false".to_owned(),
                    &mut row_failed,
                );
            }
        }

        let row_u32 = u32::try_from(row).expect("a block holds fewer than 2^32 rows");
        for (key_index, key) in plan.unique_keys.iter().enumerate() {
            let Some(hash) = key_hash_of(&key.columns, &cells, &mut key_scratch) else {
                continue;
            };
            let text_start = out.key_text.len();
            for (n, &column) in key.columns.iter().enumerate() {
                if n > 0 {
                    out.key_text.push(b',');
                }
                match row_texts[column] {
                    TextRef::Native(at) => rows.natives[at as usize].write_text(&mut out.key_text),
                    _ => out.key_text.extend_from_slice(texts[column]),
                }
            }
            out.keys[key_index].push(KeyEntry {
                hash,
                row: row_u32,
                line,
                text: (as_u32(text_start), as_u32(out.key_text.len())),
            });
        }

        for (slot, &column) in plan.history_keys.iter().enumerate() {
            if let Cell::Ok(value) = &cells[column] {
                let mut scratch = [0u8; 24];
                let hash = crate::ledger::row_history::key_hash(value.key_bytes(&mut scratch));
                let text_start = out.key_text.len();
                match row_texts[column] {
                    TextRef::Native(at) => rows.natives[at as usize].write_text(&mut out.key_text),
                    _ => out.key_text.extend_from_slice(texts[column]),
                }
                out.history_keys[slot].push(KeyEntry {
                    hash: u128::from(hash),
                    row: row_u32,
                    line,
                    text: (as_u32(text_start), as_u32(out.key_text.len())),
                });
            }
        }

        for (slot, &column) in plan.distinct_columns.iter().enumerate() {
            if let Cell::Ok(value) = &cells[column] {
                let mut scratch = [0u8; 24];
                out.distinct[slot].push(xxhash_rust::xxh3::xxh3_128(value.key_bytes(&mut scratch)));
            }
        }

        if source_mismatch {
            row_failed.push(plan.missing_columns_rule);
        }
        if !row_failed.is_empty() {
            record_failure(out, row, &row_failed);
        }
    }
    out.rows += rows.len() as u64;
}

/// A typed cell's value, out of line: text sources, the hot case, never come here.
#[inline(never)]
fn native_value(natives: &[Native], at: u32, dtype: crate::spec::DType) -> Option<Value<'static>> {
    natives[at as usize].value(dtype)
}

/// Whether a typed value's text is one of the null markers.
#[inline(never)]
fn native_is_null(plan: &Plan, natives: &[Native], at: u32, scratch: &mut Vec<u8>) -> bool {
    plan.is_null(text_of(&[], TextRef::Native(at), natives, scratch))
}

/// A cell's text: its own, or for a typed value the text the text path would have read.
#[cold]
fn text_of<'t>(
    text: &'t [u8],
    text_ref: TextRef,
    natives: &[Native],
    scratch: &'t mut Vec<u8>,
) -> &'t [u8] {
    match text_ref {
        TextRef::Native(at) => {
            scratch.clear();
            natives[at as usize].write_text(scratch);
            scratch
        }
        _ => text,
    }
}

/// The longest prefix of `bytes` that is valid UTF-8 without a NUL byte: found with two
/// vectorised passes (memchr, std's UTF-8 check) per block instead of a byte loop per cell.
fn clean_prefix(bytes: &[u8]) -> &str {
    let before_nul = &bytes[..memchr::memchr(0, bytes).unwrap_or(bytes.len())];
    match std::str::from_utf8(before_nul) {
        Ok(text) => text,
        Err(error) => std::str::from_utf8(&before_nul[..error.valid_up_to()]).unwrap_or_default(),
    }
}

/// Whether `clean[start..end]` is itself a valid `str` value: a slice of valid UTF-8 without NUL
/// is one exactly when both ends are character boundaries (false when `end` is past `clean`).
fn within_clean(clean: &str, start: u32, end: u32) -> bool {
    clean.is_char_boundary(start as usize) && clean.is_char_boundary(end as usize)
}

/// The key's hash, or `None` when a key column is null, absent or unparsed (the row is skipped).
fn key_hash_of(columns: &[usize], cells: &[Cell<'_>], scratch: &mut Vec<u8>) -> Option<u128> {
    let mut value_scratch = [0u8; 24];
    if let [column] = columns {
        let Cell::Ok(value) = &cells[*column] else {
            return None;
        };
        return Some(xxhash_rust::xxh3::xxh3_128(
            value.key_bytes(&mut value_scratch),
        ));
    }
    scratch.clear();
    for &column in columns {
        let Cell::Ok(value) = &cells[column] else {
            return None;
        };
        let bytes = value.key_bytes(&mut value_scratch);
        // Length-prefixed so ("ab", "c") and ("a", "bc") differ.
        scratch.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        scratch.extend_from_slice(bytes);
    }
    Some(xxhash_rust::xxh3::xxh3_128(scratch))
}

fn record_failure(out: &mut BlockFindings, row: usize, rules: &[RuleId]) {
    out.failed_rows
        .push(u32::try_from(row).expect("a block holds fewer than 2^32 rows"));
    out.failed_rules.extend_from_slice(rules);
    out.failure_starts.push(as_u32(out.failed_rules.len()));
}

/// A block-local offset or size (a `TextRef`, a field span, a record's place) as `u32`: blocks,
/// and the text of one unit of work, are smaller than 4 GiB.
pub(crate) fn as_u32(n: usize) -> u32 {
    u32::try_from(n).expect("blocks are smaller than 4 GiB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_proven_clean_is_a_valid_str_and_the_fast_path_misses_no_bad_cell() {
        // Every span of each buffer: proven by the block test → the per-cell parser agrees.
        let buffers: &[&[u8]] = &[
            b"plain,ascii\n",
            "caf\u{e9},na\u{ef}ve,\u{1F600}x".as_bytes(),
            b"ok,\xff\xfe,ok",
            b"a\0b,c",
            b"ab\xc3",
            b"\xe2\x82",
            b"",
        ];
        for buf in buffers {
            let clean = clean_prefix(buf);
            assert!(buf.starts_with(clean.as_bytes()), "{buf:?}");
            for start in 0..=buf.len() {
                for end in start..=buf.len() {
                    let text = &buf[start..end];
                    let proven = within_clean(clean, as_u32(start), as_u32(end));
                    let valid = TypeParser::Str.parse(text).is_some();
                    assert!(!proven || valid, "{buf:?}[{start}..{end}]");
                    // Inside the clean prefix the fast path decides every non-empty span itself
                    // (an empty span inside a character falls back to the per-cell test).
                    if start < end && end <= clean.len() {
                        assert_eq!(proven, valid, "{buf:?}[{start}..{end}]");
                    }
                }
            }
        }
        assert_eq!(clean_prefix(b"ab\xc3"), "ab");
        assert_eq!(clean_prefix(b"a\0b"), "a");
        assert_eq!(clean_prefix(b"\xc3\xa9\xff"), "\u{e9}");
    }
}
