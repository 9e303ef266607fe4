//! `gt` `ge` `lt` `le`: a typed value against a bound fixed at compile time.

use std::cmp::Ordering;

use serde_json::Value as Json;
use wide::f64x4;

use super::RuleId;
use crate::error::{Error, Result};
use crate::parse::{self, Decimal};
use crate::spec::{CheckKind, DType};
use crate::value::Value;

#[derive(Debug, Clone, Copy)]
enum Bound {
    Int(i64),
    Float(f64),
    Decimal(Decimal),
    /// Days (dates) or microseconds (datetimes, times), as the column's values.
    Temporal(i64),
}

/// A float check's operator and bound (`Compare::float_bound`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FloatBound {
    Gt(f64),
    Ge(f64),
    Lt(f64),
    Le(f64),
}

impl FloatBound {
    /// Whether `x` passes (a NaN passes none), as `Compare::passes` judges a float.
    #[inline(always)]
    pub fn passes(self, x: f64) -> bool {
        match self {
            FloatBound::Gt(bound) => x > bound,
            FloatBound::Ge(bound) => x >= bound,
            FloatBound::Lt(bound) => x < bound,
            FloatBound::Le(bound) => x <= bound,
        }
    }

    /// [`FloatBound::passes`] of four values at once: bit `k` is lane `k`'s.
    #[inline(always)]
    pub fn passes_four(self, x: f64x4) -> u32 {
        match self {
            FloatBound::Gt(bound) => x.simd_gt(f64x4::splat(bound)),
            FloatBound::Ge(bound) => x.simd_ge(f64x4::splat(bound)),
            FloatBound::Lt(bound) => x.simd_lt(f64x4::splat(bound)),
            FloatBound::Le(bound) => x.simd_le(f64x4::splat(bound)),
        }
        .to_bitmask()
    }
}

/// An `int`, `date` or `datetime` check's operator and bound as the column's values' `i64`s
/// (the integer, the days, the microseconds): `Compare::ordinal_bound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrdinalBound {
    Gt(i64),
    Ge(i64),
    Lt(i64),
    Le(i64),
}

impl OrdinalBound {
    /// Whether `x` passes, as `Compare::passes` judges the value it is.
    #[inline(always)]
    pub fn passes(self, x: i64) -> bool {
        match self {
            OrdinalBound::Gt(bound) => x > bound,
            OrdinalBound::Ge(bound) => x >= bound,
            OrdinalBound::Lt(bound) => x < bound,
            OrdinalBound::Le(bound) => x <= bound,
        }
    }
}

#[derive(Debug)]
pub struct Compare {
    pub rule: RuleId,
    op: CheckKind,
    bound: Bound,
    bound_text: String,
    /// `float_bound`, found once: the float column loop asks it for every value.
    float: Option<FloatBound>,
}

