//! Compile once: the spec becomes a `Plan` with every rule numbered in report order, regexes and
//! sets built, expressions type-checked; a source's header becomes a `SourceLayout` that maps
//! schema columns to field positions. Nothing in the per-row loop looks up a name.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Position, Result};
use crate::mask::Masker;
use crate::rules::dataset::{DatasetCheck, Gather};
use crate::rules::row_expr::{self, ColumnLookup, RowExpr};
use crate::rules::unique::UniqueKey;
use crate::rules::{ColumnCheck, RuleId, RuleMeta, Scope};
use crate::spec::{CheckKind, ColumnSpec, DType, Gate, Keep, Metric, Severity, Spec, Tolerance};
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
    /// Values leave the run only as tokens (`crate::mask`).
    pub sensitive: bool,
}

pub struct RowRule {
    pub rule: RuleId,
    pub expr: RowExpr,
}

/// A rule whose failures were computed outside the engine (Python row rules that could not be
/// traced); they join the report and the quarantine like any other rule.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalRule {
    pub name: String,
    #[serde(default)]
    pub severity: Severity,
    #[serde(default)]
    pub tolerance: Option<Tolerance>,
}

/// A spec compiled: everything a run reads that is the same for every run of the spec (the
/// runs of one spec share it, `plan_cache`).
pub struct CompiledSpec {
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
    /// Checks against the ledger's earlier partitions, judged at the end of the run.
    pub history: Vec<crate::ledger::history::HistoryCheck>,
    /// The column of each row-level history check, in `history` order (`ledger::row_history`).
    pub history_keys: Vec<usize>,
    pub missing_columns_rule: RuleId,
    pub unknown_columns_rule: Option<RuleId>,
    pub column_order_rule: Option<RuleId>,
    pub field_count_rule: RuleId,
    pub malformed_rule: RuleId,
    pub null_values: Vec<Vec<u8>>,
    /// Columns whose distinct values a dataset check counts.
    pub distinct_columns: Vec<usize>,
    /// Per column, what its statistics gather: the least a dataset check or the ledger's
    /// profile reads (the exact sums are not free).
    pub stats_columns: Vec<Gather>,
    /// Per column, what the ledger profile sketches (set by `ledger::profile_columns`).
    pub sketches: Vec<crate::ledger::sketch::Sketch>,
    /// `Config.profile`: whether a ledger run sketches at all.
    pub profile: crate::spec::ProfileLevel,
    pub delimiter: u8,
    pub quote: u8,
    /// CSV sources start with a header record (see `CsvDialect::header`).
    pub header: bool,
    /// Strict CSV (see `CsvDialect::strict`).
    pub csv_strict: bool,
}

/// A run's plan: its spec compiled, and the run's own masker.
pub struct Plan {
    compiled: Arc<CompiledSpec>,
    /// Tokens for sensitive columns' values; the run's key is set by `lib::compile_plan`.
    pub masker: Masker,
}

impl std::ops::Deref for Plan {
    type Target = CompiledSpec;

    fn deref(&self) -> &CompiledSpec {
        &self.compiled
    }
}

impl Plan {
    /// `spec` compiled (see [`CompiledSpec::compile`]), with a random masker.
    pub fn compile(spec: Spec, external: &[ExternalRule]) -> Result<Plan> {
        let compiled = Arc::new(CompiledSpec::compile(spec, external)?);
        Ok(Plan::new(compiled, Masker::random()))
    }

    pub fn new(compiled: Arc<CompiledSpec>, masker: Masker) -> Plan {
        Plan { compiled, masker }
    }
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
            sensitive: false,
        });
        (self.columns.len() - 1, DType::Str)
    }
}

/// The rules in report order, each name once.
#[derive(Default)]
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

    /// A rule's description, known once its check is compiled.
    fn describe(&mut self, rule: RuleId, description: String) {
        self.rules[usize::from(rule)].description = description;
    }
}

