//! The quality ledger (docs/ledger.md): one Parquet file per partition under
//! `<root>/dataset=<name>/date=<logical date>/run-<partition hash>.parquet`, written as one of the
//! run's outputs (so it is published or committed exactly once with them), and read back by the
//! history checks. Plain Parquet, readable as a Hive-partitioned dataset without pyrustpipe.

pub mod history;
pub mod row_history;
pub mod sketch;
pub mod trend;

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, ListArray,
    RecordBatch, StringArray, StructArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Fields};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::parse::{format_date, parse_date_iso};
use crate::plan::CompiledSpec;
use crate::rules::dataset::Gather;
use crate::spec::{DType, ProfileLevel};
use crate::storage::{Location, Storage};
use history::{ColumnFacts, PartitionFacts};
use row_history::{KeyIndex, ValueSet};
use sketch::Sketch;

/// Bumped when a column changes meaning or goes away, (2) when `value_sets` and `key_indexes`
/// came, and (3) when `outputs` came; readers take older entries as keeping none of them.
pub const LEDGER_VERSION: i32 = 3;

/// The run options that turn the ledger on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerOptions {
    /// A local directory or an `s3://bucket/prefix`.
    pub root: String,
    /// The partition this run checks (`dt=2026-01-05`, `region=eu/date=2026-01-05`, ...).
    pub partition: String,
    /// `YYYY-MM-DD`; by default the value of a `dt=` or `date=` segment of the partition.
    #[serde(default)]
    pub logical_date: Option<String>,
    /// The ledger key; by default the spec's `dataset`, else its `name`.
    #[serde(default)]
    pub dataset: Option<String>,
}

/// Where one run's entry goes and what it is keyed by.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub root: String,
    pub dataset: String,
    pub partition: String,
    /// Days since 1970-01-01.
    pub logical_date: i32,
}

/// The logical date a partition key names: its `dt=` or `date=` segment.
pub fn logical_date_of(partition: &str) -> Option<i32> {
    partition.split('/').find_map(|segment| {
        let value = segment
            .strip_prefix("dt=")
            .or_else(|| segment.strip_prefix("date="))?;
        parse_date_iso(value.as_bytes())
    })
}

impl LedgerOptions {
    pub fn resolve(&self, spec: &crate::spec::Spec) -> Result<Resolved> {
        let dataset = self
            .dataset
            .clone()
            .or_else(|| spec.dataset.clone())
            .unwrap_or_else(|| spec.name.clone());
        let safe = !dataset.is_empty()
            && !dataset.starts_with(['.', '_'])
            && dataset
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !safe {
            return Err(Error::option(
                "ledger.dataset",
                format!("{dataset:?}: a dataset name is letters, digits, '_', '-' and '.', not starting with '.' or '_'"),
            ));
        }
        if self.partition.is_empty() {
            return Err(Error::option("ledger.partition", "give the partition key"));
        }
        if self.root.is_empty() {
            return Err(Error::option("ledger.root", "give the ledger's root"));
        }
        let logical_date = match &self.logical_date {
            Some(text) => parse_date_iso(text.as_bytes()).ok_or_else(|| {
                Error::option(
                    "ledger.logical_date",
                    format!("{text:?} is not a date (YYYY-MM-DD)"),
                )
            })?,
            None => logical_date_of(&self.partition).ok_or_else(|| {
                Error::option(
                    "ledger.logical_date",
                    format!(
                        "partition {:?} has no dt= or date= segment; give the logical date",
                        self.partition
                    ),
                )
            })?,
        };
        Ok(Resolved {
            root: self.root.trim_end_matches('/').to_owned(),
            dataset,
            partition: self.partition.clone(),
            logical_date,
        })
    }
}

impl Resolved {
    /// The entry's file name: fixed per partition, so a re-run replaces its entry.
    pub fn file_name(&self) -> String {
        format!(
            "run-{:016x}.parquet",
            xxhash_rust::xxh3::xxh3_64(self.partition.as_bytes())
        )
    }

    pub fn dataset_dir(&self) -> String {
        format!("{}/dataset={}", self.root, self.dataset)
    }

    /// The entry's full URI or path.
    pub fn entry_uri(&self) -> String {
        format!(
            "{}/date={}/{}",
            self.dataset_dir(),
            format_date(self.logical_date),
            self.file_name()
        )
    }
}