impl Compare {
    pub fn compile(
        rule: RuleId,
        op: CheckKind,
        value: Option<&Json>,
        dtype: DType,
        at: &str,
    ) -> Result<Compare> {
        let value =
            value.ok_or_else(|| Error::schema(at, format!("{} needs a \"value\"", op.name())))?;
        let wrong = || {
            Error::schema(
                at,
                format!(
                    "{} bound {value} does not fit a {} column",
                    op.name(),
                    dtype.name()
                ),
            )
        };
        // A number, or its exact decimal text (how the DSL sends a `Decimal`, keeping every digit).
        let text = match value {
            Json::Number(n) => Some(n.to_string()),
            Json::String(s) => Some(s.clone()),
            _ => None,
        };
        let float = || {
            value
                .as_f64()
                .or_else(|| parse::parse_float(value.as_str()?.as_bytes()))
                .ok_or_else(wrong)
        };
        let bound = match dtype {
            DType::Int => match value
                .as_i64()
                .or_else(|| parse::parse_int(value.as_str()?.as_bytes()))
            {
                Some(v) => Bound::Int(v),
                None => Bound::Float(float()?),
            },
            DType::Float => Bound::Float(float()?),
            DType::Decimal => {
                let text = text.ok_or_else(wrong)?;
                Bound::Decimal(parse::parse_decimal(text.as_bytes()).ok_or_else(wrong)?)
            }
            DType::Date | DType::Datetime | DType::Time => {
                let text = value.as_str().ok_or_else(wrong)?;
                Bound::Temporal(parse_temporal_literal(dtype, text).ok_or_else(wrong)?)
            }
            DType::Str | DType::Bool => {
                return Err(Error::schema(
                    at,
                    format!(
                        "{} applies to numeric, date, datetime and time columns, not {}",
                        op.name(),
                        dtype.name()
                    ),
                ))
            }
        };
        let bound_text = match value {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let float = match bound {
            Bound::Float(bound) => Some(match op {
                CheckKind::Gt => FloatBound::Gt(bound),
                CheckKind::Ge => FloatBound::Ge(bound),
                CheckKind::Lt => FloatBound::Lt(bound),
                _ => FloatBound::Le(bound),
            }),
            _ => None,
        };
        Ok(Compare {
            rule,
            op,
            bound,
            bound_text,
            float,
        })
    }

    #[inline]
    pub fn passes(&self, value: &Value<'_>) -> bool {
        #[allow(clippy::cast_precision_loss)]
        let ordering = match (*value, self.bound) {
            (Value::Int(a), Bound::Int(b)) => Some(a.cmp(&b)),
            (Value::Int(a), Bound::Float(b)) => (a as f64).partial_cmp(&b),
            (Value::Float(a), Bound::Float(b)) => a.partial_cmp(&b),
            (Value::Decimal(a), Bound::Decimal(b)) => Some(a.cmp(&b)),
            (Value::Date(a), Bound::Temporal(b)) => Some(i64::from(a).cmp(&b)),
            (Value::DateTime(a) | Value::Time(a), Bound::Temporal(b)) => Some(a.cmp(&b)),
            _ => None,
        };
        let Some(ordering) = ordering else {
            return false;
        };
        match self.op {
            CheckKind::Gt => ordering == Ordering::Greater,
            CheckKind::Ge => ordering != Ordering::Less,
            CheckKind::Lt => ordering == Ordering::Less,
            _ => ordering != Ordering::Greater,
        }
    }

    /// This check on a float column, as a bound a loop over `f64`s compares with no `Value`:
    /// the same outcome as `passes` on a float (a NaN passes none).
    #[inline]
    pub fn float_bound(&self) -> Option<FloatBound> {
        self.float
    }

    /// This check on an `int`, `date` or `datetime` column whose bound is one of its values
    /// (an `int` column's bound may be a float: then `None`), as a bound on the `i64`s.
    pub fn ordinal_bound(&self) -> Option<OrdinalBound> {
        let (Bound::Int(bound) | Bound::Temporal(bound)) = self.bound else {
            return None;
        };
        Some(match self.op {
            CheckKind::Gt => OrdinalBound::Gt(bound),
            CheckKind::Ge => OrdinalBound::Ge(bound),
            CheckKind::Lt => OrdinalBound::Lt(bound),
            _ => OrdinalBound::Le(bound),
        })
    }

    fn symbol(&self) -> &'static str {
        match self.op {
            CheckKind::Gt => ">",
            CheckKind::Ge => ">=",
            CheckKind::Lt => "<",
            _ => "<=",
        }
    }

    pub fn describe(&self, column: &str) -> String {
        format!("{column} {} {}", self.symbol(), self.bound_text)
    }

    pub fn message(&self, text: &str) -> String {
        format!("{text} is not {} {}", self.symbol(), self.bound_text)
    }
}

