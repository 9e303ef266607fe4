//! The ledger read back for people: one summary per entry of a dataset (counts, verdict, the
//! rules that failed or were skipped), oldest logical date first — what `pyrustpipe history`
//! prints.

use arrow_array::{
    Array, BooleanArray, Date32Array, Int64Array, ListArray, StringArray, StructArray,
};
use serde::Serialize;

use super::{bad, column, entry_files, field, record_batches};
use crate::error::Result;
use crate::parse::format_date;
use crate::storage::Storage;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    pub partition: String,
    pub logical_date: String,
    pub rules_hash: String,
    pub rows: i64,
    pub valid_rows: i64,
    pub invalid_rows: i64,
    pub passed: bool,
    pub failed_rules: Vec<String>,
    pub skipped_rules: Vec<String>,
}

fn summaries(bytes: Vec<u8>, uri: &str) -> Result<Vec<Summary>> {
    let reader = record_batches(bytes, uri)?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(uri, e))?;
        let partition = column::<StringArray>(&batch, "partition", uri)?;
        let date = column::<Date32Array>(&batch, "logical_date", uri)?;
        let hash = column::<StringArray>(&batch, "rules_hash", uri)?;
        let rows = column::<Int64Array>(&batch, "rows", uri)?;
        let valid = column::<Int64Array>(&batch, "valid_rows", uri)?;
        let invalid = column::<Int64Array>(&batch, "invalid_rows", uri)?;
        let passed = column::<BooleanArray>(&batch, "passed", uri)?;
        let rules = column::<ListArray>(&batch, "rules", uri)?;
        for row in 0..batch.num_rows() {
            let list = rules.value(row);
            let list = list
                .as_any()
                .downcast_ref::<StructArray>()
                .ok_or_else(|| bad(uri, "rules is not a list of structs"))?;
            let names = field::<StringArray>(list, "name", uri)?;
            let status = field::<StringArray>(list, "status", uri)?;
            let with = |wanted: &str| -> Vec<String> {
                (0..list.len())
                    .filter(|&i| status.value(i) == wanted)
                    .map(|i| names.value(i).to_owned())
                    .collect()
            };
            out.push(Summary {
                partition: partition.value(row).to_owned(),
                logical_date: format_date(date.value(row)),
                rules_hash: hash.value(row).to_owned(),
                rows: rows.value(row),
                valid_rows: valid.value(row),
                invalid_rows: invalid.value(row),
                passed: passed.value(row),
                failed_rules: with("fail"),
                skipped_rules: with("skipped"),
            });
        }
    }
    Ok(out)
}

/// Every entry of `dataset` under `root`, oldest logical date first (then by partition).
pub fn entries(storage: &Storage, root: &str, dataset: &str) -> Result<Vec<Summary>> {
    let dir = format!("{}/dataset={dataset}", root.trim_end_matches('/'));
    let mut out = Vec::new();
    for (uri, bytes) in entry_files(storage, &dir, &|_| true)? {
        out.extend(summaries(bytes, &uri)?);
    }
    out.sort_by(|a, b| (&a.logical_date, &a.partition).cmp(&(&b.logical_date, &b.partition)));
    Ok(out)
}