/// With a ledger (and `Config.profile = "full"`), every declared column is sketched (distinct
/// estimate, top values); with a ledger, every
/// numeric and temporal column's statistics are gathered for its profile:
/// a numeric column's mean, sum and stddev need both exact sums; a temporal column's profile
/// keeps only its extremes (a sum of timestamps means nothing), so it skips them.
pub fn profile_columns(plan: &mut CompiledSpec) {
    for (index, column) in plan.columns.iter().enumerate() {
        let needs = if !column.declared {
            Gather::Nothing
        } else if column.dtype.is_numeric() {
            Gather::Moments
        } else if column.dtype.is_temporal() {
            Gather::MinMax
        } else {
            Gather::Nothing
        };
        plan.stats_columns[index] = plan.stats_columns[index].max(needs);
        // Every declared column gets a distinct estimate; a string column's top values too,
        // unless it is sensitive (its values are never stored).
        plan.sketches[index] = if !column.declared || plan.profile == ProfileLevel::Basic {
            Sketch::Nothing
        } else if column.dtype == DType::Str && !column.sensitive {
            Sketch::DistinctAndTop
        } else {
            Sketch::Distinct
        };
    }
}

#[derive(Debug, Clone)]
pub struct InputFacts {
    pub uri: String,
    pub size: u64,
    pub etag: Option<String>,
    /// Microseconds since the epoch, when known (local files).
    pub last_modified: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct RuleFacts {
    pub name: String,
    pub kind: String,
    pub scope: String,
    pub column: Option<String>,
    pub severity: String,
    pub failed: u64,
    pub passed: bool,
    /// `pass`, `fail` or `skipped` (history checks only skip).
    pub status: String,
    pub observed: Option<f64>,
    pub expected_low: Option<f64>,
    pub expected_high: Option<f64>,
    /// The report's `observed` as JSON text (history checks: band, statistics, points used).
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ProfileFacts {
    pub column: String,
    pub dtype: String,
    pub rows: u64,
    pub nulls: u64,
    /// Values that parsed (numeric and temporal columns; `None` for others).
    pub values: Option<u64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub stddev: Option<f64>,
    pub sum: Option<f64>,
    /// Temporal columns: min and max as ISO text.
    pub min_text: Option<String>,
    pub max_text: Option<String>,
    /// The estimated number of distinct non-null values (`None` when not sketched).
    pub distinct: Option<u64>,
    /// Non-sensitive string columns: every value with its count, most frequent first, ties by
    /// value; `None` for other columns.
    pub top_values: Option<Vec<(String, u64)>>,
    /// The string column had more than `sketch::TOP_VALUES_CAP` distinct values, so
    /// `top_values` is empty (`None` for other columns).
    pub top_values_over_cap: Option<bool>,
}

/// Where the run's outputs went: the final URIs (committed keys, never staging names), so a
/// reader of the ledger alone (the console) can find a run's quarantine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputFacts {
    pub valid: Option<String>,
    pub quarantine: Option<String>,
    pub metrics: Option<String>,
    /// For S3 outputs: the manifest that commits them.
    pub manifest: Option<String>,
}

/// One ledger entry: one committed run of one partition.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dataset: String,
    pub partition: String,
    pub logical_date: i32,
    pub run_id: String,
    pub written_at: i64,
    pub rules_hash: String,
    pub engine_version: String,
    pub passed: bool,
    pub rows: u64,
    pub valid_rows: u64,
    pub invalid_rows: u64,
    pub bytes: u64,
    pub duration_s: f64,
    pub inputs: Vec<InputFacts>,
    pub rules: Vec<RuleFacts>,
    pub schema: Vec<(String, String)>,
    pub profiles: Vec<ProfileFacts>,
    /// The distinct values of each `new_values` column.
    pub value_sets: Vec<ValueSet>,
    /// The key hashes of each `unique_across` column.
    pub key_indexes: Vec<KeyIndex>,
    pub outputs: OutputFacts,
}

#[allow(clippy::cast_possible_wrap)]
fn i64s(values: impl Iterator<Item = u64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(values.map(|v| v as i64)))
}

fn strs<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn opt_strs<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn f64s(values: impl Iterator<Item = Option<f64>>) -> ArrayRef {
    Arc::new(values.collect::<Float64Array>())
}

/// A one-row list column holding `len` structs with the given fields.
fn list_of(columns: Vec<(&str, ArrayRef)>, len: usize) -> Result<ArrayRef> {
    let fields: Fields = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays = columns.into_iter().map(|(_, a)| a).collect();
    let values = StructArray::try_new(fields.clone(), arrays, None)
        .map_err(|e| Error::Internal(format!("ledger entry: {e}")))?;
    let item = Arc::new(Field::new("element", DataType::Struct(fields), true));
    let offsets = arrow_array::builder::OffsetBufferBuilder::<i32>::new(1);
    let mut offsets = offsets;
    offsets.push_length(len);
    Ok(Arc::new(
        ListArray::try_new(item, offsets.finish(), Arc::new(values), None)
            .map_err(|e| Error::Internal(format!("ledger entry: {e}")))?,
    ))
}

