//! Typed field values: what a column's text parses to under its dtype, and the canonical key
//! bytes used for membership and uniqueness (so `007` and `7` are the same `int`).

use crate::error::{Error, Result};
use crate::parse::{self, Decimal, TemporalFormat, TemporalKind};
use crate::spec::{ColumnSpec, DType};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    /// Valid UTF-8 without NUL bytes (checked once, when parsed); kept as bytes so the checks
    /// that work on bytes (patterns, sets, lengths) never validate it again.
    Str(&'a [u8]),
    Int(i64),
    Float(f64),
    Decimal(Decimal),
    Bool(bool),
    /// Days since 1970-01-01.
    Date(i32),
    /// Microseconds since 1970-01-01T00:00:00Z.
    DateTime(i64),
    /// Microseconds since midnight.
    Time(i64),
}

/// A column's value in one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// The source has no such column.
    Absent,
    Null,
    /// The text did not parse as the column's dtype.
    Invalid,
    Ok(Value<'a>),
}

impl Cell<'_> {
    pub fn is_known(&self) -> bool {
        matches!(self, Cell::Ok(_))
    }
}

/// A typed source's value kept as it is, not printed and parsed again: the value the text path
/// (`formats::typed::column_texts`, then the column's parser) would reach, and the same text
/// when a sample or a key shows it. `formats::typed::native_column` decides where it applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Native {
    /// An Arrow integer, shown as its decimal digits.
    Int(i64),
    /// An Arrow `float64`, shown as its shortest round-trip text (`NaN`, `inf`, `-inf` too).
    Float(f64),
    Bool(bool),
    /// Days since 1970-01-01, shown as `YYYY-MM-DD`.
    Date(i32),
    /// Microseconds since 1970-01-01T00:00:00; an instant (`zoned`) is shown with a `Z`.
    Micros {
        micros: i64,
        zoned: bool,
    },
}

impl Native {
    /// The value for a column of `dtype`; `None` where the text path's parser rejects the text
    /// (a non-finite float) and for a pair `native_column` never reads.
    pub fn value(self, dtype: DType) -> Option<Value<'static>> {
        #[allow(clippy::cast_precision_loss)] // as the text path: nearest float to the integer
        let value = match (self, dtype) {
            (Native::Int(v), DType::Int) => Value::Int(v),
            (Native::Int(v), DType::Float) => Value::Float(v as f64),
            (Native::Float(v), DType::Float) if v.is_finite() => Value::Float(v),
            (Native::Float(v), DType::Float) => {
                return parse::parse_float(ryu::Buffer::new().format(v).as_bytes())
                    .map(Value::Float)
            }
            (Native::Bool(v), DType::Bool) => Value::Bool(v),
            (Native::Date(days), DType::Date) => Value::Date(days),
            (Native::Micros { micros, .. }, DType::Datetime) => Value::DateTime(micros),
            _ => return None,
        };
        Some(value)
    }

    /// Append the text the text path would have read for this value.
    pub fn write_text(self, out: &mut Vec<u8>) {
        match self {
            // Into `out` directly: a key of an int column writes this for every row.
            Native::Int(v) => {
                let _ = std::io::Write::write_fmt(out, format_args!("{v}"));
            }
            Native::Float(v) => out.extend_from_slice(ryu::Buffer::new().format(v).as_bytes()),
            Native::Bool(v) => out.extend_from_slice(if v { b"true" } else { b"false" }),
            Native::Date(days) => out.extend_from_slice(parse::format_date(days).as_bytes()),
            Native::Micros { micros, zoned } => {
                out.extend_from_slice(parse::format_datetime(micros).as_bytes());
                if zoned {
                    out.push(b'Z');
                }
            }
        }
    }
}

/// Parses one dtype, with its format compiled once.
#[derive(Debug)]
pub enum TypeParser {
    Str,
    Int,
    Float,
    Decimal,
    Bool,
    Temporal(TemporalKind, Option<TemporalFormat>),
}

