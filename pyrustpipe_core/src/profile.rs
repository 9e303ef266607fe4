//! `pyrustpipe init`: profile CSV, NDJSON, JSON-array and Parquet sources (local or `s3://`) —
//! per column the narrowest type every value parses as (dates with a `format`), nulls and null
//! markers, ranges, small value sets, a shape as a regex, and candidate keys. Values are read by
//! the engine's own readers and parsed by its own parsers, so what the profile proposes is what
//! `validate` accepts. The Python side turns the profile into a `pp.Schema` class.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::check::{Broken, Rows, TextRef};
use crate::engine::{Options, DEFAULT_CHUNK_SIZE};
use crate::error::{Error, Position, Result};
use crate::formats::codec::ReadCounter;
use crate::formats::csv::block::{parse_rows, BlockEnd};
use crate::formats::csv::parser::{Dialect, Parser, RecordSpan, Step};
use crate::formats::csv::reader::BlockReader;
use crate::formats::{Format, SourceKind};
use crate::parse::{self, TemporalFormat, TemporalKind};
use crate::plan::SourceLayout;
use crate::spec::DType;
use crate::storage::{SourceObject, Storage};

/// At most this many distinct values make a value set (`isin`).
const TOP_LIMIT: usize = 20;
/// Distinct values tracked per column for `unique`; beyond it the column is not a key candidate.
const DISTINCT_LIMIT: usize = 1_000_000;
/// Tokens of a value's shape; longer values (free text) get no pattern.
const SHAPE_TOKENS: usize = 16;
/// Malformed rows reported by position (all are counted).
const MALFORMED_EXAMPLES: usize = 5;
/// Paths inside JSON objects drafted at most; more, and the objects are maps (keys that are
/// data, not names), kept as their JSON text.
const INSIDE_PATHS: usize = 256;
/// Bytes of a text source read to sniff its delimiter.
const SNIFF_BYTES: usize = 64 * 1024;
/// Records of the head compared when sniffing the delimiter.
const SNIFF_RECORDS: usize = 50;

/// Texts that mean "no value" in exported data. One becomes a null marker when it is the only
/// kind of text that does not parse in an otherwise typed column.
const MARKERS: [&str; 13] = [
    "NA", "N/A", "n/a", "NULL", "null", "Null", "None", "NaN", "nan", "#N/A", "-", "?", "NIL",
];
/// Markers that are never real data, so they are nulls wherever they occur.
const STRONG_MARKERS: [&str; 8] = ["N/A", "n/a", "NULL", "null", "Null", "NaN", "nan", "#N/A"];

/// Date and date-time layouts tried after ISO 8601, day-first before month-first: when both
/// read every value, the first is proposed and the other is named as ambiguous.
const LAYOUTS: [(&str, TemporalKind); 20] = [
    ("%d/%m/%Y", TemporalKind::Date),
    ("%m/%d/%Y", TemporalKind::Date),
    ("%Y/%m/%d", TemporalKind::Date),
    ("%d.%m.%Y", TemporalKind::Date),
    ("%d-%m-%Y", TemporalKind::Date),
    ("%m-%d-%Y", TemporalKind::Date),
    ("%Y%m%d", TemporalKind::Date),
    ("%d/%m/%Y %H:%M:%S", TemporalKind::DateTime),
    ("%m/%d/%Y %H:%M:%S", TemporalKind::DateTime),
    ("%d/%m/%Y %H:%M", TemporalKind::DateTime),
    ("%m/%d/%Y %H:%M", TemporalKind::DateTime),
    ("%Y/%m/%d %H:%M:%S", TemporalKind::DateTime),
    ("%Y/%m/%d %H:%M", TemporalKind::DateTime),
    ("%d.%m.%Y %H:%M:%S", TemporalKind::DateTime),
    ("%d.%m.%Y %H:%M", TemporalKind::DateTime),
    ("%d-%m-%Y %H:%M:%S", TemporalKind::DateTime),
    ("%m-%d-%Y %H:%M:%S", TemporalKind::DateTime),
    ("%Y-%m-%d %H:%M:%S.%f", TemporalKind::DateTime),
    ("%Y-%m-%d %H:%M:%S %z", TemporalKind::DateTime),
    ("%Y%m%d%H%M%S", TemporalKind::DateTime),
];

/// What `init` was told (JSON from the CLI); anything not given is sniffed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileOptions {
    /// One character; sniffed from the first lines (`,` `;` tab `|`) when absent.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Texts read as null; detected (`""` plus markers such as `NA`) when absent.
    #[serde(default)]
    pub null_values: Option<Vec<String>>,
    /// CSV only: false when the first record is data (columns are named `column_1`…).
    #[serde(default = "yes")]
    pub header: bool,
    /// Stop after this many rows (over all sources).
    #[serde(default)]
    pub sample_rows: Option<u64>,
    /// Columns whose values must not be shown (docs/cli.md, `init --sensitive`).
    #[serde(default)]
    pub sensitive: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            delimiter: None,
            null_values: None,
            header: true,
            sample_rows: None,
            sensitive: Vec::new(),
        }
    }
}

/// Character class of a byte for shapes: digits, upper, lower, or itself.
fn class(byte: u8) -> u8 {
    match byte {
        b'0'..=b'9' => b'9',
        b'A'..=b'Z' => b'A',
        b'a'..=b'z' => b'a',
        other => other,
    }
}

/// One run of a shape: a class (or a literal byte) and the run lengths seen.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    class: u8,
    min: usize,
    max: usize,
    /// A letter run's text while every value has the same one.
    text: Option<Vec<u8>>,
}

/// `TX-0012` → runs `TX`, `-`, `0012`; `None` for non-ASCII or too many runs.
fn tokenize(text: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out: Vec<(u8, &[u8])> = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let c = class(text[start]);
        if !text[start].is_ascii() || text[start].is_ascii_control() {
            return None;
        }
        let mut end = start + 1;
        if matches!(c, b'9' | b'A' | b'a') {
            while end < text.len() && class(text[end]) == c {
                end += 1;
            }
        }
        out.push((c, &text[start..end]));
        if out.len() > SHAPE_TOKENS {
            return None;
        }
        start = end;
    }
    Some(out)
}