/// Each profile's `top_values` as a list of `{value, count}` structs (null where not kept).
#[allow(clippy::cast_possible_wrap)]
fn top_values_array(profiles: &[ProfileFacts]) -> Result<ArrayRef> {
    let all: Vec<&(String, u64)> = profiles
        .iter()
        .flat_map(|p| p.top_values.iter().flatten())
        .collect();
    let fields: Fields = vec![
        Field::new("value", DataType::Utf8, true),
        Field::new("count", DataType::Int64, true),
    ]
    .into();
    let values = StructArray::try_new(
        fields.clone(),
        vec![
            strs(all.iter().map(|(v, _)| v.as_str())),
            i64s(all.iter().map(|(_, c)| *c)),
        ],
        None,
    )
    .map_err(|e| Error::Internal(format!("ledger entry: {e}")))?;
    let mut offsets = arrow_array::builder::OffsetBufferBuilder::<i32>::new(profiles.len());
    for p in profiles {
        offsets.push_length(p.top_values.as_ref().map_or(0, Vec::len));
    }
    let nulls: arrow_buffer::NullBuffer = profiles.iter().map(|p| p.top_values.is_some()).collect();
    let item = Arc::new(Field::new("element", DataType::Struct(fields), true));
    Ok(Arc::new(
        ListArray::try_new(item, offsets.finish(), Arc::new(values), Some(nulls))
            .map_err(|e| Error::Internal(format!("ledger entry: {e}")))?,
    ))
}

