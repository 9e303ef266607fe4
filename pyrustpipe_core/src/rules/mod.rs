//! The rules: one file per kind, and this module's `ColumnCheck` as the single registry of
//! column checks (one `match` dispatches them).

pub mod compare;
pub mod dataset;
pub mod fixed_pattern;
pub mod inlined;
pub mod length;
pub mod membership;
pub mod multiple_of;
pub mod pattern;
pub mod row_expr;
pub mod unique;

use serde::Serialize;
use serde_json::Value as Json;

use crate::error::Result;
use crate::spec::{CheckKind, CheckSpec, DType, Severity, Tolerance};
use crate::value::Value;

pub type RuleId = u16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Scope {
    Column,
    Row,
    Dataset,
    Schema,
    /// Judged against earlier partitions in the ledger (`ledger::history`).
    History,
}

impl Scope {
    /// The wire name (serde's `snake_case`, derived by strum from the variant).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// What the report says about a rule, fixed at compile time; the compiled rule table
/// (`compile_spec`, `pp.compile`) is a list of these.
#[derive(Debug, Clone, Serialize)]
pub struct RuleMeta {
    pub name: String,
    pub kind: String,
    pub scope: Scope,
    /// The one column a column rule or a column aggregate is about.
    pub column: Option<String>,
    /// Every column the rule reads (a unique key's columns, a row rule's columns).
    pub columns: Vec<String>,
    pub severity: Severity,
    pub tolerance: Option<Tolerance>,
    /// One line saying what passes, e.g. `amount > 0`.
    pub description: String,
}

/// A compiled column constraint. Null values and values that failed `type` never reach it.
#[derive(Debug)]
pub enum ColumnCheck {
    Compare(compare::Compare),
    Length(length::Length),
    Pattern(pattern::Pattern),
    Membership(membership::Membership),
    MultipleOf(multiple_of::MultipleOf),
}

impl ColumnCheck {
    pub fn compile(rule: RuleId, check: &CheckSpec, dtype: DType, at: &str) -> Result<ColumnCheck> {
        Ok(match check.kind {
            CheckKind::Gt | CheckKind::Ge | CheckKind::Lt | CheckKind::Le => ColumnCheck::Compare(
                compare::Compare::compile(rule, check.kind, check.value.as_ref(), dtype, at)?,
            ),
            CheckKind::MinLength | CheckKind::MaxLength => ColumnCheck::Length(
                length::Length::compile(rule, check.kind, check.value.as_ref(), dtype, at)?,
            ),
            CheckKind::Pattern => ColumnCheck::Pattern(pattern::Pattern::compile(
                rule,
                check.pattern.as_deref(),
                dtype,
                at,
            )?),
            CheckKind::Isin | CheckKind::NotIn => {
                ColumnCheck::Membership(membership::Membership::compile(
                    rule,
                    check.kind == CheckKind::NotIn,
                    check.values.as_deref().map(|v: &[Json]| v),
                    dtype,
                    at,
                )?)
            }
            CheckKind::MultipleOf => ColumnCheck::MultipleOf(multiple_of::MultipleOf::compile(
                rule,
                check.value.as_ref(),
                dtype,
                at,
            )?),
            CheckKind::Unique => unreachable!("unique keys are compiled as UniqueKey"),
        })
    }

    pub fn rule(&self) -> RuleId {
        match self {
            ColumnCheck::Compare(c) => c.rule,
            ColumnCheck::Length(c) => c.rule,
            ColumnCheck::Pattern(c) => c.rule,
            ColumnCheck::Membership(c) => c.rule,
            ColumnCheck::MultipleOf(c) => c.rule,
        }
    }

    // Inlined into the check loops: each arm is short (a regex search, a hashed set and a
    // decimal step are calls of their own), so a compare or a fixed pattern costs no call.
    #[inline]
    pub fn passes(&self, value: &Value<'_>) -> bool {
        match self {
            ColumnCheck::Compare(c) => c.passes(value),
            ColumnCheck::Length(c) => text_passes(value, |s| c.passes(s)),
            ColumnCheck::Pattern(c) => text_passes(value, |s| c.passes(s)),
            ColumnCheck::Membership(c) => c.passes(value),
            ColumnCheck::MultipleOf(c) => c.passes(value),
        }
    }

    /// `passes` for a `str` value, inlined in the `str` column loop alone: the value's kind is
    /// known there, so a membership test is a pack and a probe of the text, with no key bytes.
    #[inline(always)]
    pub fn passes_text(&self, text: &[u8]) -> bool {
        match self {
            ColumnCheck::Compare(c) => c.passes(&Value::Str(text)),
            ColumnCheck::Length(c) => c.passes(text),
            ColumnCheck::Pattern(c) => c.passes(text),
            ColumnCheck::Membership(c) => c.passes_text(text),
            ColumnCheck::MultipleOf(c) => c.passes(&Value::Str(text)),
        }
    }

