//! Typed Arrow columns (Parquet, in-memory tables) turned into the text their *value* means for
//! the schema's type, so a rule judges the value and not how a writer happened to store it: an
//! integral float is an int (`181.0` from pandas' NaN-able int columns), a time-zone-aware
//! timestamp is its UTC instant, a decimal keeps every digit, bytes stay bytes.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, StringArray};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use arrow_schema::{DataType, TimeUnit};
use std::borrow::Cow;

use crate::error::{Error, Position, Result};
use crate::parse::{format_date, format_datetime};
use crate::spec::DType;
use crate::value::Native;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// What a non-string column holds, as text for a column of `dtype`: `emit(row, text)` for every
/// row, `None` for a null. The text is lent for the call only, so no cell is allocated on its own.
pub fn column_texts(
    path: &str,
    name: &str,
    array: &ArrayRef,
    dtype: DType,
    mut emit: impl FnMut(usize, Option<&[u8]>),
) -> Result<()> {
    match array.data_type() {
        DataType::Float16 if dtype == DType::Int => {
            floats(array.as_primitive::<Float16Type>(), f64::from, emit);
        }
        DataType::Float32 if dtype == DType::Int => {
            floats(array.as_primitive::<Float32Type>(), f64::from, emit);
        }
        DataType::Float64 if dtype == DType::Int => {
            floats(array.as_primitive::<Float64Type>(), |v| v, emit);
        }
        DataType::Timestamp(unit, zone) => timestamps(array, *unit, zone.is_some(), dtype, emit),
        DataType::Binary => bytes(array.as_binary::<i32>().iter(), emit),
        DataType::LargeBinary => bytes(array.as_binary::<i64>().iter(), emit),
        DataType::BinaryView => bytes(array.as_binary_view().iter(), emit),
        DataType::FixedSizeBinary(_) => bytes(array.as_fixed_size_binary().iter(), emit),
        nested if nested.is_nested() => {
            return Err(Error::data(
                "nested_column",
                format!(
                    "the column is a nested Arrow type ({nested}); pyrustpipe checks flat \
                     columns: flatten it (e.g. polars' unnest) or leave it out of the schema"
                ),
                position(path, name),
            ))
        }
        _ => {
            let cast = arrow_cast::cast(array, &DataType::Utf8).map_err(|e| {
                Error::data(
                    "parquet_type",
                    format!(
                        "column of Arrow type {} cannot be checked as text: {e}",
                        array.data_type()
                    ),
                    position(path, name),
                )
            })?;
            let strings: &StringArray = cast.as_string::<i32>();
            // A decimal with a scale prints `12.00`; for an int column its value is 12.
            let integral = dtype == DType::Int
                && matches!(
                    array.data_type(),
                    DataType::Decimal32(..)
                        | DataType::Decimal64(..)
                        | DataType::Decimal128(..)
                        | DataType::Decimal256(..)
                );
            for (row, value) in strings.iter().enumerate() {
                let value = value.map(|s| if integral { strip_zero_fraction(s) } else { s });
                emit(row, value.map(str::as_bytes));
            }
        }
    }
    Ok(())
}

/// A dictionary of strings (polars' `Categorical` and `Enum`, pandas' `category`) as the string
/// views it stands for, so a `str` column reads it in place: each row's view gathered by its key
/// (16 bytes a row, the values' bytes shared), where its text would be written out row by row.
/// `None` for any other array, or a dictionary whose values no view can point at (more than
/// 4 GiB).
pub fn string_dictionary_views(array: &ArrayRef) -> Option<ArrayRef> {
    match array.data_type() {
        DataType::Dictionary(_, values)
            if matches!(
                **values,
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            arrow_cast::cast(array, &DataType::Utf8View).ok()
        }
        _ => None,
    }
}

/// A typed column's values as `Native`s, read where they lie: one exists only where every value
/// means exactly what its text would (`native_column`).
pub struct NativeColumn<'a> {
    values: NativeValues<'a>,
    nulls: Option<&'a NullBuffer>,
}