impl Entry {
    /// The entry as one Arrow row (docs/ledger.md "Schema").
    #[allow(clippy::cast_possible_wrap)]
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let one = |v: u64| -> ArrayRef { Arc::new(Int64Array::from(vec![v as i64])) };
        let inputs = list_of(
            vec![
                ("uri", strs(self.inputs.iter().map(|i| i.uri.as_str()))),
                ("size", i64s(self.inputs.iter().map(|i| i.size))),
                (
                    "etag",
                    opt_strs(self.inputs.iter().map(|i| i.etag.as_deref())),
                ),
                (
                    "last_modified",
                    Arc::new(
                        self.inputs
                            .iter()
                            .map(|i| i.last_modified)
                            .collect::<TimestampMicrosecondArray>()
                            .with_timezone("UTC"),
                    ),
                ),
            ],
            self.inputs.len(),
        )?;
        let r = &self.rules;
        let rules = list_of(
            vec![
                ("name", strs(r.iter().map(|x| x.name.as_str()))),
                ("kind", strs(r.iter().map(|x| x.kind.as_str()))),
                ("scope", strs(r.iter().map(|x| x.scope.as_str()))),
                ("column", opt_strs(r.iter().map(|x| x.column.as_deref()))),
                ("severity", strs(r.iter().map(|x| x.severity.as_str()))),
                ("failed", i64s(r.iter().map(|x| x.failed))),
                (
                    "passed",
                    Arc::new(BooleanArray::from(
                        r.iter().map(|x| x.passed).collect::<Vec<_>>(),
                    )),
                ),
                ("status", strs(r.iter().map(|x| x.status.as_str()))),
                ("observed", f64s(r.iter().map(|x| x.observed))),
                ("expected_low", f64s(r.iter().map(|x| x.expected_low))),
                ("expected_high", f64s(r.iter().map(|x| x.expected_high))),
                ("detail", opt_strs(r.iter().map(|x| x.detail.as_deref()))),
            ],
            r.len(),
        )?;
        let columns = list_of(
            vec![
                ("name", strs(self.schema.iter().map(|(n, _)| n.as_str()))),
                ("type", strs(self.schema.iter().map(|(_, t)| t.as_str()))),
            ],
            self.schema.len(),
        )?;
        let p = &self.profiles;
        let profiles = list_of(
            vec![
                ("column", strs(p.iter().map(|x| x.column.as_str()))),
                ("dtype", strs(p.iter().map(|x| x.dtype.as_str()))),
                ("rows", i64s(p.iter().map(|x| x.rows))),
                ("nulls", i64s(p.iter().map(|x| x.nulls))),
                (
                    "values",
                    Arc::new(
                        p.iter()
                            .map(|x| x.values.map(|v| v as i64))
                            .collect::<Int64Array>(),
                    ),
                ),
                ("min", f64s(p.iter().map(|x| x.min))),
                ("max", f64s(p.iter().map(|x| x.max))),
                ("mean", f64s(p.iter().map(|x| x.mean))),
                ("stddev", f64s(p.iter().map(|x| x.stddev))),
                ("sum", f64s(p.iter().map(|x| x.sum))),
                (
                    "min_text",
                    opt_strs(p.iter().map(|x| x.min_text.as_deref())),
                ),
                (
                    "max_text",
                    opt_strs(p.iter().map(|x| x.max_text.as_deref())),
                ),
                (
                    "distinct",
                    Arc::new(
                        p.iter()
                            .map(|x| x.distinct.map(|v| v as i64))
                            .collect::<Int64Array>(),
                    ),
                ),
                ("top_values", top_values_array(p)?),
                (
                    "top_values_over_cap",
                    Arc::new(
                        p.iter()
                            .map(|x| x.top_values_over_cap)
                            .collect::<BooleanArray>(),
                    ),
                ),
            ],
            p.len(),
        )?;
        let value_sets = list_of(
            vec![
                (
                    "column",
                    strs(self.value_sets.iter().map(|v| v.column.as_str())),
                ),
                ("values", {
                    let mut builder = arrow_array::builder::ListBuilder::new(
                        arrow_array::builder::StringBuilder::new(),
                    );
                    for set in &self.value_sets {
                        for value in &set.values {
                            builder.values().append_value(value);
                        }
                        builder.append(true);
                    }
                    Arc::new(builder.finish()) as ArrayRef
                }),
                (
                    "over_cap",
                    Arc::new(BooleanArray::from(
                        self.value_sets
                            .iter()
                            .map(|v| v.over_cap)
                            .collect::<Vec<_>>(),
                    )),
                ),
            ],
            self.value_sets.len(),
        )?;
        let key_indexes = list_of(
            vec![
                (
                    "column",
                    strs(self.key_indexes.iter().map(|k| k.column.as_str())),
                ),
                ("hashes", {
                    let mut builder = arrow_array::builder::ListBuilder::new(
                        arrow_array::builder::Int64Builder::new(),
                    );
                    for index in &self.key_indexes {
                        for &hash in &index.hashes {
                            // The hash's 64 bits, stored as a signed integer.
                            builder.values().append_value(hash as i64);
                        }
                        builder.append(true);
                    }
                    Arc::new(builder.finish()) as ArrayRef
                }),
            ],
            self.key_indexes.len(),
        )?;
        let o = &self.outputs;
        let outputs: Vec<(&str, ArrayRef)> = vec![
            ("valid", opt_strs([o.valid.as_deref()].into_iter())),
            (
                "quarantine",
                opt_strs([o.quarantine.as_deref()].into_iter()),
            ),
            ("metrics", opt_strs([o.metrics.as_deref()].into_iter())),
            ("manifest", opt_strs([o.manifest.as_deref()].into_iter())),
        ];
        let fields: Fields = outputs
            .iter()
            .map(|(name, _)| Field::new(*name, DataType::Utf8, true))
            .collect();
        let outputs: ArrayRef = Arc::new(
            StructArray::try_new(fields, outputs.into_iter().map(|(_, a)| a).collect(), None)
                .map_err(|e| Error::Internal(format!("ledger entry: {e}")))?,
        );
        let batch = RecordBatch::try_from_iter_with_nullable(vec![
            (
                "ledger_version",
                Arc::new(Int32Array::from(vec![LEDGER_VERSION])) as ArrayRef,
                false,
            ),
            (
                "dataset_name",
                strs([self.dataset.as_str()].into_iter()),
                false,
            ),
            (
                "partition",
                strs([self.partition.as_str()].into_iter()),
                false,
            ),
            (
                "logical_date",
                Arc::new(Date32Array::from(vec![self.logical_date])),
                false,
            ),
            ("run_id", strs([self.run_id.as_str()].into_iter()), false),
            (
                "written_at",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![self.written_at]).with_timezone("UTC"),
                ),
                false,
            ),
            (
                "rules_hash",
                strs([self.rules_hash.as_str()].into_iter()),
                false,
            ),
            (
                "engine_version",
                strs([self.engine_version.as_str()].into_iter()),
                false,
            ),
            (
                "passed",
                Arc::new(BooleanArray::from(vec![self.passed])),
                false,
            ),
            ("rows", one(self.rows), false),
            ("valid_rows", one(self.valid_rows), false),
            ("invalid_rows", one(self.invalid_rows), false),
            ("bytes", one(self.bytes), false),
            (
                "duration_s",
                Arc::new(Float64Array::from(vec![self.duration_s])),
                false,
            ),
            ("inputs", inputs, false),
            ("rules", rules, false),
            ("columns", columns, false),
            ("profiles", profiles, false),
            ("value_sets", value_sets, false),
            ("key_indexes", key_indexes, false),
            ("outputs", outputs, false),
        ])
        .map_err(|e| Error::Internal(format!("ledger entry: {e}")))?;
        Ok(batch)
    }

    /// The entry as a Parquet file's bytes (Snappy-compressed, one row group).
    pub fn to_parquet(&self) -> Result<Vec<u8>> {
        let batch = self.to_batch()?;
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let mut out = Vec::new();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props))
                .map_err(|e| Error::Internal(format!("ledger entry: {e}")))?;
        writer
            .write(&batch)
            .and_then(|()| writer.close().map(|_| ()))
            .map_err(|e| Error::Internal(format!("ledger entry: {e}")))?;
        Ok(out)
    }

    /// What the history checks need of this entry.
    pub fn facts(&self) -> PartitionFacts {
        PartitionFacts {
            partition: self.partition.clone(),
            logical_date: self.logical_date,
            rows: self.rows,
            columns: self
                .profiles
                .iter()
                .map(|p| ColumnFacts {
                    name: p.column.clone(),
                    rows: p.rows,
                    nulls: p.nulls,
                    mean: p.mean,
                    max: p.max,
                })
                .collect(),
            schema: self.schema.clone(),
            value_sets: self.value_sets.clone(),
            key_indexes: self.key_indexes.clone(),
        }
    }
}

