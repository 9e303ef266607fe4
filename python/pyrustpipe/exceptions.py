"""The exceptions pyrustpipe raises.

The first four come from the Rust engine (``pyrustpipe._core``), so an error raised in Rust is the
same class you catch in Python. :class:`ValidationFailed` is Python-only: it is what
:meth:`pyrustpipe.Report.raise_for_failures` raises when a gate fails.

>>> import pyrustpipe as pp
>>> issubclass(pp.SchemaError, ValueError) and issubclass(pp.StorageError, OSError)
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    from pyrustpipe._core import (
        CancelledError,
        DataFormatError,
        PyRustPipeError,
        SchemaError,
        StorageError,
    )
    from pyrustpipe.report import Report
else:
    try:
        from pyrustpipe._core import (
            CancelledError,
            DataFormatError,
            PyRustPipeError,
            SchemaError,
            StorageError,
        )
    except ImportError:  # the engine is not built: the DSL still works, running does not

        class PyRustPipeError(Exception):
            """Base class of every pyrustpipe error."""

        class SchemaError(PyRustPipeError, ValueError):
            """The rules are invalid (bad type, constraint, regex, spec key...)."""

        class DataFormatError(PyRustPipeError, ValueError):
            """A source cannot be read as its format (CSV, NDJSON, Parquet)."""

            path: str | None = None
            line: int | None = None
            column: str | None = None
            byte: int | None = None

        class StorageError(PyRustPipeError, OSError):
            """A source or an output cannot be read or written."""

        class CancelledError(PyRustPipeError):
            """The run was cancelled before its commit point: nothing was committed."""


class ValidationFailed(PyRustPipeError):
    """Raised by :meth:`Report.raise_for_failures` when an error-severity rule failed.

    The full report is kept in :attr:`report`.
    """

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


class UntraceableRuleWarning(UserWarning):
    """A ``@pp.validate`` row rule could not be compiled to a Rust expression.

    It still runs, in Python, over CSV / NDJSON / Parquet batches: correct, but much slower.
    The warning message names the function and why tracing failed.
    """
