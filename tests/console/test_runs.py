"""Run records (pyrustpipe/console/runs.py): saved whole, loaded by a run id that is never a
path; output formats from names; the spec's view for the quarantine browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyrustpipe.console.runs import RunStore, output_format, spec_view


def test_run_store(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs")
    store.save("abc-1", {"run_id": "abc-1"})
    assert store.load("abc-1") == {"run_id": "abc-1"}
    assert store.load("nope") is None and store.load("../runs/abc-1") is None
    with pytest.raises(ValueError):
        store.save("../x", {})
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["abc-1.json"]


def test_output_format_and_spec_view() -> None:
    assert [
        output_format(n) for n in ("q.csv", "q.NDJSON", "q.jsonl", "q.csv.gz", "q.parquet", "q")
    ] == ["csv", "ndjson", "ndjson", "gz", "parquet", "unknown"]
    view = spec_view(
        {"columns": [{"name": "a", "sensitive": True}, {"name": "b"}], "csv": {"delimiter": ";"}}
    )
    assert view == {
        "sensitive": ["a"],
        "columns": ["a", "b"],
        "header": True,
        "delimiter": ";",
        "quote": '"',
    }
