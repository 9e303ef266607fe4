//! `pyrustpipe._core`: thin bindings over `pyrustpipe_core`. Rules and options cross as JSON
//! text and the report comes back as JSON text, so this layer holds no conversion logic.

mod errors;
mod gil;

use std::sync::Arc;

use arrow_array::ffi_stream::RecordBatchStreamReader;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyDict};

use pyrustpipe_core::progress::Cancel;

use crate::gil::run_engine;

fn options(py: Python<'_>, options_json: &str) -> PyResult<pyrustpipe_core::Options> {
    serde_json::from_str(options_json)
        .map_err(|e| errors::to_py(py, pyrustpipe_core::Error::option("options", e.to_string())))
}

/// Check a spec; returns `{"spec": <normalised spec>, "ruleset_hash": "sha256:…", "rules":
/// [<the compiled rule table>]}` as JSON. `external_rules_json` lists the rules Python runs
/// (`[{"name", "severity", "tolerance"}]`).
#[pyfunction]
#[pyo3(signature = (spec_json, external_rules_json = "[]"))]
fn compile_spec(py: Python<'_>, spec_json: &str, external_rules_json: &str) -> PyResult<String> {
    let external: Vec<pyrustpipe_core::ExternalRule> = serde_json::from_str(external_rules_json)
        .map_err(|e| {
            errors::to_py(
                py,
                pyrustpipe_core::Error::option("external_rules", e.to_string()),
            )
        })?;
    run_engine(py, &Cancel::default(), || {
        pyrustpipe_core::compile_spec(spec_json, &external).map(|c| c.to_json())
    })
}

/// Counters a run updates while it works; `snapshot()` reads them from any thread. Also the
/// run's cancel switch: `cancel()` from any thread (an orchestrator's kill hook) stops the run.
#[pyclass(frozen, module = "pyrustpipe._core")]
struct Progress {
    inner: Arc<pyrustpipe_core::progress::Progress>,
    cancel: Cancel,
}

#[pymethods]
impl Progress {
    #[new]
    fn new() -> Self {
        Progress {
            inner: Arc::default(),
            cancel: Cancel::default(),
        }
    }

    /// Stop the run this handle was given to (or the next one): its uploads are aborted and
    /// nothing is committed; the run raises `CancelledError`.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether `cancel()` was called (or a signal cancelled the run).
    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// `(bytes_total, bytes_done, rows, writing)`; `bytes_total` is 0 when unknown.
    fn snapshot(&self) -> (u64, u64, u64, bool) {
        let s = self.inner.snapshot();
        (s.bytes_total, s.bytes_done, s.rows, s.writing)
    }
}

fn run_options(
    py: Python<'_>,
    options_json: &str,
    progress: Option<&Bound<'_, Progress>>,
) -> PyResult<pyrustpipe_core::Options> {
    let mut options = options(py, options_json)?;
    if let Some(progress) = progress {
        options.progress = Some(progress.get().inner.clone());
        options.cancel = progress.get().cancel.clone();
    }
    Ok(options)
}

/// Validate sources against a spec; returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (spec_json, sources, options_json, progress = None))]
fn validate(
    py: Python<'_>,
    spec_json: &str,
    sources: Vec<String>,
    options_json: &str,
    progress: Option<&Bound<'_, Progress>>,
) -> PyResult<String> {
    let options = run_options(py, options_json, progress)?;
    run_engine(py, &options.cancel, || {
        pyrustpipe_core::validate(spec_json, &sources, &options).map(|r| r.to_json())
    })
}

