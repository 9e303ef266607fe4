//! `multiple_of`: a number is a whole multiple of a positive step (amounts in minor units,
//! prices in ticks). Exact for int and decimal columns; float columns allow a relative 1e-9,
//! because a binary float holds almost no decimal step (0.1, 0.05) exactly.

use serde_json::Value as Json;

use super::RuleId;
use crate::error::{Error, Result};
use crate::parse::{self, Decimal};
use crate::spec::DType;
use crate::value::Value;

/// How far (relative to the quotient) a float may sit from a whole multiple.
const FLOAT_TOLERANCE: f64 = 1e-9;

#[derive(Debug, Clone, Copy)]
enum Step {
    Int(i64),
    Float(f64),
    Decimal(Decimal),
}

#[derive(Debug)]
pub struct MultipleOf {
    pub rule: RuleId,
    step: Step,
    step_text: String,
}

impl MultipleOf {
    pub fn compile(
        rule: RuleId,
        value: Option<&Json>,
        dtype: DType,
        at: &str,
    ) -> Result<MultipleOf> {
        let value = value.ok_or_else(|| Error::schema(at, "multiple_of needs a \"value\""))?;
        let step_text = match value {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        let wrong = |what: &str| {
            Error::schema(
                at,
                format!(
                    "multiple_of on a {} column needs {what}, got {value}",
                    dtype.name()
                ),
            )
        };
        let step = match dtype {
            DType::Int => Step::Int(
                value
                    .as_i64()
                    .or_else(|| parse::parse_int(value.as_str()?.as_bytes()))
                    .filter(|&v| v > 0)
                    .ok_or_else(|| wrong("a positive integer"))?,
            ),
            DType::Float => Step::Float(
                value
                    .as_f64()
                    .or_else(|| parse::parse_float(value.as_str()?.as_bytes()))
                    .filter(|&v| v > 0.0 && v.is_finite())
                    .ok_or_else(|| wrong("a positive number"))?,
            ),
            DType::Decimal => Step::Decimal(
                parse::parse_decimal(step_text.as_bytes())
                    .filter(|d| d.mantissa() > 0)
                    .ok_or_else(|| wrong("a positive number"))?,
            ),
            _ => {
                return Err(Error::schema(
                    at,
                    format!(
                        "multiple_of applies to int, float and decimal columns, not {}",
                        dtype.name()
                    ),
                ))
            }
        };
        Ok(MultipleOf {
            rule,
            step,
            step_text,
        })
    }

    // Out of line: rare, and its decimal arm is long (see `ColumnCheck::passes`).
    #[inline(never)]
    pub fn passes(&self, value: &Value<'_>) -> bool {
        match (*value, self.step) {
            (Value::Int(v), Step::Int(step)) => v % step == 0,
            (Value::Float(v), Step::Float(step)) => {
                let quotient = v / step;
                (quotient - quotient.round()).abs() <= FLOAT_TOLERANCE * quotient.abs().max(1.0)
            }
            (Value::Decimal(v), Step::Decimal(step)) => decimal_multiple(v, step),
            _ => false,
        }
    }

    pub fn describe(&self, column: &str) -> String {
        format!("{column} is a multiple of {}", self.step_text)
    }

    pub fn message(&self, text: &str) -> String {
        format!("{text} is not a multiple of {}", self.step_text)
    }
}

/// `a·10^ea` is a multiple of `b·10^eb` (both normalised: no trailing zeros) exactly when `b`,
/// less the factors 2 and 5 that `10^(ea-eb)` supplies, divides `a`.
fn decimal_multiple(value: Decimal, step: Decimal) -> bool {
    let (a, b) = (value.mantissa(), step.mantissa());
    if a == 0 {
        return true;
    }
    let shift = i64::from(value.exponent()) - i64::from(step.exponent());
    if shift < 0 {
        // The quotient would need the value's last digit (never 0 once normalised) to be 0.
        return false;
    }
    let mut rest = b;
    for factor in [2, 5] {
        let mut taken = 0;
        while rest % factor == 0 && taken < shift {
            rest /= factor;
            taken += 1;
        }
    }
    a % rest == 0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn compile(value: Json, dtype: DType) -> Result<MultipleOf> {
        MultipleOf::compile(0, Some(&value), dtype, "columns[0] (x).checks[0]")
    }

    fn decimal(text: &str) -> Value<'static> {
        Value::Decimal(parse::parse_decimal(text.as_bytes()).unwrap())
    }

    #[test]
    fn int_steps_are_exact() {
        let five = compile(json!(5), DType::Int).unwrap();
        for (value, passes) in [
            (0, true),
            (10, true),
            (-15, true),
            (7, false),
            (i64::MIN, false),
        ] {
            assert_eq!(five.passes(&Value::Int(value)), passes, "{value}");
        }
        assert!(compile(json!("5"), DType::Int).is_ok());
    }

    #[test]
    fn decimal_steps_are_exact() {
        let cent = compile(json!("0.01"), DType::Decimal).unwrap();
        let nickel = compile(json!(0.05), DType::Decimal).unwrap();
        let hundred = compile(json!(100), DType::Decimal).unwrap();
        for (check, value, passes) in [
            (&cent, "12.34", true),
            (&cent, "12.345", false),
            (&cent, "1e30", true),
            (&cent, "0", true),
            (&nickel, "0.15", true),
            (&nickel, "0.3", true),
            (&nickel, "0.12", false),
            (&hundred, "1200", true),
            (&hundred, "1250", false),
            (&hundred, "1e2", true),
            (&hundred, "-300.00", true),
        ] {
            assert_eq!(check.passes(&decimal(value)), passes, "{value}");
        }
    }

    #[test]
    fn float_steps_allow_binary_rounding() {
        let tenth = compile(json!(0.1), DType::Float).unwrap();
        for (value, passes) in [
            (0.3, true),
            (1.7, true),
            (-2.5, true),
            (0.35, false),
            (1e-12, true),
        ] {
            assert_eq!(tenth.passes(&Value::Float(value)), passes, "{value}");
        }
    }

    #[test]
    fn a_bad_step_names_the_rule() {
        for (value, dtype, message) in [
            (json!(0), DType::Int, "needs a positive integer"),
            (json!(-5), DType::Int, "needs a positive integer"),
            (json!(0.5), DType::Int, "needs a positive integer"),
            (json!(0), DType::Float, "needs a positive number"),
            (json!("-0.01"), DType::Decimal, "needs a positive number"),
            (
                json!(5),
                DType::Str,
                "applies to int, float and decimal columns, not str",
            ),
        ] {
            let error = compile(value, dtype).unwrap_err().to_string();
            assert!(error.contains("columns[0] (x).checks[0]"), "{error}");
            assert!(error.contains(message), "{error}");
        }
    }

    #[test]
    fn it_describes_itself() {
        let cent = compile(json!("0.01"), DType::Decimal).unwrap();
        assert_eq!(cent.describe("amount"), "amount is a multiple of 0.01");
        assert_eq!(cent.message("12.345"), "12.345 is not a multiple of 0.01");
    }
}
