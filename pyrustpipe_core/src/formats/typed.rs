//! Typed Arrow columns (Parquet, in-memory tables) turned into the text their *value* means for
//! the schema's type, so a rule judges the value and not how a writer happened to store it: an
//! integral float is an int (`181.0` from pandas' NaN-able int columns), a time-zone-aware
//! timestamp is its UTC instant, a decimal keeps every digit, bytes stay bytes.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef, PrimitiveArray, StringArray};
use arrow_schema::{DataType, TimeUnit};

use crate::error::{Error, Position, Result};
use crate::parse::{format_date, format_datetime};
use crate::spec::DType;

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
    // Floats at or above 2^63 are outside i64 whatever their digits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let mut text = String::new();
    for (row, value) in array.iter().enumerate() {
        let Some(value) = value else {
            emit(row, None);
            continue;
        };
        let v = to_f64(value);
        text.clear();
        #[allow(clippy::cast_possible_truncation)]
        let _ = if v.is_finite() && v.fract() == 0.0 && v.abs() < LIMIT {
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
}
