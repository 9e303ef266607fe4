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
                if text.iter().all(|&b| b.wrapping_sub(1) < 0x7F) {
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