#[derive(Clone, Copy)]
enum NativeValues<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    /// Every non-null value is at most `i64::MAX` (checked when built).
    U64(&'a [u64]),
    Float(&'a [f64]),
    /// Float64 values of an `int` column (pandas keeps an int column with nulls as floats):
    /// every non-null value is an integer below 2^63 in size (checked when built), whose text
    /// is its digits.
    IntegralFloat(&'a [f64]),
    Bool(&'a BooleanBuffer),
    Date(&'a [i32]),
    /// Timestamps in `unit`, every non-null value inside the years 1–9999 (checked when built);
    /// `date`: each is a midnight, read as its day.
    Timestamps {
        raw: &'a [i64],
        unit: TimeUnit,
        zoned: bool,
        date: bool,
    },
}

impl<'a> NativeColumn<'a> {
    /// A float64 column's values and nulls (a null's value is any float).
    pub fn floats(&self) -> Option<(&'a [f64], Option<&'a NullBuffer>)> {
        match self.values {
            NativeValues::Float(values) => Some((values, self.nulls)),
            _ => None,
        }
    }

    /// A bool column's values (a null's is any bool).
    pub fn bools(&self) -> Option<&'a BooleanBuffer> {
        match self.values {
            NativeValues::Bool(values) => Some(values),
            _ => None,
        }
    }

    /// The column's nulls, if any.
    pub fn nulls(&self) -> Option<&'a NullBuffer> {
        self.nulls
    }

    /// Whether value `at` is not null and surely a value of the column's type (every native
    /// is, but a float that is not finite: its text decides).
    #[inline]
    pub fn is_plain(&self, at: usize) -> bool {
        if self.nulls.is_some_and(|nulls| nulls.is_null(at)) {
            return false;
        }
        match self.values {
            NativeValues::Float(v) => v[at].is_finite(),
            _ => true,
        }
    }

    /// Value `at`, `None` for a null (inlined: the check loops call it for every value).
    #[inline(always)]
    pub fn get(&self, at: usize) -> Option<Native> {
        if self.nulls.is_some_and(|nulls| nulls.is_null(at)) {
            return None;
        }
        Some(match self.values {
            NativeValues::I8(v) => Native::Int(i64::from(v[at])),
            NativeValues::I16(v) => Native::Int(i64::from(v[at])),
            NativeValues::I32(v) => Native::Int(i64::from(v[at])),
            NativeValues::I64(v) => Native::Int(v[at]),
            NativeValues::U8(v) => Native::Int(i64::from(v[at])),
            NativeValues::U16(v) => Native::Int(i64::from(v[at])),
            NativeValues::U32(v) => Native::Int(i64::from(v[at])),
            NativeValues::U64(v) => Native::Int(i64::try_from(v[at]).unwrap_or(i64::MAX)),
            NativeValues::Float(v) => Native::Float(v[at]),
            #[allow(clippy::cast_possible_truncation)] // an integer below 2^63 (checked)
            NativeValues::IntegralFloat(v) => Native::Int(v[at] as i64),
            NativeValues::Bool(v) => Native::Bool(v.value(at)),
            NativeValues::Date(v) => Native::Date(v[at]),
            NativeValues::Timestamps {
                raw,
                unit,
                zoned,
                date,
            } => {
                let micros = to_micros(raw[at], unit).unwrap_or_default();
                if date {
                    #[allow(clippy::cast_possible_truncation)] // in NATIVE_DAYS, checked when built
                    Native::Date(micros.div_euclid(MICROS_PER_DAY) as i32)
                } else {
                    Native::Micros { micros, zoned }
                }
            }
        })
    }
}

/// Rows of an integer, date or datetime column as the `i64`s their `Value`s hold (the integer,
/// the days, the microseconds), so a check or a row rule compares them in a plain loop.
pub struct Ordinals<'a> {
    /// The rows' values; a slot under a null holds any `i64`.
    pub values: Cow<'a, [i64]>,
    /// The array's nulls, and the array row of `values[0]`.
    pub nulls: Option<&'a NullBuffer>,
    pub from: usize,
    kind: OrdinalKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OrdinalKind {
    Int,
    Days,
    Micros { zoned: bool },
}

impl Ordinals<'_> {
    /// The native value `v` (one of `values`) is.
    #[inline]
    pub fn native(&self, v: i64) -> Native {
        match self.kind {
            OrdinalKind::Int => Native::Int(v),
            #[allow(clippy::cast_possible_truncation)] // days of a `Date32`
            OrdinalKind::Days => Native::Date(v as i32),
            OrdinalKind::Micros { zoned } => Native::Micros { micros: v, zoned },
        }
    }

    /// Whether these and `other` are values of one type, so comparing their `i64`s compares
    /// their values.
    pub fn comparable_with(&self, other: &Ordinals<'_>) -> bool {
        std::mem::discriminant(&self.kind) == std::mem::discriminant(&other.kind)
    }
}

impl<'a> NativeColumn<'a> {
    /// Array rows `at` as `Ordinals` for a column of `dtype`, where its values are integers of
    /// an `int` column, dates of a `date` column or timestamps of a `datetime` column. Inlined:
    /// a caller in `widest`'s vector build widens a narrower integer four lanes at a time.
    #[inline(always)]
    pub fn ordinals(&self, dtype: DType, at: std::ops::Range<usize>) -> Option<Ordinals<'a>> {
        fn widened<T: Copy>(values: &[T], widen: impl Fn(T) -> i64) -> Cow<'static, [i64]> {
            Cow::Owned(values.iter().map(|&v| widen(v)).collect())
        }
        let from = at.start;
        #[allow(clippy::cast_possible_wrap)] // every value is at most `i64::MAX` (a null's any)
        let (values, kind) = match (self.values, dtype) {
            (NativeValues::I8(v), DType::Int) => (widened(&v[at], i64::from), OrdinalKind::Int),
            (NativeValues::I16(v), DType::Int) => (widened(&v[at], i64::from), OrdinalKind::Int),
            (NativeValues::I32(v), DType::Int) => (widened(&v[at], i64::from), OrdinalKind::Int),
            (NativeValues::I64(v), DType::Int) => (Cow::Borrowed(&v[at]), OrdinalKind::Int),
            (NativeValues::U8(v), DType::Int) => (widened(&v[at], i64::from), OrdinalKind::Int),
            (NativeValues::U16(v), DType::Int) => (widened(&v[at], i64::from), OrdinalKind::Int),
            (NativeValues::U32(v), DType::Int) => (widened(&v[at], i64::from), OrdinalKind::Int),
            (NativeValues::U64(v), DType::Int) => (widened(&v[at], |v| v as i64), OrdinalKind::Int),
            #[allow(clippy::cast_possible_truncation)] // an integer below 2^63 (a null's any)
            (NativeValues::IntegralFloat(v), DType::Int) => {
                (widened(&v[at], |v| v as i64), OrdinalKind::Int)
            }
            (NativeValues::Date(v), DType::Date) => (widened(&v[at], i64::from), OrdinalKind::Days),
            (
                NativeValues::Timestamps {
                    raw,
                    unit,
                    zoned,
                    date: false,
                },
                DType::Datetime,
            ) => {
                let raw = &raw[at];
                let values = match unit {
                    TimeUnit::Microsecond => Cow::Borrowed(raw),
                    // A valid value converts (checked when built); a null's slot may not.
                    _ => widened(raw, |v| to_micros(v, unit).unwrap_or_default()),
                };
                (values, OrdinalKind::Micros { zoned })
            }
            _ => return None,
        };
        Some(Ordinals {
            values,
            nulls: self.nulls,
            from,
            kind,
        })
    }
}

