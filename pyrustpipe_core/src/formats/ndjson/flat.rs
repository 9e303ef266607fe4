//! The usual NDJSON line read in one pass over its bytes: an object whose keys have no escapes
//! and whose values are strings, numbers, literals or nested values, with one level of objects
//! looked into for dotted paths (`payer.msisdn`). Any other line, and any line that is not valid
//! JSON, is left to the general reader, which alone says what such a line means and what its
//! message is; this reader takes a line only where the two agree.

use std::collections::HashMap;

use serde::de::IgnoredAny;
use wide::u8x16;

use crate::check::{as_u32, TextRef};
use crate::formats::words::{bytes_below, first_zero_byte, ONES};
use crate::plan::Plan;

/// Lines the general reader took before this reader stops trying for the block, unless they
/// are fewer than one in [`GIVE_UP_SHARE`] of the lines tried: a source of lines this reader
/// cannot take then costs one failed attempt per line only at the block's start.
const GIVE_UP_AFTER: u32 = 64;
const GIVE_UP_SHARE: u32 = 8;

/// What a key means to the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Meaning {
    /// None of what follows: the key names a column or nothing (most keys).
    plain: bool,
    /// The column it names exactly.
    column: Option<u32>,
    /// That column is also reached through an object (`payer.msisdn` under `payer`): its
    /// exact key, when a line has it, wins.
    dotted: bool,
    /// Whether a column's dotted path starts with it, and how deep.
    head: Head,
    /// Unknown to the schema, and the plan reports unknown keys.
    unknown: bool,
}

/// How a key heads columns' dotted paths. The general reader's rule for a path: its exact key,
/// else, for each dot from the left, the object under the last key before the dot, looked into
/// for the rest of the path. Objects one level down are read here; deeper ones are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Head {
    /// No dotted path starts with it.
    None,
    /// Every path it heads has one key after it (`payer` of `payer.msisdn`): the object under
    /// it is read here. The number is the head's.
    Object(u32),
    /// A path it heads goes deeper (`geo` of `geo.loc.lat`): a line with an object under it is
    /// the general reader's.
    Deeper,
}