/// ISO text of a date (days), datetime (µs) or time (µs) literal.
pub fn parse_temporal_literal(dtype: DType, text: &str) -> Option<i64> {
    match dtype {
        DType::Date => parse::parse_date_iso(text.as_bytes()).map(i64::from),
        DType::Datetime => parse::parse_datetime_iso(text.as_bytes()),
        DType::Time => parse::parse_time_iso(text.as_bytes()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::value::TypeParser;

    const AT: &str = "columns[0].checks[0]";

    fn compile(op: CheckKind, bound: Option<Json>, dtype: DType) -> Result<Compare> {
        Compare::compile(0, op, bound.as_ref(), dtype, AT)
    }

    #[test]
    fn compile_errors() {
        let cases: &[(CheckKind, Option<Json>, DType, &str)] = &[
            (CheckKind::Gt, None, DType::Int, "gt needs a \"value\""),
            (
                CheckKind::Ge,
                Some(json!("abc")),
                DType::Int,
                "ge bound \"abc\" does not fit a int column",
            ),
            (
                CheckKind::Lt,
                Some(json!(true)),
                DType::Float,
                "lt bound true does not fit a float column",
            ),
            (
                CheckKind::Le,
                Some(json!("1.2.3")),
                DType::Decimal,
                "le bound \"1.2.3\" does not fit a decimal column",
            ),
            (
                CheckKind::Gt,
                Some(json!(20240101)),
                DType::Date,
                "gt bound 20240101 does not fit a date column",
            ),
            (
                CheckKind::Gt,
                Some(json!("2024-02-30")),
                DType::Date,
                "gt bound \"2024-02-30\" does not fit a date column",
            ),
            (
                CheckKind::Lt,
                Some(json!("25:00")),
                DType::Time,
                "lt bound \"25:00\" does not fit a time column",
            ),
            (
                CheckKind::Gt,
                Some(json!(1)),
                DType::Str,
                "gt applies to numeric, date, datetime and time columns, not str",
            ),
            (
                CheckKind::Ge,
                Some(json!(1)),
                DType::Bool,
                "ge applies to numeric, date, datetime and time columns, not bool",
            ),
        ];
        for (op, bound, dtype, want) in cases {
            let err = compile(*op, bound.clone(), *dtype).expect_err(want);
            assert_eq!(
                err.to_string(),
                format!("invalid rule spec at {AT}: {want}"),
                "{op:?} {bound:?} on {dtype:?}"
            );
        }
    }

    #[test]
    fn passes_and_fails() {
        // (operator, column type, bound, cell text, passes)
        let cases: &[(CheckKind, DType, Json, &str, bool)] = &[
            (CheckKind::Gt, DType::Int, json!(0), "1", true),
            (CheckKind::Gt, DType::Int, json!(0), "0", false),
            (CheckKind::Gt, DType::Int, json!(0), "-1", false),
            (CheckKind::Ge, DType::Int, json!(0), "0", true),
            (CheckKind::Ge, DType::Int, json!(0), "-1", false),
            (CheckKind::Lt, DType::Int, json!(10), "9", true),
            (CheckKind::Lt, DType::Int, json!(10), "10", false),
            (CheckKind::Le, DType::Int, json!(10), "10", true),
            (CheckKind::Le, DType::Int, json!(10), "11", false),
            (CheckKind::Gt, DType::Int, json!(0.5), "1", true),
            (CheckKind::Gt, DType::Int, json!(0.5), "0", false),
            (CheckKind::Ge, DType::Int, json!("5"), "5", true),
            (CheckKind::Ge, DType::Int, json!("5"), "4", false),
            (
                CheckKind::Ge,
                DType::Int,
                json!(i64::MAX),
                "9223372036854775807",
                true,
            ),
            (CheckKind::Gt, DType::Float, json!(1.5), "1.6", true),
            (CheckKind::Gt, DType::Float, json!(1.5), "1.5", false),
            (CheckKind::Le, DType::Float, json!("1e3"), "1000", true),
            (CheckKind::Le, DType::Float, json!("1e3"), "1000.5", false),
            (CheckKind::Ge, DType::Decimal, json!("10.00"), "10", true),
            (
                CheckKind::Ge,
                DType::Decimal,
                json!("10.00"),
                "9.999",
                false,
            ),
            (CheckKind::Lt, DType::Decimal, json!(0.1), "0.09", true),
            (CheckKind::Lt, DType::Decimal, json!(0.1), "0.1", false),
            (
                CheckKind::Ge,
                DType::Date,
                json!("2024-01-01"),
                "2024-01-01",
                true,
            ),
            (
                CheckKind::Ge,
                DType::Date,
                json!("2024-01-01"),
                "2023-12-31",
                false,
            ),
            (
                CheckKind::Lt,
                DType::Datetime,
                json!("2024-01-01T00:00:00Z"),
                "2023-12-31T23:59:59",
                true,
            ),
            (
                CheckKind::Lt,
                DType::Datetime,
                json!("2024-01-01T00:00:00Z"),
                "2024-01-01T01:00:00+01:00",
                false,
            ),
            (CheckKind::Le, DType::Time, json!("12:00"), "12:00:00", true),
            (
                CheckKind::Le,
                DType::Time,
                json!("12:00"),
                "12:00:01",
                false,
            ),
        ];
        for (op, dtype, bound, text, want) in cases {
            let check = compile(*op, Some(bound.clone()), *dtype).expect("compiles");
            let value = TypeParser::for_dtype(*dtype)
                .parse(text.as_bytes())
                .expect("a valid cell");
            assert_eq!(
                check.passes(&value),
                *want,
                "{text} {op:?} {bound} on {dtype:?}"
            );
        }
    }

    /// A float bound judges every float, the edges and those that are not numbers too, as the
    /// check does.
    #[test]
    fn a_float_bound_judges_as_the_check() {
        let floats = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            0.5,
            1.0,
            1_000_000.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for op in [CheckKind::Gt, CheckKind::Ge, CheckKind::Lt, CheckKind::Le] {
            for bound in [json!(0), json!(-0.0), json!(1.0), json!(1_000_000)] {
                let check = compile(op, Some(bound.clone()), DType::Float).expect("compiles");
                let float_bound = check.float_bound().expect("a float column's bound");
                for x in floats {
                    assert_eq!(
                        float_bound.passes(x),
                        check.passes(&Value::Float(x)),
                        "{x} {op:?} {bound}"
                    );
                }
            }
        }
        let on_ints = compile(CheckKind::Gt, Some(json!(0)), DType::Int).expect("compiles");
        assert_eq!(on_ints.float_bound(), None);
    }

    #[test]
    fn failure_messages() {
        let cases: &[(CheckKind, DType, Json, &str, &str)] = &[
            (CheckKind::Gt, DType::Int, json!(0), "-1", "-1 is not > 0"),
            (
                CheckKind::Ge,
                DType::Float,
                json!(1.5),
                "1",
                "1 is not >= 1.5",
            ),
            (
                CheckKind::Lt,
                DType::Decimal,
                json!("10.00"),
                "12",
                "12 is not < 10.00",
            ),
            (
                CheckKind::Le,
                DType::Date,
                json!("2024-01-01"),
                "2024-02-01",
                "2024-02-01 is not <= 2024-01-01",
            ),
        ];
        for (op, dtype, bound, text, want) in cases {
            let check = compile(*op, Some(bound.clone()), *dtype).expect("compiles");
            assert_eq!(check.message(text), *want);
        }
    }
}
