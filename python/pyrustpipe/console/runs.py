"""Run records: what the console knows about the runs it started beyond their ledger entry —
the full report (samples, outputs), the spec's sensitive columns and CSV dialect — one JSON file
per run id in the console's workdir."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pyrustpipe.console.ledger_view import RUN_ID_RE


class RunStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, run_id: str, record: dict[str, Any]) -> None:
        if not RUN_ID_RE.fullmatch(run_id):
            raise ValueError(f"not a run id: {run_id!r}")
        self.root.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed, so a reader never sees half a record.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".run-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(tmp, self.root / f"{run_id}.json")

    def load(self, run_id: str) -> dict[str, Any] | None:
        if not RUN_ID_RE.fullmatch(run_id):
            return None
        try:
            with open(self.root / f"{run_id}.json", encoding="utf-8") as handle:
                record: dict[str, Any] = json.load(handle)
        except FileNotFoundError:
            return None
        return record


def spec_view(spec: dict[str, Any]) -> dict[str, Any]:
    """What the quarantine browser needs of a spec: sensitive columns, data columns, dialect."""
    columns = spec.get("columns", [])
    csv_opts = spec.get("csv", {}) or {}
    return {
        "sensitive": sorted(c["name"] for c in columns if c.get("sensitive")),
        "columns": [c["name"] for c in columns],
        "header": bool(csv_opts.get("header", True)),
        "delimiter": csv_opts.get("delimiter", ","),
        "quote": csv_opts.get("quote", '"'),
    }


def output_format(path: str) -> str:
    """``csv``, ``tsv``, ``ndjson``, ``parquet`` or the codec's suffix for compressed text."""
    name = path.rsplit("/", 1)[-1].lower()
    for suffix in (".gz", ".zst", ".bz2", ".xz"):
        if name.endswith(suffix):
            return suffix[1:]
    for fmt in ("csv", "tsv", "ndjson", "jsonl", "parquet"):
        if name.endswith("." + fmt):
            return "ndjson" if fmt == "jsonl" else fmt
    return "unknown"