/// The fast reader of a block's lines.
pub(super) struct FlatLines<'p, 'b> {
    plan: &'p Plan,
    buf: &'b [u8],
    columns: HashMap<&'p [u8], u32>,
    heads: HashMap<&'p [u8], Head>,
    /// The column of each head's key inside its object (`msisdn` under `payer`).
    inner_columns: HashMap<(u32, &'p [u8]), u32>,
    /// Each head's columns, and all such columns.
    head_columns: Vec<Vec<u32>>,
    dotted: Vec<u32>,
    /// For the line being read, by column: the value found in its head's object, and whether
    /// the column's exact key was there.
    found_inside: Vec<TextRef>,
    exact: Vec<bool>,
    collect_unknown: bool,
    /// The last line's keys by position, with their meaning: a line's keys are most often the
    /// line before's, in the same order, so a key costs a comparison, not a lookup.
    last: Vec<(KeyPrint, &'b [u8], Meaning)>,
    /// The same for the keys inside heads' objects: head, print, key, column.
    last_inner: Vec<(u32, KeyPrint, &'b [u8], Option<u32>)>,
    /// The unknown keys of the line last read.
    unknown: Vec<&'b str>,
    /// The quotes of the line being read, 64 bytes to a mask (kept for its buffer).
    quote_masks: Vec<u64>,
    tried: u32,
    declined: u32,
}

impl<'p, 'b> FlatLines<'p, 'b> {
    pub(super) fn new(plan: &'p Plan, buf: &'b [u8]) -> Self {
        // Each dotted path's heads, those with one key after them numbered next.
        const UNNUMBERED: u32 = u32::MAX;
        let mut columns = HashMap::new();
        let mut heads = HashMap::new();
        for (index, column) in plan.columns.iter().enumerate() {
            let name = column.name.as_bytes();
            columns.insert(name, as_u32(index));
            for (dot, _) in column.name.match_indices('.') {
                let head = heads
                    .entry(&name[..dot])
                    .or_insert(Head::Object(UNNUMBERED));
                if name[dot + 1..].contains(&b'.') {
                    *head = Head::Deeper;
                }
            }
        }
        let (mut inner_columns, mut head_columns, mut dotted) = (HashMap::new(), vec![], vec![]);
        for (index, column) in plan.columns.iter().enumerate() {
            let name = column.name.as_bytes();
            let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
                continue;
            };
            let Some(Head::Object(id)) = heads.get_mut(&name[..dot]) else {
                continue;
            };
            if *id == UNNUMBERED {
                *id = as_u32(head_columns.len());
                head_columns.push(Vec::new());
            }
            head_columns[*id as usize].push(as_u32(index));
            inner_columns.insert((*id, &name[dot + 1..]), as_u32(index));
            dotted.push(as_u32(index));
        }
        FlatLines {
            plan,
            buf,
            columns,
            heads,
            inner_columns,
            head_columns,
            dotted,
            found_inside: vec![TextRef::Null; plan.columns.len()],
            exact: vec![false; plan.columns.len()],
            collect_unknown: plan.unknown_columns_rule.is_some(),
            last: Vec::new(),
            last_inner: Vec::new(),
            unknown: Vec::new(),
            quote_masks: Vec::new(),
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
        let mut masks = std::mem::take(&mut self.quote_masks);
        let read = match line_classes(self.buf, start, end, &mut masks) {
            LineClasses::Plain { ascii } => {
                let quotes = QuoteBits::new(&masks);
                self.read_members(start, end, ascii, quotes, slots, arena)
            }
            LineClasses::Special => self.read_members(start, end, false, ByteScan, slots, arena),
        };
        self.quote_masks = masks;
        self.tried += 1;
        self.declined += u32::from(read.is_none());
        read
    }

    /// The unknown keys of the line last read.
    pub(super) fn unknown_keys(&self) -> &[&'b str] {
        &self.unknown
    }

    /// The members of the object on `buf[start..end]`, its strings found by `strings`.
    /// `ascii`: the line is known to be ASCII, so valid UTF-8.
    #[inline(always)]
    fn read_members(
        &mut self,
        start: usize,
        end: usize,
        ascii: bool,
        mut strings: impl StringEnds,
        slots: &mut [TextRef],
        arena: &mut Vec<u8>,
    ) -> Option<()> {
        let buf: &'b [u8] = self.buf;
        let line = &buf[start..end];
        let base = as_u32(start);
        if !ascii {
            std::str::from_utf8(line).ok()?;
        }
        self.unknown.clear();
        for &column in &self.dotted {
            self.found_inside[column as usize] = TextRef::Null;
            self.exact[column as usize] = false;
        }
        let at = skip_space(line, 0);
        if line.get(at) != Some(&b'{') {
            return None;
        }
        let (mut position, mut inner_position) = (0, 0);
        let end = walk_object(line, at, &mut strings, |strings, key_at, key_end, at| {
            let key = &line[key_at + 1..key_end];
            let print = KeyPrint::of(buf, start + key_at + 1, key.len());
            let meaning = self.meaning_at(position, print, key);
            position += 1;
            if !meaning.plain {
                let value = (key, base, at, &mut inner_position);
                return self.read_member(meaning, line, value, strings, slots, arena);
            }
            let (value, value_end) = value_at(line, base, at, meaning, strings, arena)?;
            if let Some(column) = meaning.column {
                slots[column as usize] = value;
            }
            Some(value_end)
        })?;
        for &column in &self.dotted {
            if !self.exact[column as usize] {
                slots[column as usize] = self.found_inside[column as usize];
            }
        }
        line[end..].iter().all(|&b| is_space(b)).then_some(())
    }

    /// Reads a member whose key is not plain (see [`Meaning`]): `key`, and its value at
    /// `line[at]`, where the line starts at `base` in the block. The index just past the value.
    #[inline(never)]
    fn read_member(
        &mut self,
        meaning: Meaning,
        line: &[u8],
        (key, base, at, inner_position): (&'b [u8], u32, usize, &mut usize),
        strings: &mut impl StringEnds,
        slots: &mut [TextRef],
        arena: &mut Vec<u8>,
    ) -> Option<usize> {
        if meaning.unknown {
            self.unknown.push(std::str::from_utf8(key).ok()?);
        }
        let (value, value_end) = match meaning.head {
            Head::Object(head) => {
                // Only the last object under a key counts, as in the general reader.
                for &column in &self.head_columns[head as usize] {
                    self.found_inside[column as usize] = TextRef::Null;
                }
                if line.get(at) == Some(&b'{') {
                    let end =
                        self.read_inside(line, base, at, head, inner_position, strings, arena)?;
                    (TextRef::Buf(base + as_u32(at), base + as_u32(end)), end)
                } else {
                    value_at(line, base, at, meaning, strings, arena)?
                }
            }
            Head::None | Head::Deeper => value_at(line, base, at, meaning, strings, arena)?,
        };
        if let Some(column) = meaning.column {
            slots[column as usize] = value;
            self.exact[column as usize] |= meaning.dotted;
        }
        Some(value_end)
    }

    /// Reads the object at `line[at]` under the head numbered `head`: its keys that end a
    /// column's dotted path go to `found_inside`. The index just past it.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn read_inside(
        &mut self,
        line: &[u8],
        base: u32,
        at: usize,
        head: u32,
        position: &mut usize,
        strings: &mut impl StringEnds,
        arena: &mut Vec<u8>,
    ) -> Option<usize> {
        let buf: &'b [u8] = self.buf;
        let start = base as usize;
        walk_object(line, at, strings, |strings, key_at, key_end, at| {
            let key = &buf[start + key_at + 1..start + key_end];
            let print = KeyPrint::of(buf, start + key_at + 1, key.len());
            let column = self.inner_column_at(*position, head, print, key);
            *position += 1;
            let meaning = Meaning {
                plain: true,
                column,
                dotted: false,
                head: Head::None,
                unknown: false,
            };
            let (value, value_end) = value_at(line, base, at, meaning, strings, arena)?;
            if let Some(column) = column {
                self.found_inside[column as usize] = value;
            }
            Some(value_end)
        })
    }

    /// The column of `key` inside the head numbered `head`'s object, the `position`th such key
    /// of its line.
    #[inline(always)]
    fn inner_column_at(
        &mut self,
        position: usize,
        head: u32,
        print: KeyPrint,
        key: &'b [u8],
    ) -> Option<u32> {
        if let Some(&(known_head, known_print, known, column)) = self.last_inner.get(position) {
            if known_head == head
                && known_print == print
                && (print.len <= 16 || known[16..] == key[16..])
            {
                return column;
            }
        }
        let column = self.inner_columns.get(&(head, key)).copied();
        self.last_inner.truncate(position);
        self.last_inner.push((head, print, key, column));
        column
    }

    /// The meaning of `key`, the `position`th key of its line, whose print is `print`.
    #[inline(always)]
    fn meaning_at(&mut self, position: usize, print: KeyPrint, key: &'b [u8]) -> Meaning {
        if let Some(&(known_print, known, meaning)) = self.last.get(position) {
            if known_print == print && (print.len <= 16 || known[16..] == key[16..]) {
                return meaning;
            }
        }
        self.learn(position, print, key)
    }

    /// The meaning of a key not where the last line had it.
    #[inline(never)]
    fn learn(&mut self, position: usize, print: KeyPrint, key: &'b [u8]) -> Meaning {
        let column = self.columns.get(key).copied();
        let dotted = column.is_some_and(|column| self.dotted.contains(&column));
        let head = self.heads.get(key).copied().unwrap_or(Head::None);
        let unknown = self.collect_unknown
            && std::str::from_utf8(key).is_ok_and(|key| !super::names_key(self.plan, key));
        let meaning = Meaning {
            plain: !dotted && head == Head::None && !unknown,
            column,
            dotted,
            head,
            unknown,
        };
        self.last.truncate(position);
        self.last.push((print, key, meaning));
        meaning
    }
}

/// A key's first sixteen bytes (zeros past its end) and its length: the same for the same key,
/// and for keys of up to sixteen bytes the same only for the same key — one compare, where a
/// slice compare is a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KeyPrint {
    head: u128,
    len: usize,
}

/// `HEAD_BYTES[n]` keeps a word's first `n` bytes (a table: a 128-bit shift is a branch).
const HEAD_BYTES: [u128; 17] = {
    let mut masks = [u128::MAX; 17];
    let mut n = 0;
    while n < 16 {
        masks[n] = (1 << (8 * n)) - 1;
        n += 1;
    }
    masks
};

impl KeyPrint {
    /// The print of the key `buf[from..from + len]`.
    #[inline(always)]
    fn of(buf: &[u8], from: usize, len: usize) -> Self {
        let head = match buf.get(from..from + 16) {
            Some(sixteen) => {
                u128::from_le_bytes(sixteen.try_into().expect("16 bytes")) & HEAD_BYTES[len.min(16)]
            }
            None => {
                let mut padded = [0u8; 16];
                let head = len.min(16);
                padded[..head].copy_from_slice(&buf[from..from + head]);
                u128::from_le_bytes(padded)
            }
        };
        KeyPrint { head, len }
    }
}

/// The value starting at `line[at]` (its first byte not a space) and the index just past it.
/// A span's offsets are in the block, where the line starts at `base`; an escaped string of a
/// column is unescaped onto `arena`.
#[inline(always)]
fn value_at(
    line: &[u8],
    base: u32,
    at: usize,
    meaning: Meaning,
    strings: &mut impl StringEnds,
    arena: &mut Vec<u8>,
) -> Option<(TextRef, usize)> {
    let span = |end: usize| Some((TextRef::Buf(base + as_u32(at), base + as_u32(end)), end));
    match *line.get(at)? {
        b'"' => {
            let (close, escaped) = strings.end(line, at)?;
            if !escaped {
                let text = TextRef::Buf(base + as_u32(at + 1), base + as_u32(close));
                return Some((text, close + 1));
            }
            // The parser unescapes, and declines escapes it cannot (a lone surrogate).
            let raw = std::str::from_utf8(&line[at..=close]).ok()?;
            let unescaped: String = serde_json::from_str(raw).ok()?;
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
        b'[' => span(nested_end(line, at, strings)?),
        // An object under a deeper path's head is looked into by the general reader.
        b'{' if meaning.head != Head::Deeper => span(nested_end(line, at, strings)?),
        _ => None,
    }
}

/// Walks the object at `line[at]` (its `{`): for each member, `member(strings, key_open,
/// key_close, value_at)` reads the value and says where it ends. The index just past the object.
#[inline(always)]
fn walk_object<S: StringEnds>(
    line: &[u8],
    at: usize,
    strings: &mut S,
    mut member: impl FnMut(&mut S, usize, usize, usize) -> Option<usize>,
) -> Option<usize> {
    let mut at = skip_space(line, at + 1);
    if line.get(at) == Some(&b'}') {
        return Some(at + 1);
    }
    loop {
        if line.get(at) != Some(&b'"') {
            return None;
        }
        let (key_end, escaped) = strings.end(line, at)?;
        if escaped {
            return None;
        }
        let colon = skip_space(line, key_end + 1);
        if line.get(colon) != Some(&b':') {
            return None;
        }
        let value_end = member(strings, at, key_end, skip_space(line, colon + 1))?;
        at = skip_space(line, value_end);
        match line.get(at) {
            Some(b',') => at = skip_space(line, at + 1),
            Some(b'}') => return Some(at + 1),
            _ => return None,
        }
    }
}

/// The index just past the object or array at `line[at]`, when valid JSON.
fn nested_end(line: &[u8], at: usize, strings: &mut impl StringEnds) -> Option<usize> {
    let end = at + nested_len(std::str::from_utf8(&line[at..]).ok()?)?;
    strings.skip_before(end);
    Some(end)
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

/// The index of the first byte from `at` on that is not a space (or the line's end).
#[inline(always)]
fn skip_space(line: &[u8], at: usize) -> usize {
    // Most often the byte is already one: one compare.
    match line.get(at) {
        Some(&byte) if byte > b' ' => at,
        _ => skip_spaces(line, at),
    }
}

fn skip_spaces(line: &[u8], mut at: usize) -> usize {
    while line.get(at).is_some_and(|&b| is_space(b)) {
        at += 1;
    }
    at
}

/// How a line's strings are found: each string's closing quote, given its opening one.
trait StringEnds {
    /// The index of the quote closing the string opened at `line[open]`, and whether the
    /// string has escapes. `None` at a control character or an unclosed string, which JSON
    /// forbids.
    fn end(&mut self, line: &[u8], open: usize) -> Option<(usize, bool)>;

    /// The line's bytes before `at` (a nested value's) are read: their quotes are not strings
    /// to be asked for.
    fn skip_before(&mut self, at: usize);
}

/// A line with backslashes or control characters: strings found by scanning their bytes.
struct ByteScan;

impl StringEnds for ByteScan {
    #[inline(always)]
    fn end(&mut self, line: &[u8], open: usize) -> Option<(usize, bool)> {
        string_end(line, open + 1)
    }

    #[inline(always)]
    fn skip_before(&mut self, _at: usize) {}
}

/// A line with neither backslashes nor control characters, whose quotes therefore pair up:
/// each two in a row are a string's opening and closing quotes. Bit `i` of `masks[k]` is set
/// when byte `64 k + i` of the line is a quote.
struct QuoteBits<'m> {
    masks: &'m [u64],
    chunk: usize,
    bits: u64,
}

impl<'m> QuoteBits<'m> {
    fn new(masks: &'m [u64]) -> Self {
        QuoteBits {
            masks,
            chunk: 0,
            bits: masks.first().copied().unwrap_or(0),
        }
    }

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.chunk += 1;
            self.bits = *self.masks.get(self.chunk)?;
        }
        let at = self.chunk * 64 + self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(at)
    }
}

impl StringEnds for QuoteBits<'_> {
    #[inline(always)]
    fn end(&mut self, _line: &[u8], open: usize) -> Option<(usize, bool)> {
        // The next quote is this string's opening one unless the line is not JSON (a quote
        // where no string can start), which the general reader then says.
        (self.next()? == open).then_some(())?;
        Some((self.next()?, false))
    }