/// `array` read as `Native`s for a column of `dtype`, where that means exactly what its text
/// would; `None` where the column takes the text path instead: a string target, a pair of types
/// without a native meaning, or any value whose text the parser would judge on its own (an
/// integer past `i64`, a date outside the years 1–9999, a sub-day timestamp in a `date` column).
pub fn native_column(array: &ArrayRef, dtype: DType) -> Option<NativeColumn<'_>> {
    native_reader(array, dtype).filter(|column| column.means_its_text(array))
}

/// `array` read as `Native`s for a column of `dtype`, once `native_column` has accepted it.
pub fn native_reader(array: &ArrayRef, dtype: DType) -> Option<NativeColumn<'_>> {
    let numeric = matches!(dtype, DType::Int | DType::Float);
    let values = match array.data_type() {
        DataType::Int8 if numeric => NativeValues::I8(raw::<Int8Type>(array)),
        DataType::Int16 if numeric => NativeValues::I16(raw::<Int16Type>(array)),
        DataType::Int32 if numeric => NativeValues::I32(raw::<Int32Type>(array)),
        DataType::Int64 if numeric => NativeValues::I64(raw::<Int64Type>(array)),
        DataType::UInt8 if numeric => NativeValues::U8(raw::<UInt8Type>(array)),
        DataType::UInt16 if numeric => NativeValues::U16(raw::<UInt16Type>(array)),
        DataType::UInt32 if numeric => NativeValues::U32(raw::<UInt32Type>(array)),
        DataType::UInt64 if numeric => NativeValues::U64(raw::<UInt64Type>(array)),
        DataType::Float64 if dtype == DType::Float => {
            NativeValues::Float(raw::<Float64Type>(array))
        }
        DataType::Float64 if dtype == DType::Int => {
            NativeValues::IntegralFloat(raw::<Float64Type>(array))
        }
        DataType::Boolean if dtype == DType::Bool => {
            NativeValues::Bool(array.as_boolean().values())
        }
        DataType::Date32 if dtype == DType::Date => NativeValues::Date(raw::<Date32Type>(array)),
        DataType::Timestamp(unit, zone) if matches!(dtype, DType::Datetime | DType::Date) => {
            // Every timestamp type holds i64s; the unit says what they count.
            let raw: &[i64] = match unit {
                TimeUnit::Second => raw::<TimestampSecondType>(array),
                TimeUnit::Millisecond => raw::<TimestampMillisecondType>(array),
                TimeUnit::Microsecond => raw::<TimestampMicrosecondType>(array),
                TimeUnit::Nanosecond => raw::<TimestampNanosecondType>(array),
            };
            NativeValues::Timestamps {
                raw,
                unit: *unit,
                zoned: zone.is_some(),
                date: dtype == DType::Date,
            }
        }
        _ => return None,
    };
    Some(NativeColumn {
        values,
        nulls: array.nulls(),
    })
}

