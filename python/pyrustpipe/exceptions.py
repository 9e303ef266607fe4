"""The exceptions pyrustpipe raises, defined once, here.

The Rust engine raises the first five (the bindings import these classes: ``pyrustpipe_py``'s
``errors.rs``), so an error raised in Rust is the class you catch in Python.
:class:`ValidationFailed` is Python-only: :meth:`pyrustpipe.Report.raise_for_failures` raises it
when a gate fails.

>>> import pyrustpipe as pp
>>> issubclass(pp.SchemaError, ValueError) and issubclass(pp.StorageError, OSError)
True
"""

from __future__ import annotations

from pyrustpipe._typing import TYPE_CHECKING

__all__ = [
    "CancelledError",
    "DataFormatError",
    "PyRustPipeError",
    "SchemaError",
    "StorageError",
    "UntraceableRuleWarning",
    "ValidationFailed",
]

if TYPE_CHECKING:
    from pyrustpipe.report import Report


class PyRustPipeError(Exception):
    """Base class of every pyrustpipe error."""


class SchemaError(PyRustPipeError, ValueError):
    """The rules are invalid (bad type, constraint, regex, spec key...)."""


class DataFormatError(PyRustPipeError, ValueError):
    """A source cannot be read as its format says; ``code``, ``path``, ``line``, ``column``
    and ``byte`` say what and where."""

    code: str | None = None
    path: str | None = None
    line: int | None = None
    column: str | None = None
    byte: int | None = None


class StorageError(PyRustPipeError, OSError):
    """Reading or writing a file or object failed."""


class CancelledError(PyRustPipeError):
    """The run was cancelled before its commit point: nothing was committed."""

    code: str | None = None


class ValidationFailed(PyRustPipeError):
    """Raised by :meth:`Report.raise_for_failures` when an error-severity rule failed.

    The full report is kept in :attr:`report`.
    """

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


class UntraceableRuleWarning(UserWarning):
    """A ``@pp.row_rule`` row rule could not be compiled to a Rust expression.

    It still runs, in Python, over CSV / NDJSON / Parquet batches: correct, but much slower.
    The warning message names the function and why tracing failed.
    """