/// The profile of one column from its merged statistics.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
pub fn profile_of(
    name: &str,
    dtype: DType,
    rows: u64,
    stats: &crate::rules::dataset::ColumnStats,
    gathered: Gather,
    sketched: Sketch,
) -> ProfileFacts {
    let mut profile = ProfileFacts {
        column: name.to_owned(),
        dtype: dtype.name().to_owned(),
        rows,
        nulls: stats.nulls,
        ..ProfileFacts::default()
    };
    if sketched != Sketch::Nothing {
        profile.distinct = Some(stats.distinct(sketched));
    }
    if sketched == Sketch::DistinctAndTop {
        profile.top_values = Some(stats.top.sorted());
        profile.top_values_over_cap = Some(stats.top.over_cap);
    }
    if gathered == Gather::Nothing {
        return profile;
    }
    profile.values = Some(stats.values);
    profile.min = stats.min;
    profile.max = stats.max;
    if stats.values > 0 && dtype.is_numeric() && gathered >= Gather::Sum {
        let n = stats.values as f64;
        let sum = stats.sum.value();
        let mean = sum / n;
        profile.sum = Some(sum);
        profile.mean = Some(mean);
        if gathered >= Gather::Moments {
            profile.stddev = Some(if stats.values > 1 {
                ((stats.sum_sq.value() - sum * mean) / (n - 1.0))
                    .max(0.0)
                    .sqrt()
            } else {
                0.0
            });
        }
    }
    if dtype.is_temporal() {
        let text = |v: f64| match dtype {
            DType::Date => format_date((v / 86_400_000_000.0).floor() as i32),
            DType::Time => crate::parse::format_time(v as i64),
            _ => format!("{}Z", crate::parse::format_datetime(v as i64)),
        };
        profile.min_text = stats.min.map(text);
        profile.max_text = stats.max.map(text);
    }
    profile
}

pub(crate) fn bad(uri: &str, what: impl std::fmt::Display) -> Error {
    Error::storage(
        "read",
        uri,
        format!("not a pyrustpipe ledger entry: {what}"),
    )
}

pub(crate) fn column<'a, T: 'static>(
    batch: &'a RecordBatch,
    name: &str,
    uri: &str,
) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| {
            bad(
                uri,
                format!("column {name:?} is missing or of another type"),
            )
        })
}

pub(crate) fn field<'a, T: 'static>(list: &'a StructArray, name: &str, uri: &str) -> Result<&'a T> {
    list.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| bad(uri, format!("field {name:?} is missing or of another type")))
}

fn opt(array: &Float64Array, i: usize) -> Option<f64> {
    array.is_valid(i).then(|| array.value(i))
}

/// The structs of one row of an optional list-of-struct column (absent in older entries).
fn structs_of(list: Option<&ListArray>, row: usize, uri: &str) -> Result<Option<StructArray>> {
    let Some(list) = list else {
        return Ok(None);
    };
    let items = list.value(row);
    let items = items
        .as_any()
        .downcast_ref::<StructArray>()
        .ok_or_else(|| bad(uri, "a list column does not hold structs"))?;
    Ok(Some(items.clone()))
}

