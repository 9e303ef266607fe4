//! `pyrustpipe init`: profile CSV sources — per column the narrowest type every value parses
//! as, nulls, numeric ranges, lengths, small value sets, a shared shape as a regex, and whether
//! the column could be a unique key. The Python side turns this into a `pp.Schema` class.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Value as Json};

use crate::engine::{Options, DEFAULT_CHUNK_SIZE};
use crate::error::Result;
use crate::formats::csv::block::{parse_records, RecordBytes};
use crate::formats::csv::parser::{unescape, Dialect, Parser};
use crate::formats::csv::reader::BlockReader;
use crate::parse;

const TOP_LIMIT: usize = 20;
const DISTINCT_LIMIT: usize = 1_000_000;

#[derive(Default)]
struct ColumnProfile {
    nulls: u64,
    values: u64,
    int: u64,
    float: u64,
    boolean: u64,
    date: u64,
    datetime: u64,
    time: u64,
    min: Option<f64>,
    max: Option<f64>,
    min_len: Option<usize>,
    max_len: Option<usize>,
    small: BTreeMap<String, u64>,
    small_overflow: bool,
    hashes: HashSet<u128>,
    hashes_overflow: bool,
    repeated: bool,
    shape: Option<Vec<Option<u8>>>,
    shape_dead: bool,
}

/// Character class of a byte for shape inference: digits, upper, lower, or itself.
fn class(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => b'9',
        b'A'..=b'Z' => b'A',
        b'a'..=b'z' => b'a',
        other => other,
    }
}

impl ColumnProfile {
    fn add(&mut self, text: &[u8]) {
        if text.is_empty() {
            self.nulls += 1;
            return;
        }
        self.values += 1;
        if let Some(v) = parse::parse_int(text) {
            self.int += 1;
            #[allow(clippy::cast_precision_loss)]
            self.range(v as f64);
        } else if let Some(v) = parse::parse_float(text) {
            self.range(v);
        }
        if parse::parse_float(text).is_some() {
            self.float += 1;
        }
        self.boolean +=
            u64::from(parse::parse_bool(text).is_some() && parse::parse_int(text).is_none());
        self.date += u64::from(parse::parse_date_iso(text).is_some());
        self.datetime += u64::from(parse::parse_datetime_iso(text).is_some());
        self.time += u64::from(parse::parse_time_iso(text).is_some());
        let length = String::from_utf8_lossy(text).chars().count();
        self.min_len = Some(self.min_len.map_or(length, |m| m.min(length)));
        self.max_len = Some(self.max_len.map_or(length, |m| m.max(length)));
        if !self.small_overflow {
            *self
                .small
                .entry(String::from_utf8_lossy(text).into_owned())
                .or_insert(0) += 1;
            if self.small.len() > TOP_LIMIT {
                self.small_overflow = true;
                self.small.clear();
            }
        }
        if !self.hashes_overflow {
            if !self.hashes.insert(xxhash_rust::xxh3::xxh3_128(text)) {
                self.repeated = true;
            }
            if self.hashes.len() > DISTINCT_LIMIT {
                self.hashes_overflow = true;
                self.hashes.clear();
            }
        }
        if !self.shape_dead {
            match &mut self.shape {
                None => self.shape = Some(text.iter().map(|&b| Some(b)).collect()),
                Some(shape) if shape.len() == text.len() => {
                    for (slot, &byte) in shape.iter_mut().zip(text) {
                        if let Some(kept) = *slot {
                            if kept != byte {
                                *slot = if class(kept) == class(byte) && class(byte) != byte {
                                    None
                                } else {
                                    Some(0)
                                };
                            }
                        } else if !matches!(class(byte), b'9' | b'A' | b'a') {
                            self.shape_dead = true;
                        }
                    }
                    if shape.contains(&Some(0)) {
                        self.shape_dead = true;
                    }
                }
                Some(_) => self.shape_dead = true,
            }
        }
    }

    fn range(&mut self, value: f64) {
        self.min = Some(self.min.map_or(value, |m| m.min(value)));
        self.max = Some(self.max.map_or(value, |m| m.max(value)));
    }

