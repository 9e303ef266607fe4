//! Compile once: the spec becomes a `Plan` with every rule numbered in report order, regexes and
//! sets built, expressions type-checked; a source's header becomes a `SourceLayout` that maps
//! schema columns to field positions. Nothing in the per-row loop looks up a name.

use std::collections::HashMap;

use crate::error::{Error, Position, Result};
use crate::rules::dataset::DatasetCheck;
use crate::rules::row_expr::{ColumnLookup, RowExpr};
use crate::rules::unique::UniqueKey;
use crate::rules::{ColumnCheck, RuleId, RuleMeta, Scope};
use crate::spec::{CheckKind, DType, Gate, Metric, Severity, Spec, Tolerance};
use crate::value::TypeParser;

#[derive(Debug)]
pub struct ColumnPlan {
    pub name: String,
    pub dtype: DType,
    pub format: Option<String>,
    pub parser: TypeParser,
    pub not_null: Option<RuleId>,
    /// `None` for columns that only row rules read (not declared in the schema).
    pub type_rule: Option<RuleId>,
    pub checks: Vec<ColumnCheck>,
    pub declared: bool,
}

pub struct RowRule {
    pub rule: RuleId,
    pub expr: RowExpr,
}

/// A rule whose failures were computed outside the engine (Python row rules that could not be
/// traced); they join the report and the quarantine like any other rule.
#[derive(Debug, Clone)]
pub struct ExternalRule {
    pub name: String,
    pub severity: Severity,
    pub tolerance: Option<Tolerance>,
}

pub struct Plan {
    pub spec: Spec,
    pub ruleset_hash: String,
    pub rules: Vec<RuleMeta>,
    pub columns: Vec<ColumnPlan>,
    /// Per column, an ISO parser for typed temporal sources (see `SourceLayout::iso_text`).
    pub iso_parsers: Vec<TypeParser>,
    pub row_rules: Vec<RowRule>,
    pub unique_keys: Vec<UniqueKey>,
    pub dataset_checks: Vec<DatasetCheck>,
    pub external_rules: Vec<RuleId>,
    pub missing_columns_rule: RuleId,
    pub unknown_columns_rule: Option<RuleId>,
    pub column_order_rule: Option<RuleId>,
    pub field_count_rule: RuleId,
    pub malformed_rule: RuleId,
    pub null_values: Vec<Vec<u8>>,
    /// Columns whose distinct values a dataset check counts.
    pub distinct_columns: Vec<usize>,
    /// Columns whose min / max / sum a dataset check reads (the exact sum is not free).
    pub stats_columns: Vec<bool>,
    pub delimiter: u8,
    pub quote: u8,
    /// CSV sources start with a header record (see `CsvDialect::header`).
    pub header: bool,
    /// Strict CSV (see `CsvDialect::strict`).
    pub csv_strict: bool,
}

struct Lookup<'a> {
    columns: &'a mut Vec<ColumnPlan>,
}

impl ColumnLookup for Lookup<'_> {
    fn resolve(&mut self, name: &str) -> (usize, DType) {
        if let Some(index) = self.columns.iter().position(|c| c.name == name) {
            return (index, self.columns[index].dtype);
        }
        self.columns.push(ColumnPlan {
            name: name.to_owned(),
            dtype: DType::Str,
            format: None,
            parser: TypeParser::Str,
            not_null: None,
            type_rule: None,
            checks: Vec::new(),
            declared: false,
        });
        (self.columns.len() - 1, DType::Str)
    }
}

struct RuleTable {
    rules: Vec<RuleMeta>,
    by_name: HashMap<String, usize>,
}

impl RuleTable {
    fn add(&mut self, meta: RuleMeta, at: &str) -> Result<RuleId> {
        if let Some(tolerance) = meta.tolerance {
            validate_tolerance(tolerance, at)?;
        }
        if self
            .by_name
            .insert(meta.name.clone(), self.rules.len())
            .is_some()
        {
            return Err(Error::schema(
                at,
                format!(
                    "two rules are named {:?}; give one a distinct \"name\"",
                    meta.name
                ),
            ));
        }
        let id = RuleId::try_from(self.rules.len())
            .map_err(|_| Error::schema(at, "more than 65535 rules"))?;
        self.rules.push(meta);
        Ok(id)
    }
}