    fn skip_before(&mut self, at: usize) {
        let chunk = at / 64;
        if chunk > self.chunk {
            self.chunk = chunk;
            self.bits = self.masks.get(chunk).copied().unwrap_or(0);
        }
        if chunk == self.chunk {
            self.bits &= u64::MAX << (at % 64);
        }
    }
}

/// What a first look at a line's bytes found.
enum LineClasses {
    /// No backslash and no control character: its quotes are in the masks. `ascii`: no byte
    /// above 127 either.
    Plain { ascii: bool },
    /// A backslash or a control character.
    Special,
}

/// Classifies the line `buf[start..end]`, sixteen bytes to a compare, and, for a plain one,
/// writes its quotes to `masks`, 64 bytes to a mask.
fn line_classes(buf: &[u8], start: usize, end: usize, masks: &mut Vec<u64>) -> LineClasses {
    masks.clear();
    let mut high = 0u64;
    let mut at = start;
    while at < end {
        let (quotes, special, above) = match buf.get(at..at + 64) {
            Some(bytes) => chunk_classes(bytes.try_into().expect("64 bytes")),
            None => {
                let mut padded = [b' '; 64];
                padded[..end - at].copy_from_slice(&buf[at..end]);
                chunk_classes(&padded)
            }
        };
        // Bytes past the line's end (the next line's, or the padding) are not the line's.
        let keep = u64::MAX >> (64 - (end - at).min(64));
        if special & keep != 0 {
            return LineClasses::Special;
        }
        masks.push(quotes & keep);
        high |= above & keep;
        at += 64;
    }
    LineClasses::Plain { ascii: high == 0 }
}

