//! pyrustpipe's engine: a rule spec (docs/spec.md) compiled once into a plan, run in parallel
//! over CSV files in bounded memory, producing a report (docs/report.md) and, on request, valid
//! and quarantine outputs. Pure Rust: the Python bindings live in `pyrustpipe_py`.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("t.csv");
//! std::fs::write(&path, "id,amount\n1,5\n2,-1\n").unwrap();
//! let spec = r#"{"spec_version": 1, "columns": [
//!     {"name": "id", "dtype": "int"},
//!     {"name": "amount", "dtype": "float", "checks": [{"type": "gt", "value": 0}]}]}"#;
//! let report = pyrustpipe_core::validate(spec, &[path.display().to_string()], &Default::default()).unwrap();
//! assert_eq!((report.rows, report.invalid_rows), (2, 1));
//! ```

#![forbid(unsafe_code)]

pub mod check;
pub mod engine;
pub mod error;
pub mod formats;
pub mod ledger;
pub mod mask;
pub mod parse;
pub mod plan;
pub mod plan_cache;
pub mod profile;
pub mod progress;
pub mod report;
pub mod rules;
pub mod spec;
pub mod storage;
pub mod value;

use std::sync::Arc;

pub use engine::{Options, ENGINE_VERSION};
pub use error::{Error, Position, Result};
pub use profile::{profile, ProfileOptions};
pub use report::Report;

pub use plan::ExternalRule;
use plan::Plan;
use spec::Spec;

/// What compiling a spec gives back: the spec normalised (defaults filled in), its ruleset
/// hash, and the compiled rule table in report order (what each rule is, before any data).
#[derive(Debug, serde::Serialize)]
pub struct Compiled {
    pub spec: Spec,
    pub ruleset_hash: String,
    pub rules: Vec<rules::RuleMeta>,
}

impl Compiled {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a compiled spec always serialises")
    }
}

/// Check a spec and compile its rule table; `external` names the rules Python will run (they
/// join the table last, as in a report).
pub fn compile_spec(spec_json: &str, external: &[ExternalRule]) -> Result<Compiled> {
    let spec = Spec::from_json(spec_json)?;
    let plan = plan::CompiledSpec::compile(spec, external)?;
    Ok(Compiled {
        spec: plan.spec,
        ruleset_hash: plan.ruleset_hash,
        rules: plan.rules,
    })
}

/// Each text parsed as the column's dtype (and `format`), in the canonical text form of
/// [`value::TypeParser::canonical_text`]; `None` where it does not parse. `column_json` is one
/// of a spec's columns. The Python fallback for untraceable rules builds its values from these,
/// so it has no grammar of its own.
pub fn parse_texts(column_json: &str, texts: &[&[u8]]) -> Result<Vec<Option<String>>> {
    let column: spec::ColumnSpec =
        serde_json::from_str(column_json).map_err(|e| Error::schema("column", e.to_string()))?;
    let parser = value::TypeParser::compile(&column, &format!("column ({})", column.name))?;
    Ok(texts
        .iter()
        .map(|text| parser.canonical_text(text))
        .collect())
}

/// Validate files (paths, directories or globs) against a spec.
pub fn validate(spec_json: &str, sources: &[String], options: &Options) -> Result<Report> {
    let plan = compile_plan(spec_json, options)?;
    let s3_options = storage::s3::S3Options::from_map(options.storage_options.as_ref())?;
    let storage =
        storage::Storage::new(s3_options, options.allow_empty).with_cancel(options.cancel.clone());
    let objects = storage.expand(sources)?;
    engine::run(&plan, engine::Input::Objects(&objects), options, &storage)
}

/// Validate an in-memory Arrow table (a stream of record batches) against a spec. Outputs are
/// Parquet; `storage_options` apply to `s3://` outputs.
pub fn validate_arrow(
    spec_json: &str,
    source: formats::arrow::ArrowSource,
    options: &Options,
) -> Result<Report> {
    let plan = compile_plan(spec_json, options)?;
    let s3_options = storage::s3::S3Options::from_map(options.storage_options.as_ref())?;
    let storage =
        storage::Storage::new(s3_options, options.allow_empty).with_cancel(options.cancel.clone());
    engine::run(&plan, engine::Input::Arrow(source), options, &storage)
}

fn compile_plan(spec_json: &str, options: &Options) -> Result<Arc<Plan>> {
    let external: Vec<ExternalRule> = options
        .external_rules
        .iter()
        .map(|r| ExternalRule {
            name: r.name.clone(),
            severity: r.severity,
            tolerance: r.tolerance,
        })
        .collect();
    let compiled = plan_cache::compiled(spec_json, &external, options.ledger.is_some())?;
    let masker = mask::Masker::for_run(options.mask_key.as_ref())?;
    Ok(Arc::new(Plan::new(compiled, masker)))
}

/// Expand paths, directories, globs, S3 keys and prefixes into the objects a run would read.
pub fn expand_sources(sources: &[String], options: &Options) -> Result<Vec<String>> {
    let s3_options = storage::s3::S3Options::from_map(options.storage_options.as_ref())?;
    let storage =
        storage::Storage::new(s3_options, options.allow_empty).with_cancel(options.cancel.clone());
    Ok(storage
        .expand(sources)?
        .into_iter()
        .map(|s| s.uri)
        .collect())
}

/// Plan `parts` byte-range splits of the one object `uri` (docs/splits.md), as JSON.
pub fn plan_splits(uri: &str, parts: usize, options: &Options) -> Result<String> {
    let s3_options = storage::s3::S3Options::from_map(options.storage_options.as_ref())?;
    let storage =
        storage::Storage::new(s3_options, options.allow_empty).with_cancel(options.cancel.clone());
    let objects = storage.expand(&[uri.to_owned()])?;
    let [object] = objects.as_slice() else {
        return Err(Error::option(
            "uri",
            format!(
                "splits cut one object, but {uri} names {} objects",
                objects.len()
            ),
        ));
    };
    let planned = engine::split::plan(object, parts)?;
    Ok(serde_json::to_string(&planned).expect("splits serialise"))
}

/// The gate's cross-split repeats of unique keys, from the splits' keys files in split order,
/// as JSON (docs/splits.md).
pub fn merge_split_keys(paths: &[String]) -> Result<String> {
    let failures = engine::split::merge_split_keys(paths)?;
    Ok(serde_json::to_string(&failures).expect("failures serialise"))
}

/// Every quality-ledger entry of `dataset` under `root` (docs/ledger.md), oldest first, as JSON.
pub fn ledger_entries(root: &str, dataset: &str, options: &Options) -> Result<String> {
    let s3_options = storage::s3::S3Options::from_map(options.storage_options.as_ref())?;
    let storage = storage::Storage::new(s3_options, options.allow_empty);
    let entries = ledger::trend::entries(&storage, root, dataset)?;
    Ok(serde_json::to_string(&entries).expect("summaries serialise"))
}

/// Remove what interrupted runs left under an output prefix (stale attempt folders, open
/// multipart uploads, local staged files) older than `older_than`; `dry_run` only lists them.
pub fn gc(
    prefix: &str,
    older_than: std::time::Duration,
    dry_run: bool,
    options: &Options,
) -> Result<storage::gc::GcReport> {
    let s3_options = storage::s3::S3Options::from_map(options.storage_options.as_ref())?;
    let storage =
        storage::Storage::new(s3_options, options.allow_empty).with_cancel(options.cancel.clone());
    storage::gc::gc(&storage, prefix, older_than, dry_run)
}
