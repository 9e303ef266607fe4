//! The wire format (docs/spec.md): what a `pp.Schema` compiles to, read with serde.
//! Unknown keys are rejected so a typo never switches a rule off silently.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::{Error, Result};

pub const SPEC_VERSION: u64 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub spec_version: u64,
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default)]
    pub csv: CsvDialect,
    #[serde(default)]
    pub strict: bool,
    #[serde(default)]
    pub ordered: bool,
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    #[serde(default)]
    pub row_rules: Vec<RowRuleSpec>,
    #[serde(default)]
    pub unique: Vec<UniqueSpec>,
    #[serde(default)]
    pub dataset_checks: Vec<DatasetCheckSpec>,
    /// The ledger key (docs/ledger.md); `name` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Checks against earlier partitions in the ledger (docs/ledger.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<crate::ledger::history::HistoryCheckSpec>,
    /// What a ledger entry's profiles gather (docs/ledger.md); absent = `basic`, so rule sets
    /// that do not ask keep their hash.
    #[serde(default, skip_serializing_if = "ProfileLevel::is_basic")]
    pub profile: ProfileLevel,
}

/// A ledger profile's depth: `full` adds each column's distinct estimate and a small string
/// column's top values, which cost about a fifth of a run (bench/RESULTS.md), so they are asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileLevel {
    #[default]
    Basic,
    Full,
}

impl ProfileLevel {
    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    pub fn is_basic(&self) -> bool {
        *self == ProfileLevel::Basic
    }
}

fn default_name() -> String {
    "schema".to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvDialect {
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    #[serde(default = "default_quote")]
    pub quote: String,
    #[serde(default = "default_null_values")]
    pub null_values: Vec<String>,
    /// The first record names the columns; without a header the schema's columns, in order,
    /// name the fields.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub header: bool,
    /// Strict RFC 4180: a bare quote in an unquoted field or text after a closing quote makes
    /// the record invalid (`row:malformed`, `csv:bare_quote` / `csv:text_after_quote`) instead
    /// of being read leniently. Left out when false, so existing specs keep their hash.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict: bool,
}

impl Default for CsvDialect {
    fn default() -> Self {
        CsvDialect {
            delimiter: default_delimiter(),
            quote: default_quote(),
            null_values: default_null_values(),
            header: true,
            strict: false,
        }
    }
}

fn default_delimiter() -> String {
    ",".to_owned()
}
fn default_quote() -> String {
    "\"".to_owned()
}
fn default_null_values() -> Vec<String> {
    vec![String::new()]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    Error,
    Warn,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum Tolerance {
    Count(u64),
    Fraction(f64),
}

impl Tolerance {
    /// Failures allowed for a run over `rows` rows.
    pub fn allowed(tolerance: Option<Tolerance>, rows: u64) -> u64 {
        match tolerance {
            None => 0,
            Some(Tolerance::Count(n)) => n,
            // floor(F × rows), computed without losing integers above 2^53 for F = 1.
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            Some(Tolerance::Fraction(f)) => {
                if f >= 1.0 {
                    rows
                } else {
                    (f * rows as f64).floor() as u64
                }
            }
        }
    }
}

/// Severity and tolerance of one rule; every rule object may carry them.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub tolerance: Option<Tolerance>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DType {
    Str,
    Int,
    Float,
    Decimal,
    Bool,
    Date,
    Datetime,
    Time,
}

impl DType {
    /// The wire name (serde's `snake_case`, derived by strum from the variant).
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, DType::Int | DType::Float | DType::Decimal)
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, DType::Date | DType::Datetime | DType::Time)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    pub dtype: DType,
    #[serde(default)]
    pub nullable: bool,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub not_null: Option<Gate>,
    #[serde(default, rename = "type")]
    pub type_check: Option<Gate>,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
    /// Values are shown only as keyed-hash tokens outside the quarantine output. Left out of
    /// the serialised spec when false, so existing ruleset hashes do not change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    #[serde(rename = "type")]
    pub kind: CheckKind,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub value: Option<Json>,
    #[serde(default)]
    pub values: Option<Vec<Json>>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub keep: Option<Keep>,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub tolerance: Option<Tolerance>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CheckKind {
    Gt,
    Ge,
    Lt,
    Le,
    MinLength,
    MaxLength,
    Pattern,
    Isin,
    NotIn,
    MultipleOf,
    Unique,
}