/// The shared shape of a column's values, or dead once two values differ in shape.
#[derive(Default)]
struct Shape {
    tokens: Option<Vec<Token>>,
    dead: bool,
}

impl Shape {
    fn add(&mut self, text: &[u8]) {
        if self.dead {
            return;
        }
        let Some(runs) = tokenize(text) else {
            self.dead = true;
            return;
        };
        match &mut self.tokens {
            None => {
                self.tokens = Some(
                    runs.iter()
                        .map(|&(class, run)| Token {
                            class,
                            min: run.len(),
                            max: run.len(),
                            text: matches!(class, b'A' | b'a').then(|| run.to_vec()),
                        })
                        .collect(),
                );
            }
            Some(tokens) => {
                if tokens.len() != runs.len()
                    || tokens.iter().zip(&runs).any(|(t, &(c, _))| t.class != c)
                {
                    self.dead = true;
                    return;
                }
                for (token, &(_, run)) in tokens.iter_mut().zip(&runs) {
                    token.min = token.min.min(run.len());
                    token.max = token.max.max(run.len());
                    if token.text.as_deref().is_some_and(|t| t != run) {
                        token.text = None;
                    }
                }
            }
        }
    }

    /// A regex for the shape: digit runs are always classes (never the sample's digits), letter
    /// runs literal only when every value has the same letters. Only for shapes with digits and
    /// some structure around them: a pattern must say more than "some text".
    fn pattern(&self) -> Option<String> {
        if self.dead {
            return None;
        }
        let tokens = self.tokens.as_ref()?;
        if tokens.len() < 2 || !tokens.iter().any(|t| t.class == b'9') {
            return None;
        }
        let mut out = String::from("^");
        for token in tokens {
            let quantifier = match (token.min, token.max) {
                (1, 1) => String::new(),
                (n, m) if n == m => format!("{{{n}}}"),
                _ => "+".to_owned(),
            };
            match (token.class, &token.text) {
                (b'9', _) => out.push_str(&format!("[0-9]{quantifier}")),
                (b'A' | b'a', Some(text)) => {
                    out.push_str(&regex::escape(&String::from_utf8_lossy(text)));
                }
                (b'A', None) => out.push_str(&format!("[A-Z]{quantifier}")),
                (b'a', None) => out.push_str(&format!("[a-z]{quantifier}")),
                (literal, _) => out.push_str(&regex::escape(&(literal as char).to_string())),
            }
        }
        out.push('$');
        Some(out)
    }
}

/// Compiled layouts, in the order of [`LAYOUTS`].
fn layouts() -> Vec<TemporalFormat> {
    LAYOUTS
        .iter()
        .map(|&(text, kind)| TemporalFormat::compile(text, kind).expect("built-in layouts compile"))
        .collect()
}

#[derive(Default)]
struct ColumnProfile {
    /// Nulls by the fixed rule (empty text, a given null value, JSON null, Arrow null).
    nulls: u64,
    /// Texts that are neither null nor a marker.
    values: u64,
    /// Marker texts seen (see [`MARKERS`]); nulls or values once the markers are chosen.
    markers: BTreeMap<String, u64>,
    int: u64,
    float: u64,
    boolean: u64,
    date: u64,
    datetime: u64,
    time: u64,
    /// Values each of [`LAYOUTS`] reads.
    layouts: Vec<u64>,
    int_min: Option<i64>,
    int_max: Option<i64>,
    float_min: Option<f64>,
    float_max: Option<f64>,
    min_len: Option<usize>,
    max_len: Option<usize>,
    small: BTreeMap<String, u64>,
    small_overflow: bool,
    hashes: HashSet<u128>,
    ints: HashSet<i64>,
    distinct_overflow: bool,
    repeated: bool,
    int_repeated: bool,
    shape: Shape,
    /// Some value was a JSON object or array (checked as its JSON text).
    nested: bool,
    /// JSON values that were objects, and those that were not (nulls apart).
    objects: u64,
    not_objects: u64,
    /// A dotted path to a value inside an object (`payer.msisdn`), not a key of the records.
    inside: bool,
}

impl ColumnProfile {
    fn new() -> Self {
        ColumnProfile {
            layouts: vec![0; LAYOUTS.len()],
            ..ColumnProfile::default()
        }
    }

    /// Rows that reached this column (the others lack it: nulls).
    fn observed(&self) -> u64 {
        self.nulls + self.values + self.markers.values().sum::<u64>()
    }

    fn add(&mut self, text: &[u8], layouts: &[TemporalFormat]) {
        let before = self.values;
        self.values += 1;
        // A parser that failed once can never make the column all of its type: skip it.
        let alive = |n: u64| n == before;
        if alive(self.int) {
            if let Some(v) = parse::parse_int(text) {
                self.int += 1;
                self.int_min = Some(self.int_min.map_or(v, |m| m.min(v)));
                self.int_max = Some(self.int_max.map_or(v, |m| m.max(v)));
                if !self.distinct_overflow && !self.ints.insert(v) {
                    self.int_repeated = true;
                }
            }
        }
        if alive(self.float) {
            if let Some(v) = parse::parse_float(text) {
                self.float += 1;
                self.float_min = Some(self.float_min.map_or(v, |m| m.min(v)));
                self.float_max = Some(self.float_max.map_or(v, |m| m.max(v)));
            }
        }
        if alive(self.boolean) {
            self.boolean += u64::from(parse::parse_bool(text).is_some());
        }
        if alive(self.date) {
            self.date += u64::from(parse::parse_date_iso(text).is_some());
        }
        if alive(self.datetime) {
            self.datetime += u64::from(parse::parse_datetime_iso(text).is_some());
        }
        if alive(self.time) {
            self.time += u64::from(parse::parse_time_iso(text).is_some());
        }
        for (count, layout) in self.layouts.iter_mut().zip(layouts) {
            if *count == before && layout.parse(text).is_some() {
                *count += 1;
            }
        }
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
        if !self.distinct_overflow {
            if !self.hashes.insert(xxhash_rust::xxh3::xxh3_128(text)) {
                self.repeated = true;
            }
            if self.hashes.len() > DISTINCT_LIMIT {
                self.distinct_overflow = true;
                self.hashes.clear();
                self.ints.clear();
            }
        }
        self.shape.add(text);
    }

