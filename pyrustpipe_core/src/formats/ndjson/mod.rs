//! NDJSON: one JSON object per line (and `.json` files holding one array of objects, read as
//! if each element were a line). A raw newline cannot occur inside a JSON string, so every line
//! break is a record boundary and blocks never need re-parsing. A missing key or a JSON `null` is
//! a null; strings are checked as their text, numbers as written (every digit kept), nested
//! values are reached by dotted paths (`payer.msisdn`).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Read;

use serde_json::value::RawValue;
use serde_json::Value as Json;

use crate::check::{as_u32, Broken, Rows, TextRef};
use crate::formats::csv::block::{BlockEnd, BlockParse, RecordBytes};
use crate::plan::Plan;

mod flat;

/// Lines of a block: `(start, end without the line break, next)`; blank lines are counted, not
/// returned.
pub(crate) fn lines(buf: &[u8], mut on_line: impl FnMut(usize, usize, usize, u64)) -> BlockParse {
    let mut pos = 0;
    let mut line_index = 0u64;
    let mut blank = 0u64;
    let mut longest = 0usize;
    while pos < buf.len() {
        let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
        let next = if end < buf.len() { end + 1 } else { end };
        let mut content_end = end;
        if content_end > pos && buf[content_end - 1] == b'\r' {
            content_end -= 1;
        }
        if buf[pos..content_end].iter().all(u8::is_ascii_whitespace) {
            blank += 1;
        } else {
            longest = longest.max(content_end - pos);
            on_line(pos, content_end, next, line_index);
        }
        line_index += u64::from(end < buf.len());
        pos = next;
    }
    BlockParse {
        end: BlockEnd::Clean,
        line_breaks: line_index,
        blank_lines: blank,
        quote_garbage: 0,
        longest_record: longest,
    }
}

/// The first line of `buf` longer than `max` bytes: its start and line offset in the block.
pub(crate) fn first_longer_than(buf: &[u8], max: usize) -> Option<(usize, u64)> {
    let mut found = None;
    lines(buf, |start, end, _, line| {
        if found.is_none() && end - start > max {
            found = Some((start, line));
        }
    });
    found
}

/// A JSON object's members in source order, keys borrowed where they have no escapes, values
/// as their raw text: numbers keep every digit as written (`1.10` stays `1.10`).
struct Members<'a>(Vec<(Key<'a>, &'a RawValue)>);

#[derive(serde::Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

impl<'a> Members<'a> {
    /// The value at `path`: a key as written, or else a dotted path into nested objects
    /// (`payer.msisdn`). A repeated key means its last value, as in every JSON reader.
    fn get(&self, path: &str) -> Option<&'a RawValue> {
        if let Some((_, value)) = self.0.iter().rev().find(|(k, _)| k.0 == path) {
            return Some(value);
        }
        for (dot, _) in path.match_indices('.') {
            let (head, rest) = (&path[..dot], &path[dot + 1..]);
            let Some((_, value)) = self.0.iter().rev().find(|(k, _)| k.0 == head) else {
                continue;
            };
            if value.get().starts_with('{') {
                let inner: Members<'a> = serde_json::from_str(value.get()).ok()?;
                if let Some(found) = inner.get(rest) {
                    return Some(found);
                }
            }
        }
        None
    }
}

/// What a line that is not an object holds, for the message.
fn kind_of(line: &[u8]) -> &'static str {
    match line.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// The text a (non-null) JSON value is checked as: a string's contents, `true` / `false`, a