/// Whether every byte of `text` is ASCII and none is NUL, eight bytes at a time (a byte loop
/// cannot be vectorised with its early exit).
fn ascii_without_nul(text: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = ONES << 7;
    // A byte of 0x80 or more sets its high bit; a zero byte (the first one, with no borrow
    // into it) becomes 0xFF when one is subtracted from every byte.
    let word_ok = |word: u64| (word | word.wrapping_sub(ONES)) & HIGHS == 0;
    let mut words = text.chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        if !word_ok(u64::from_le_bytes(bytes)) {
            return false;
        }
    }
    // The tail is padded with ones: ASCII, not NUL.
    let mut last = [1u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    word_ok(u64::from_le_bytes(last))
}

impl TypeParser {
    pub fn compile(column: &ColumnSpec, at: &str) -> Result<TypeParser> {
        let kind = match column.dtype {
            DType::Date => Some(TemporalKind::Date),
            DType::Datetime => Some(TemporalKind::DateTime),
            DType::Time => Some(TemporalKind::Time),
            _ => None,
        };
        if let Some(kind) = kind {
            let format = match &column.format {
                None => None,
                Some(text) => Some(
                    TemporalFormat::compile(text, kind)
                        .map_err(|message| Error::schema(format!("{at}.format"), message))?,
                ),
            };
            return Ok(TypeParser::Temporal(kind, format));
        }
        if column.format.is_some() {
            return Err(Error::schema(
                format!("{at}.format"),
                format!(
                    "format applies to date, datetime and time columns, not {}",
                    column.dtype.name()
                ),
            ));
        }
        Ok(match column.dtype {
            DType::Str => TypeParser::Str,
            DType::Int => TypeParser::Int,
            DType::Float => TypeParser::Float,
            DType::Decimal => TypeParser::Decimal,
            DType::Bool => TypeParser::Bool,
            DType::Date | DType::Datetime | DType::Time => unreachable!("handled above"),
        })
    }

    pub fn for_dtype(dtype: DType) -> TypeParser {
        match dtype {
            DType::Str => TypeParser::Str,
            DType::Int => TypeParser::Int,
            DType::Float => TypeParser::Float,
            DType::Decimal => TypeParser::Decimal,
            DType::Bool => TypeParser::Bool,
            DType::Date => TypeParser::Temporal(TemporalKind::Date, None),
            DType::Datetime => TypeParser::Temporal(TemporalKind::DateTime, None),
            DType::Time => TypeParser::Temporal(TemporalKind::Time, None),
        }
    }

    pub fn parse<'a>(&self, text: &'a [u8]) -> Option<Value<'a>> {
        match self {
            TypeParser::Str => {
                // Most fields are short ASCII: one pass proves both "valid UTF-8" and "no NUL".
                if ascii_without_nul(text) {
                    return Some(Value::Str(text));
                }
                if memchr::memchr(0, text).is_some() {
                    return None;
                }
                std::str::from_utf8(text).ok().map(|_| Value::Str(text))
            }
            TypeParser::Int => parse::parse_int(text).map(Value::Int),
            TypeParser::Float => parse::parse_float(text).map(Value::Float),
            TypeParser::Decimal => parse::parse_decimal(text).map(Value::Decimal),
            TypeParser::Bool => parse::parse_bool(text).map(Value::Bool),
            TypeParser::Temporal(kind, format) => {
                let raw = match format {
                    Some(format) => format.parse(text)?,
                    None => match kind {
                        TemporalKind::Date => i64::from(parse::parse_date_iso(text)?),
                        TemporalKind::DateTime => parse::parse_datetime_iso(text)?,
                        TemporalKind::Time => parse::parse_time_iso(text)?,
                    },
                };
                Some(match kind {
                    TemporalKind::Date => Value::Date(i32::try_from(raw).ok()?),
                    TemporalKind::DateTime => Value::DateTime(raw),
                    TemporalKind::Time => Value::Time(raw),
                })
            }
        }
    }
}

impl TypeParser {
    /// Whether `text` is a value of this type (`self.parse(text).is_some()`), for a column whose
    /// values nothing reads: a fixed date-time format is checked without building the instant.
    pub fn accepts(&self, text: &[u8]) -> bool {
        match self {
            TypeParser::Temporal(_, Some(format)) => format.accepts(text),
            parser => parser.parse(text).is_some(),
        }
    }