    /// The type of the non-null, non-marker values, and the layout it is read with.
    fn typed(&self) -> (&'static str, Option<usize>) {
        let all = |n: u64| self.values > 0 && n == self.values;
        let layout = |kind: TemporalKind| {
            (0..LAYOUTS.len()).find(|&i| LAYOUTS[i].1 == kind && all(self.layouts[i]))
        };
        // An 8-digit column that is every time a real yyyymmdd date is a date.
        let compact = LAYOUTS.iter().position(|l| l.0 == "%Y%m%d");
        if all(self.int) {
            if let Some(i) = compact.filter(|&i| all(self.layouts[i])) {
                return ("date", Some(i));
            }
            return ("int", None);
        }
        if all(self.float) {
            return ("float", None);
        }
        if all(self.boolean) {
            return ("bool", None);
        }
        if all(self.date) {
            return ("date", None);
        }
        if let Some(i) = layout(TemporalKind::Date) {
            return ("date", Some(i));
        }
        if all(self.datetime) {
            return ("datetime", None);
        }
        if let Some(i) = layout(TemporalKind::DateTime) {
            return ("datetime", Some(i));
        }
        if all(self.time) {
            return ("time", None);
        }
        ("str", None)
    }

    /// Other layouts of the same kind that also read every value (day/month order unknown).
    fn ambiguous(&self, chosen: usize) -> Vec<&'static str> {
        (0..LAYOUTS.len())
            .filter(|&i| {
                i != chosen
                    && LAYOUTS[i].1 == LAYOUTS[chosen].1
                    && self.layouts[i] == self.values
                    && self.values > 0
            })
            .map(|i| LAYOUTS[i].0)
            .collect()
    }
}

/// How nulls are told apart while reading.
enum NullRule {
    /// `""` is null; marker texts are set aside and decided at the end.
    Detect,
    /// Exactly these texts are null (the user's `--null-values`).
    Given(Vec<Vec<u8>>),
}

struct Profiler {
    names: Vec<String>,
    /// Columns by name; a path inside objects by its name after a NUL (a key may have dots).
    index: HashMap<String, usize>,
    /// Some JSON key had a dot (a dotted path could then mean two values), or the objects held
    /// more than [`INSIDE_PATHS`] paths: paths inside objects are not drafted.
    dotted_key: bool,
    many_paths: bool,
    inside_paths: usize,
    columns: Vec<ColumnProfile>,
    layouts: Vec<TemporalFormat>,
    rows: u64,
    limit: Option<u64>,
    sampled: bool,
    malformed: u64,
    examples: Vec<Json>,
    nulls: NullRule,
    scratch: Vec<u8>,
}

impl Profiler {
    fn new(options: &ProfileOptions) -> Profiler {
        Profiler {
            names: Vec::new(),
            index: HashMap::new(),
            dotted_key: false,
            many_paths: false,
            inside_paths: 0,
            columns: Vec::new(),
            layouts: layouts(),
            rows: 0,
            limit: options.sample_rows,
            sampled: false,
            malformed: 0,
            examples: Vec::new(),
            nulls: match &options.null_values {
                None => NullRule::Detect,
                Some(given) => {
                    NullRule::Given(given.iter().map(|s| s.as_bytes().to_vec()).collect())
                }
            },
            scratch: Vec::new(),
        }
    }

    fn column(&mut self, name: &str) -> usize {
        self.column_at(name, name)
    }

    /// The column of `name`, found by `key` in the index.
    fn column_at(&mut self, key: &str, name: &str) -> usize {
        if let Some(&index) = self.index.get(key) {
            return index;
        }
        self.names.push(name.to_owned());
        self.columns.push(ColumnProfile::new());
        self.index.insert(key.to_owned(), self.columns.len() - 1);
        self.columns.len() - 1
    }

    /// Whether the row in hand may be read; when the sample is full, notes that it cut the data
    /// short (there was another row).
    fn room(&mut self) -> bool {
        if self.limit.is_some_and(|limit| self.rows >= limit) {
            self.sampled = true;
            return false;
        }
        true
    }

    /// A value of `column`; `None` is a null without text (JSON null, Arrow null).
    fn value(&mut self, column: usize, text: Option<&[u8]>) {
        let profile = &mut self.columns[column];
        let Some(text) = text else {
            profile.nulls += 1;
            return;
        };
        match &self.nulls {
            NullRule::Given(nulls) if nulls.iter().any(|n| n.as_slice() == text) => {
                profile.nulls += 1;
            }
            NullRule::Detect if text.is_empty() => profile.nulls += 1,
            NullRule::Detect if MARKERS.iter().any(|m| m.as_bytes() == text) => {
                *profile
                    .markers
                    .entry(String::from_utf8_lossy(text).into_owned())
                    .or_insert(0) += 1;
            }
            _ => profile.add(text, &self.layouts),
        }
    }

    fn malformed(&mut self, source: &str, line: Option<u64>, reason: String) {
        self.malformed += 1;
        if self.examples.len() < MALFORMED_EXAMPLES {
            self.examples
                .push(json!({"source": source, "line": line, "reason": reason}));
        }
    }

    /// Feed one block's rows (as the engine's readers split them) to the columns `fields`.
    fn rows(&mut self, rows: &Rows, buf: &[u8], fields: &[usize], source: &str, line: Option<u64>) {
        for row in 0..rows.len() {
            if !self.room() {
                return;
            }
            let at = line.zip(rows.line(row)).map(|(base, offset)| base + offset);
            if let Some(broken) = rows.broken(row) {
                let reason = match broken {
                    Broken::FieldCount(n) => {
                        format!("{n} fields where the header has {}", fields.len())
                    }
                    Broken::Malformed(why) => why.clone(),
                    Broken::Csv { code, field } => format!("{code} in field {}", field + 1),
                };
                self.malformed(source, at, reason);
                continue;
            }
            self.rows += 1;
            for (slot, &column) in fields.iter().enumerate() {
                let text = match rows.texts[row * rows.width + slot] {
                    TextRef::Absent => continue,
                    TextRef::Null => None,
                    TextRef::Buf(s, e) => Some(&buf[s as usize..e as usize]),
                    TextRef::Arena(s, e) => Some(&rows.arena[s as usize..e as usize]),
                };
                self.value(column, text);
            }
        }
    }

