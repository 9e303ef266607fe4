"""pandas variant: dtype_backend="pyarrow" (ArrowDtype strings), otherwise the committed peer."""

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "peers"))

from _common import csv_path, emit  # noqa: E402
from pandas_pyarrow import failure_masks  # noqa: E402

df = pd.read_csv(
    csv_path(), engine="pyarrow", dtype_backend="pyarrow", dtype=str, keep_default_na=False
)
df = df.astype("string[pyarrow]")
masks = failure_masks(df)
invalid = pd.concat(masks, axis=1).any(axis=1)
emit(len(df), int(invalid.sum()), {name: int(mask.sum()) for name, mask in masks.items()})