    fn dtype(&self) -> &'static str {
        let all = |n: u64| self.values > 0 && n == self.values;
        if all(self.int) {
            "int"
        } else if all(self.float) {
            "float"
        } else if all(self.boolean) {
            "bool"
        } else if all(self.date) {
            "date"
        } else if all(self.datetime) {
            "datetime"
        } else if all(self.time) {
            "time"
        } else {
            "str"
        }
    }

    /// A regex for the shared shape: literal bytes kept, varying positions as classes.
    fn pattern(&self, sample: Option<&str>) -> Option<String> {
        if self.shape_dead || self.values < 2 {
            return None;
        }
        let shape = self.shape.as_ref()?;
        let sample = sample?.as_bytes();
        let mut out = String::from("^");
        let mut index = 0;
        while index < shape.len() {
            let piece = match shape[index] {
                Some(byte) => regex::escape(&(byte as char).to_string()),
                None => match class(sample[index]) {
                    b'9' => "[0-9]".to_owned(),
                    b'A' => "[A-Z]".to_owned(),
                    _ => "[a-z]".to_owned(),
                },
            };
            let mut run = 1;
            while index + run < shape.len()
                && shape[index + run] == shape[index]
                && (shape[index].is_none() && class(sample[index + run]) == class(sample[index]))
            {
                run += 1;
            }
            out.push_str(&piece);
            if run > 1 {
                out.push_str(&format!("{{{run}}}"));
            }
            index += run;
        }
        out.push('$');
        // Only worth suggesting when something varies and the shape is not all literal.
        (shape.iter().any(Option::is_none) && shape.iter().any(Option::is_some)).then_some(out)
    }
}

/// Profile CSV sources; returns the profile JSON.
pub fn profile(sources: &[String], options: &Options) -> Result<String> {
    let paths = crate::storage::local::expand(sources, false)?;
    let parser = Parser::new(Dialect::default());
    let mut names: Vec<String> = Vec::new();
    let mut columns: Vec<ColumnProfile> = Vec::new();
    let mut rows = 0u64;
    let mut scratch = Vec::new();
    let mut first_values: Vec<Option<String>> = Vec::new();
    for path in &paths {
        let mut reader = BlockReader::open(path, options.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE))?;
        let Some(header) = reader.header(&parser)? else {
            continue;
        };
        if names.is_empty() {
            names = header.names.clone();
            columns = names.iter().map(|_| ColumnProfile::default()).collect();
            first_values = vec![None; names.len()];
        }
        let mut carry: Vec<u8> = Vec::new();
        while let Some(block) = reader.next_block()? {
            let mut buf = std::mem::take(&mut carry);
            buf.extend_from_slice(&block.buf);
            let mut records: Vec<RecordBytes> = Vec::new();
            let parse = parse_records(&parser, &buf, block.eof, &mut records);
            let mut fields = Vec::new();
            let mut span = crate::formats::csv::parser::RecordSpan::default();
            for record in &records {
                let _ = parser.next_record(
                    &buf[..record.next as usize],
                    record.start as usize,
                    true,
                    &mut fields,
                    &mut span,
                );
                rows += 1;
                for (index, field) in fields.iter().enumerate().take(columns.len()) {
                    let raw = &buf[field.start as usize..field.end as usize];
                    let text: &[u8] =
                        if field.kind == crate::formats::csv::parser::FieldKind::Quoted {
                            unescape(raw, b'"', &mut scratch);
                            &scratch
                        } else {
                            raw
                        };
                    if first_values[index].is_none() && !text.is_empty() {
                        first_values[index] = Some(String::from_utf8_lossy(text).into_owned());
                    }
                    columns[index].add(text);
                }
            }
            if let crate::formats::csv::block::BlockEnd::Incomplete { record_start } = parse.end {
                carry = buf[record_start..].to_vec();
            }
        }
    }
    let columns_json: Vec<Json> = names
        .iter()
        .zip(&columns)
        .zip(&first_values)
        .map(|((name, c), first)| {
            let dtype = c.dtype();
            let numeric = matches!(dtype, "int" | "float");
            json!({
                "name": name,
                "dtype": dtype,
                "null_count": c.nulls,
                "distinct_count": if c.hashes_overflow { Json::Null } else { json!(c.hashes.len()) },
                "unique": !c.hashes_overflow && !c.repeated && c.values > 1 && c.nulls == 0,
                "min": if numeric { json!(c.min) } else { Json::Null },
                "max": if numeric { json!(c.max) } else { Json::Null },
                "min_length": if dtype == "str" { json!(c.min_len) } else { Json::Null },
                "max_length": if dtype == "str" { json!(c.max_len) } else { Json::Null },
                "top_values": if c.small_overflow || c.small.is_empty() { Json::Null } else { json!(c.small.keys().collect::<Vec<_>>()) },
                "pattern": if dtype == "str" { json!(c.pattern(first.as_deref())) } else { Json::Null },
            })
        })
        .collect();
    Ok(json!({"rows": rows, "sources": paths, "columns": columns_json}).to_string())
}