fn validate_tolerance(tolerance: Tolerance, at: &str) -> Result<()> {
    if let Tolerance::Fraction(f) = tolerance {
        if !(0.0..=1.0).contains(&f) {
            return Err(Error::schema(
                at,
                format!("tolerance fraction must be within 0..1, got {f}"),
            ));
        }
    }
    Ok(())
}

fn single_byte(text: &str, what: &str) -> Result<u8> {
    match text.as_bytes() {
        [b] if b.is_ascii() && *b != b'\n' && *b != b'\r' => Ok(*b),
        _ => Err(Error::schema(
            format!("csv.{what}"),
            format!("must be one ASCII character other than CR/LF, got {text:?}"),
        )),
    }
}

impl Plan {
    pub fn compile(spec: Spec, external: &[ExternalRule]) -> Result<Plan> {
        let ruleset_hash = spec.ruleset_hash();
        let mut table = RuleTable {
            rules: Vec::new(),
            by_name: HashMap::new(),
        };
        let schema_rule = |name: &str, kind: &str| RuleMeta {
            name: name.to_owned(),
            kind: kind.to_owned(),
            scope: Scope::Schema,
            column: None,
            severity: Severity::Error,
            tolerance: None,
        };
        let missing_columns_rule = table.add(
            schema_rule("schema:missing_columns", "missing_columns"),
            "schema",
        )?;
        let unknown_columns_rule = if spec.strict {
            Some(table.add(
                schema_rule("schema:unknown_columns", "unknown_columns"),
                "strict",
            )?)
        } else {
            None
        };
        let column_order_rule = if spec.ordered {
            Some(table.add(
                schema_rule("schema:column_order", "column_order"),
                "ordered",
            )?)
        } else {
            None
        };
        let mut field_count = schema_rule("row:field_count", "field_count");
        field_count.scope = Scope::Row;
        let field_count_rule = table.add(field_count, "row:field_count")?;
        let mut malformed = schema_rule("row:malformed", "malformed");
        malformed.scope = Scope::Row;
        let malformed_rule = table.add(malformed, "row:malformed")?;

        let mut columns = Vec::new();
        let mut unique_keys = Vec::new();
        for (index, column) in spec.columns.iter().enumerate() {
            let at = format!("columns[{index}] ({})", column.name);
            if column.name.is_empty() {
                return Err(Error::schema(at, "a column needs a name"));
            }
            if spec.columns[..index].iter().any(|c| c.name == column.name) {
                return Err(Error::schema(
                    at,
                    format!("column {:?} is defined twice", column.name),
                ));
            }
            let gate_meta = |suffix: &str, gate: Option<Gate>| RuleMeta {
                name: format!("{}:{suffix}", column.name),
                kind: suffix.to_owned(),
                scope: Scope::Column,
                column: Some(column.name.clone()),
                severity: gate.unwrap_or_default().severity,
                tolerance: gate.unwrap_or_default().tolerance,
            };
            let not_null = if column.nullable {
                None
            } else {
                Some(table.add(gate_meta("not_null", column.not_null), &at)?)
            };
            let type_rule = Some(table.add(gate_meta("type", column.type_check), &at)?);
            let parser = TypeParser::compile(column, &at)?;
            let mut checks = Vec::new();
            for (check_index, check) in column.checks.iter().enumerate() {
                let check_at = format!("{at}.checks[{check_index}]");
                let meta = RuleMeta {
                    name: check
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("{}:{}", column.name, check.kind.name())),
                    kind: check.kind.name().to_owned(),
                    scope: Scope::Column,
                    column: Some(column.name.clone()),
                    severity: check.severity,
                    tolerance: check.tolerance,
                };
                let rule = table.add(meta, &check_at)?;
                if check.kind == CheckKind::Unique {
                    unique_keys.push(UniqueKey {
                        rule,
                        columns: vec![index],
                        keep: check.keep.unwrap_or_default(),
                    });
                } else {
                    checks.push(ColumnCheck::compile(rule, check, column.dtype, &check_at)?);
                }
            }
            columns.push(ColumnPlan {
                name: column.name.clone(),
                dtype: column.dtype,
                format: column.format.clone(),
                parser,
                not_null,
                type_rule,
                checks,
                declared: true,
            });
        }

