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


def _polars_categorical_keys(table: object) -> tuple[object, list[tuple[str, object]]]:
    """A polars DataFrame whose ``Categorical`` and ``Enum`` columns are handed over as their
    codes, each with its categories once (the engine reads them as the dictionaries they are):
    exported as Arrow dictionaries, polars remaps every row to the categories the column uses,
    which took longer than checking the column. Any other table as it is."""
    polars = sys.modules.get("polars")
    if polars is None or not isinstance(table, polars.DataFrame):
        return table, []
    dictionaries: list[tuple[str, object]] = []
    for name, dtype in table.schema.items():
        categories = _categories(polars, dtype)
        # A Categorical's categories are all its mapping holds (other columns' too): where they
        # outnumber both the rows and 64K, polars' own remapping is the cheaper.
        if categories is None or len(categories) > max(table.height, 1 << 16):
            continue
        dictionaries.append((name, categories.to_frame()))
    if not dictionaries:
        return table, []
    codes = table.with_columns(polars.col(name).to_physical() for name, _ in dictionaries)
    return codes, dictionaries


def _categories(polars: Any, dtype: object) -> Any:
    """The categories a column of ``dtype`` has codes into, in code order (a Series of str), or
    None: not a Categorical or an Enum, or a polars that does not say."""
    if isinstance(dtype, polars.Enum):
        return dtype.categories
    if isinstance(dtype, polars.Categorical):
        # polars 2: a Categorical's codes index its `Categories` mapping.
        to_series = getattr(getattr(dtype, "categories", None), "to_series", None)
        return to_series() if callable(to_series) else None
    return None


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
    stream, dictionaries = _polars_categorical_keys(stream)
    text = _engine.validate_arrow(
        spec_text, stream, name, json.dumps(options), progress, dictionaries
    )
    return Report.from_json(text)