    /// One JSON record (an NDJSON line, an element of a JSON array).
    fn record(
        &mut self,
        record: std::result::Result<Json, String>,
        source: &str,
        line: Option<u64>,
    ) {
        let object = match record {
            Ok(Json::Object(object)) => object,
            Ok(_) => return self.malformed(source, line, "not a JSON object".to_owned()),
            Err(why) => return self.malformed(source, line, format!("not valid JSON: {why}")),
        };
        self.rows += 1;
        for (key, value) in &object {
            self.dotted_key |= key.contains('.');
            let column = self.column(key);
            self.json_value(column, key, value);
        }
    }

    /// A record's `value` at `path` (a key, or a dotted path inside objects), in `column`; the
    /// values inside an object too, each as its own dotted path: `validate` reads a path so
    /// when no key has a dot.
    fn json_value(&mut self, column: usize, path: &str, value: &Json) {
        let c = &mut self.columns[column];
        match value {
            Json::Null => return self.value(column, None),
            Json::Object(_) => c.objects += 1,
            _ => c.not_objects += 1,
        }
        c.nested |= value.is_object() || value.is_array();
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        crate::formats::ndjson::value_text(value, &mut text);
        self.value(column, Some(&text));
        self.scratch = text;
        if let Json::Object(inner) = value {
            for (key, value) in inner {
                self.dotted_key |= key.contains('.');
                let path = format!("{path}.{key}");
                let at = format!("\0{path}");
                if !self.index.contains_key(&at) {
                    self.many_paths |= self.inside_paths == INSIDE_PATHS;
                    if self.many_paths {
                        continue;
                    }
                    self.inside_paths += 1;
                }
                let column = self.column_at(&at, &path);
                self.columns[column].inside = true;
                self.json_value(column, &path, value);
            }
        }
    }

    /// Markers that become nulls: those never seen as data (strong ones), and those that are the
    /// only unparsed texts of a column whose other values all have a type.
    fn chosen_markers(&self) -> Vec<String> {
        let mut chosen: Vec<String> = Vec::new();
        for column in &self.columns {
            let typed = column.values > 0 && column.typed().0 != "str";
            for marker in column.markers.keys() {
                let strong = STRONG_MARKERS.contains(&marker.as_str());
                if (typed || strong) && !chosen.contains(marker) {
                    chosen.push(marker.clone());
                }
            }
        }
        // In the order of MARKERS, so the output is stable.
        chosen.sort_by_key(|m| MARKERS.iter().position(|k| k == m));
        chosen
    }

    fn finish(self, sources: &[String], format: Format, delimiter: &str, header: bool) -> Json {
        let chosen = self.chosen_markers();
        let null_values: Vec<String> = match &self.nulls {
            NullRule::Given(given) => given
                .iter()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .collect(),
            NullRule::Detect => std::iter::once(String::new())
                .chain(chosen.iter().cloned())
                .collect(),
        };
        // Paths inside objects are drafted when no key had a dot. An object then needs no column
        // of its own once a path under it has one (`strict` knows its key as the path's head).
        let inside: Vec<&str> = (self.names.iter().zip(&self.columns))
            .filter(|(_, c)| c.inside)
            .map(|(name, _)| name.as_str())
            .collect();
        let drafted = |name: &str, c: &ColumnProfile| {
            if self.dotted_key || self.many_paths {
                return !c.inside;
            }
            let holder = c.objects > 0 && c.not_objects == 0;
            let under = |path: &&str| path.strip_prefix(name).is_some_and(|r| r.starts_with('.'));
            !(holder && inside.iter().any(under))
        };
        let mut keys = Vec::new();
        let columns: Vec<Json> = self
            .names
            .iter()
            .zip(&self.columns)
            .filter(|(name, c)| drafted(name, c))
            .map(|(name, c)| {
                let marker_nulls: u64 = c
                    .markers
                    .iter()
                    .filter(|(m, _)| chosen.contains(m))
                    .map(|(_, n)| n)
                    .sum();
                let data_markers: Vec<(&String, &u64)> = c
                    .markers
                    .iter()
                    .filter(|(m, _)| !chosen.contains(m))
                    .collect();
                let nulls = c.nulls + marker_nulls + (self.rows - c.observed().min(self.rows));
                let (mut dtype, mut layout) = c.typed();
                if !data_markers.is_empty() || c.nested {
                    (dtype, layout) = ("str", None);
                }
                let numeric = matches!(dtype, "int" | "float");
                let (min, max) = match dtype {
                    "int" => (json!(c.int_min), json!(c.int_max)),
                    "float" => (json!(c.float_min), json!(c.float_max)),
                    _ => (Json::Null, Json::Null),
                };
                let distinct = if c.distinct_overflow {
                    Json::Null
                } else if dtype == "int" {
                    json!(c.ints.len())
                } else {
                    json!(c.hashes.len() + data_markers.len())
                };
                let repeated = if dtype == "int" {
                    c.int_repeated
                } else {
                    c.repeated
                };
                let unique = !c.distinct_overflow
                    && !repeated
                    && data_markers.is_empty()
                    && c.values > 1
                    && nulls == 0
                    && matches!(dtype, "int" | "str");
                if unique {
                    keys.push(name.clone());
                }
                let top = if c.small_overflow
                    || c.nested
                    || c.small.len() + data_markers.len() > TOP_LIMIT
                {
                    Json::Null
                } else {
                    let mut values: Vec<&String> = c
                        .small
                        .keys()
                        .chain(data_markers.iter().map(|(m, _)| *m))
                        .collect();
                    values.sort();
                    if values.is_empty() {
                        Json::Null
                    } else {
                        json!(values)
                    }
                };
                let (min_len, max_len) =
                    data_markers
                        .iter()
                        .fold((c.min_len, c.max_len), |(lo, hi), (m, _)| {
                            let n = m.chars().count();
                            (
                                Some(lo.map_or(n, |l| l.min(n))),
                                Some(hi.map_or(n, |h| h.max(n))),
                            )
                        });
                let pattern =
                    if dtype == "str" && data_markers.is_empty() && !c.nested && c.values > 1 {
                        c.shape.pattern()
                    } else {
                        None
                    };
                json!({
                    "name": name,
                    "dtype": dtype,
                    "format": layout.map(|i| LAYOUTS[i].0),
                    "ambiguous_formats": layout.map(|i| c.ambiguous(i)).unwrap_or_default(),
                    "null_count": nulls,
                    "distinct_count": distinct,
                    "unique": unique,
                    "min": if numeric { min } else { Json::Null },
                    "max": if numeric { max } else { Json::Null },
                    "min_length": if dtype == "str" { json!(min_len) } else { Json::Null },
                    "max_length": if dtype == "str" { json!(max_len) } else { Json::Null },
                    "top_values": if matches!(dtype, "str" | "int") { top } else { Json::Null },
                    "pattern": pattern,
                    "nested": c.nested,
                })
            })
            .collect();
        json!({
            "rows": self.rows,
            "sources": sources,
            "format": format.name(),
            "delimiter": (format == Format::Csv).then_some(delimiter),
            "header": header,
            "null_values": null_values,
            "sampled": self.sampled,
            "sample_rows": self.limit,
            "malformed_rows": self.malformed,
            "malformed": self.examples,
            "candidate_keys": keys,
            "columns": columns,
        })
    }
}

