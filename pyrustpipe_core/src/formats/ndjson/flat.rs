//! The usual NDJSON line read in one pass over its bytes: an object whose keys have no escapes
//! and whose values are strings, numbers, literals or short nested values. Any other line, and
//! any line that is not valid JSON, is left to the general reader, which alone says what such a
//! line means and what its message is; this reader takes a line only where the two agree.

use std::collections::{HashMap, HashSet};

use serde::de::IgnoredAny;

use crate::check::{as_u32, TextRef};
use crate::plan::Plan;

/// Lines the general reader took before this reader stops trying for the block, unless they
/// are fewer than one in [`GIVE_UP_SHARE`] of the lines tried: a source of lines this reader
/// cannot take then costs one failed attempt per line only at the block's start.
const GIVE_UP_AFTER: u32 = 64;
const GIVE_UP_SHARE: u32 = 8;

/// What a key means to the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meaning {
    /// The column it names exactly.
    column: Option<u32>,
    /// A column's dotted path starts with it (`payer` of `payer.msisdn`): an object under it is
    /// looked into, which the general reader does.
    parent: bool,
    /// Unknown to the schema, and the plan reports unknown keys.
    unknown: bool,
}

/// The fast reader of a block's lines.
pub(super) struct FlatLines<'p, 'b> {
    plan: &'p Plan,
    buf: &'b [u8],
    columns: HashMap<&'p [u8], u32>,
    parents: HashSet<&'p [u8]>,
    collect_unknown: bool,
    /// The last line's keys by position, with their meaning: a line's keys are most often the
    /// line before's, in the same order, so a key costs a comparison, not a lookup.
    last: Vec<(&'b [u8], Meaning)>,
    /// The unknown keys of the line last read.
    unknown: Vec<&'b str>,
    tried: u32,
    declined: u32,
}

impl<'p, 'b> FlatLines<'p, 'b> {
    pub(super) fn new(plan: &'p Plan, buf: &'b [u8]) -> Self {
        let mut columns = HashMap::new();
        let mut parents = HashSet::new();
        for (index, column) in plan.columns.iter().enumerate() {
            columns.insert(column.name.as_bytes(), as_u32(index));
            for (dot, _) in column.name.match_indices('.') {
                parents.insert(&column.name.as_bytes()[..dot]);
            }
        }
        FlatLines {
            plan,
            buf,
            columns,
            parents,
            collect_unknown: plan.unknown_columns_rule.is_some(),
            last: Vec::new(),
            unknown: Vec::new(),
            tried: 0,
            declined: 0,
        }
    }

    /// Whether a line is still worth offering to this reader.
    pub(super) fn worth_trying(&self) -> bool {
        self.declined < GIVE_UP_AFTER || self.declined * GIVE_UP_SHARE < self.tried
    }

    /// Reads the line `buf[start..end]` into `slots` (one per plan column, each `Null` before),
    /// unescaped strings onto `arena`. `None`: the line is the general reader's (the slots and
    /// the arena then hold partial work, which the caller drops).
    pub(super) fn read(
        &mut self,
        start: usize,
        end: usize,
        slots: &mut [TextRef],
        arena: &mut Vec<u8>,
    ) -> Option<()> {
        self.tried += 1;
        let read = self.read_object(start, end, slots, arena);
        self.declined += u32::from(read.is_none());
        read
    }

    /// The unknown keys of the line last read.
    pub(super) fn unknown_keys(&self) -> &[&'b str] {
        &self.unknown
    }