impl NativeColumn<'_> {
    /// Whether every value of `array` (the one read) means what its text would.
    fn means_its_text(&self, array: &ArrayRef) -> bool {
        // Most columns are decided by their least and greatest raw values, nulls' slots
        // included (a loop with no null test and no branch); the exact test below only when
        // those do not decide it.
        if self.bounds_mean_their_text() {
            return true;
        }
        // The null buffer once, not a dynamic `is_valid` call per value.
        let nulls = array.nulls();
        let valid = (0..array.len()).filter(|&at| nulls.is_none_or(|n| n.is_valid(at)));
        match self.values {
            NativeValues::U64(values) => valid
                .into_iter()
                .all(|at| i64::try_from(values[at]).is_ok()),
            NativeValues::IntegralFloat(values) => valid.into_iter().all(|at| integral(values[at])),
            NativeValues::Date(days) => valid.into_iter().all(|at| NATIVE_DAYS.contains(&days[at])),
            NativeValues::Timestamps {
                raw,
                unit,
                zoned,
                date,
            } => {
                let fits = |at: usize| {
                    to_micros(raw[at], unit).is_some_and(|us| {
                        NATIVE_MICROS.contains(&us) && (!date || us.rem_euclid(MICROS_PER_DAY) == 0)
                    })
                };
                !(date && zoned) && valid.into_iter().all(fits)
            }
            _ => true,
        }
    }
}

impl NativeColumn<'_> {
    /// Whether every raw value, a null's slot too, means what its text would, judged by the
    /// least and greatest alone: a conversion that keeps order maps them to the ends of a range
    /// every other value lies in. False says nothing: a null's slot may hold anything.
    fn bounds_mean_their_text(&self) -> bool {
        fn bounds<T: Copy + Ord>(values: &[T]) -> Option<(T, T)> {
            let first = *values.first()?;
            Some(
                values
                    .iter()
                    .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v))),
            )
        }
        match self.values {
            NativeValues::U64(values) => {
                bounds(values).is_none_or(|(_, hi)| i64::try_from(hi).is_ok())
            }
            // A null's slot too (pandas leaves NaN there): then the exact test decides.
            NativeValues::IntegralFloat(values) => values.iter().all(|&v| integral(v)),
            NativeValues::Date(days) => bounds(days)
                .is_none_or(|(lo, hi)| NATIVE_DAYS.contains(&lo) && NATIVE_DAYS.contains(&hi)),
            // Every `i64` of nanoseconds lies in the years 1–9999.
            NativeValues::Timestamps {
                unit: TimeUnit::Nanosecond,
                date: false,
                ..
            } => true,
            NativeValues::Timestamps {
                raw,
                unit: TimeUnit::Microsecond,
                date: false,
                ..
            } if crate::check::widest(
                #[inline(always)]
                |_| offsets_within(raw, NATIVE_MICROS),
            ) =>
            {
                true
            }
            // A `date` column's timestamps must each be a midnight: not decided by bounds.
            NativeValues::Timestamps {
                raw,
                unit,
                date: false,
                ..
            } => bounds(raw).is_none_or(|(lo, hi)| {
                // `to_micros` keeps order, and fails only past an end of `i64`.
                let fits =
                    |raw: i64| to_micros(raw, unit).is_some_and(|us| NATIVE_MICROS.contains(&us));
                fits(lo) && fits(hi)
            }),
            NativeValues::Timestamps { date: true, .. } => false,
            _ => true,
        }
    }
}