/// The delimiter among `,` `;` tab `|` that splits the first records of `head` into the same
/// number (more than one) of fields; the widest wins, `,` when none does.
fn sniff_delimiter(head: &[u8], eof: bool) -> u8 {
    let start = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut best: Option<(bool, usize, usize, u8)> = None;
    for delimiter in [b',', b';', b'\t', b'|'] {
        let parser = Parser::new(Dialect {
            delimiter,
            quote: b'"',
        });
        let mut widths = Vec::new();
        let mut fields = Vec::new();
        let mut record = RecordSpan::default();
        let mut pos = start;
        while widths.len() < SNIFF_RECORDS {
            match parser.next_record(head, pos, eof, &mut fields, &mut record) {
                Step::Record => {
                    widths.push(fields.len());
                    pos = record.next;
                }
                Step::End { .. } | Step::Incomplete { .. } => break,
            }
        }
        let Some(&width) = widths.first() else {
            continue;
        };
        if width < 2 {
            continue;
        }
        let agreeing = widths.iter().filter(|&&w| w == width).count();
        let score = (agreeing == widths.len(), agreeing, width, delimiter);
        let better = best.is_none_or(|b| (score.0, score.1, score.2) > (b.0, b.1, b.2));
        if better {
            best = Some(score);
        }
    }
    best.map_or(b',', |b| b.3)
}

fn one_byte(option: &str, text: &str) -> Result<u8> {
    match text.as_bytes() {
        [byte] if *byte != b'"' && *byte != b'\n' && *byte != b'\r' => Ok(*byte),
        _ => Err(Error::option(
            option,
            format!("{text:?} is not a single-byte delimiter"),
        )),
    }
}

/// Read up to `n` bytes (fewer only at the end of the stream).
fn read_up_to(reader: &mut dyn Read, n: usize, path: &str) -> Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n);
    reader
        .take(n as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::storage("read", path, e))?;
    Ok(head)
}

fn identity_layout(names: &[String]) -> SourceLayout {
    SourceLayout {
        field_of: (0..names.len()).map(Some).collect(),
        width: names.len(),
        names: names.to_vec(),
        missing: Vec::new(),
        unknown: Vec::new(),
        in_order: true,
        iso_text: vec![false; names.len()],
    }
}

/// The delimiter the spec should name (`Config.delimiter`), given what a source reads with: the
/// engine reads `.tsv` / `.tab` files with tabs when the spec keeps the default `,`.
fn spec_delimiter(kind: SourceKind, effective: u8) -> u8 {
    if kind.tab_separated && effective == b'\t' {
        b','
    } else {
        effective
    }
}

fn profile_csv(
    profiler: &mut Profiler,
    object: &SourceObject,
    kind: SourceKind,
    storage: &Storage,
    init: &ProfileOptions,
    chunk_size: usize,
) -> Result<u8> {
    let path = object.uri.as_str();
    let counter = ReadCounter::default();
    let (mut stream, _) = crate::formats::open_text(path, storage.open(object)?, &counter)?;
    let head = read_up_to(&mut stream, SNIFF_BYTES, path)?;
    let delimiter = match &init.delimiter {
        Some(given) => {
            let byte = one_byte("delimiter", given)?;
            if kind.tab_separated && byte == b',' {
                b'\t'
            } else {
                byte
            }
        }
        None => sniff_delimiter(&head, head.len() < SNIFF_BYTES),
    };
    let parser = Parser::new(Dialect {
        delimiter,
        quote: b'"',
    });
    let stream: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head).chain(stream));
    let mut reader = BlockReader::from_reader(path, stream, chunk_size);
    let (names, mut line) = if init.header {
        match reader.header(&parser)? {
            Some(header) => (header.names, header.next_line),
            None => return Ok(delimiter),
        }
    } else {
        (Vec::new(), 1)
    };
    let mut layout = (!names.is_empty()).then(|| identity_layout(&names));
    let mut fields: Vec<usize> = names.iter().map(|n| profiler.column(n)).collect();
    let mut rows = Rows::default();
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    while let Some(block) = reader.next_block()? {
        let mut buf = std::mem::take(&mut carry);
        buf.extend_from_slice(&block.buf);
        if first && !init.header && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
        }
        first = false;
        if layout.is_none() {
            // Without a header the first record's width names the columns.
            let mut spans = Vec::new();
            let mut record = RecordSpan::default();
            if let Step::Record = parser.next_record(&buf, 0, block.eof, &mut spans, &mut record) {
                let generated: Vec<String> =
                    (1..=spans.len()).map(|i| format!("column_{i}")).collect();
                fields = generated.iter().map(|n| profiler.column(n)).collect();
                layout = Some(identity_layout(&generated));
            } else if !block.eof {
                carry = buf;
                continue;
            } else {
                break;
            }
        }
        let layout_ref = layout.as_ref().expect("set above");
        rows.clear();
        let parse = parse_rows(&parser, layout_ref, &buf, block.eof, &mut rows);
        profiler.rows(&rows, &buf, &fields, path, Some(line));
        if profiler.sampled {
            break;
        }
        line += parse.line_breaks;
        match parse.end {
            BlockEnd::Clean => {}
            BlockEnd::Incomplete { record_start } => carry = buf[record_start..].to_vec(),
            BlockEnd::Unterminated { line_offset, .. } => profiler.malformed(
                path,
                Some(line + line_offset),
                "a quoted field is never closed".to_owned(),
            ),
        }
    }
    Ok(delimiter)
}

