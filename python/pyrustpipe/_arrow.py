"""In-memory tables as a ``pp.validate`` source: anything that exports an Arrow C stream
(``__arrow_c_stream__``: pyarrow Tables and RecordBatchReaders, polars DataFrames, ...) and pandas
DataFrames.

The engine reads files, not Arrow streams (yet), so the table is streamed batch by batch into a
temporary Parquet file and that file is validated. It is a copy, not zero-copy: see
docs/dagster.md for what it costs. The report names the source ``<in-memory>``.

>>> import pyarrow as pa, pyrustpipe as pp
>>> class Tiny(pp.Schema):
...     id: int = pp.Field(gt=0)
>>> report = pp.validate(pa.table({"id": [1, -2, 3]}), Tiny)
>>> report.rows, report.invalid_rows, report.rule("id:gt").samples[0].source
(3, 1, '<in-memory>')
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

if TYPE_CHECKING:
    from pyrustpipe.api import PathLike, SchemaLike
    from pyrustpipe.report import Report

__all__ = ["IN_MEMORY", "ArrowStreamExportable", "is_arrow_like", "validate_table"]

IN_MEMORY = "<in-memory>"


@runtime_checkable
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


def _reader(value: object) -> Any:
    try:
        import pyarrow as pa
    except ImportError:
        raise ImportError(
            "validating an in-memory table needs pyarrow: pip install pyarrow"
        ) from None
    if _is_pandas(value):
        # The index is not data: a RangeIndex would otherwise become a column.
        value = pa.Table.from_pandas(value, preserve_index=False)
    return pa.RecordBatchReader.from_stream(value)


def write_parquet(value: object, path: str) -> None:
    """Stream ``value`` (see :func:`is_arrow_like`) into a Parquet file at ``path``."""
    import pyarrow.parquet as pq

    reader = _reader(value)
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)


def _rename_sources(data: dict[str, Any], path: str) -> dict[str, Any]:
    for source in data.get("sources") or ():
        if source.get("uri") == path:
            source["uri"] = IN_MEMORY
    for rule in data.get("rules") or ():
        for sample in rule.get("samples") or ():
            if sample.get("source") == path:
                sample["source"] = IN_MEMORY
    return data


def validate_table(
    table: ArrowStreamExportable,
    schema: SchemaLike,
    *,
    quarantine: PathLike | None = None,
    valid_output: PathLike | None = None,
    metrics_output: PathLike | None = None,
    threads: int | None = None,
    sample_size: int = 20,
    storage_options: Mapping[str, str] | None = None,
    allow_empty: bool = False,
    chunk_size: int | None = None,
) -> Report:
    """Validate an in-memory table (through a temporary Parquet file). Outputs are Parquet.

    A ``metrics_output`` report keeps the temporary file's path as the source; the returned
    report names it ``<in-memory>``.
    """
    from pyrustpipe.api import run_validation
    from pyrustpipe.report import Report

    with tempfile.TemporaryDirectory(prefix="pyrustpipe-arrow-") as folder:
        path = os.path.join(folder, "table.parquet")
        write_parquet(table, path)
        report = run_validation(
            path,
            schema,
            quarantine=quarantine,
            valid_output=valid_output,
            metrics_output=metrics_output,
            threads=threads,
            sample_size=sample_size,
            storage_options=storage_options,
            allow_empty=allow_empty,
            chunk_size=chunk_size,
        )
    return Report.from_dict(_rename_sources(dict(report.to_dict()), path))