    fn read_object(
        &mut self,
        start: usize,
        end: usize,
        slots: &mut [TextRef],
        arena: &mut Vec<u8>,
    ) -> Option<()> {
        let buf: &'b [u8] = self.buf;
        let line = &buf[start..end];
        // Nested values and escaped strings are handed to the JSON parser as text.
        let text = std::str::from_utf8(line).ok()?;
        self.unknown.clear();
        let mut at = skip_space(line, 0);
        if line.get(at) != Some(&b'{') {
            return None;
        }
        at = skip_space(line, at + 1);
        if line.get(at) == Some(&b'}') {
            at += 1;
        } else {
            let mut position = 0;
            loop {
                if line.get(at) != Some(&b'"') {
                    return None;
                }
                let (key_end, escaped) = string_end(line, at + 1)?;
                if escaped {
                    return None;
                }
                let meaning = self.meaning_at(position, &line[at + 1..key_end]);
                if meaning.unknown {
                    self.unknown.push(&text[at + 1..key_end]);
                }
                position += 1;
                at = skip_space(line, key_end + 1);
                if line.get(at) != Some(&b':') {
                    return None;
                }
                at = skip_space(line, at + 1);
                let (value, value_end) = value_at(text, at, meaning, arena)?;
                if let Some(column) = meaning.column {
                    slots[column as usize] = match value {
                        TextRef::Buf(from, to) => {
                            TextRef::Buf(as_u32(start) + from, as_u32(start) + to)
                        }
                        other => other,
                    };
                }
                at = skip_space(line, value_end);
                match line.get(at) {
                    Some(b',') => at = skip_space(line, at + 1),
                    Some(b'}') => {
                        at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        line[at..].iter().all(|&b| is_space(b)).then_some(())
    }

    /// The meaning of `key`, the `position`th key of its line.
    fn meaning_at(&mut self, position: usize, key: &'b [u8]) -> Meaning {
        if let Some(&(known, meaning)) = self.last.get(position) {
            if known == key {
                return meaning;
            }
        }
        let meaning = Meaning {
            column: self.columns.get(key).copied(),
            parent: self.parents.contains(key),
            unknown: self.collect_unknown
                && std::str::from_utf8(key).is_ok_and(|key| !super::names_key(self.plan, key)),
        };
        self.last.truncate(position);
        self.last.push((key, meaning));
        meaning
    }
}

/// The value starting at `text[at]` (its first byte not a space) and the index just past it.
/// A span's offsets are in the line; an escaped string of a column is unescaped onto `arena`.
fn value_at(
    text: &str,
    at: usize,
    meaning: Meaning,
    arena: &mut Vec<u8>,
) -> Option<(TextRef, usize)> {
    let line = text.as_bytes();
    let span = |end: usize| Some((TextRef::Buf(as_u32(at), as_u32(end)), end));
    match *line.get(at)? {
        b'"' => {
            let (close, escaped) = string_end(line, at + 1)?;
            if !escaped {
                return Some((TextRef::Buf(as_u32(at + 1), as_u32(close)), close + 1));
            }
            // The parser unescapes, and declines escapes it cannot (a lone surrogate).
            let unescaped: String = serde_json::from_str(&text[at..=close]).ok()?;
            if meaning.column.is_none() {
                return Some((TextRef::Null, close + 1));
            }
            let from = arena.len();
            arena.extend_from_slice(unescaped.as_bytes());
            Some((TextRef::Arena(as_u32(from), as_u32(arena.len())), close + 1))
        }
        b'n' if line[at..].starts_with(b"null") => Some((TextRef::Null, at + 4)),
        b't' if line[at..].starts_with(b"true") => span(at + 4),
        b'f' if line[at..].starts_with(b"false") => span(at + 5),
        b'-' | b'0'..=b'9' => span(number_end(line, at)?),
        b'[' => span(at + nested_len(&text[at..])?),
        // An object under a dotted path's head is looked into by the general reader.
        b'{' if !meaning.parent => span(at + nested_len(&text[at..])?),
        _ => None,
    }
}

/// The length of the object or array `text` starts with, when valid JSON. Skipped as the
/// general reader skips a value (serde_json's `ignore_value`, at any depth).
fn nested_len(text: &str) -> Option<usize> {
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<IgnoredAny>();
    values.next()?.ok()?;
    Some(values.byte_offset())
}

/// JSON's whitespace.
fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_space(line: &[u8], mut at: usize) -> usize {
    while line.get(at).is_some_and(|&b| is_space(b)) {
        at += 1;
    }
    at
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` below `limit` (at most 128), exact up to the lowest one:
/// a borrow can only set bits above a byte that is below the limit.
fn bytes_below(word: u64, limit: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGHS
}

/// The index of the quote closing the string whose contents start at `line[at]`, and whether
/// the string has escapes. `None` at a control character or an unclosed string, which JSON
/// forbids.
fn string_end(line: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        // Eight bytes at a time to the first quote, backslash or control character.
        while let Some(eight) = line.get(at..at + 8) {
            let word = u64::from_le_bytes(eight.try_into().expect("8 bytes"));
            let special = bytes_below(word ^ (ONES * u64::from(b'"')), 1)
                | bytes_below(word ^ (ONES * u64::from(b'\\')), 1)
                | bytes_below(word, 0x20);
            if special != 0 {
                at += (special.trailing_zeros() / 8) as usize;
                break;
            }
            at += 8;
        }
        match *line.get(at)? {
            b'"' => return Some((at, escaped)),
            b'\\' => {
                // What the escape is, the parser checks when it unescapes.
                escaped = true;
                at += 2;
            }
            0..=0x1f => return None,
            _ => at += 1,
        }
    }
}

/// The index just past the number starting at `line[at]`, in JSON's grammar:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number_end(line: &[u8], mut at: usize) -> Option<usize> {
    let digits = |mut at: usize| {
        while line.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        at
    };
    if line.get(at) == Some(&b'-') {
        at += 1;
    }
    match line.get(at)? {
        b'0' => at += 1,
        b'1'..=b'9' => at = digits(at + 1),
        _ => return None,
    }
    if line.get(at) == Some(&b'.') {
        let from = at + 1;
        at = digits(from);
        if at == from {
            return None;
        }
    }
    if matches!(line.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(line.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let from = at;
        at = digits(from);
        if at == from {
            return None;
        }
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cells and unknown keys the fast reader makes of `line`, or `None` when it leaves it.
    fn read(line: &str) -> Option<(Vec<Option<String>>, Vec<String>)> {
        let spec = crate::spec::Spec::from_json(
            r#"{"spec_version": 1, "strict": true, "columns": [
                {"name": "a", "dtype": "str"}, {"name": "b", "dtype": "str"},
                {"name": "payer.msisdn", "dtype": "str"}]}"#,
        )
        .unwrap();
        let plan = Plan::compile(spec, &[]).unwrap();
        let buf = format!("\n{line}");
        let mut flat = FlatLines::new(&plan, buf.as_bytes());
        let mut slots = vec![TextRef::Null; 3];
        let mut arena = Vec::new();
        flat.read(1, buf.len(), &mut slots, &mut arena)?;
        let text = |slot: &TextRef| match *slot {
            TextRef::Buf(s, e) => Some(buf[s as usize..e as usize].to_owned()),
            TextRef::Arena(s, e) => {
                Some(String::from_utf8(arena[s as usize..e as usize].to_vec()).unwrap())
            }
            TextRef::Null | TextRef::Absent => None,
        };
        let unknown = flat.unknown_keys().iter().map(|&k| k.to_owned()).collect();
        Some((slots.iter().map(text).collect(), unknown))
    }

    type Cells = [Option<String>; 3];

    #[test]
    fn the_usual_lines_are_read_and_the_others_left() {
        let cell = |text: &str| Some(text.to_owned());
        let cases: [(&str, Option<Cells>, &[&str]); 16] = [
            (
                r#"{"a": "x", "b": 12.5}"#,
                Some([cell("x"), cell("12.5"), None]),
                &[],
            ),
            (
                r#"{"b":true,"a":null}"#,
                Some([None, cell("true"), None]),
                &[],
            ),
            (
                r#" { "a" : "y\"z\u00e9" , "extra" : [1, {"k": "}"}] }  "#,
                Some([cell("y\"zé"), None, None]),
                &["extra"],
            ),
            (
                r#"{"b": {"k": [1, 2]}, "a": -0.5e+3}"#,
                Some([cell("-0.5e+3"), cell(r#"{"k": [1, 2]}"#), None]),
                &[],
            ),
            (
                r#"{"payer.msisdn": "+2547", "a": "1", "a": "2"}"#,
                Some([cell("2"), None, cell("+2547")]),
                &[],
            ),
            // A dotted path's head with no object under it names nothing here.
            (r#"{"payer": "p"}"#, Some([None, None, None]), &[]),
            ("{}", Some([None, None, None]), &[]),
            // Left to the general reader: an object under a dotted path's head, an escaped key,
            // an escape no text holds, JSON's syntax errors, a line that is not an object.
            (r#"{"payer": {"msisdn": "1"}}"#, None, &[]),
            (r#"{"a\u0062": 1}"#, None, &[]),
            (r#"{"a": "\ud800"}"#, None, &[]),
            (r#"{"a": 01}"#, None, &[]),
            (r#"{"a": 1,}"#, None, &[]),
            (r#"{"a": 1} x"#, None, &[]),
            ("{\"a\": \"\u{1}\"}", None, &[]),
            (r#"{"a": fals}"#, None, &[]),
            ("[1]", None, &[]),
        ];
        for (line, cells, unknown) in cases {
            let expected = cells.map(|cells| {
                (
                    cells.to_vec(),
                    unknown.iter().map(|&k| k.to_owned()).collect::<Vec<_>>(),
                )
            });
            assert_eq!(read(line), expected, "{line}");
        }
    }

    /// A string's closing quote and whether it has escapes.
    type End = (usize, bool);

    #[test]
    fn strings_end_at_their_closing_quote_and_control_characters_are_refused() {
        let cases: [(&[u8], Option<End>); 9] = [
            (b"abc\"", Some((3, false))),
            (b"\"", Some((0, false))),
            (b"abcdefghijklmnop\"rest", Some((16, false))),
            (b"abcdefgh\\\"ijklmnop\"", Some((18, true))),
            (b"\\\\\"", Some((2, true))),
            (b"abcdefghij", None),
            (b"abc\\", None),
            (b"abcdefg\x1fh\"", None),
            (b"\xc3\xa9t\xc3\xa9 \x7f\"", Some((7, false))),
        ];
        for (input, expected) in cases {
            assert_eq!(string_end(input, 0), expected, "{input:?}");
        }
    }

    #[test]
    fn numbers_follow_the_json_grammar() {
        let cases: [(&[u8], Option<usize>); 14] = [
            (b"0", Some(1)),
            (b"-0", Some(2)),
            (b"012", Some(1)),
            (b"123,", Some(3)),
            (b"1.5e-3}", Some(6)),
            (b"1E+400", Some(6)),
            (b"-", None),
            (b"-a", None),
            (b"1.", None),
            (b"1.e5", None),
            (b"1e", None),
            (b"1e+", None),
            (b".5", None),
            (b"1.25x", Some(4)),
        ];
        for (input, expected) in cases {
            assert_eq!(number_end(input, 0), expected, "{input:?}");
        }
    }

    #[test]
    fn the_lowest_flagged_byte_is_the_first_below_the_limit() {
        for limit in [1u8, 0x20, 0x5d] {
            for at in 0..8 {
                for filler in [limit, 0x7f, 0xff] {
                    let mut bytes = [filler; 8];
                    bytes[at] = limit - 1;
                    if at > 0 {
                        // A byte just above the limit before it must not be flagged.
                        bytes[at - 1] = limit;
                    }
                    let found = bytes_below(u64::from_le_bytes(bytes), limit);
                    assert_eq!(found.trailing_zeros() / 8, at as u32, "{bytes:?} {limit}");
                }
            }
            assert_eq!(bytes_below(u64::from_le_bytes([limit; 8]), limit), 0);
        }
    }
}