/// Whether every value lies in `range`, decided without a compare a value: each value's offset
/// from the start, wrapped to 64 unsigned bits, is below the span exactly when the value is in
/// the range, and the offsets' OR bounds each of them. A loop of subtractions and ORs that the
/// compiler vectorizes; false (the caller's exact test decides) when the OR reaches the span.
/// Inlined into `widest`'s vector build by its caller: four 64-bit lanes a step there.
#[inline(always)]
fn offsets_within(values: &[i64], range: std::ops::Range<i64>) -> bool {
    let span = range.end.wrapping_sub(range.start) as u64;
    let start = range.start;
    let offsets = (values.iter()).fold(0u64, |or, &v| or | v.wrapping_sub(start) as u64);
    offsets < span
}

/// Whether a float's text, for an `int` column, is an integer's digits (`floats` writes such a
/// float as `v as i64`; any other float's text fails the column's type).
fn integral(v: f64) -> bool {
    // Floats at or above 2^63 in size are outside i64 whatever their digits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    v.is_finite() && v.fract() == 0.0 && v.abs() < LIMIT
}

/// The microseconds of the years 1–9999 (`NATIVE_DAYS`).
const NATIVE_MICROS: std::ops::Range<i64> = (*NATIVE_DAYS.start() as i64) * MICROS_PER_DAY
    ..(*NATIVE_DAYS.end() as i64 + 1) * MICROS_PER_DAY;

/// The days of the years 1–9999, where a date's or timestamp's text is `YYYY-MM-DD…`.
const NATIVE_DAYS: std::ops::RangeInclusive<i32> = -719_162..=2_932_896;

fn raw<T: ArrowPrimitiveType>(array: &ArrayRef) -> &[T::Native] {
    array.as_primitive::<T>().values()
}

/// A timestamp in microseconds as the text path reads it (sub-microsecond digits dropped);
/// `None` when it overflows.
fn to_micros(value: i64, unit: TimeUnit) -> Option<i64> {
    match unit {
        TimeUnit::Second => value.checked_mul(1_000_000),
        TimeUnit::Millisecond => value.checked_mul(1_000),
        TimeUnit::Microsecond => Some(value),
        TimeUnit::Nanosecond => Some(value.div_euclid(1_000)),
    }
}

/// `12.00` → `12`; `12.50` stays (and then fails an int column's type check).
fn strip_zero_fraction(text: &str) -> &str {
    match text.split_once('.') {
        Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
        _ => text,
    }
}

fn position(path: &str, name: &str) -> Position {
    Position {
        path: Some(path.to_owned()),
        column: Some(name.to_owned()),
        ..Position::default()
    }
}

/// Floats for an int column: an integral value prints as an integer, any other as itself (and
/// then fails the type check, as `181.5` or `NaN` must).
fn floats<T: arrow_array::ArrowPrimitiveType>(
    array: &PrimitiveArray<T>,
    to_f64: impl Fn(T::Native) -> f64,
    mut emit: impl FnMut(usize, Option<&[u8]>),
) {
    use std::fmt::Write;
    let mut text = String::new();
    for (row, value) in array.iter().enumerate() {
        let Some(value) = value else {
            emit(row, None);
            continue;
        };
        let v = to_f64(value);
        text.clear();
        #[allow(clippy::cast_possible_truncation)]
        let _ = if integral(v) {
            write!(text, "{}", v as i64)
        } else {
            write!(text, "{v}")
        };
        emit(row, Some(text.as_bytes()));
    }
}

/// Timestamps as ISO text: an instant (a column with a time zone, whatever the zone) ends in `Z`;
/// a wall-clock time (no zone) has no suffix. Sub-microsecond digits are dropped. For a date
/// column, a zone-less midnight is that date (pandas stores dates as `datetime64`).
fn timestamps(
    array: &ArrayRef,
    unit: TimeUnit,
    zoned: bool,
    dtype: DType,
    mut emit: impl FnMut(usize, Option<&[u8]>),
) {
    let micros: Box<dyn Iterator<Item = Option<i64>>> = match unit {
        TimeUnit::Second => Box::new(
            array
                .as_primitive::<TimestampSecondType>()
                .iter()
                .map(|v| v.and_then(|s| s.checked_mul(1_000_000))),
        ),
        TimeUnit::Millisecond => Box::new(
            array
                .as_primitive::<TimestampMillisecondType>()
                .iter()
                .map(|v| v.and_then(|ms| ms.checked_mul(1_000))),
        ),
        TimeUnit::Microsecond => Box::new(array.as_primitive::<TimestampMicrosecondType>().iter()),
        TimeUnit::Nanosecond => Box::new(
            array
                .as_primitive::<TimestampNanosecondType>()
                .iter()
                .map(|v| v.map(|ns| ns.div_euclid(1_000))),
        ),
    };
    for (row, value) in micros.enumerate() {
        let Some(us) = value else {
            emit(row, None);
            continue;
        };
        let text = if dtype == DType::Date && !zoned && us.rem_euclid(MICROS_PER_DAY) == 0 {
            #[allow(clippy::cast_possible_truncation)]
            format_date(us.div_euclid(MICROS_PER_DAY) as i32)
        } else {
            let mut text = format_datetime(us);
            if zoned {
                text.push('Z');
            }
            text
        };
        emit(row, Some(text.as_bytes()));
    }
}