/// number as written by serde, anything else (an object, an array) as its JSON text.
pub fn value_text(value: &Json, out: &mut Vec<u8>) {
    match value {
        Json::String(s) => out.extend_from_slice(s.as_bytes()),
        Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Json::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
}

/// Pass 1: rows as text per plan column. Keys the schema does not name go to `unknown`.
pub fn parse_rows(
    plan: &Plan,
    buf: &[u8],
    rows: &mut Rows,
    unknown: &mut BTreeSet<String>,
) -> BlockParse {
    let width = plan.columns.len();
    rows.width = width;
    let mut flat = flat::FlatLines::new(plan, buf);
    lines(buf, |start, end, _, line| {
        rows.push_line(line);
        if flat.worth_trying() {
            let texts_at = rows.texts.len();
            let arena_at = rows.arena.len();
            rows.texts.resize(texts_at + width, TextRef::Null);
            let slots = &mut rows.texts[texts_at..];
            if flat.read(start, end, slots, &mut rows.arena).is_some() {
                for &key in flat.unknown_keys() {
                    if !unknown.contains(key) {
                        unknown.insert(key.to_owned());
                    }
                }
                return;
            }
            rows.texts.truncate(texts_at);
            rows.arena.truncate(arena_at);
        }
        read_line(plan, buf, (start, end), rows, unknown);
    })
}

/// Whether the schema names `key`: a declared column's name, or the head of one's dotted path.
fn names_key(plan: &Plan, key: &str) -> bool {
    plan.columns.iter().any(|c| {
        c.declared
            && (c.name == key
                || (c.name.strip_prefix(key)).is_some_and(|rest| rest.starts_with('.')))
    })
}

/// The general reader of a line `buf[start..end]` (its row already pushed): any JSON, each
/// column's value found by name or dotted path; a line that is not a JSON object is a broken
/// row with the parser's message.
fn read_line(
    plan: &Plan,
    buf: &[u8],
    (start, end): (usize, usize),
    rows: &mut Rows,
    unknown: &mut BTreeSet<String>,
) {
    let width = plan.columns.len();
    let text = &buf[start..end];
    let parsed = std::str::from_utf8(text)
        .map_err(|e| format!("not valid UTF-8: {e}"))
        .and_then(|line| match serde_json::from_str::<Members<'_>>(line) {
            Ok(members) => Ok((line, members)),
            Err(e) => Err(e.to_string()),
        });
    let broken = |rows: &mut Rows, reason: String| {
        rows.break_last(Broken::Malformed(reason));
        rows.texts
            .extend(std::iter::repeat_n(TextRef::Absent, width));
    };
    let (line, members) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => {
            let reason = if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
                format!("not valid JSON: {err}")
            } else if serde_json::from_slice::<serde::de::IgnoredAny>(text).is_ok() {
                format!("the line is {}, not a JSON object", kind_of(text))
            } else {
                format!("not valid JSON: {err}")
            };
            return broken(rows, reason);
        }
    };
    let base = buf.as_ptr() as usize;
    let texts_at = rows.texts.len();
    for column in &plan.columns {
        let slot = match members.get(&column.name) {
            None => TextRef::Null,
            Some(value) => {
                let raw = value.get();
                let at = raw.as_ptr() as usize - base;
                match raw.as_bytes()[0] {
                    b'n' => TextRef::Null,
                    // A string without escapes is checked where it is, quotes stripped.
                    b'"' if !raw.contains('\\') => {
                        TextRef::Buf(as_u32(at + 1), as_u32(at + raw.len() - 1))
                    }
                    b'"' => match serde_json::from_str::<String>(raw) {
                        Ok(unescaped) => {
                            let start = rows.arena.len();
                            rows.arena.extend_from_slice(unescaped.as_bytes());
                            TextRef::Arena(as_u32(start), as_u32(rows.arena.len()))
                        }
                        // An escape the syntax allows but no text holds (a lone surrogate,
                        // `"\ud800"`): the line as a whole says where.
                        Err(err) => {
                            rows.texts.truncate(texts_at);
                            let err = (serde_json::from_str::<Json>(line).err())
                                .map_or_else(|| err.to_string(), |e| e.to_string());
                            return broken(rows, format!("not valid JSON: {err}"));
                        }
                    },
                    // Numbers, booleans, objects and arrays: their text as written.
                    _ => TextRef::Buf(as_u32(at), as_u32(at + raw.len())),
                }
            }
        };
        rows.texts.push(slot);
    }
    if plan.unknown_columns_rule.is_some() {
        for (key, _) in &members.0 {
            if !names_key(plan, &key.0) {
                unknown.insert(key.0.clone().into_owned());
            }
        }
    }
}

