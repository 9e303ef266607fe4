"""bench/typed_path.py's two sides agree: on a typed Parquet file and a typed polars frame,
pyrustpipe (reading typed columns as values) and the polars expressions count every rule alike."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import pyrustpipe as pp  # noqa: E402
from typed_path import our_counts, polars_counts, typed_frame  # noqa: E402


def test_pyrustpipe_and_polars_agree_on_typed_sources(tmp_path: Path) -> None:
    frame = typed_frame(20_000)
    assert frame.schema["amount"] == pl.Float64
    assert frame.schema["timestamp"] == pl.Datetime("us")
    parquet = tmp_path / "typed.parquet"
    frame.write_parquet(parquet, row_group_size=3_000)
    rules = pp.load_rules(str(ROOT / "bench" / "rules.py") + ":Transactions")

    theirs = polars_counts(frame.lazy())
    assert theirs["invalid_rows"] > 0 and theirs["amount:gt"] > 0
    assert our_counts(pp.validate(frame, rules)) == theirs
    assert our_counts(pp.validate(str(parquet), rules)) == theirs
    assert polars_counts(pl.scan_parquet(parquet)) == theirs