fn profile_json(
    profiler: &mut Profiler,
    object: &SourceObject,
    storage: &Storage,
    chunk_size: usize,
) -> Result<()> {
    let path = object.uri.as_str();
    let counter = ReadCounter::default();
    let (stream, _) = crate::formats::open_text(path, storage.open(object)?, &counter)?;
    let mut reader = BlockReader::from_reader(path, stream, chunk_size);
    let mut line = 1u64;
    let mut array: Option<Vec<u8>> = None;
    while let Some(block) = reader.next_block()? {
        if let Some(document) = &mut array {
            document.extend_from_slice(&block.buf);
            continue;
        }
        if line == 1 && block.buf.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            // A `.json` file holding one array of objects.
            array = Some(block.buf);
            continue;
        }
        let buf = block.buf;
        let mut stop = false;
        let parse = crate::formats::ndjson::lines(&buf, |start, end, _, offset| {
            if stop || !profiler.room() {
                stop = true;
                return;
            }
            let record =
                serde_json::from_slice::<Json>(&buf[start..end]).map_err(|e| e.to_string());
            profiler.record(record, path, Some(line + offset));
        });
        if stop {
            return Ok(());
        }
        line += parse.line_breaks;
    }
    if let Some(document) = array {
        match serde_json::from_slice::<Json>(&document) {
            Ok(Json::Array(items)) => {
                for item in items {
                    if !profiler.room() {
                        break;
                    }
                    profiler.record(Ok(item), path, None);
                }
            }
            Ok(_) => profiler.malformed(path, Some(1), "not a JSON array".to_owned()),
            Err(e) => {
                return Err(Error::data(
                    "json",
                    format!("not a valid JSON array: {e}"),
                    Position {
                        path: Some(path.to_owned()),
                        line: Some(e.line() as u64),
                        ..Position::default()
                    },
                ))
            }
        }
    }
    Ok(())
}