    /// `passes` inlined in the float column loop: a bound on a float is one compare, not a
    /// match on the value's and the bound's kinds.
    #[inline(always)]
    pub fn passes_float(&self, value: &Value<'_>) -> bool {
        match (self, value) {
            (ColumnCheck::Compare(c), &Value::Float(x)) => match c.float_bound() {
                Some(bound) => bound.passes(x),
                None => c.passes(value),
            },
            _ => self.passes(value),
        }
    }

    /// What passes, in one line about `column` (the rule table's description).
    pub fn describe(&self, column: &str) -> String {
        match self {
            ColumnCheck::Compare(c) => c.describe(column),
            ColumnCheck::Length(c) => c.describe(column),
            ColumnCheck::Pattern(c) => c.describe(column),
            ColumnCheck::Membership(c) => c.describe(column),
            ColumnCheck::MultipleOf(c) => c.describe(column),
        }
    }

    pub fn message(&self, text: &str) -> String {
        match self {
            ColumnCheck::Compare(c) => c.message(text),
            ColumnCheck::Length(c) => c.message(text),
            ColumnCheck::Pattern(c) => c.message(text),
            ColumnCheck::Membership(c) => c.message(text),
            ColumnCheck::MultipleOf(c) => c.message(text),
        }
    }
}

/// Text checks pass every value that is not text (a column's checks match its dtype).
fn text_passes(value: &Value<'_>, passes: impl Fn(&[u8]) -> bool) -> bool {
    match value {
        Value::Str(s) => passes(s),
        _ => true,
    }
}

/// 64 string views as the halves (`[low, high]`) the word forms read.
#[cfg(test)]
pub(crate) fn view_halves(views: &[u128; 64]) -> [[u64; 2]; 64] {
    views.map(|view| [view as u64, (view >> 64) as u64])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::value::TypeParser;

    fn compile(check: Json, dtype: DType) -> Result<ColumnCheck> {
        let check: CheckSpec = serde_json::from_value(check).expect("a check spec");
        ColumnCheck::compile(7, &check, dtype, "columns[0].checks[0]")
    }

    #[test]
    fn every_column_check_kind_is_dispatched() {
        // (check, column type, cell, passes, message for that cell)
        let cases: &[(Json, DType, &str, bool, &str)] = &[
            (
                json!({"type": "gt", "value": 1}),
                DType::Int,
                "1",
                false,
                "1 is not > 1",
            ),
            (
                json!({"type": "ge", "value": 1}),
                DType::Int,
                "1",
                true,
                "1 is not >= 1",
            ),
            (
                json!({"type": "lt", "value": 1}),
                DType::Float,
                "0.5",
                true,
                "0.5 is not < 1",
            ),
            (
                json!({"type": "le", "value": 1}),
                DType::Float,
                "1.5",
                false,
                "1.5 is not <= 1",
            ),
            (
                json!({"type": "min_length", "value": 2}),
                DType::Str,
                "a",
                false,
                "length 1 is less than 2",
            ),
            (
                json!({"type": "max_length", "value": 2}),
                DType::Str,
                "ab",
                true,
                "length 2 is more than 2",
            ),
            (
                json!({"type": "pattern", "pattern": "^a"}),
                DType::Str,
                "ba",
                false,
                "ba does not match \"^a\"",
            ),
            (
                json!({"type": "isin", "values": ["a"]}),
                DType::Str,
                "a",
                true,
                "a is not in [\"a\"]",
            ),
            (
                json!({"type": "not_in", "values": ["a"]}),
                DType::Str,
                "a",
                false,
                "a is in the excluded set [\"a\"]",
            ),
        ];
        for (check, dtype, text, passes, message) in cases {
            let compiled = compile(check.clone(), *dtype).expect("compiles");
            let value = TypeParser::for_dtype(*dtype)
                .parse(text.as_bytes())
                .expect("a valid cell");
            assert_eq!(compiled.rule(), 7, "{check}");
            assert_eq!(compiled.passes(&value), *passes, "{check} on {text}");
            assert_eq!(compiled.message(text), *message, "{check}");
        }
    }

    #[test]
    fn errors_name_the_check() {
        let err = compile(json!({"type": "gt"}), DType::Int).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid rule spec at columns[0].checks[0]: gt needs a \"value\""
        );
    }

    #[test]
    fn scope_names() {
        let names: Vec<&str> = [Scope::Column, Scope::Row, Scope::Dataset, Scope::Schema]
            .into_iter()
            .map(Scope::name)
            .collect();
        assert_eq!(names, ["column", "row", "dataset", "schema"]);
    }
}
