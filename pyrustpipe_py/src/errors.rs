//! The only place engine errors become Python exceptions. The classes are defined once, in
//! `pyrustpipe/exceptions.py` (where `SchemaError` can also be a `ValueError` and `StorageError`
//! an `OSError`), and imported here.

use pyo3::prelude::*;
use pyrustpipe_core::Error;

pyo3::import_exception!(pyrustpipe.exceptions, PyRustPipeError);
pyo3::import_exception!(pyrustpipe.exceptions, SchemaError);
pyo3::import_exception!(pyrustpipe.exceptions, DataFormatError);
pyo3::import_exception!(pyrustpipe.exceptions, StorageError);
pyo3::import_exception!(pyrustpipe.exceptions, CancelledError);

/// Build the Python exception for an engine error, with its position as attributes.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    let message = error.to_string();
    let err = match &error {
        Error::Schema { .. } | Error::Options { .. } => SchemaError::new_err(message),
        Error::DataFormat { .. } => DataFormatError::new_err(message),
        Error::Storage { .. } => StorageError::new_err(message),
        Error::Internal(_) => PyRustPipeError::new_err(message),
        Error::Cancelled => CancelledError::new_err(message),
    };
    let (code, path, line, column, byte) = match error {
        Error::DataFormat { code, position, .. } => (
            Some(code),
            position.path,
            position.line,
            position.column,
            position.byte,
        ),
        Error::Cancelled => (Some("cancelled"), None, None, None, None),
        _ => (None, None, None, None, None),
    };
    let instance = err.value(py);
    let _ = instance.setattr("code", code);
    let _ = instance.setattr("path", path);
    let _ = instance.setattr("line", line);
    let _ = instance.setattr("column", column);
    let _ = instance.setattr("byte", byte);
    err
}