/// The stream of a JSON-lines source, ready for the line splitter: a leading BOM is dropped,
/// and a file holding one top-level array (`[{...}, {...}]`, pretty-printed or not) is read as
/// one element per line.
pub fn open(mut stream: Box<dyn Read + Send>) -> std::io::Result<Box<dyn Read + Send>> {
    let mut head = Vec::new();
    // Enough to see past a BOM and leading whitespace to the first real byte.
    loop {
        let before = head.len();
        (&mut stream).take(4096).read_to_end(&mut head)?;
        let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
        if body.iter().any(|b| !b.is_ascii_whitespace()) || head.len() == before {
            break;
        }
    }
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let first = head[bom..].iter().position(|b| !b.is_ascii_whitespace());
    let is_array = first.is_some_and(|i| head[bom + i] == b'[');
    let rest: Box<dyn Read + Send> =
        Box::new(std::io::Cursor::new(head.split_off(bom)).chain(stream));
    if !is_array {
        return Ok(rest);
    }
    Ok(Box::new(ArrayLines {
        inner: rest,
        state: ArrayState::Before,
        in_string: false,
        escaped: false,
        depth: 0,
        input: vec![0; 64 * 1024],
    }))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// Before the opening `[`.
    Before,
    Inside,
    /// After the closing `]`: only whitespace may follow.
    After,
}

/// A top-level JSON array rewritten as lines: each element's own line breaks (outside strings,
/// where JSON allows only whitespace) become spaces, and each separating comma a line break.
struct ArrayLines {
    inner: Box<dyn Read + Send>,
    state: ArrayState,
    in_string: bool,
    escaped: bool,
    /// Nesting inside the current element.
    depth: u32,
    input: Vec<u8>,
}