/// A chunk's quotes, backslashes and control characters, and bytes above 127: bit `i` of each
/// mask for byte `i`.
#[inline(always)]
fn chunk_classes(bytes: &[u8; 64]) -> (u64, u64, u64) {
    let quote = u8x16::splat(b'"');
    let backslash = u8x16::splat(b'\\');
    let last_control = u8x16::splat(0x1f);
    let (mut quotes, mut special, mut above) = (0u64, 0u64, 0u64);
    for (lane, sixteen) in bytes.chunks_exact(16).enumerate() {
        let vector = u8x16::new(sixteen.try_into().expect("16 bytes"));
        let control = vector.min(last_control).simd_eq(vector);
        let odd = vector.simd_eq(backslash) | control;
        quotes |= u64::from(vector.simd_eq(quote).to_bitmask()) << (16 * lane);
        special |= u64::from(odd.to_bitmask()) << (16 * lane);
        // The compare's mask is each byte's top bit: here, the byte's own.
        above |= u64::from(vector.to_bitmask()) << (16 * lane);
    }
    (quotes, special, above)
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
            let special = first_zero_byte(word ^ (ONES * u64::from(b'"')))
                | first_zero_byte(word ^ (ONES * u64::from(b'\\')))
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
                {"name": "payer.msisdn", "dtype": "str"}, {"name": "geo.loc.lat", "dtype": "str"}]}"#,
        )
        .unwrap();
        let plan = Plan::compile(spec, &[]).unwrap();
        // A line before and one after, whose quotes are not this line's (and which is long
        // enough to be in the line's last 64 bytes read).
        let after = r#"{"a": "q", "b": "a string that reaches past the line's sixty-four bytes"}"#;
        let buf = format!("\n{line}\n{after}");
        let mut flat = FlatLines::new(&plan, buf.as_bytes());
        let mut slots = vec![TextRef::Null; 4];
        let mut arena = Vec::new();
        flat.read(1, 1 + line.len(), &mut slots, &mut arena)?;
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

    type Cells = [Option<String>; 4];

    #[test]
    fn the_usual_lines_are_read_and_the_others_left() {
        let cell = |text: &str| Some(text.to_owned());
        let cases: [(&str, Option<Cells>, &[&str]); 28] = [
            (
                r#"{"a": "x", "b": 12.5}"#,
                Some([cell("x"), cell("12.5"), None, None]),
                &[],
            ),
            (
                r#"{"b":true,"a":null}"#,
                Some([None, cell("true"), None, None]),
                &[],
            ),
            (
                r#" { "a" : "y\"z\u00e9" , "extra" : [1, {"k": "}"}] }  "#,
                Some([cell("y\"zé"), None, None, None]),
                &["extra"],
            ),
            (
                r#"{"b": {"k": [1, 2]}, "a": -0.5e+3}"#,
                Some([cell("-0.5e+3"), cell(r#"{"k": [1, 2]}"#), None, None]),
                &[],
            ),
            (
                r#"{"payer.msisdn": "+2547", "a": "1", "a": "2"}"#,
                Some([cell("2"), None, cell("+2547"), None]),
                &[],
            ),
            // A dotted path's head with no object under it names nothing.
            (r#"{"payer": "p"}"#, Some([None, None, None, None]), &[]),
            ("{}", Some([None, None, None, None]), &[]),
            // One level of objects under a path's head: the last such key's object, the last
            // key inside it; nested values inside skipped; the exact dotted key first.
            (
                r#"{"payer": {"msisdn": "1", "x": {"msisdn": "2"}}, "a": "z"}"#,
                Some([cell("z"), None, cell("1"), None]),
                &[],
            ),
            (
                r#"{"payer": {"msisdn": "1", "msisdn": "2"}}"#,
                Some([None, None, cell("2"), None]),
                &[],
            ),
            (
                r#"{"payer": {"msisdn": "1"}, "payer": {"id": 7}}"#,
                Some([None, None, None, None]),
                &[],
            ),
            (
                r#"{"payer": {"msisdn": "1"}, "payer": null}"#,
                Some([None, None, None, None]),
                &[],
            ),
            (
                r#"{"payer.msisdn": null, "payer": {"msisdn": "1"}}"#,
                Some([None, None, None, None]),
                &[],
            ),
            (
                r#"{"geo.loc": {"lat": -1.5}, "geo": "g"}"#,
                Some([None, None, None, cell("-1.5")]),
                &[],
            ),
            (r#"{"payer": {}}"#, Some([None, None, None, None]), &[]),
            // Left to the general reader: an object under a deeper path's head, an escaped key
            // (inside a head's object too), an escape no text holds, JSON's syntax errors, a
            // line that is not an object.
            (r#"{"geo": {"loc": {"lat": 1}}}"#, None, &[]),
            (r#"{"payer": {"msisdn": 1,}}"#, None, &[]),
            (r#"{"payer": {"m\u0073isdn": "1"}}"#, None, &[]),
            (r#"{"a\u0062": 1}"#, None, &[]),
            (r#"{"a": "\ud800"}"#, None, &[]),
            (r#"{"a": 01}"#, None, &[]),
            (r#"{"a": 1,}"#, None, &[]),
            (r#"{"a": 1} x"#, None, &[]),
            ("{\"a\": \"\u{1}\"}", None, &[]),
            (r#"{"a": fals}"#, None, &[]),
            (r#"{"a"#, None, &[]),
            (r#"{"a": "x"#, None, &[]),
            (r#"{"b": 1, "a": "x, "#, None, &[]),
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

    #[test]
    fn a_key_has_one_print_wherever_it_is() {
        // Keys far from the buffer's end (read sixteen bytes at a time) and at its end (copied).
        let buf = b"ab ac a_long_key_name_one ab ac";
        let print = |from: usize, len: usize| KeyPrint::of(buf, from, len);
        let end = buf.len();
        assert_eq!(print(0, 2), print(end - 5, 2));
        assert_eq!(print(3, 2), print(end - 2, 2));
        assert_ne!(print(0, 2), print(end - 2, 2));
        assert_ne!(print(0, 2), print(0, 1));
        assert_eq!(print(6, 19).len, 19);
        assert_eq!(print(6, 19).head, u128::from_le_bytes(*b"a_long_key_name_"));
        assert_eq!(
            print(end - 2, 2).head,
            u128::from(u16::from_le_bytes(*b"ac"))
        );
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
}