/// Validate an in-memory table: any object with `__arrow_c_stream__` (the Arrow PyCapsule
/// interface). Its stream is read on the engine's threads without the GIL; producers that need
/// the GIL (streams backed by Python iterators) take it themselves.
///
/// `dictionaries`: columns of the table that hold dictionary keys, each with its dictionary as a
/// one-column table (`formats::dictionary_keys`).
#[pyfunction]
#[pyo3(signature = (spec_json, table, name, options_json, progress = None, dictionaries = Vec::new()))]
fn validate_arrow(
    py: Python<'_>,
    spec_json: &str,
    table: &Bound<'_, PyAny>,
    name: &str,
    options_json: &str,
    progress: Option<&Bound<'_, Progress>>,
    dictionaries: Vec<(String, Bound<'_, PyAny>)>,
) -> PyResult<String> {
    use pyrustpipe_core::formats::dictionary_keys::{one_column, KeyedDictionaries};
    let options = run_options(py, options_json, progress)?;
    let mut reader: Box<dyn arrow_array::RecordBatchReader + Send> = Box::new(arrow_stream(table)?);
    if !dictionaries.is_empty() {
        let values = (dictionaries.iter())
            .map(|(column, values)| {
                Ok((
                    column.clone(),
                    one_column(arrow_stream(values)?).map_err(import_error)?,
                ))
            })
            .collect::<PyResult<Vec<_>>>()?;
        reader = Box::new(KeyedDictionaries::new(reader, values).map_err(import_error)?);
    }
    let source = pyrustpipe_core::formats::arrow::ArrowSource {
        name: name.to_owned(),
        reader,
    };
    run_engine(py, &options.cancel, || {
        pyrustpipe_core::validate_arrow(spec_json, source, &options).map(|r| r.to_json())
    })
}

/// A table's columns and dictionaries that do not fit together.
fn import_error(e: impl std::fmt::Display) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(format!("cannot import the Arrow stream: {e}"))
}

/// Import the stream exported by `table.__arrow_c_stream__()`.
#[allow(unsafe_code)]
fn arrow_stream(table: &Bound<'_, PyAny>) -> PyResult<RecordBatchStreamReader> {
    let capsule = table.call_method1("__arrow_c_stream__", (table.py().None(),))?;
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("__arrow_c_stream__ did not return a PyCapsule")
    })?;
    let stream = capsule.pointer_checked(Some(c"arrow_array_stream"))?;
    // SAFETY: the capsule is named "arrow_array_stream", so it holds an FFI_ArrowArrayStream
    // (the Arrow PyCapsule interface). `from_raw` moves the stream out and leaves a released
    // one behind, so the capsule's destructor does not release it a second time.
    let reader = unsafe { RecordBatchStreamReader::from_raw(stream.as_ptr().cast()) };
    reader.map_err(|e| {
        pyo3::exceptions::PyValueError::new_err(format!("cannot import the Arrow stream: {e}"))
    })
}

/// Profile sources (types, nulls, ranges, small categorical sets, patterns) for `init`;
/// `profile_json` holds what init was told (delimiter, null values, header, sample rows).
#[pyfunction]
#[pyo3(signature = (sources, options_json, profile_json = "{}"))]
fn profile(
    py: Python<'_>,
    sources: Vec<String>,
    options_json: &str,
    profile_json: &str,
) -> PyResult<String> {
    let options = options(py, options_json)?;
    let init: pyrustpipe_core::ProfileOptions = serde_json::from_str(profile_json)
        .map_err(|e| errors::to_py(py, pyrustpipe_core::Error::option("init", e.to_string())))?;
    run_engine(py, &options.cancel, || {
        pyrustpipe_core::profile(&sources, &options, &init)
    })
}

/// The objects a run over `sources` (paths, directories, globs, S3 keys and prefixes) reads.
#[pyfunction]
#[pyo3(signature = (sources, options_json = "{}"))]
fn expand_sources(
    py: Python<'_>,
    sources: Vec<String>,
    options_json: &str,
) -> PyResult<Vec<String>> {
    let options = options(py, options_json)?;
    run_engine(py, &options.cancel, || {
        pyrustpipe_core::expand_sources(&sources, &options)
    })
}

/// Plan `parts` byte-range splits of one object; returns the splits as JSON.
#[pyfunction]
#[pyo3(signature = (uri, parts, options_json = "{}"))]
fn plan_splits(py: Python<'_>, uri: &str, parts: usize, options_json: &str) -> PyResult<String> {
    let options = options(py, options_json)?;
    run_engine(py, &options.cancel, || {
        pyrustpipe_core::plan_splits(uri, parts, &options)
    })
}

