//! NDJSON: one JSON object per line. A raw newline cannot occur inside a JSON string, so every
//! line break is a record boundary and blocks never need re-parsing. A missing key or a JSON
//! `null` is a null; strings, numbers and booleans are checked as their text.

use std::collections::BTreeSet;

use serde_json::Value as Json;

use crate::check::{Broken, Rows, TextRef};
use crate::formats::csv::block::{BlockEnd, BlockParse, RecordBytes};
use crate::plan::Plan;

fn as_u32(n: usize) -> u32 {
    u32::try_from(n).expect("blocks are smaller than 4 GiB")
}

/// Lines of a block: `(start, end without the line break, next)`; blank lines are counted, not
/// returned.
pub(crate) fn lines(buf: &[u8], mut on_line: impl FnMut(usize, usize, usize, u64)) -> BlockParse {
    let mut pos = 0;
    let mut line_index = 0u64;
    let mut blank = 0u64;
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
    let collect_unknown = plan.unknown_columns_rule.is_some();
    lines(buf, |start, end, _, line| {
        rows.lines.push(Some(line));
        let object = match serde_json::from_slice::<Json>(&buf[start..end]) {
            Ok(Json::Object(object)) => object,
            Ok(other) => {
                let kind = match other {
                    Json::Array(_) => "an array",
                    Json::String(_) => "a string",
                    Json::Number(_) => "a number",
                    Json::Bool(_) => "a boolean",
                    _ => "null",
                };
                rows.broken.push(Some(Broken::Malformed(format!(
                    "the line is {kind}, not a JSON object"
                ))));
                rows.texts
                    .extend(std::iter::repeat_n(TextRef::Absent, width));
                return;
            }
            Err(err) => {
                rows.broken
                    .push(Some(Broken::Malformed(format!("not valid JSON: {err}"))));
                rows.texts
                    .extend(std::iter::repeat_n(TextRef::Absent, width));
                return;
            }
        };
        rows.broken.push(None);
        for column in &plan.columns {
            let text = match object.get(&column.name) {
                None | Some(Json::Null) => TextRef::Null,
                Some(value) => {
                    let start = rows.arena.len();
                    value_text(value, &mut rows.arena);
                    TextRef::Arena(as_u32(start), as_u32(rows.arena.len()))
                }
            };
            rows.texts.push(text);
        }
        if collect_unknown {
            for key in object.keys() {
                if !plan.columns.iter().any(|c| c.declared && &c.name == key) {
                    unknown.insert(key.clone());
                }
            }
        }
    })
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
/// string under `_pyrustpipe_raw`.
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
                "{{\"_pyrustpipe_raw\":{},{extra}}}",
                serde_json::to_string(&text).expect("text serialises")
            )
            .as_bytes(),
        );
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
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
    }
}
