"""In-memory tables as a ``pp.validate`` source: anything that exports an Arrow C stream
(``__arrow_c_stream__``: pyarrow Tables and RecordBatchReaders, polars DataFrames, ...) and pandas
DataFrames.

The engine imports the stream through the Arrow PyCapsule interface and reads its batches where
they are, on its own threads: nothing is written to disk, the columns are not copied into Python
objects. Outputs are Parquet. The report names the source ``<in-memory>``.

>>> import pyarrow as pa, pyrustpipe as pp
>>> class Tiny(pp.Schema):
...     id: int = pp.Field(gt=0)
>>> report = pp.validate(pa.table({"id": [1, -2, 3]}), Tiny)
>>> report.rows, report.invalid_rows, report.rule("id:gt").samples[0].source
(3, 1, '<in-memory>')
"""

from __future__ import annotations

import json
import os
import sys

from pyrustpipe import _engine
from pyrustpipe._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Protocol, TypeGuard

    from pyrustpipe._core import Progress
    from pyrustpipe._trace import PythonRule
    from pyrustpipe.report import Report
    from pyrustpipe.spec import SpecDict, ValidateOptions

__all__ = ["IN_MEMORY", "is_arrow_like", "validate_table"]

IN_MEMORY = "<in-memory>"


if TYPE_CHECKING:  # a type only: `is_arrow_like` tests for the method itself

    class ArrowStreamExportable(Protocol):
        """An object that exports its data through the Arrow PyCapsule stream interface."""

        def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


def _is_pandas(value: object) -> bool:
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def is_arrow_like(value: object) -> TypeGuard[ArrowStreamExportable]:
    """True for a table that :func:`validate_table` takes (never for a path or a list of them)."""
    if isinstance(value, (str, bytes, os.PathLike)):
        return False
    return hasattr(type(value), "__arrow_c_stream__") or _is_pandas(value)


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        raise ImportError(
            "validating a pandas DataFrame, or Python-run rules on a table, needs pyarrow: "
            "pip install pyarrow"
        ) from None
    return pa


def validate_table(
    table: ArrowStreamExportable,
    spec_and_text: tuple[SpecDict, str],
    python_rules: tuple[PythonRule, ...],
    options: ValidateOptions,
    name: str = IN_MEMORY,
    progress: Progress | None = None,
) -> Report:
    """Validate an in-memory table with a resolved spec and its JSON text (see
    ``api.run_validation``)."""
    from pyrustpipe.report import Report

    spec, spec_text = spec_and_text
    stream: object = table
    if _is_pandas(table):
        # The index is not data: a RangeIndex would otherwise become a column.
        stream = _pyarrow().Table.from_pandas(table, preserve_index=False)
    if python_rules:
        from pyrustpipe._python_rules import run_python_rules_on_table

        # Python reads the table too, so a one-shot stream is gathered into a table first.
        gathered = _pyarrow().table(stream)
        options = {
            **options,
            "external_rules": run_python_rules_on_table(spec, python_rules, gathered, name),
        }
        stream = gathered
    text = _engine.validate_arrow(spec_text, stream, name, json.dumps(options), progress)
    return Report.from_json(text)