fn optional_list<'a>(
    batch: &'a RecordBatch,
    name: &str,
    uri: &str,
) -> Result<Option<&'a ListArray>> {
    match batch.column_by_name(name) {
        None => Ok(None),
        Some(c) => c
            .as_any()
            .downcast_ref::<ListArray>()
            .map(Some)
            .ok_or_else(|| bad(uri, format!("column {name:?} is not a list"))),
    }
}

/// `value_sets` and `key_indexes` of one entry row (version 2; empty for version 1).
#[allow(clippy::cast_sign_loss)]
fn row_indexes(
    batch: &RecordBatch,
    row: usize,
    uri: &str,
) -> Result<(Vec<ValueSet>, Vec<KeyIndex>)> {
    let mut sets = Vec::new();
    if let Some(items) = structs_of(optional_list(batch, "value_sets", uri)?, row, uri)? {
        let column = field::<StringArray>(&items, "column", uri)?;
        let values = field::<ListArray>(&items, "values", uri)?;
        let over_cap = field::<BooleanArray>(&items, "over_cap", uri)?;
        for i in 0..items.len() {
            let list = values.value(i);
            let list = list
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| bad(uri, "value_sets.values is not a list of strings"))?;
            sets.push(ValueSet {
                column: column.value(i).to_owned(),
                values: list.iter().flatten().map(str::to_owned).collect(),
                over_cap: over_cap.value(i),
            });
        }
    }
    let mut keys = Vec::new();
    if let Some(items) = structs_of(optional_list(batch, "key_indexes", uri)?, row, uri)? {
        let column = field::<StringArray>(&items, "column", uri)?;
        let hashes = field::<ListArray>(&items, "hashes", uri)?;
        for i in 0..items.len() {
            let list = hashes.value(i);
            let list = list
                .as_any()
                .downcast_ref::<Int64Array>()
                .ok_or_else(|| bad(uri, "key_indexes.hashes is not a list of int64"))?;
            keys.push(KeyIndex {
                column: column.value(i).to_owned(),
                hashes: list.iter().flatten().map(|h| h as u64).collect(),
            });
        }
    }
    Ok((sets, keys))
}

/// A ledger file's record batches, read from its bytes.
pub(crate) fn record_batches(
    bytes: Vec<u8>,
    uri: &str,
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader> {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(
        bytes,
    ))
    .and_then(parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::build)
    .map_err(|e| bad(uri, e))
}

/// The entries of one ledger file, as the history checks see them.
#[allow(clippy::cast_sign_loss)]
pub fn read_facts(bytes: Vec<u8>, uri: &str) -> Result<Vec<PartitionFacts>> {
    let reader = record_batches(bytes, uri)?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(uri, e))?;
        let partition = column::<StringArray>(&batch, "partition", uri)?;
        let date = column::<Date32Array>(&batch, "logical_date", uri)?;
        let rows = column::<Int64Array>(&batch, "rows", uri)?;
        let schema = column::<ListArray>(&batch, "columns", uri)?;
        let profiles = column::<ListArray>(&batch, "profiles", uri)?;
        for row in 0..batch.num_rows() {
            let cols = schema.value(row);
            let cols = cols
                .as_any()
                .downcast_ref::<StructArray>()
                .ok_or_else(|| bad(uri, "columns is not a list of structs"))?;
            let names = field::<StringArray>(cols, "name", uri)?;
            let types = field::<StringArray>(cols, "type", uri)?;
            let prof = profiles.value(row);
            let prof = prof
                .as_any()
                .downcast_ref::<StructArray>()
                .ok_or_else(|| bad(uri, "profiles is not a list of structs"))?;
            let p_name = field::<StringArray>(prof, "column", uri)?;
            let p_rows = field::<Int64Array>(prof, "rows", uri)?;
            let p_nulls = field::<Int64Array>(prof, "nulls", uri)?;
            let p_mean = field::<Float64Array>(prof, "mean", uri)?;
            let p_max = field::<Float64Array>(prof, "max", uri)?;
            let (value_sets, key_indexes) = row_indexes(&batch, row, uri)?;
            out.push(PartitionFacts {
                partition: partition.value(row).to_owned(),
                logical_date: date.value(row),
                rows: rows.value(row).max(0) as u64,
                columns: (0..prof.len())
                    .map(|i| ColumnFacts {
                        name: p_name.value(i).to_owned(),
                        rows: p_rows.value(i).max(0) as u64,
                        nulls: p_nulls.value(i).max(0) as u64,
                        mean: opt(p_mean, i),
                        max: opt(p_max, i),
                    })
                    .collect(),
                schema: (0..cols.len())
                    .map(|i| (names.value(i).to_owned(), types.value(i).to_owned()))
                    .collect(),
                value_sets,
                key_indexes,
            });
        }
    }
    Ok(out)
}

