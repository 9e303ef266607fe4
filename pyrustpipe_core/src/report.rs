//! The run report (docs/report.md), versioned JSON.

use serde::Serialize;
use serde_json::Value as Json;

use crate::spec::{Severity, Tolerance};

pub const REPORT_VERSION: u64 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub row: u64,
    pub line: Option<u64>,
    pub source: String,
    pub column: Option<String>,
    pub value: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    pub name: String,
    pub kind: String,
    pub scope: &'static str,
    pub column: Option<String>,
    pub severity: Severity,
    pub failed: u64,
    pub failure_rate: f64,
    pub tolerance: Option<Tolerance>,
    pub allowed_failures: u64,
    pub passed: bool,
    pub observed: Option<Json>,
    pub samples: Vec<Sample>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceSummary {
    pub uri: String,
    pub format: &'static str,
    pub bytes: u64,
    pub rows: u64,
    pub valid_rows: u64,
    pub invalid_rows: u64,
    pub skipped_blank_lines: u64,
    /// CSV records with text after a closing quote (`"a"b`), read leniently.
    pub quote_garbage_records: u64,
    pub columns: Vec<String>,
    pub failures: serde_json::Map<String, Json>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Outputs {
    pub valid: Option<String>,
    pub quarantine: Option<String>,
    pub metrics: Option<String>,
    /// For S3 outputs: the manifest that commits them (docs/outputs.md).
    pub manifest: Option<String>,
    /// An earlier attempt had already committed the same partition with the same rules.
    pub already_committed: bool,
    /// This run's quality-ledger entry (docs/ledger.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
}

/// What the run's storage did beyond reading and writing.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Io {
    /// Per S3 operation (`get_object`, `head_object`, `upload_part`…), the SDK's retries: the
    /// attempts beyond the first. Operations that were never retried are absent.
    pub retries: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub report_version: u64,
    pub engine_version: &'static str,
    pub schema_name: String,
    pub ruleset_hash: String,
    pub passed: bool,
    pub rows: u64,
    pub valid_rows: u64,
    pub invalid_rows: u64,
    pub skipped_blank_lines: u64,
    pub bytes: u64,
    pub duration_s: f64,
    pub rows_per_s: f64,
    pub threads: usize,
    pub sources: Vec<SourceSummary>,
    pub rules: Vec<RuleResult>,
    pub outputs: Outputs,
    pub io: Io,
    /// For a split run: the range asked for and the records it resolved to (docs/splits.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split: Option<crate::engine::split::SplitSummary>,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report always serialises")
    }
}