fn profile_parquet(
    profiler: &mut Profiler,
    object: &SourceObject,
    storage: &Storage,
) -> Result<()> {
    // Parquet needs random access: an S3 object is downloaded once, as validate does.
    let local = storage.local_copy(object)?;
    let local_path = local.path.display().to_string();
    let (names, _, group_rows) = crate::formats::parquet::describe(&local_path)?;
    let fields: Vec<usize> = names.iter().map(|n| profiler.column(n)).collect();
    let layout = identity_layout(&names);
    let mut rows = Rows::default();
    for row_group in 0..group_rows.len() {
        for batch in crate::formats::parquet::read_row_group(&local_path, row_group)? {
            rows.clear();
            // Floats are read as an int column would read them, so a pandas int column with a
            // NaN (float64 holding 181.0) profiles as int, as validate then accepts it.
            let dtypes: Vec<DType> = batch
                .schema()
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    t if t.is_floating() => DType::Int,
                    _ => DType::Str,
                })
                .collect();
            let reading = crate::formats::arrow::Reading {
                dtypes: &dtypes,
                typed: false,
            };
            crate::formats::arrow::append_batch(
                &object.uri,
                &batch,
                &layout,
                reading,
                |f| f,
                &mut rows,
            )?;
            profiler.rows(&rows, &[], &fields, &object.uri, None);
            if profiler.sampled {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Profile sources; returns the profile JSON (see `docs/cli.md`, `pyrustpipe init`).
pub fn profile(sources: &[String], options: &Options, init: &ProfileOptions) -> Result<String> {
    let s3_options = crate::storage::s3::S3Options::from_map(options.storage_options.as_ref())?;
    let storage = Storage::new(s3_options, false);
    let objects = storage.expand(sources)?;
    let chunk_size = options.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
    let mut profiler = Profiler::new(init);
    let mut format: Option<Format> = None;
    let mut delimiter: Option<u8> = None;
    for object in &objects {
        if profiler.sampled {
            break;
        }
        let kind = crate::formats::detect(&object.uri);
        if format.is_some_and(|f| f != kind.format) {
            return Err(Error::data(
                "mixed_formats",
                format!(
                    "this source is {} but the first one is {}; profile them separately",
                    kind.format.name(),
                    format.map_or("", Format::name)
                ),
                Position::in_source(object.uri.clone()),
            ));
        }
        format = Some(kind.format);
        match kind.format {
            Format::Parquet => profile_parquet(&mut profiler, object, &storage)?,
            Format::Ndjson => profile_json(&mut profiler, object, &storage, chunk_size)?,
            Format::Csv | Format::Arrow => {
                let read_with =
                    profile_csv(&mut profiler, object, kind, &storage, init, chunk_size)?;
                let wanted = spec_delimiter(kind, read_with);
                if delimiter.is_some_and(|d| d != wanted) {
                    return Err(Error::data(
                        "mixed_delimiters",
                        format!(
                            "this source is split by {:?} but the first one by {:?}; profile them separately",
                            wanted as char,
                            delimiter.map_or(',', |d| d as char)
                        ),
                        Position::in_source(object.uri.clone()),
                    ));
                }
                delimiter = Some(wanted);
            }
        }
    }
    let uris: Vec<String> = objects.iter().map(|o| o.uri.clone()).collect();
    let delimiter = (delimiter.unwrap_or(b',') as char).to_string();
    let mut result = profiler.finish(
        &uris,
        format.unwrap_or(Format::Csv),
        &delimiter,
        init.header,
    );
    withhold_sensitive(&mut result, &init.sensitive)?;
    Ok(result.to_string())
}

/// A sensitive column's profile keeps its shape (type, counts, lengths, pattern) but none of its
/// values: a draft rule built from a token would be meaningless, so they are left out, not
/// masked. The column is marked so that the draft schema says `sensitive=True`.
fn withhold_sensitive(profile: &mut Json, sensitive: &[String]) -> Result<()> {
    let Some(columns) = profile["columns"].as_array_mut() else {
        return Ok(());
    };
    for name in sensitive {
        let column = columns
            .iter_mut()
            .find(|c| c["name"] == name.as_str())
            .ok_or_else(|| {
                Error::option("sensitive", format!("the data has no column {name:?}"))
            })?;
        for key in ["min", "max", "top_values"] {
            column[key] = Json::Null;
        }
        column["sensitive"] = Json::Bool(true);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile_text(name: &str, text: &[u8], init: &ProfileOptions) -> Json {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = profile(&[path.display().to_string()], &Options::default(), init).unwrap();
        serde_json::from_str(&out).unwrap()
    }

    fn column<'a>(profile: &'a Json, name: &str) -> &'a Json {
        profile["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no column {name}: {profile}"))
    }

    #[test]
    fn delimiters_are_sniffed() {
        let cases: [(&[u8], &str); 5] = [
            (b"a,b\n1,2\n", ","),
            (b"a;b;c\n1,5;2;x\n3,5;4;y\n", ";"),
            (b"a\tb\n1\t2\n", "\t"),
            (b"a|b\n\"x|y\"|2\n", "|"),
            (b"only\n1\n", ","),
        ];
        for (text, expected) in cases {
            let p = profile_text("t.csv", text, &ProfileOptions::default());
            assert_eq!(
                p["delimiter"],
                expected,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
        // A .tsv is read with tabs by default, so the spec keeps the default delimiter.
        let p = profile_text("t.tsv", b"a\tb\n1\t2\n", &ProfileOptions::default());
        assert_eq!(p["delimiter"], ",");
        assert_eq!(column(&p, "b")["dtype"], "int");
    }

    #[test]
    fn null_markers_only_where_they_are_the_odd_ones_out() {
        let text = b"n,s,k,t\n1,NA,-,x\nNA,a,-,y\n3,b,-,NULL\n";
        let p = profile_text("t.csv", text, &ProfileOptions::default());
        assert_eq!(p["null_values"], json!(["", "NA", "NULL"]));
        let n = column(&p, "n");
        assert_eq!(
            (n["dtype"].as_str(), n["null_count"].as_u64()),
            (Some("int"), Some(1))
        );
        // "NA" is null everywhere once chosen; "-" is the only value of k, so it stays data.
        assert_eq!(column(&p, "s")["null_count"], 1);
        assert_eq!(column(&p, "s")["top_values"], json!(["a", "b"]));
        assert_eq!(column(&p, "k")["dtype"], "str");
        assert_eq!(column(&p, "k")["top_values"], json!(["-"]));
        assert_eq!(column(&p, "t")["null_count"], 1);
        // Given null values are used as they are.
        let given = ProfileOptions {
            null_values: Some(vec!["NA".to_owned()]),
            ..ProfileOptions::default()
        };
        let p = profile_text("t.csv", b"n\n1\nNA\n\n2\n", &given);
        assert_eq!(p["null_values"], json!(["NA"]));
        assert_eq!(column(&p, "n")["dtype"], "int");
    }

    /// Data, the dtype and format proposed, and the notes expected.
    type DateCase<'a> = (&'a [u8], &'a str, Option<&'a str>, Vec<&'a str>);

    #[test]
    fn dates_with_layouts() {
        let cases: [DateCase<'_>; 6] = [
            (b"d\n2024-01-31\n2024-02-01\n", "date", None, vec![]),
            (
                b"d\n31/01/2024\n01/02/2024\n",
                "date",
                Some("%d/%m/%Y"),
                vec![],
            ),
            (
                b"d\n01/31/2024\n02/01/2024\n",
                "date",
                Some("%m/%d/%Y"),
                vec![],
            ),
            (
                b"d\n01/02/2024\n03/04/2024\n",
                "date",
                Some("%d/%m/%Y"),
                vec!["%m/%d/%Y"],
            ),
            (b"d\n20240131\n20231201\n", "date", Some("%Y%m%d"), vec![]),
            (
                b"d\n31.01.2024 10:00:00\n01.02.2024 23:59:59\n",
                "datetime",
                Some("%d.%m.%Y %H:%M:%S"),
                vec![],
            ),
        ];
        for (text, dtype, format, ambiguous) in cases {
            let p = profile_text("t.csv", text, &ProfileOptions::default());
            let d = column(&p, "d");
            assert_eq!(d["dtype"], dtype, "{d}");
            assert_eq!(d["format"], json!(format), "{d}");
            assert_eq!(d["ambiguous_formats"], json!(ambiguous), "{d}");
        }
    }

    #[test]
    fn patterns_never_copy_digits() {
        let cases: [(&[&str], Option<&str>); 6] = [
            (&["TX-0001", "TX-0932"], Some(r"^TX\-[0-9]{4}$")),
            (
                &["01/01/20x", "09/03/20x"],
                Some(r"^[0-9]{2}/[0-9]{2}/[0-9]{2}x$"),
            ),
            (&["AB12", "CD345"], Some("^[A-Z]{2}[0-9]+$")),
            (&["Adelie", "Gentoo"], None),
            (&["a 1", "b-2"], None),
            (&["x1", "x1"], Some("^x[0-9]$")),
        ];
        for (values, expected) in cases {
            let mut shape = Shape::default();
            for v in values {
                shape.add(v.as_bytes());
            }
            assert_eq!(shape.pattern().as_deref(), expected, "{values:?}");
            if let Some(p) = expected {
                let re = regex::Regex::new(p).unwrap();
                assert!(values.iter().all(|v| re.is_match(v)));
            }
        }
    }

    #[test]
    fn ndjson_keys_and_malformed_lines() {
        let text = b"{\"id\":1,\"a\":{\"x\":1}}\n{\"id\":2,\"b\":\"NA\"}\nnot json\n[1]\n{\"id\":3,\"b\":null}\n";
        let p = profile_text("t.ndjson", text, &ProfileOptions::default());
        assert_eq!(p["rows"], 3);
        assert_eq!(p["malformed_rows"], 2);
        assert_eq!(p["malformed"][0]["line"], 3);
        let id = column(&p, "id");
        assert_eq!(
            (id["dtype"].as_str(), id["unique"].as_bool()),
            (Some("int"), Some(true))
        );
        let a_x = column(&p, "a.x");
        assert_eq!(
            (a_x["dtype"].as_str(), a_x["null_count"].as_u64()),
            (Some("int"), Some(2))
        );
        assert_eq!(column(&p, "b")["null_count"], 2);
        let p = profile_text(
            "t.json",
            b"[{\"id\": 1}, {\"id\": 2.5}]",
            &ProfileOptions::default(),
        );
        assert_eq!(
            (p["rows"].as_u64(), column(&p, "id")["dtype"].as_str()),
            (Some(2), Some("float"))
        );
    }

    /// The drafted columns' names.
    fn names(p: &Json) -> Vec<&str> {
        (p["columns"].as_array().unwrap().iter())
            .map(|c| c["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn values_inside_objects_are_drafted_as_dotted_paths() {
        let options = ProfileOptions::default();
        // An object's values at every depth; an object with paths under it needs no column.
        let p = profile_text(
            "t.ndjson",
            b"{\"p\": {\"m\": \"a\", \"g\": {\"lat\": 1.5}}}\n{\"p\": null}\n{\"p\": {}}\n",
            &options,
        );
        assert_eq!(names(&p), ["p.g.lat", "p.m"]);
        let lat = column(&p, "p.g.lat");
        assert_eq!(
            (lat["dtype"].as_str(), lat["null_count"].as_u64()),
            (Some("float"), Some(2))
        );
        // A key whose values are objects and something else keeps its column (JSON text).
        let p = profile_text("t.ndjson", b"{\"p\": {\"m\": 1}}\n{\"p\": 7}\n", &options);
        assert_eq!(names(&p), ["p", "p.m"]);
        assert_eq!(column(&p, "p")["nested"], true);
        // Only empty objects: nothing under them, the key keeps its column.
        let p = profile_text("t.ndjson", b"{\"p\": {}}\n", &options);
        assert_eq!(names(&p), ["p"]);
        // A key with a dot: a path could mean two values, so no paths inside objects.
        let map: String = (0..=INSIDE_PATHS)
            .map(|n| format!("{{\"p\": {{\"{n}\": 1}}}}\n"))
            .collect();
        let cases: [(&[u8], &[&str]); 3] = [
            // More paths than a schema would name: the objects are maps.
            (map.as_bytes(), &["p"]),
            (b"{\"p\": {\"m\": 1}, \"p.m\": 2}\n", &["p", "p.m"]),
            (b"{\"p\": {\"m.n\": 1}}\n", &["p"]),
        ];
        for (text, drafted) in cases {
            let p = profile_text("t.ndjson", text, &options);
            assert_eq!(names(&p), drafted);
            assert_eq!(column(&p, "p")["nested"], true);
        }
    }

    #[test]
    fn samples_stop_early_and_say_so() {
        let init = ProfileOptions {
            sample_rows: Some(2),
            ..ProfileOptions::default()
        };
        let p = profile_text("t.csv", b"a\n1\n2\n3\n", &init);
        assert_eq!(
            (p["rows"].as_u64(), p["sampled"].as_bool()),
            (Some(2), Some(true))
        );
        let p = profile_text("t.csv", b"a\n1\n2\n", &init);
        assert_eq!(
            (p["rows"].as_u64(), p["sampled"].as_bool()),
            (Some(2), Some(false))
        );
    }

    #[test]
    fn no_header_names_columns() {
        let init = ProfileOptions {
            header: false,
            ..ProfileOptions::default()
        };
        let p = profile_text("t.csv", b"1;x\n2;y\n", &init);
        assert_eq!(p["rows"], 2);
        assert_eq!(column(&p, "column_1")["dtype"], "int");
        assert_eq!(column(&p, "column_2")["dtype"], "str");
    }

    #[test]
    fn field_count_mismatch_is_malformed() {
        let p = profile_text("t.csv", b"a,b\n1,2\n3\n4,5\n", &ProfileOptions::default());
        assert_eq!(
            (p["rows"].as_u64(), p["malformed_rows"].as_u64()),
            (Some(2), Some(1))
        );
        assert_eq!(p["malformed"][0]["line"], 3);
    }

    #[test]
    fn int_ranges_keep_every_digit() {
        let p = profile_text(
            "t.csv",
            b"a\n9007199254740993\n1\n",
            &ProfileOptions::default(),
        );
        assert_eq!(column(&p, "a")["max"], json!(9_007_199_254_740_993_i64));
    }

    #[test]
    fn binary_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, b"PK\x03\x04rest of a zip").unwrap();
        let err = profile(
            &[path.display().to_string()],
            &Options::default(),
            &ProfileOptions::default(),
        );
        assert!(err.is_err());
    }

    #[test]
    fn sensitive_columns_keep_their_shape_but_not_their_values() {
        let init = ProfileOptions {
            sensitive: vec!["phone".to_owned()],
            ..ProfileOptions::default()
        };
        let text = b"id,phone\n1,+256772000111\n2,+256772000222\n3,+256772000111\n";
        let p = profile_text("p.csv", text, &init);
        assert!(!p.to_string().contains("256772000"), "{p}");
        assert_eq!(column(&p, "phone")["sensitive"], json!(true));
        assert_eq!(column(&p, "phone")["distinct_count"], json!(2));
        assert_eq!(column(&p, "id")["max"], json!(3));
        let wrong = ProfileOptions {
            sensitive: vec!["phon".to_owned()],
            ..ProfileOptions::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.csv");
        std::fs::write(&path, text).unwrap();
        let error = profile(&[path.display().to_string()], &Options::default(), &wrong);
        assert!(error.unwrap_err().to_string().contains("phon"));
    }
}
