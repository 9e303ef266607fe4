//! `pyrustpipe._core`: thin bindings over `pyrustpipe_core`. Rules and options cross as JSON
//! text and the report comes back as JSON text, so this layer holds no conversion logic.

mod errors;
mod gil;

use pyo3::prelude::*;

use crate::gil::run_engine;

fn options(py: Python<'_>, options_json: &str) -> PyResult<pyrustpipe_core::Options> {
    serde_json::from_str(options_json)
        .map_err(|e| errors::to_py(py, pyrustpipe_core::Error::schema("options", e.to_string())))
}

/// Check a spec; returns `{"spec": <normalised spec>, "ruleset_hash": "sha256:…"}` as JSON.
#[pyfunction]
fn compile_spec(py: Python<'_>, spec_json: &str) -> PyResult<String> {
    let (spec, hash) = run_engine(py, || pyrustpipe_core::compile_spec(spec_json))?;
    Ok(format!("{{\"spec\":{spec},\"ruleset_hash\":\"{hash}\"}}"))
}

/// Validate sources against a spec; returns the report as JSON.
#[pyfunction]
fn validate(
    py: Python<'_>,
    spec_json: &str,
    sources: Vec<String>,
    options_json: &str,
) -> PyResult<String> {
    let options = options(py, options_json)?;
    run_engine(py, || {
        pyrustpipe_core::validate(spec_json, &sources, &options).map(|r| r.to_json())
    })
}

/// Profile sources (types, nulls, ranges, small categorical sets, patterns); returns JSON.
#[pyfunction]
fn profile(py: Python<'_>, sources: Vec<String>, options_json: &str) -> PyResult<String> {
    let options = options(py, options_json)?;
    run_engine(py, || pyrustpipe_core::profile(&sources, &options))
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
    run_engine(py, || pyrustpipe_core::expand_sources(&sources, &options))
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", pyrustpipe_core::ENGINE_VERSION)?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(compile_spec, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(profile, m)?)?;
    m.add_function(wrap_pyfunction!(expand_sources, m)?)?;
    Ok(())
}