/// A rule about the whole source or every row, always error severity.
fn fixed_rule(name: &str, kind: &str, scope: Scope, description: &str) -> RuleMeta {
    RuleMeta {
        name: name.to_owned(),
        kind: kind.to_owned(),
        scope,
        column: None,
        columns: Vec::new(),
        severity: Severity::Error,
        tolerance: None,
        description: description.to_owned(),
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

/// The rules every plan has, numbered first: a source's columns and its records' shape.
struct SchemaRules {
    missing_columns: RuleId,
    unknown_columns: Option<RuleId>,
    column_order: Option<RuleId>,
    field_count: RuleId,
    malformed: RuleId,
}

fn compile_schema_rules(spec: &Spec, table: &mut RuleTable) -> Result<SchemaRules> {
    let missing_columns = table.add(
        fixed_rule(
            "schema:missing_columns",
            "missing_columns",
            Scope::Schema,
            "every schema column is in the source",
        ),
        "schema",
    )?;
    let unknown_columns = if spec.strict {
        Some(table.add(
            fixed_rule(
                "schema:unknown_columns",
                "unknown_columns",
                Scope::Schema,
                "the source has no column the schema does not declare",
            ),
            "strict",
        )?)
    } else {
        None
    };
    let column_order = if spec.ordered {
        Some(table.add(
            fixed_rule(
                "schema:column_order",
                "column_order",
                Scope::Schema,
                "the source's columns come in the schema's order",
            ),
            "ordered",
        )?)
    } else {
        None
    };
    let field_count = table.add(
        fixed_rule(
            "row:field_count",
            "field_count",
            Scope::Row,
            "every record has as many fields as the header",
        ),
        "row:field_count",
    )?;
    let malformed = table.add(
        fixed_rule(
            "row:malformed",
            "malformed",
            Scope::Row,
            "every record can be read (quoting, encoding)",
        ),
        "row:malformed",
    )?;
    Ok(SchemaRules {
        missing_columns,
        unknown_columns,
        column_order,
        field_count,
        malformed,
    })
}

/// `columns`: per column its `not_null` and `type` rules, then its checks in spec order; a
/// column's `unique` becomes a one-column key.
fn compile_columns(
    spec: &Spec,
    table: &mut RuleTable,
) -> Result<(Vec<ColumnPlan>, Vec<UniqueKey>)> {
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
        check_length_order(column, &at)?;
        let column_rule = |name: String, kind: &str, gate: Gate, description: String| RuleMeta {
            name,
            kind: kind.to_owned(),
            scope: Scope::Column,
            column: Some(column.name.clone()),
            columns: vec![column.name.clone()],
            severity: gate.severity,
            tolerance: gate.tolerance,
            description,
        };
        let not_null = if column.nullable {
            None
        } else {
            Some(table.add(
                column_rule(
                    format!("{}:not_null", column.name),
                    "not_null",
                    column.not_null.unwrap_or_default(),
                    format!("{} is not null", column.name),
                ),
                &at,
            )?)
        };
        let format = column
            .format
            .as_ref()
            .map_or_else(String::new, |f| format!(" ({f})"));
        let type_rule = Some(table.add(
            column_rule(
                format!("{}:type", column.name),
                "type",
                column.type_check.unwrap_or_default(),
                format!("{} is {}{format}", column.name, with_article(column.dtype)),
            ),
            &at,
        )?);
        let parser = TypeParser::compile(column, &at)?;
        let mut checks = Vec::new();
        for (check_index, check) in column.checks.iter().enumerate() {
            let check_at = format!("{at}.checks[{check_index}]");
            let kind = check.kind.name();
            let name = check
                .name
                .clone()
                .unwrap_or_else(|| format!("{}:{kind}", column.name));
            let gate = Gate {
                severity: check.severity,
                tolerance: check.tolerance,
            };
            let rule = table.add(column_rule(name, kind, gate, String::new()), &check_at)?;
            if check.kind == CheckKind::Unique {
                let keep = check.keep.unwrap_or_default();
                table.describe(rule, unique_description(&[&column.name], keep));
                unique_keys.push(UniqueKey {
                    rule,
                    columns: vec![index],
                    keep,
                });
            } else {
                let compiled = ColumnCheck::compile(rule, check, column.dtype, &check_at)?;
                table.describe(rule, compiled.describe(&column.name));
                checks.push(compiled);
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
            sensitive: column.sensitive,
        });
    }
    Ok((columns, unique_keys))
}

/// `a str`, `an int`: the type rule's description reads as a sentence.
fn with_article(dtype: DType) -> String {
    let name = dtype.name();
    let article = if name.starts_with('i') { "an" } else { "a" };
    format!("{article} {name}")
}

/// A `min_length` above the column's `max_length` fails every value: a mistake, not a rule.
fn check_length_order(column: &ColumnSpec, at: &str) -> Result<()> {
    let limit = |kind: CheckKind| {
        column
            .checks
            .iter()
            .filter(|c| c.kind == kind)
            .find_map(|c| c.value.as_ref()?.as_u64())
    };
    match (limit(CheckKind::MinLength), limit(CheckKind::MaxLength)) {
        (Some(min), Some(max)) if min > max => Err(Error::schema(
            at,
            format!("min_length {min} is greater than max_length {max}"),
        )),
        _ => Ok(()),
    }
}

fn unique_description(columns: &[&str], keep: Keep) -> String {
    let key = match columns {
        [one] => (*one).to_owned(),
        many => format!("({})", many.join(", ")),
    };
    match keep {
        Keep::None => format!("{key} is unique"),
        Keep::First => format!("{key} is unique (the first occurrence passes)"),
    }
}

/// `row_rules`: expressions; a column they read that the schema does not declare joins the plan
/// as an undeclared `str` column.
fn compile_row_rules(
    spec: &Spec,
    columns: &mut Vec<ColumnPlan>,
    table: &mut RuleTable,
) -> Result<Vec<RowRule>> {
    let mut row_rules = Vec::new();
    for (index, rule_spec) in spec.row_rules.iter().enumerate() {
        let at = format!("row_rules[{index}] ({})", rule_spec.name);
        let expr = RowExpr::compile(&rule_spec.expr, &mut Lookup { columns }, &at)?;
        let rule = table.add(
            RuleMeta {
                name: rule_spec.name.clone(),
                kind: "row_rule".to_owned(),
                scope: Scope::Row,
                column: None,
                columns: expr
                    .reads
                    .iter()
                    .map(|&i| columns[i].name.clone())
                    .collect(),
                severity: rule_spec.severity,
                tolerance: rule_spec.tolerance,
                description: row_expr::describe(&rule_spec.expr),
            },
            &at,
        )?;
        row_rules.push(RowRule { rule, expr });
    }
    Ok(row_rules)
}

/// The index of a declared column, or an error naming `what` and the column.
fn declared(columns: &[ColumnPlan], name: &str, at: &str, what: &str) -> Result<usize> {
    columns
        .iter()
        .position(|c| c.declared && c.name == name)
        .ok_or_else(|| Error::schema(at, format!("{what}{name:?} is not a column of the schema")))
}

/// `unique`: composite keys.
fn compile_unique_keys(
    spec: &Spec,
    columns: &[ColumnPlan],
    table: &mut RuleTable,
) -> Result<Vec<UniqueKey>> {
    let mut unique_keys = Vec::new();
    for (index, key) in spec.unique.iter().enumerate() {
        let at = format!("unique[{index}]");
        if key.columns.is_empty() {
            return Err(Error::schema(at, "a unique key needs at least one column"));
        }
        let indices = key
            .columns
            .iter()
            .map(|name| declared(columns, name, &at, "unique key column "))
            .collect::<Result<Vec<usize>>>()?;
        let names: Vec<&str> = key.columns.iter().map(String::as_str).collect();
        let rule = table.add(
            RuleMeta {
                name: key
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{}:unique", key.columns.join(","))),
                kind: "unique".to_owned(),
                scope: Scope::Row,
                column: None,
                columns: key.columns.clone(),
                severity: key.severity,
                tolerance: key.tolerance,
                description: unique_description(&names, key.keep),
            },
            &at,
        )?;
        unique_keys.push(UniqueKey {
            rule,
            columns: indices,
            keep: key.keep,
        });
    }
    Ok(unique_keys)
}

fn reads_stats(metric: Metric) -> bool {
    gather_for(metric) > Gather::Nothing
}

/// What a dataset check's metric reads from its column's statistics.
fn gather_for(metric: Metric) -> Gather {
    match metric {
        Metric::Min | Metric::Max => Gather::MinMax,
        Metric::Mean | Metric::Sum => Gather::Sum,
        _ => Gather::Nothing,
    }
}

/// `dataset_checks`: aggregates compared with bounds once every row is read.
fn compile_dataset_checks(
    spec: &Spec,
    columns: &[ColumnPlan],
    table: &mut RuleTable,
) -> Result<Vec<DatasetCheck>> {
    let mut dataset_checks = Vec::new();
    for (index, check) in spec.dataset_checks.iter().enumerate() {
        let at = format!("dataset_checks[{index}]");
        if check.min.is_none() && check.max.is_none() {
            return Err(Error::schema(
                at,
                "a dataset check needs \"min\" or \"max\"",
            ));
        }
        let metric = check.metric.name();
        let column = match (check.metric, &check.column) {
            (Metric::RowCount, _) => None,
            (_, None) => return Err(Error::schema(at, format!("{metric} needs a \"column\""))),
            (_, Some(name)) => {
                let index = declared(columns, name, &at, "column ")?;
                if reads_stats(check.metric) && !columns[index].dtype.is_numeric() {
                    return Err(Error::schema(
                        &at,
                        format!(
                            "{metric} needs a numeric column; {name:?} is {}",
                            columns[index].dtype.name()
                        ),
                    ));
                }
                Some(index)
            }
        };
        let column_name = check
            .column
            .clone()
            .filter(|_| check.metric != Metric::RowCount);
        let (default_name, subject) = match &column_name {
            Some(c) => (format!("{c}:{metric}"), format!("{metric}({c})")),
            None => ("dataset:row_count".to_owned(), "row_count".to_owned()),
        };
        let rule = table.add(
            RuleMeta {
                name: check.name.clone().unwrap_or(default_name),
                kind: metric.to_owned(),
                scope: Scope::Dataset,
                columns: column_name.iter().cloned().collect(),
                column: column_name,
                severity: check.severity,
                tolerance: None,
                description: String::new(),
            },
            &at,
        )?;
        let compiled = DatasetCheck {
            rule,
            metric: check.metric,
            column,
            spec: check.clone(),
        };
        table.describe(rule, format!("{subject} {}", compiled.describe_bounds()));
        dataset_checks.push(compiled);
    }
    Ok(dataset_checks)
}

/// Rules whose failures Python computed (untraceable row rules), numbered last.
fn compile_external(external: &[ExternalRule], table: &mut RuleTable) -> Result<Vec<RuleId>> {
    external
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            table.add(
                RuleMeta {
                    name: rule.name.clone(),
                    kind: "python_row_rule".to_owned(),
                    scope: Scope::Row,
                    column: None,
                    columns: Vec::new(),
                    severity: rule.severity,
                    tolerance: rule.tolerance,
                    description: "a row rule run in Python".to_owned(),
                },
                &format!("external_rules[{index}]"),
            )
        })
        .collect()
}