        let mut row_rules = Vec::new();
        for (index, rule_spec) in spec.row_rules.iter().enumerate() {
            let at = format!("row_rules[{index}] ({})", rule_spec.name);
            let expr = RowExpr::compile(
                &rule_spec.expr,
                &mut Lookup {
                    columns: &mut columns,
                },
                &at,
            )?;
            let rule = table.add(
                RuleMeta {
                    name: rule_spec.name.clone(),
                    kind: "row_rule".to_owned(),
                    scope: Scope::Row,
                    column: None,
                    severity: rule_spec.severity,
                    tolerance: rule_spec.tolerance,
                },
                &at,
            )?;
            row_rules.push(RowRule { rule, expr });
        }

        for (index, key) in spec.unique.iter().enumerate() {
            let at = format!("unique[{index}]");
            if key.columns.is_empty() {
                return Err(Error::schema(at, "a unique key needs at least one column"));
            }
            let mut indices = Vec::new();
            for name in &key.columns {
                let index = columns
                    .iter()
                    .position(|c| c.declared && &c.name == name)
                    .ok_or_else(|| {
                        Error::schema(
                            &at,
                            format!("unique key column {name:?} is not a column of the schema"),
                        )
                    })?;
                indices.push(index);
            }
            let rule = table.add(
                RuleMeta {
                    name: key
                        .name
                        .clone()
                        .unwrap_or_else(|| format!("{}:unique", key.columns.join(","))),
                    kind: "unique".to_owned(),
                    scope: Scope::Row,
                    column: None,
                    severity: key.severity,
                    tolerance: key.tolerance,
                },
                &at,
            )?;
            unique_keys.push(UniqueKey {
                rule,
                columns: indices,
                keep: key.keep,
            });
        }

        let mut dataset_checks = Vec::new();
        let mut distinct_columns = Vec::new();
        for (index, check) in spec.dataset_checks.iter().enumerate() {
            let at = format!("dataset_checks[{index}]");
            if check.min.is_none() && check.max.is_none() {
                return Err(Error::schema(
                    at,
                    "a dataset check needs \"min\" or \"max\"",
                ));
            }
            let column = match (check.metric, &check.column) {
                (Metric::RowCount, _) => None,
                (_, None) => {
                    return Err(Error::schema(
                        at,
                        format!("{} needs a \"column\"", check.metric.name()),
                    ))
                }
                (metric, Some(name)) => {
                    let index = columns
                        .iter()
                        .position(|c| c.declared && &c.name == name)
                        .ok_or_else(|| {
                            Error::schema(
                                &at,
                                format!("column {name:?} is not a column of the schema"),
                            )
                        })?;
                    let numeric_only = matches!(
                        metric,
                        Metric::Min | Metric::Max | Metric::Mean | Metric::Sum
                    );
                    if numeric_only && !columns[index].dtype.is_numeric() {
                        return Err(Error::schema(
                            &at,
                            format!(
                                "{} needs a numeric column; {name:?} is {}",
                                metric.name(),
                                columns[index].dtype.name()
                            ),
                        ));
                    }
                    if metric == Metric::DistinctCount && !distinct_columns.contains(&index) {
                        distinct_columns.push(index);
                    }
                    Some(index)
                }
            };
            let default_name = match &check.column {
                Some(c) if check.metric != Metric::RowCount => {
                    format!("{c}:{}", check.metric.name())
                }
                _ => "dataset:row_count".to_owned(),
            };
            let rule = table.add(
                RuleMeta {
                    name: check.name.clone().unwrap_or(default_name),
                    kind: check.metric.name().to_owned(),
                    scope: Scope::Dataset,
                    column: check
                        .column
                        .clone()
                        .filter(|_| check.metric != Metric::RowCount),
                    severity: check.severity,
                    tolerance: None,
                },
                &at,
            )?;
            dataset_checks.push(DatasetCheck {
                rule,
                metric: check.metric,
                column,
                spec: check.clone(),
            });
        }

        let mut stats_columns = vec![false; columns.len()];
        for check in &dataset_checks {
            if let (Some(column), true) = (
                check.column,
                matches!(
                    check.metric,
                    Metric::Min | Metric::Max | Metric::Mean | Metric::Sum
                ),
            ) {
                stats_columns[column] = true;
            }
        }