impl Read for ArrayLines {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let invalid = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
        loop {
            // Each input byte makes at most one output byte.
            let want = out.len().min(self.input.len());
            if want == 0 {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input[..want])?;
            if n == 0 {
                return match self.state {
                    ArrayState::After => Ok(0),
                    _ => Err(invalid("the top-level JSON array is never closed with ]")),
                };
            }
            let mut written = 0;
            for &byte in &self.input[..n] {
                let emit = match self.state {
                    ArrayState::Before => {
                        if byte == b'[' {
                            self.state = ArrayState::Inside;
                        }
                        None
                    }
                    ArrayState::After => {
                        if !byte.is_ascii_whitespace() {
                            return Err(invalid("text after the top-level JSON array's closing ]"));
                        }
                        None
                    }
                    ArrayState::Inside if self.in_string => {
                        if self.escaped {
                            self.escaped = false;
                        } else if byte == b'\\' {
                            self.escaped = true;
                        } else if byte == b'"' {
                            self.in_string = false;
                        }
                        Some(byte)
                    }
                    ArrayState::Inside => match byte {
                        b'"' => {
                            self.in_string = true;
                            Some(byte)
                        }
                        b'{' | b'[' => {
                            self.depth += 1;
                            Some(byte)
                        }
                        b']' if self.depth == 0 => {
                            self.state = ArrayState::After;
                            Some(b'\n')
                        }
                        b'}' | b']' => {
                            self.depth = self.depth.saturating_sub(1);
                            Some(byte)
                        }
                        b',' if self.depth == 0 => Some(b'\n'),
                        b'\n' | b'\r' => Some(b' '),
                        other => Some(other),
                    },
                };
                if let Some(byte) = emit {
                    out[written] = byte;
                    written += 1;
                }
            }
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

/// Pass 2: where each record's bytes are (`end` excludes the line break).
pub fn parse_records(buf: &[u8], records: &mut Vec<RecordBytes>) -> BlockParse {
    lines(buf, |start, end, next, _| {
        records.push(RecordBytes {
            start: as_u32(start),
            end: as_u32(end),
            next: as_u32(next),
        });
    })
}

/// A quarantined line: the original object with the three `_pyrustpipe_` keys spliced in before
/// its closing brace, so every original byte is kept; a line that is not an object is kept as a
/// string under `_pyrustpipe_raw`, the last key, as the CSV quarantine's last column.
pub fn quarantine_line(raw: &[u8], errors: &[&str], row: u64, source: &str, out: &mut Vec<u8>) {
    let extra = format!(
        "\"_pyrustpipe_errors\":{},\"_pyrustpipe_row\":{row},\"_pyrustpipe_source\":{}",
        serde_json::to_string(errors).expect("names serialise"),
        serde_json::to_string(source).expect("a path serialises"),
    );
    let is_object = matches!(serde_json::from_slice::<Json>(raw), Ok(Json::Object(_)));
    if is_object {
        let close = raw
            .iter()
            .rposition(|&b| b == b'}')
            .expect("an object ends with }");
        let body = &raw[..close];
        out.extend_from_slice(body);
        let empty = body.iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !empty {
            out.push(b',');
        }
        out.extend_from_slice(extra.as_bytes());
        out.extend_from_slice(&raw[close..]);
    } else {
        let text = String::from_utf8_lossy(raw);
        out.extend_from_slice(
            format!(
                "{{{extra},\"_pyrustpipe_raw\":{}}}",
                serde_json::to_string(&text).expect("text serialises")
            )
            .as_bytes(),
        );
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn quarantine_keeps_the_original_object_bytes() {
        let mut out = Vec::new();
        quarantine_line(br#"{"a": 1, "b":"x"}"#, &["a:gt"], 3, "f.ndjson", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a\": 1, \"b\":\"x\",\"_pyrustpipe_errors\":[\"a:gt\"],\"_pyrustpipe_row\":3,\"_pyrustpipe_source\":\"f.ndjson\"}\n"
        );
        let mut out = Vec::new();
        quarantine_line(b"{}", &["x"], 1, "f", &mut out);
        assert!(out.starts_with(b"{\"_pyrustpipe_errors\""));
        let mut out = Vec::new();
        quarantine_line(b"[1,2", &["row:malformed"], 2, "f", &mut out);
        let value: Json = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["_pyrustpipe_raw"], "[1,2");
        assert!(out.ends_with(b",\"_pyrustpipe_raw\":\"[1,2\"}\n"));
    }

    fn read_all(bytes: &[u8]) -> std::io::Result<String> {
        let mut text = String::new();
        open(Box::new(std::io::Cursor::new(bytes.to_vec())))?.read_to_string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn a_bom_is_dropped_and_arrays_become_lines() {
        let cases: [(&[u8], &str); 5] = [
            (b"\xEF\xBB\xBF{\"a\":1}\n", "{\"a\":1}\n"),
            (b"{\"a\":1}\n{\"a\":2}\n", "{\"a\":1}\n{\"a\":2}\n"),
            (
                b"[\n  {\"a\": [1,\n 2], \"s\": \"x,]\\\"y\"},\n  {\"a\": 3}\n]\n",
                "   {\"a\": [1,  2], \"s\": \"x,]\\\"y\"}\n   {\"a\": 3} \n",
            ),
            (b"\xEF\xBB\xBF []", "\n"),
            (b"", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(read_all(input).unwrap(), expected, "{input:?}");
        }
    }

    #[test]
    fn a_broken_array_is_invalid_data() {
        for input in [&b"[{\"a\":1}"[..], b"[{\"a\":1}] x"] {
            let err = read_all(input).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{input:?}");
        }
    }

    fn plan(columns: &str) -> Plan {
        plan_with(columns, true)
    }

    fn plan_with(columns: &str, strict: bool) -> Plan {
        let spec = crate::spec::Spec::from_json(&format!(
            r#"{{"spec_version": 1, "strict": {strict}, "columns": [{columns}]}}"#
        ))
        .unwrap();
        Plan::compile(spec, &[]).unwrap()
    }

    /// Every slot of `rows` as what it holds: `None` for a null, `Some(None)` for a broken
    /// row's absent cell, else the text.
    fn cells(rows: &Rows, buf: &[u8]) -> Vec<Option<Option<Vec<u8>>>> {
        (rows.texts.iter())
            .map(|&slot| match slot {
                TextRef::Null => None,
                TextRef::Absent => Some(None),
                TextRef::Buf(s, e) => Some(Some(buf[s as usize..e as usize].to_vec())),
                TextRef::Arena(s, e) => Some(Some(rows.arena[s as usize..e as usize].to_vec())),
            })
            .collect()
    }

    /// What the general reader alone makes of `buf`: the rows' cells, each broken row's
    /// reason, and the unknown keys.
    type Reading = (
        Vec<Option<Option<Vec<u8>>>>,
        Vec<(usize, String)>,
        BTreeSet<String>,
    );

    fn broken_rows(rows: &Rows, count: usize) -> Vec<(usize, String)> {
        (0..count)
            .filter_map(|row| match rows.broken(row) {
                Some(Broken::Malformed(why)) => Some((row, why.clone())),
                Some(other) => Some((row, format!("{other:?}"))),
                None => None,
            })
            .collect()
    }

    fn general_reading(plan: &Plan, buf: &[u8]) -> (Reading, usize) {
        let mut rows = Rows::default();
        rows.width = plan.columns.len();
        let mut unknown = BTreeSet::new();
        let mut count = 0;
        lines(buf, |start, end, _, line| {
            rows.push_line(line);
            count += 1;
            read_line(plan, buf, (start, end), &mut rows, &mut unknown);
        });
        (
            (cells(&rows, buf), broken_rows(&rows, count), unknown),
            count,
        )
    }

    /// A value nested deeper than serde_json's recursion limit (128), which skipping a value
    /// does not count.
    const DEEP: &str = concat!(
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        "{\"k\": 1}",
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    );

    /// The pieces lines are made of: keys the plan names, heads of its dotted paths, unknown
    /// keys and escaped ones; values of every JSON kind, valid and not; spaces and separators.
    fn line_piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "\"a\":",
            "\"b\":",
            "\"payer.msisdn\":",
            "\"payer\":",
            "\"geo\":",
            "\"geo.loc\":",
            "\"t\":",
            "\"t.u\":",
            "\"extra\":",
            "\"a\\u0062\":",
            "\"\":",
            "\"pay\":",
            "\"x\" :",
            "\"a\"",
            "\"1\", \"2\"",
            "\"s\"",
            "\"s\\\"t\"",
            "\"\\u00e9\"",
            "\"\\ud800\"",
            "\"\\ud83d\\ude00\"",
            "\"\\x\"",
            "\"tab\there\"",
            "\"é ü\"",
            "\"\\\\\"",
            "1",
            "-0",
            "0.5",
            "1e400",
            "-1.5E+3",
            "01",
            "1.",
            "-",
            "true",
            "false",
            "null",
            "nul",
            "tru",
            "{}",
            "[]",
            "{\"msisdn\": \"+2547\"}",
            "{\"msisdn\": 1, \"x\": [1, {\"y\": null}]}",
            "{\"loc\": {\"lat\": 1}}",
            "{\"lat\": 2, \"lat\": \"3\"}",
            "{\"u\": \"v\", \"u\": 1, \"msisdn\": {\"x\": 1}}",
            "{\"u\" \"v\"}",
            "[1, \"a\", [true]]",
            "[1,]",
            "{\"m\": }",
            ",",
            ",",
            ",",
            " ",
            "\t",
            "\r",
            "{",
            "}",
            "]",
            ":",
            "\"",
            "fals",
            "f",
            "fxlse",
            "nulL",
            DEEP,
        ])
    }

    fn json_line() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec(line_piece(), 0..14),
            prop::bool::weighted(0.8),
            prop::sample::select(vec!["", " ", "x", "\r", "\u{1}"]),
            prop::option::weighted(0.05, 0usize..40),
        )
            .prop_map(|(pieces, object, tail, cut)| {
                let mut line = Vec::new();
                if object {
                    line.push(b'{');
                }
                line.extend(pieces.concat().bytes());
                if object {
                    line.push(b'}');
                }
                line.extend(tail.bytes());
                if let Some(cut) = cut {
                    // Invalid UTF-8, and a line cut short.
                    line.truncate(cut);
                    line.push(0xff);
                }
                line
            })
    }

    fn member() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![
                "a",
                "b",
                "payer.msisdn",
                "payer",
                "geo",
                "geo.loc",
                "geo.loc.lat",
                "t",
                "t.u",
                "extra",
                "n",
                "a",
                // Longer than a key's sixteen-byte print, the same up to its end.
                "a_long_key_name_one",
                "a_long_key_name_two",
            ]),
            prop::sample::select(vec![
                "\"x\"",
                "\"y\\n\"",
                "\"café\"",
                "12.50",
                "null",
                "true",
                "{\"msisdn\":\"+2547\"}",
                "{\"lat\":\"1\",\"u\":[1],\"msisdn\":null}",
                "{\"loc\":{\"lat\":2}}",
                "{\"u\":\"\\u0041\",\"x\":{}}",
                "{}",
                "[1,2]",
                "\"\\ud800\"",
                "\"a long string value of some forty bytes!\"",
                DEEP,
            ]),
            prop::sample::select(vec!["", " "]),
        )
            .prop_map(|(key, value, space)| format!("\"{key}\":{space}{value}"))
    }

    /// Well-formed lines, most of them taken by the fast reader; some with a byte that is not
    /// UTF-8 inside a string (`é` cut short).
    fn object_line() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec(member(), 0..7),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(members, cut)| {
                let mut line = format!("{{{}}}", members.join(", ")).into_bytes();
                if let Some(at) = (cut)
                    .then(|| line.iter().position(|&b| b == 0xa9))
                    .flatten()
                {
                    line[at] = b'(';
                }
                line
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Whatever the lines, the rows read with the fast reader are the general reader's:
        /// the same cells, broken rows with the same reasons, the same unknown keys.
        #[test]
        fn the_fast_reader_reads_lines_as_the_general_reader_does(
            lines in prop::collection::vec(prop_oneof![json_line(), object_line()], 0..40),
            strict in proptest::bool::ANY,
        ) {
            let plan = plan_with(
                r#"{"name": "a", "dtype": "str"}, {"name": "b", "dtype": "str"},
                   {"name": "payer.msisdn", "dtype": "str"}, {"name": "n", "dtype": "str"},
                   {"name": "a_long_key_name_one", "dtype": "str"},
                   {"name": "geo.loc.lat", "dtype": "str"}, {"name": "t", "dtype": "str"},
                   {"name": "t.u", "dtype": "str"}"#,
                strict,
            );
            let buf = lines.join(&b'\n');
            let (expected, count) = general_reading(&plan, &buf);
            let mut rows = Rows::default();
            let mut unknown = BTreeSet::new();
            parse_rows(&plan, &buf, &mut rows, &mut unknown);
            let found: Reading = (cells(&rows, &buf), broken_rows(&rows, count), unknown);
            proptest::prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn values_keep_their_text_and_dotted_paths_reach_nested_values() {
        let plan = plan(
            r#"{"name": "amount", "dtype": "decimal"}, {"name": "big", "dtype": "str"},
               {"name": "payer.msisdn", "dtype": "str"}, {"name": "s", "dtype": "str"},
               {"name": "n", "dtype": "str", "nullable": true}"#,
        );
        let buf = br#"{"amount": 1.10, "big": 123456789012345678901234567890, "payer": {"msisdn": "+254700"}, "s": "a\"b", "n": null, "extra": 1}
[1]
{"amount": 1e2"#;
        let mut rows = Rows::default();
        let mut unknown = BTreeSet::new();
        parse_rows(&plan, buf, &mut rows, &mut unknown);
        let text = |slot: TextRef| match slot {
            TextRef::Buf(s, e) => {
                Some(String::from_utf8(buf[s as usize..e as usize].to_vec()).unwrap())
            }
            TextRef::Arena(s, e) => {
                Some(String::from_utf8(rows.arena[s as usize..e as usize].to_vec()).unwrap())
            }
            TextRef::Null | TextRef::Absent => None,
        };
        let first: Vec<Option<String>> = rows.texts[..5].iter().map(|&t| text(t)).collect();
        assert_eq!(
            first,
            [
                Some("1.10".to_owned()),
                Some("123456789012345678901234567890".to_owned()),
                Some("+254700".to_owned()),
                Some("a\"b".to_owned()),
                None
            ]
        );
        assert_eq!(unknown, BTreeSet::from(["extra".to_owned()]));
        match (rows.broken(1), rows.broken(2)) {
            (Some(Broken::Malformed(a)), Some(Broken::Malformed(b))) => {
                assert!(a.contains("an array, not a JSON object"), "{a}");
                assert!(b.contains("not valid JSON"), "{b}");
            }
            other => panic!("{other:?}"),
        }
    }
}