/// The outputs each entry of one ledger file records (all `None` for entries of versions 1
/// and 2, which predate the column).
pub fn read_outputs(bytes: Vec<u8>, uri: &str) -> Result<Vec<OutputFacts>> {
    let reader = record_batches(bytes, uri)?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(uri, e))?;
        let Some(outputs) = batch.column_by_name("outputs") else {
            out.extend((0..batch.num_rows()).map(|_| OutputFacts::default()));
            continue;
        };
        let outputs = outputs
            .as_any()
            .downcast_ref::<StructArray>()
            .ok_or_else(|| bad(uri, "column \"outputs\" is not a struct"))?;
        let text = |name: &str, row: usize| -> Result<Option<String>> {
            let array = field::<StringArray>(outputs, name, uri)?;
            Ok(array.is_valid(row).then(|| array.value(row).to_owned()))
        };
        for row in 0..batch.num_rows() {
            out.push(OutputFacts {
                valid: text("valid", row)?,
                quarantine: text("quarantine", row)?,
                metrics: text("metrics", row)?,
                manifest: text("manifest", row)?,
            });
        }
    }
    Ok(out)
}

/// `date=YYYY-MM-DD/run-*.parquet` below a dataset's directory: the entry's logical date.
fn entry_date(relative: &str) -> Option<i32> {
    let (dir, name) = relative.split_once('/')?;
    let date = parse_date_iso(dir.strip_prefix("date=")?.as_bytes())?;
    (name.starts_with("run-") && name.ends_with(".parquet") && !name.contains('/')).then_some(date)
}

/// The bytes of every entry file below a dataset's directory whose logical date `wanted`
/// accepts, in path order. Hidden, staged (`_pyrustpipe_attempts/`) and manifest files are not
/// entries.
pub(crate) fn entry_files(
    storage: &Storage,
    dir: &str,
    wanted: &dyn Fn(i32) -> bool,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    match Location::parse(dir)? {
        Location::Local(path) => {
            let Ok(dates) = std::fs::read_dir(&path) else {
                return Ok(out);
            };
            let mut files = Vec::new();
            for date_dir in dates.flatten() {
                let date_name = date_dir.file_name().to_string_lossy().into_owned();
                let Ok(entries) = std::fs::read_dir(date_dir.path()) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if entry_date(&format!("{date_name}/{name}")).is_some_and(wanted) {
                        files.push(entry.path());
                    }
                }
            }
            files.sort();
            for file in files {
                let uri = file.display().to_string();
                let bytes = std::fs::read(&file).map_err(|e| Error::storage("read", &uri, e))?;
                out.push((uri, bytes));
            }
        }
        Location::S3 { bucket, key } => {
            let store = storage.s3()?;
            let prefix = format!("{key}/");
            let keys: Vec<String> = store
                .list(&bucket, &prefix)?
                .into_iter()
                .map(|meta| meta.key)
                .filter(|key| entry_date(&key[prefix.len().min(key.len())..]).is_some_and(wanted))
                .collect();
            let bodies = store.get_many_small(&bucket, &keys)?;
            for (key, bytes) in keys.into_iter().zip(bodies) {
                if let Some(bytes) = bytes {
                    out.push((format!("s3://{bucket}/{key}"), bytes));
                }
            }
        }
    }
    Ok(out)
}

