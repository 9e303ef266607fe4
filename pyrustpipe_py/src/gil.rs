//! One helper for every call into the engine: release the GIL while Rust works, map errors.

use pyo3::prelude::*;

use crate::errors::to_py;

pub fn run_engine<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> pyrustpipe_core::Result<T> + Send,
) -> PyResult<T> {
    py.detach(work).map_err(|e| to_py(py, e))
}