    /// The text's value in a canonical text form that needs no grammar to convert (what the
    /// Python fallback for untraceable rules builds its values from, so they are the engine's):
    /// int → decimal digits, float → shortest round-trip repr, decimal → plain or `<m>e<exp>`
    /// text, bool → `true`/`false`, date → `YYYY-MM-DD`, time → `HH:MM:SS[.ffffff]`, datetime
    /// → `YYYY-MM-DDTHH:MM:SS[.ffffff]`, plus `±HH:MM` when the text wrote an offset (the same
    /// wall time and offset, so the same instant). `None` when the text does not parse.
    pub fn canonical_text(&self, text: &[u8]) -> Option<String> {
        if let TypeParser::Temporal(TemporalKind::DateTime, format) = self {
            let (utc, offset) = match format {
                Some(format) => format.parse_with_offset(text)?,
                None => parse::parse_datetime_iso_offset(text)?,
            };
            let Some(seconds) = offset else {
                return Some(parse::format_datetime(utc));
            };
            // The wall time as written is within years 1..=9999, unlike the UTC instant.
            let mut out = parse::format_datetime(utc + seconds * 1_000_000);
            let sign = if seconds < 0 { '-' } else { '+' };
            let minutes = seconds.unsigned_abs() / 60;
            out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
            return Some(out);
        }
        Some(match self.parse(text)? {
            // Checked to be UTF-8 by `parse`.
            Value::Str(s) => String::from_utf8_lossy(s).into_owned(),
            Value::Int(v) => v.to_string(),
            Value::Float(v) => format!("{v:?}"),
            Value::Decimal(d) => d.to_string(),
            Value::Bool(v) => v.to_string(),
            Value::Date(days) => parse::format_date(days),
            Value::Time(micros) => parse::format_time(micros),
            Value::DateTime(micros) => parse::format_datetime(micros),
        })
    }
}

/// Why a text failed its dtype, for report samples.
/// `display` stands for the text in the message when given (a sensitive column's token).
pub fn type_failure_message(
    dtype: DType,
    format: Option<&str>,
    text: &[u8],
    display: Option<&str>,
) -> String {
    if dtype == DType::Str {
        if memchr::memchr(0, text).is_some() {
            return "contains a NUL byte".to_owned();
        }
        if let Err(err) = std::str::from_utf8(text) {
            return format!("invalid UTF-8 at byte {}", err.valid_up_to());
        }
    }
    let shown = display.map_or_else(|| shown(text), str::to_owned);
    match format {
        Some(format) => format!("{shown} does not match {} format {format:?}", dtype.name()),
        None => format!("{shown} is not a valid {}", dtype.name()),
    }
}

/// A field's text for messages: lossy UTF-8, at most 200 characters.
pub fn shown(text: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(text);
    let mut out: String = lossy.chars().take(200).collect();
    if lossy.chars().count() > 200 {
        out.push('…');
    }
    format!("{out:?}")
}

/// Field text as it goes into a report sample.
pub fn sample_text(text: &[u8]) -> String {
    String::from_utf8_lossy(text).chars().take(200).collect()
}

impl Value<'_> {
    /// Canonical bytes identifying the typed value: equal values give equal bytes.
    pub fn key_bytes<'b>(&'b self, scratch: &'b mut [u8; 24]) -> &'b [u8] {
        match *self {
            Value::Str(s) => s,
            Value::Int(v) => tagged(scratch, 1, &v.to_le_bytes()),
            Value::Float(v) => {
                // -0.0 == 0.0, so they must share a key.
                let v = if v == 0.0 { 0.0f64 } else { v };
                tagged(scratch, 2, &v.to_bits().to_le_bytes())
            }
            Value::Decimal(d) => {
                let mut raw = [0u8; 20];
                raw[..16].copy_from_slice(&d.mantissa().to_le_bytes());
                raw[16..].copy_from_slice(&d.exponent().to_le_bytes());
                tagged(scratch, 3, &raw)
            }
            Value::Bool(v) => tagged(scratch, 4, &[u8::from(v)]),
            Value::Date(v) => tagged(scratch, 5, &v.to_le_bytes()),
            Value::DateTime(v) => tagged(scratch, 6, &v.to_le_bytes()),
            Value::Time(v) => tagged(scratch, 7, &v.to_le_bytes()),
        }
    }

    /// The value as f64 for dataset aggregates (numeric dtypes only).
    pub fn as_f64(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        match *self {
            Value::Int(v) => Some(v as f64),
            Value::Float(v) => Some(v),
            Value::Decimal(d) => Some(d.to_f64()),
            _ => None,
        }
    }
}