fn bytes<'a>(
    values: impl Iterator<Item = Option<&'a [u8]>>,
    mut emit: impl FnMut(usize, Option<&[u8]>),
) {
    for (row, value) in values.enumerate() {
        emit(row, value);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{
        BinaryArray, Decimal128Array, Float64Array, Int64Array, StructArray,
        TimestampMillisecondArray,
    };
    use arrow_schema::Field;

    use super::*;

    fn collect(array: &ArrayRef, dtype: DType) -> Result<Vec<Option<Vec<u8>>>> {
        let mut out = Vec::new();
        column_texts("f.parquet", "payer", array, dtype, |row, text| {
            assert_eq!(row, out.len());
            out.push(text.map(<[u8]>::to_vec));
        })?;
        Ok(out)
    }

    fn texts(array: ArrayRef, dtype: DType) -> Vec<Option<String>> {
        collect(&array, dtype)
            .unwrap()
            .into_iter()
            .map(|v| v.map(|b| String::from_utf8(b).unwrap()))
            .collect()
    }

    #[test]
    fn values_become_the_text_their_type_means() {
        let s = |x: &str| Some(x.to_owned());
        let cases: Vec<(ArrayRef, DType, Vec<Option<String>>)> = vec![
            (
                Arc::new(
                    Decimal128Array::from(vec![1200, 1250])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
                DType::Int,
                vec![s("12"), s("12.50")],
            ),
            (
                Arc::new(Float64Array::from(vec![
                    Some(181.0),
                    Some(181.5),
                    None,
                    Some(f64::NAN),
                    Some(-0.0),
                ])),
                DType::Int,
                vec![s("181"), s("181.5"), None, s("NaN"), s("0")],
            ),
            (
                Arc::new(Float64Array::from(vec![181.0, 0.1])),
                DType::Float,
                vec![s("181.0"), s("0.1")],
            ),
            (
                Arc::new(Int64Array::from(vec![7, -3])),
                DType::Int,
                vec![s("7"), s("-3")],
            ),
            (
                Arc::new(
                    Decimal128Array::from(vec![123_456_789_012_345_678_901_234_567_890i128, -5])
                        .with_precision_and_scale(38, 2)
                        .unwrap(),
                ),
                DType::Decimal,
                vec![s("1234567890123456789012345678.90"), s("-0.05")],
            ),
            (
                Arc::new(
                    TimestampMillisecondArray::from(vec![1_700_000_000_123]).with_timezone("UTC"),
                ),
                DType::Datetime,
                vec![s("2023-11-14T22:13:20.123000Z")],
            ),
            (
                Arc::new(
                    TimestampMillisecondArray::from(vec![1_700_000_000_000])
                        .with_timezone("Africa/Nairobi"),
                ),
                DType::Datetime,
                vec![s("2023-11-14T22:13:20Z")],
            ),
            (
                Arc::new(TimestampMillisecondArray::from(vec![0])),
                DType::Datetime,
                vec![s("1970-01-01T00:00:00")],
            ),
            (
                Arc::new(TimestampMillisecondArray::from(vec![
                    86_400_000, 86_400_001,
                ])),
                DType::Date,
                vec![s("1970-01-02"), s("1970-01-02T00:00:00.001000")],
            ),
        ];
        for (array, dtype, expected) in cases {
            let what = format!("{} as {}", array.data_type(), dtype.name());
            assert_eq!(texts(array, dtype), expected, "{what}");
        }
    }

    #[test]
    fn bytes_stay_bytes_and_nested_columns_are_refused() {
        let binary: ArrayRef = Arc::new(BinaryArray::from(vec![&b"ab\xffc"[..]]));
        assert_eq!(
            collect(&binary, DType::Str).unwrap(),
            vec![Some(b"ab\xffc".to_vec())]
        );
        let nested: ArrayRef = Arc::new(StructArray::from(vec![(
            Arc::new(Field::new("x", DataType::Int64, false)),
            Arc::new(Int64Array::from(vec![1])) as ArrayRef,
        )]));
        let err = collect(&nested, DType::Str).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("nested") && text.contains("payer"), "{text}");
    }

    /// Each value of `array` the native way and the text way, for a column of `dtype`: the same
    /// value (or the same null) and the same shown text, or no native path at all.
    fn assert_native_means_its_text(array: ArrayRef, dtype: DType) -> bool {
        let Some(column) = native_column(&array, dtype) else {
            return false;
        };
        let kept: Vec<Option<Native>> = (0..array.len()).map(|at| column.get(at)).collect();
        let parser = crate::value::TypeParser::for_dtype(dtype);
        let texts = collect(&array, dtype).unwrap();
        assert_eq!(texts.len(), kept.len());
        for (text, native) in texts.iter().zip(kept) {
            let what = format!("{} as {}: {text:?}", array.data_type(), dtype.name());
            match (text, native) {
                (None, None) => {}
                (Some(text), Some(native)) => {
                    assert_eq!(parser.parse(text), native.value(dtype), "{what}");
                    let mut shown = Vec::new();
                    native.write_text(&mut shown);
                    assert_eq!(&shown, text, "{what}");
                }
                _ => panic!("{what}: null on one path only ({native:?})"),
            }
        }
        true
    }

    #[test]
    fn native_values_take_the_text_path_where_their_text_would_judge_them() {
        let big: ArrayRef = Arc::new(arrow_array::UInt64Array::from(vec![u64::MAX]));
        assert!(!assert_native_means_its_text(big, DType::Int));
        let far: ArrayRef = Arc::new(arrow_array::Date32Array::from(vec![2_932_897]));
        assert!(!assert_native_means_its_text(far, DType::Date));
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
        assert!(!assert_native_means_its_text(ints, DType::Str));
        let noon: ArrayRef = Arc::new(TimestampMillisecondArray::from(vec![43_200_000]));
        assert!(!assert_native_means_its_text(noon, DType::Date));
        // The edges of the native range are native, and mean their text.
        let edges: ArrayRef = Arc::new(arrow_array::Date32Array::from(vec![-719_162, 2_932_896]));
        assert!(assert_native_means_its_text(edges, DType::Date));
        // An int column's floats are native only where each is an integer's digits.
        for float in [
            181.5,
            f64::NAN,
            f64::INFINITY,
            9_223_372_036_854_775_808.0,
            1e300,
        ] {
            let floats: ArrayRef = Arc::new(Float64Array::from(vec![1.0, float]));
            assert!(!assert_native_means_its_text(floats, DType::Int), "{float}");
        }
        let integral: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(-0.0),
            Some(181.0),
            None,
            Some(-9_223_372_036_854_774_784.0),
            Some(1e18),
        ]));
        assert!(assert_native_means_its_text(integral, DType::Int));
    }

    /// The bounds decide only for the whole range: one value past an end (or overflowing its
    /// unit) sends the column to the text path, and a null's slot holding such a value does not.
    #[test]
    fn a_value_past_the_native_range_decides_and_a_nulls_slot_does_not() {
        use arrow_array::{TimestampMicrosecondArray, TimestampSecondArray, UInt64Array};
        let last = 253_402_300_800_000_000 - 1; // 9999-12-31T23:59:59.999999
        let first = -62_135_596_800_000_000; // 0001-01-01
        let at_ends: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![first, 0, last]));
        assert!(assert_native_means_its_text(at_ends, DType::Datetime));
        for past in [last + 1, first - 1] {
            let one_past: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![0, past, 5]));
            assert!(!assert_native_means_its_text(one_past, DType::Datetime));
            let null_slot = NullBuffer::from(vec![true, false, true]);
            let hidden: ArrayRef = Arc::new(TimestampMicrosecondArray::new(
                vec![0, past, 5].into(),
                Some(null_slot),
            ));
            assert!(assert_native_means_its_text(hidden, DType::Datetime));
        }
        let nanos: ArrayRef = Arc::new(arrow_array::TimestampNanosecondArray::from(vec![
            i64::MIN,
            -1,
            0,
            i64::MAX,
        ]));
        assert!(assert_native_means_its_text(nanos, DType::Datetime));
        let overflowing: ArrayRef = Arc::new(TimestampSecondArray::from(vec![1, i64::MAX]));
        assert!(!assert_native_means_its_text(overflowing, DType::Datetime));
        let hidden_big: ArrayRef = Arc::new(UInt64Array::new(
            vec![7, u64::MAX].into(),
            Some(NullBuffer::from(vec![true, false])),
        ));
        assert!(assert_native_means_its_text(hidden_big, DType::Int));
        let days: ArrayRef = Arc::new(arrow_array::Date32Array::new(
            vec![-719_163, 3].into(),
            Some(NullBuffer::from(vec![false, true])),
        ));
        assert!(assert_native_means_its_text(days, DType::Date));
    }

    proptest::proptest! {
        /// The offsets' OR never says "in range" of a value outside it, and says it of every
        /// run of values from 1970 to 2001 (where the span leaves the OR room).
        #[test]
        fn offsets_within_is_never_wrong(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::num::i64::ANY,
                    proptest::strategy::Just(i64::MIN),
                    proptest::strategy::Just(i64::MAX),
                    -62_135_596_800_000_001i64..-62_135_596_799_999_990,
                    253_402_300_799_999_990i64..253_402_300_800_000_010,
                    0i64..1_000_000_000_000_000,
                ],
                0..20,
            ),
            near in proptest::collection::vec(0i64..1_000_000_000_000_000, 0..20),
        ) {
            let exact = values.iter().all(|v| NATIVE_MICROS.contains(v));
            proptest::prop_assert!(!offsets_within(&values, NATIVE_MICROS) || exact);
            proptest::prop_assert!(offsets_within(&near, NATIVE_MICROS));
        }

        #[test]
        fn a_native_value_means_what_its_text_means(
            ints in proptest::collection::vec(proptest::option::of(proptest::num::i64::ANY), 1..40),
            small in proptest::collection::vec(proptest::option::of(proptest::num::i32::ANY), 1..40),
            floats in proptest::collection::vec(proptest::option::of(proptest::num::f64::ANY), 1..40),
            days in proptest::collection::vec(proptest::option::of(-719_162i32..=2_932_896), 1..40),
            micros in proptest::collection::vec(proptest::option::of(-62_135_596_800_000_000i64..253_402_300_800_000_000), 1..40),
            zoned in proptest::bool::ANY,
            bools in proptest::collection::vec(proptest::option::of(proptest::bool::ANY), 1..40),
        ) {
            let zone = zoned.then(|| Arc::from("+00:00"));
            let ints_as_floats = small.clone();
            let cases: Vec<(ArrayRef, DType)> = vec![
                (Arc::new(Int64Array::from(ints.clone())), DType::Int),
                (Arc::new(Int64Array::from(ints)), DType::Float),
                (Arc::new(arrow_array::Int32Array::from(small.clone())), DType::Int),
                (Arc::new(arrow_array::Int32Array::from(small)), DType::Float),
                (Arc::new(Float64Array::from(floats)), DType::Float),
                (
                    // pandas' int column with nulls: integral float64s.
                    Arc::new(Float64Array::from(
                        ints_as_floats
                            .iter()
                            .map(|v| v.map(|v| if v == 0 { -0.0 } else { f64::from(v) }))
                            .collect::<Vec<_>>(),
                    )),
                    DType::Int,
                ),
                (Arc::new(arrow_array::Date32Array::from(days.clone())), DType::Date),
                (
                    Arc::new(arrow_array::TimestampMicrosecondArray::from(micros.clone()).with_timezone_opt(zone.clone())),
                    DType::Datetime,
                ),
                (
                    // Nanoseconds reach the years 1677–2262; sub-microsecond digits are dropped.
                    Arc::new(arrow_array::TimestampNanosecondArray::from(
                        micros
                            .iter()
                            .map(|m| m.map(|us| (us % 9_223_372_036_854_775) * 1_000 + 999))
                            .collect::<Vec<_>>(),
                    ).with_timezone_opt(zone)),
                    DType::Datetime,
                ),
                (
                    Arc::new(arrow_array::TimestampSecondArray::from(
                        days.iter().map(|d| d.map(|d| i64::from(d) * 86_400)).collect::<Vec<_>>(),
                    )),
                    DType::Date,
                ),
                (Arc::new(arrow_array::BooleanArray::from(bools)), DType::Bool),
            ];
            for (array, dtype) in cases {
                proptest::prop_assert!(assert_native_means_its_text(array, dtype));
            }
        }
    }
}
