//! The only place engine errors become Python exceptions. The classes are created at module
//! import with the builtins they extend (`SchemaError` is also a `ValueError`, `StorageError` an
//! `OSError`), which `create_exception!` cannot express.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use pyrustpipe_core::Error;

struct Classes {
    base: Py<PyType>,
    schema: Py<PyType>,
    data_format: Py<PyType>,
    storage: Py<PyType>,
    cancelled: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn make(py: Python<'_>, name: &str, bases: &Bound<'_, PyTuple>, doc: &str) -> PyResult<Py<PyType>> {
    let namespace = PyDict::new(py);
    namespace.set_item("__module__", "pyrustpipe._core")?;
    namespace.set_item("__doc__", doc)?;
    let class = py
        .import("builtins")?
        .getattr("type")?
        .call1((name, bases, namespace))?;
    Ok(class.cast_into::<PyType>()?.unbind())
}

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let exception = py.get_type::<pyo3::exceptions::PyException>();
        let value_error = py.get_type::<pyo3::exceptions::PyValueError>();
        let os_error = py.get_type::<pyo3::exceptions::PyOSError>();
        let base = make(py, "PyRustPipeError", &PyTuple::new(py, [exception])?, "Base class of every pyrustpipe error.")?;
        let base_bound = base.bind(py).clone();
        let schema = make(
            py,
            "SchemaError",
            &PyTuple::new(py, [base_bound.clone(), value_error.clone()])?,
            "The rules are invalid.",
        )?;
        let data_format = make(
            py,
            "DataFormatError",
            &PyTuple::new(py, [base_bound.clone(), value_error])?,
            "A source cannot be read as its format says; `path`, `line`, `column`, `byte` say where.",
        )?;
        let storage = make(
            py,
            "StorageError",
            &PyTuple::new(py, [base_bound.clone(), os_error])?,
            "Reading or writing a file or object failed.",
        )?;
        let cancelled = make(
            py,
            "CancelledError",
            &PyTuple::new(py, [base_bound])?,
            "The run was cancelled before its commit point: nothing was committed or published.",
        )?;
        Ok(Classes {
            base,
            schema,
            data_format,
            storage,
            cancelled,
        })
    })
}

/// Build the Python exception for an engine error, with its position as attributes.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    let classes = match classes(py) {
        Ok(classes) => classes,
        Err(err) => return err,
    };
    let message = error.to_string();
    let class = match &error {
        Error::Schema { .. } | Error::Options { .. } => &classes.schema,
        Error::DataFormat { .. } => &classes.data_format,
        Error::Storage { .. } => &classes.storage,
        Error::Internal(_) => &classes.base,
        Error::Cancelled => &classes.cancelled,
    };
    let instance = match class.bind(py).call1((message,)) {
        Ok(instance) => instance,
        Err(err) => return err,
    };
    let position = match error {
        Error::DataFormat { code, position, .. } => Some((code, position)),
        Error::Cancelled => Some(("cancelled", pyrustpipe_core::Position::default())),
        _ => None,
    };
    let (code, path, line, column, byte) = match position {
        Some((code, p)) => (Some(code), p.path, p.line, p.column, p.byte),
        None => (None, None, None, None, None),
    };
    let _ = instance.setattr("code", code);
    let _ = instance.setattr("path", path);
    let _ = instance.setattr("line", line);
    let _ = instance.setattr("column", column);
    let _ = instance.setattr("byte", byte);
    PyErr::from_value(instance)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let classes = classes(m.py())?;
    m.add("PyRustPipeError", classes.base.bind(m.py()))?;
    m.add("SchemaError", classes.schema.bind(m.py()))?;
    m.add("DataFormatError", classes.data_format.bind(m.py()))?;
    m.add("StorageError", classes.storage.bind(m.py()))?;
    m.add("CancelledError", classes.cancelled.bind(m.py()))?;
    Ok(())
}