impl Value<'_> {
    /// The number a column's statistics gather: numbers as themselves, dates and datetimes as
    /// microseconds since 1970-01-01 (exact in an `f64` for ±285 years), times as microseconds
    /// since midnight; strings and booleans have none.
    pub fn stat_f64(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        match *self {
            Value::Date(days) => Some(f64::from(days) * 86_400_000_000.0),
            Value::DateTime(micros) | Value::Time(micros) => Some(micros as f64),
            _ => self.as_f64(),
        }
    }
}

fn tagged<'b>(scratch: &'b mut [u8; 24], tag: u8, raw: &[u8]) -> &'b [u8] {
    scratch[0] = tag;
    scratch[1..=raw.len()].copy_from_slice(raw);
    &scratch[..=raw.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_four_words() {
        // The check loops copy cells by the thousand; a 16-byte-aligned field (an i128 in
        // `Decimal`) would make every one 48 bytes.
        assert_eq!(std::mem::size_of::<Value<'_>>(), 32);
        assert_eq!(std::mem::size_of::<Cell<'_>>(), 32);
    }

    proptest::proptest! {
        /// The word-at-a-time test says what the byte loop says, for every length and place.
        #[test]
        fn ascii_without_nul_is_the_byte_test(
            len in 0usize..40,
            planted in proptest::collection::vec(
                (0usize..40, proptest::sample::select(vec![0u8, 1, 0x7F, 0x80, 0xC3, 0xFF])),
                0..3,
            ),
        ) {
            // ASCII text with a few bytes planted anywhere in it.
            let mut text = vec![b'a'; len];
            for (at, byte) in planted {
                if at < len {
                    text[at] = byte;
                }
            }
            let bytes = text.iter().all(|&b| (1..0x80).contains(&b));
            proptest::prop_assert_eq!(ascii_without_nul(&text), bytes);
        }
    }

    fn parser(dtype: &str, format: Option<&str>) -> TypeParser {
        let column: ColumnSpec = serde_json::from_value(
            serde_json::json!({"name": "v", "dtype": dtype, "format": format}),
        )
        .unwrap();
        TypeParser::compile(&column, "v").unwrap()
    }

    #[test]
    fn canonical_text_table() {
        let cases: &[(&str, Option<&str>, &str, Option<&str>)] = &[
            ("str", None, "abc", Some("abc")),
            ("str", None, "", Some("")),
            ("str", None, "a\0b", None),
            ("int", None, "007", Some("7")),
            ("int", None, "+5", Some("5")),
            ("int", None, "-0", Some("0")),
            (
                "int",
                None,
                "-9223372036854775808",
                Some("-9223372036854775808"),
            ),
            ("int", None, "9223372036854775808", None),
            ("int", None, "1.0", None),
            ("float", None, "1e3", Some("1000.0")),
            ("float", None, ".5", Some("0.5")),
            ("float", None, "0.1", Some("0.1")),
            ("float", None, "1e300", Some("1e300")),
            ("float", None, "-0", Some("-0.0")),
            ("float", None, "NaN", None),
            ("float", None, "1e309", None),
            ("decimal", None, "1.10", Some("1.1")),
            ("decimal", None, "-.5e1", Some("-5")),
            ("decimal", None, "1e-60", Some("1e-60")),
            ("decimal", None, "nan", None),
            ("bool", None, "Yes", Some("true")),
            ("bool", None, "0", Some("false")),
            ("bool", None, "on", None),
            ("date", None, "2024-02-29", Some("2024-02-29")),
            ("date", None, "2023-02-29", None),
            ("date", Some("%d/%m/%Y"), "05/01/2026", Some("2026-01-05")),
            ("date", Some("%d/%m/%Y"), "2026-01-05", None),
            ("time", None, "07:30", Some("07:30:00")),
            ("time", None, "23:59:59.999999999", Some("23:59:59.999999")),
            ("time", None, "24:00", None),
            ("time", Some("%Hh%M"), "10h20", Some("10:20:00")),
            (
                "datetime",
                None,
                "2026-01-05T10:20",
                Some("2026-01-05T10:20:00"),
            ),
            (
                "datetime",
                None,
                "2026-01-05 10:20:30.5",
                Some("2026-01-05T10:20:30.500000"),
            ),
            (
                "datetime",
                None,
                "2026-01-05T10:20:30Z",
                Some("2026-01-05T10:20:30+00:00"),
            ),
            (
                "datetime",
                None,
                "2026-01-05T10:20:30+0300",
                Some("2026-01-05T10:20:30+03:00"),
            ),
            (
                "datetime",
                None,
                "2026-01-05T10:20:30-09:30",
                Some("2026-01-05T10:20:30-09:30"),
            ),
            // the UTC instant would be in year 0; the wall time as written is not
            (
                "datetime",
                None,
                "0001-01-01T00:00+01:00",
                Some("0001-01-01T00:00:00+01:00"),
            ),
            ("datetime", None, "2026-01-05", None),
            (
                "datetime",
                Some("%Y%m%d %H%M%z"),
                "20260105 1020-0100",
                Some("2026-01-05T10:20:00-01:00"),
            ),
            (
                "datetime",
                Some("%Y%m%d %H%M"),
                "20260105 1020",
                Some("2026-01-05T10:20:00"),
            ),
            // Fixed layouts (checked a word at a time).
            (
                "datetime",
                Some("%Y-%m-%dT%H:%M:%S"),
                "2024-02-29T23:59:59",
                Some("2024-02-29T23:59:59"),
            ),
            (
                "datetime",
                Some("%Y-%m-%dT%H:%M:%S"),
                "2023-02-29T00:00:00",
                None,
            ),
            (
                "datetime",
                Some("%Y-%m-%dT%H:%M:%S"),
                "2024-01-01T24:00:00",
                None,
            ),
            (
                "datetime",
                Some("%Y-%m-%dT%H:%M:%S"),
                "2024-01-01T00:60:00",
                None,
            ),
            (
                "datetime",
                Some("%Y-%m-%dT%H:%M:%S"),
                "2024-01-01 00:00:00",
                None,
            ),
            ("date", Some("%Y-%m-%d"), "2024-13-01", None),
            ("date", Some("%Y-%m-%d"), "0000-01-01", None),
            ("date", Some("%Y-%m-%d"), "9999-12-31", Some("9999-12-31")),
        ];
        for &(dtype, format, text, want) in cases {
            let parser = parser(dtype, format);
            let got = parser.canonical_text(text.as_bytes());
            assert_eq!(got.as_deref(), want, "{dtype} {format:?} {text:?}");
            // What a column whose values nothing reads asks instead.
            let accepts = parser.accepts(text.as_bytes());
            assert_eq!(accepts, want.is_some(), "{dtype} {format:?} {text:?}");
        }
        assert_eq!(parser("str", None).canonical_text(b"\xff"), None);
    }

    #[test]
    fn parse_texts_is_canonical_text_per_text_and_checks_the_column() {
        let column = r#"{"name": "d", "dtype": "date", "format": "%d/%m/%Y"}"#;
        let texts: &[&[u8]] = &[b"05/01/2026", b"", b"31/02/2026", b"\xff"];
        let got = crate::parse_texts(column, texts).unwrap();
        assert_eq!(got, [Some("2026-01-05".to_owned()), None, None, None]);
        assert_eq!(
            crate::parse_texts(column, &[]).unwrap(),
            Vec::<Option<String>>::new()
        );
        for bad in [
            r#"{"name": "d", "dtype": "date", "format": "%q"}"#,
            r#"{"name": "n", "dtype": "int", "format": "%Y"}"#,
            r#"{"name": "n", "dtype": "integer"}"#,
            "not json",
        ] {
            let err = crate::parse_texts(bad, texts).unwrap_err();
            assert!(matches!(err, Error::Schema { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn canonical_text_agrees_with_parse() {
        // Whatever `parse` rejects, `canonical_text` rejects, and the other way round.
        for dtype in [
            "str", "int", "float", "decimal", "bool", "date", "datetime", "time",
        ] {
            let p = parser(dtype, None);
            for text in [
                "",
                "1",
                "0",
                "1.5",
                "t",
                "2026-01-05",
                "2026-01-05T10:20Z",
                "10:20",
            ] {
                assert_eq!(
                    p.canonical_text(text.as_bytes()).is_some(),
                    p.parse(text.as_bytes()).is_some(),
                    "{dtype} {text:?}"
                );
            }
        }
    }
}
