//! `gt` `ge` `lt` `le`: a typed value against a bound fixed at compile time.

use std::cmp::Ordering;

use serde_json::Value as Json;

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

#[derive(Debug)]
pub struct Compare {
    pub rule: RuleId,
    op: CheckKind,
    bound: Bound,
    bound_text: String,
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
        Ok(Compare {
            rule,
            op,
            bound,
            bound_text,
        })
    }

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