/// Every entry of the dataset with a logical date in `[from, before)`.
pub fn read_history(
    storage: &Storage,
    at: &Resolved,
    from: i32,
    before: i32,
) -> Result<Vec<PartitionFacts>> {
    let mut out = Vec::new();
    for (uri, bytes) in entry_files(storage, &at.dataset_dir(), &|d| d >= from && d < before)? {
        out.extend(read_facts(bytes, &uri)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logical_date_comes_from_a_dt_or_date_segment() {
        let day = |s| logical_date_of(s).map(format_date);
        assert_eq!(day("dt=2026-01-05").as_deref(), Some("2026-01-05"));
        assert_eq!(
            day("region=eu/date=2026-02-28/hour=3").as_deref(),
            Some("2026-02-28")
        );
        assert_eq!(day("region=eu"), None);
        assert_eq!(day("dt=2026-02-30"), None);
    }

    #[test]
    fn an_entry_reads_back_as_its_facts() {
        let entry = Entry {
            dataset: "tx".into(),
            partition: "dt=2026-01-05".into(),
            logical_date: logical_date_of("dt=2026-01-05").unwrap(),
            run_id: "r".into(),
            written_at: 0,
            rules_hash: "sha256:x".into(),
            engine_version: "0".into(),
            passed: true,
            rows: 10,
            valid_rows: 9,
            invalid_rows: 1,
            bytes: 100,
            duration_s: 0.5,
            inputs: vec![],
            rules: vec![],
            schema: vec![("a".into(), "int".into())],
            profiles: vec![ProfileFacts {
                column: "a".into(),
                dtype: "int".into(),
                rows: 10,
                nulls: 2,
                mean: Some(1.5),
                max: Some(3.0),
                ..ProfileFacts::default()
            }],
            value_sets: vec![
                ValueSet {
                    column: "cur".into(),
                    values: vec!["EUR".into(), "USD".into()],
                    over_cap: false,
                },
                ValueSet {
                    column: "big".into(),
                    values: vec![],
                    over_cap: true,
                },
            ],
            key_indexes: vec![KeyIndex {
                column: "id".into(),
                hashes: vec![0, 7, u64::MAX],
            }],
            outputs: OutputFacts::default(),
        };
        let bytes = entry.to_parquet().unwrap();
        assert_eq!(read_facts(bytes, "x").unwrap(), vec![entry.facts()]);
        assert!(read_facts(b"not parquet".to_vec(), "x").is_err());
    }

    /// An entry with no rules, profiles or inputs, recording `outputs`.
    fn bare(outputs: OutputFacts) -> Entry {
        Entry {
            dataset: "tx".into(),
            partition: "dt=2026-01-05".into(),
            logical_date: 0,
            run_id: "r".into(),
            written_at: 0,
            rules_hash: "sha256:x".into(),
            engine_version: "0".into(),
            passed: true,
            rows: 0,
            valid_rows: 0,
            invalid_rows: 0,
            bytes: 0,
            duration_s: 0.0,
            inputs: vec![],
            rules: vec![],
            schema: vec![],
            profiles: vec![],
            value_sets: vec![],
            key_indexes: vec![],
            outputs,
        }
    }

    /// The batch as Parquet bytes, without the columns named in `drop` (an older entry).
    fn parquet_without(batch: &RecordBatch, drop: &[&str]) -> Vec<u8> {
        let keep: Vec<usize> = (0..batch.num_columns())
            .filter(|&i| !drop.contains(&batch.schema().field(i).name().as_str()))
            .collect();
        let batch = batch.project(&keep).unwrap();
        let mut out = Vec::new();
        let mut writer =
            parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        out
    }

    #[test]
    fn an_entry_records_its_outputs() {
        let s = |v: &str| Some(v.to_owned());
        let cases = [
            ("none", OutputFacts::default()),
            (
                "local",
                OutputFacts {
                    valid: s("/out/valid.csv"),
                    quarantine: s("/out/quarantine.csv"),
                    metrics: s("/out/report.json"),
                    manifest: None,
                },
            ),
            (
                "s3",
                OutputFacts {
                    valid: s("s3://b/out/valid.parquet"),
                    quarantine: s("s3://b/out/quarantine.parquet"),
                    metrics: None,
                    manifest: s("s3://b/out/_pyrustpipe_manifest.json"),
                },
            ),
        ];
        for (name, outputs) in cases {
            let entry = bare(outputs.clone());
            let bytes = entry.to_parquet().unwrap();
            assert_eq!(read_outputs(bytes, "x").unwrap(), vec![outputs], "{name}");
            let batch = entry.to_batch().unwrap();
            let version = column::<Int32Array>(&batch, "ledger_version", "x").unwrap();
            assert_eq!(version.value(0), 3, "{name}");
        }
    }

    #[test]
    fn older_entries_read_with_no_outputs() {
        let outputs = OutputFacts {
            quarantine: Some("/out/quarantine.csv".into()),
            ..OutputFacts::default()
        };
        let entry = bare(outputs);
        let batch = entry.to_batch().unwrap();
        let cases: [(&str, &[&str]); 2] = [
            ("version 2", &["outputs"]),
            ("version 1", &["outputs", "value_sets", "key_indexes"]),
        ];
        for (name, drop) in cases {
            let bytes = parquet_without(&batch, drop);
            assert_eq!(
                read_outputs(bytes.clone(), "x").unwrap(),
                vec![OutputFacts::default()],
                "{name}"
            );
            assert_eq!(
                read_facts(bytes, "x").unwrap(),
                vec![entry.facts()],
                "{name}"
            );
        }
    }

    #[test]
    fn only_entry_files_count() {
        assert!(entry_date("date=2026-01-05/run-00ff.parquet").is_some());
        assert!(entry_date("date=2026-01-05/_pyrustpipe_attempts/a/run-1.parquet").is_none());
        assert!(entry_date("date=2026-01-05/_pyrustpipe_manifest.run-1.json").is_none());
        assert!(entry_date("date=x/run-1.parquet").is_none());
    }
}