impl CompiledSpec {
    /// Compile the spec's sections in report order: schema rules, columns, row rules, unique
    /// keys, dataset checks, then the external rules.
    pub fn compile(spec: Spec, external: &[ExternalRule]) -> Result<CompiledSpec> {
        let ruleset_hash = spec.ruleset_hash();
        let mut table = RuleTable::default();
        let schema_rules = compile_schema_rules(&spec, &mut table)?;
        let (mut columns, mut unique_keys) = compile_columns(&spec, &mut table)?;
        let row_rules = compile_row_rules(&spec, &mut columns, &mut table)?;
        unique_keys.extend(compile_unique_keys(&spec, &columns, &mut table)?);
        let dataset_checks = compile_dataset_checks(&spec, &columns, &mut table)?;
        let external_rules = compile_external(external, &mut table)?;

        let mut distinct_columns = Vec::new();
        let mut stats_columns = vec![Gather::Nothing; columns.len()];
        for check in &dataset_checks {
            match (check.column, check.metric) {
                (Some(column), Metric::DistinctCount) if !distinct_columns.contains(&column) => {
                    distinct_columns.push(column);
                }
                (Some(column), metric) if reads_stats(metric) => {
                    stats_columns[column] = stats_columns[column].max(gather_for(metric));
                }
                _ => {}
            }
        }

        let history =
            crate::ledger::history::compile(&spec, &columns, &mut |meta, at| table.add(meta, at))?;

        let history_keys = history
            .iter()
            .filter(|c| c.spec.check.row_level())
            .filter_map(|c| c.column)
            .collect();
        let sketches = vec![crate::ledger::sketch::Sketch::Nothing; columns.len()];
        Ok(CompiledSpec {
            sketches,
            profile: spec.profile,
            history,
            history_keys,
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
            missing_columns_rule: schema_rules.missing_columns,
            unknown_columns_rule: schema_rules.unknown_columns,
            column_order_rule: schema_rules.column_order,
            field_count_rule: schema_rules.field_count,
            malformed_rule: schema_rules.malformed,
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

/// For tests: the plan of a schema of `str` columns named `names`, and its layout of a source
/// with exactly those columns.
#[cfg(test)]
pub(crate) fn str_columns(path: &str, names: &[&str]) -> (Plan, SourceLayout) {
    let columns: Vec<String> = names
        .iter()
        .map(|n| format!(r#"{{"name": "{n}", "dtype": "str"}}"#))
        .collect();
    let spec = crate::spec::Spec::from_json(&format!(
        r#"{{"spec_version": 1, "columns": [{}]}}"#,
        columns.join(",")
    ))
    .expect("a schema of str columns");
    let plan = Plan::compile(spec, &[]).expect("a schema of str columns compiles");
    let layout = plan
        .layout(path, names.iter().map(|n| (*n).to_owned()).collect())
        .expect("the source has the schema's columns");
    (plan, layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(spec: &str) -> Result<Plan> {
        Plan::compile(Spec::from_json(spec)?, &[])
    }

    #[test]
    fn the_rule_table_lists_every_rule_in_report_order_with_what_passes() {
        let plan = compile(
            r#"{"spec_version": 1, "strict": true, "columns": [
                {"name": "id", "dtype": "int", "checks": [{"type": "unique"}]},
                {"name": "amount", "dtype": "decimal", "nullable": true,
                 "checks": [{"type": "gt", "value": "0.5", "severity": "warn"}]}],
              "row_rules": [{"name": "small", "expr": {"type": "binary", "op": "lt",
                 "left": {"type": "col", "name": "amount"}, "right": {"type": "lit", "value": 9}}}],
              "unique": [{"columns": ["id", "amount"], "keep": "first"}],
              "dataset_checks": [{"metric": "row_count", "min": 1}]}"#,
        )
        .unwrap();
        let table: Vec<(&str, &str, Scope, &str)> = plan
            .rules
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.kind.as_str(),
                    r.scope,
                    r.description.as_str(),
                )
            })
            .collect();
        assert_eq!(
            table,
            [
                (
                    "schema:missing_columns",
                    "missing_columns",
                    Scope::Schema,
                    "every schema column is in the source"
                ),
                (
                    "schema:unknown_columns",
                    "unknown_columns",
                    Scope::Schema,
                    "the source has no column the schema does not declare"
                ),
                (
                    "row:field_count",
                    "field_count",
                    Scope::Row,
                    "every record has as many fields as the header"
                ),
                (
                    "row:malformed",
                    "malformed",
                    Scope::Row,
                    "every record can be read (quoting, encoding)"
                ),
                ("id:not_null", "not_null", Scope::Column, "id is not null"),
                ("id:type", "type", Scope::Column, "id is an int"),
                ("id:unique", "unique", Scope::Column, "id is unique"),
                ("amount:type", "type", Scope::Column, "amount is a decimal"),
                ("amount:gt", "gt", Scope::Column, "amount > 0.5"),
                ("small", "row_rule", Scope::Row, "(amount < 9)"),
                (
                    "id,amount:unique",
                    "unique",
                    Scope::Row,
                    "(id, amount) is unique (the first occurrence passes)"
                ),
                (
                    "dataset:row_count",
                    "row_count",
                    Scope::Dataset,
                    "row_count >= 1"
                ),
            ]
        );
        let key = &plan.rules[10];
        assert_eq!(
            (key.column.as_deref(), key.columns.as_slice()),
            (None, &["id".to_owned(), "amount".to_owned()][..])
        );
        assert_eq!(plan.rules[8].severity, Severity::Warn);
        assert_eq!(plan.rules[9].columns, ["amount"]);
    }

    #[test]
    fn each_section_names_the_path_of_its_mistake() {
        for (spec, at) in [
            (
                r#"{"spec_version": 1, "columns": [{"name": "s", "dtype": "str", "checks": [{"type": "min_length", "value": 5}, {"type": "max_length", "value": 2}]}]}"#,
                "columns[0] (s): min_length 5 is greater than max_length 2",
            ),
            (
                r#"{"spec_version": 1, "columns": [{"name": "s", "dtype": "str", "checks": [{"type": "isin", "values": []}]}]}"#,
                "columns[0] (s).checks[0]: isin needs at least one value",
            ),
            (
                r#"{"spec_version": 1, "columns": [{"name": "t", "dtype": "time", "checks": [{"type": "not_in", "values": ["10:00"]}]}]}"#,
                "columns[0] (t).checks[0]: not_in applies to str",
            ),
            (
                r#"{"spec_version": 1, "columns": [{"name": "a", "dtype": "int"}], "unique": [{"columns": ["b"]}]}"#,
                "unique[0]: unique key column \"b\" is not a column of the schema",
            ),
            (
                r#"{"spec_version": 1, "columns": [{"name": "s", "dtype": "str"}], "dataset_checks": [{"metric": "mean", "column": "s", "min": 0}]}"#,
                "dataset_checks[0]: mean needs a numeric column",
            ),
            (
                r#"{"spec_version": 1, "columns": [{"name": "a", "dtype": "int", "checks": [{"type": "gt", "value": 0, "name": "x"}]}], "row_rules": [{"name": "x", "expr": {"type": "lit", "value": true}}]}"#,
                "row_rules[0] (x): two rules are named \"x\"",
            ),
        ] {
            let error = compile(spec).err().expect(at).to_string();
            assert!(error.contains(at), "{error} does not contain {at}");
        }
    }
}
