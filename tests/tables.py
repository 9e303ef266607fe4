"""A CSV file read into an in-memory table of each kind (pandas, polars, pyarrow) with the values
the engine reads from the file: every column as text, only the empty field as null."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv


def read_pyarrow(path: Path) -> pa.Table:
    names = path.read_text().split("\n", 1)[0].split(",")
    options = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in names},
        null_values=[""],
        strings_can_be_null=True,
    )
    return pacsv.read_csv(path, convert_options=options)


TEXT_READERS: dict[str, Callable[[Path], Any]] = {
    "pandas": lambda path: pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""]),
    "polars": lambda path: pl.read_csv(path, infer_schema=False),
    "pyarrow": read_pyarrow,
}