        let mut external_rules = Vec::new();
        for (index, rule) in external.iter().enumerate() {
            external_rules.push(table.add(
                RuleMeta {
                    name: rule.name.clone(),
                    kind: "python_row_rule".to_owned(),
                    scope: Scope::Row,
                    column: None,
                    severity: rule.severity,
                    tolerance: rule.tolerance,
                },
                &format!("external_rules[{index}]"),
            )?);
        }

        Ok(Plan {
            delimiter: single_byte(&spec.csv.delimiter, "delimiter")?,
            quote: single_byte(&spec.csv.quote, "quote")?,
            header: spec.csv.header,
            csv_strict: spec.csv.strict,
            null_values: spec
                .csv
                .null_values
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect(),
            ruleset_hash,
            rules: table.rules,
            iso_parsers: columns
                .iter()
                .map(|c| TypeParser::for_dtype(c.dtype))
                .collect(),
            columns,
            row_rules,
            unique_keys,
            dataset_checks,
            external_rules,
            missing_columns_rule,
            unknown_columns_rule,
            column_order_rule,
            field_count_rule,
            malformed_rule,
            distinct_columns,
            stats_columns,
            spec,
        })
    }

    pub fn is_null(&self, text: &[u8]) -> bool {
        // The common dialect: only the empty field is null.
        if let [only] = self.null_values.as_slice() {
            if only.is_empty() {
                return text.is_empty();
            }
        }
        self.null_values.iter().any(|n| n.as_slice() == text)
    }

    /// Every plan column's type, in order.
    pub fn dtypes(&self) -> Vec<DType> {
        self.columns.iter().map(|c| c.dtype).collect()
    }

    /// The schema's declared column names, in order.
    pub fn declared_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|c| c.declared)
            .map(|c| c.name.clone())
            .collect()
    }

    /// The layout of a format whose rows name their fields (NDJSON): every column is present.
    pub fn named_layout(&self) -> SourceLayout {
        let names = self.declared_names();
        SourceLayout {
            field_of: (0..self.columns.len()).map(Some).collect(),
            width: self.columns.len(),
            names,
            missing: Vec::new(),
            unknown: Vec::new(),
            in_order: true,
            iso_text: vec![false; self.columns.len()],
        }
    }

    /// Map a source's column names onto the schema.
    pub fn layout(&self, path: &str, names: Vec<String>) -> Result<SourceLayout> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, name) in names.iter().enumerate() {
            if let Some(first) = seen.insert(name.as_str(), index) {
                return Err(Error::data(
                    "duplicate_column",
                    format!(
                        "column {name:?} appears twice in the header (positions {} and {})",
                        first + 1,
                        index + 1
                    ),
                    Position {
                        path: Some(path.to_owned()),
                        line: Some(1),
                        ..Position::default()
                    },
                ));
            }
        }
        let field_of: Vec<Option<usize>> = self
            .columns
            .iter()
            .map(|c| seen.get(c.name.as_str()).copied())
            .collect();
        let missing: Vec<String> = self
            .columns
            .iter()
            .zip(&field_of)
            .filter(|(c, f)| c.declared && f.is_none())
            .map(|(c, _)| c.name.clone())
            .collect();
        let unknown: Vec<String> = names
            .iter()
            .filter(|n| !self.columns.iter().any(|c| c.declared && &c.name == *n))
            .cloned()
            .collect();
        let positions: Vec<usize> = self
            .columns
            .iter()
            .zip(&field_of)
            .filter(|(c, _)| c.declared)
            .filter_map(|(_, f)| *f)
            .collect();
        let in_order = positions.windows(2).all(|w| w[0] < w[1]);
        Ok(SourceLayout {
            iso_text: vec![false; field_of.len()],
            field_of,
            width: names.len(),
            names,
            missing,
            unknown,
            in_order,
        })
    }
}

/// How one source's columns line up with the schema.
#[derive(Debug, Clone)]
pub struct SourceLayout {
    /// For each plan column, its field index in this source.
    pub field_of: Vec<Option<usize>>,
    /// Fields per record (the header's width).
    pub width: usize,
    pub names: Vec<String>,
    pub missing: Vec<String>,
    pub unknown: Vec<String>,
    pub in_order: bool,
    /// Per plan column: the source holds typed temporal values whose text is ISO (Parquet), so
    /// the column's text `format` does not apply.
    pub iso_text: Vec<bool>,
}
