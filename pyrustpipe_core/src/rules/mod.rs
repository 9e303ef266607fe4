//! The rules: one file per kind, and this module's `ColumnCheck` as the single registry of
//! column checks (one `match` dispatches them).

pub mod compare;
pub mod dataset;
pub mod fixed_pattern;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Column,
    Row,
    Dataset,
    Schema,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Column => "column",
            Scope::Row => "row",
            Scope::Dataset => "dataset",
            Scope::Schema => "schema",
        }
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

    pub fn passes(&self, value: &Value<'_>) -> bool {
        match (self, value) {
            (ColumnCheck::Compare(c), v) => c.passes(v),
            (ColumnCheck::Length(c), Value::Str(s)) => c.passes(s),
            (ColumnCheck::Pattern(c), Value::Str(s)) => c.passes(s),
            (ColumnCheck::Membership(c), v) => c.passes(v),
            (ColumnCheck::MultipleOf(c), v) => c.passes(v),
            _ => true,
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