/// The repeats of unique keys across splits, from their keys files in split order, as JSON.
#[pyfunction]
fn merge_split_keys(py: Python<'_>, paths: Vec<String>) -> PyResult<String> {
    let cancel = pyrustpipe_core::progress::Cancel::default();
    run_engine(py, &cancel, || pyrustpipe_core::merge_split_keys(&paths))
}

/// Remove what interrupted runs left under an output prefix, older than `older_than_s` seconds;
/// returns `{"dry_run", "removed": [{"kind", "uri", "age_s", "objects"}], "notes"}` as JSON.
#[pyfunction]
#[pyo3(signature = (prefix, older_than_s, dry_run, options_json = "{}"))]
fn gc(
    py: Python<'_>,
    prefix: &str,
    older_than_s: f64,
    dry_run: bool,
    options_json: &str,
) -> PyResult<String> {
    let options = options(py, options_json)?;
    let older_than = std::time::Duration::try_from_secs_f64(older_than_s).map_err(|_| {
        pyo3::exceptions::PyValueError::new_err("older_than_s must be a number of seconds >= 0")
    })?;
    let report = run_engine(py, &options.cancel, || {
        pyrustpipe_core::gc(prefix, older_than, dry_run, &options)
    })?;
    Ok(serde_json::to_string(&report).expect("a gc report serialises"))
}

/// Every quality-ledger entry of a dataset (docs/ledger.md), oldest first, as JSON.
#[pyfunction]
#[pyo3(signature = (root, dataset, options_json = "{}"))]
fn ledger_entries(
    py: Python<'_>,
    root: &str,
    dataset: &str,
    options_json: &str,
) -> PyResult<String> {
    let options = options(py, options_json)?;
    run_engine(py, &options.cancel, || {
        pyrustpipe_core::ledger_entries(root, dataset, &options)
    })
}

/// Each text (UTF-8 bytes, as read) parsed as a spec column's dtype and `format`: its value in
/// a canonical text form (see `pyrustpipe_core::parse_texts`), `None` where it does not parse.
/// Batched so the Python fallback for untraceable rules pays one call per column and batch.
#[pyfunction]
fn parse_texts(
    py: Python<'_>,
    column_json: &str,
    texts: Vec<Bound<'_, PyBytes>>,
) -> PyResult<Vec<Option<String>>> {
    let texts: Vec<&[u8]> = texts.iter().map(|text| text.as_bytes()).collect();
    pyrustpipe_core::parse_texts(column_json, &texts).map_err(|e| errors::to_py(py, e))
}

/// How this extension was built: engine version, cargo profile, target, stream codecs.
#[pyfunction]
fn build_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    use pyrustpipe_core::formats::codec::Codec;
    let codecs = [Codec::Gzip, Codec::Zstd, Codec::Bzip2, Codec::Xz].map(Codec::name);
    let info = PyDict::new(py);
    info.set_item("engine_version", pyrustpipe_core::ENGINE_VERSION)?;
    info.set_item("profile", env!("PYRUSTPIPE_PROFILE"))?;
    info.set_item("target", env!("PYRUSTPIPE_TARGET"))?;
    info.set_item("codecs", codecs.to_vec())?;
    Ok(info)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", pyrustpipe_core::ENGINE_VERSION)?;
    m.add_class::<Progress>()?;
    m.add_function(wrap_pyfunction!(compile_spec, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(validate_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(profile, m)?)?;
    m.add_function(wrap_pyfunction!(expand_sources, m)?)?;
    m.add_function(wrap_pyfunction!(ledger_entries, m)?)?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add_function(wrap_pyfunction!(gc, m)?)?;
    m.add_function(wrap_pyfunction!(parse_texts, m)?)?;
    m.add_function(wrap_pyfunction!(plan_splits, m)?)?;
    m.add_function(wrap_pyfunction!(merge_split_keys, m)?)?;
    Ok(())
}