impl CheckKind {
    /// The wire name (serde's `snake_case`, derived by strum from the variant).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    #[default]
    None,
    First,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowRuleSpec {
    pub name: String,
    pub expr: Expr,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub tolerance: Option<Tolerance>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniqueSpec {
    pub columns: Vec<String>,
    #[serde(default)]
    pub keep: Keep,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub tolerance: Option<Tolerance>,
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Metric {
    RowCount,
    NullCount,
    NullFraction,
    DistinctCount,
    Min,
    Max,
    Mean,
    Sum,
}

impl Metric {
    /// The wire name (serde's `snake_case`, derived by strum from the variant).
    pub fn name(self) -> &'static str {
        self.into()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetCheckSpec {
    pub metric: Metric,
    #[serde(default)]
    pub column: Option<String>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default = "yes")]
    pub min_inclusive: bool,
    #[serde(default = "yes")]
    pub max_inclusive: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub severity: Severity,
}

fn yes() -> bool {
    true
}

// Defaults are left out of the normalised spec, so adding an option keeps old rule-set hashes.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(value: &bool) -> bool {
    !*value
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(value: &bool) -> bool {
    *value
}

/// A row-rule expression (docs/spec.md "Row rules").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expr {
    Col {
        name: String,
    },
    Lit {
        value: Json,
        #[serde(default)]
        dtype: Option<DType>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Not {
        expr: Box<Expr>,
    },
    Neg {
        expr: Box<Expr>,
    },
    Abs {
        expr: Box<Expr>,
    },
    Isin {
        expr: Box<Expr>,
        values: Vec<Json>,
    },
    IsNull {
        expr: Box<Expr>,
    },
    StrLen {
        expr: Box<Expr>,
    },
    StartsWith {
        expr: Box<Expr>,
        value: String,
    },
    EndsWith {
        expr: Box<Expr>,
        value: String,
    },
    Contains {
        expr: Box<Expr>,
        value: String,
    },
    Matches {
        expr: Box<Expr>,
        pattern: String,
    },
    Lower {
        expr: Box<Expr>,
    },
    Upper {
        expr: Box<Expr>,
    },
    DtPart {
        expr: Box<Expr>,
        part: DtPart,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DtPart {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Weekday,
}

impl Spec {
    /// Parse a spec from JSON text, rejecting other versions.
    pub fn from_json(text: &str) -> Result<Spec> {
        let spec: Spec = serde_json::from_str(text).map_err(|e| {
            Error::schema(
                format!("line {} column {}", e.line(), e.column()),
                e.to_string(),
            )
        })?;
        if spec.spec_version != SPEC_VERSION {
            return Err(Error::schema(
                "spec_version",
                format!(
                    "this engine reads spec_version {SPEC_VERSION}, got {}",
                    spec.spec_version
                ),
            ));
        }
        Ok(spec)
    }

    /// `sha256:` + hex digest of the spec re-serialised with sorted keys and no whitespace.
    pub fn ruleset_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        // serde_json::Value keeps object keys sorted (no preserve_order feature), so the text is
        // canonical whatever order the author wrote.
        let value = serde_json::to_value(self).expect("a spec always serialises");
        let canonical = serde_json::to_string(&value).expect("a value always serialises");
        let digest = Sha256::digest(canonical.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    /// strum and serde each derive the names from the variants: they must agree, or a message
    /// would name a type or check differently from the spec that selected it.
    fn names_agree<T: VariantArray + Serialize + Copy + std::fmt::Debug>(
        name: fn(T) -> &'static str,
    ) {
        for &variant in T::VARIANTS {
            assert_eq!(
                serde_json::to_value(variant).unwrap(),
                Json::String(name(variant).to_owned()),
                "{variant:?}"
            );
        }
    }

    #[test]
    fn enum_names_are_the_wire_names() {
        names_agree(DType::name);
        names_agree(CheckKind::name);
        names_agree(Metric::name);
        assert_eq!(CheckKind::MinLength.name(), "min_length");
        assert_eq!(Metric::NullFraction.name(), "null_fraction");
        assert_eq!(DType::Datetime.name(), "datetime");
    }
}
