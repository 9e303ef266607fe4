"""The ledger read for the console: its datasets, their entries (cached per file, re-read only
when a file changes), each dataset's health and what needs attention first."""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

# Everything the pages show; profiles, value sets and key indexes (the bulk of an entry) stay
# on disk.
_COLUMNS = [
    "dataset_name",
    "partition",
    "logical_date",
    "run_id",
    "written_at",
    "rules_hash",
    "engine_version",
    "passed",
    "rows",
    "valid_rows",
    "invalid_rows",
    "bytes",
    "duration_s",
    "inputs",
    "rules",
    "columns",
    "outputs",
]
# Columns later ledger versions added: an older entry reads with them null (docs/ledger.md).
_OPTIONAL = frozenset({"outputs"})
DATASET_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
RUN_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def _plain(value: Any) -> Any:
    """Arrow's Python values as JSON values (dates as ISO text)."""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _read_entry(stream: Any, relative: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(stream)
    present = set(file.schema_arrow.names)
    table = file.read(columns=[c for c in _COLUMNS if c in present or c not in _OPTIONAL])
    out = []
    for row in table.to_pylist():
        entry = _plain(row)
        for name in _OPTIONAL:
            entry.setdefault(name, None)
        for rule in entry["rules"]:
            detail = rule.get("detail")
            rule["detail"] = json.loads(detail) if detail else None
        entry["invalid_rate"] = entry["invalid_rows"] / entry["rows"] if entry["rows"] else 0.0
        entry["failed_rules"] = [r["name"] for r in entry["rules"] if r["status"] == "fail"]
        entry["path"] = relative
        out.append(entry)
    return out


def _is_entry(name: str) -> bool:
    return name.endswith(".parquet") and not name.startswith((".", "_"))


# A file's identity for the cache: (modification time, size); a re-run replaces the file.
Stamp = tuple[int, int]


class LedgerView:
    """One ledger root, a local directory or an ``s3://bucket/prefix``. Thread-safe; every read
    lists the files again (cheap), and parses only the files that are new or changed since."""

    def __init__(self, root: str | Path, storage_options: dict[str, str] | None = None) -> None:
        self.root = str(root).rstrip("/")
        self._storage_options = storage_options or None
        self._fs: Any = None
        if self.root.startswith("s3://"):
            from pyrustpipe._ledger_files import _s3

            self._fs = _s3(self._storage_options)
        self._cache: dict[str, tuple[Stamp, list[dict[str, Any]]]] = {}
        self._runs: dict[str, tuple[str, Stamp]] = {}
        self._lock = threading.Lock()

    # -- listing: local directories, or S3 prefixes through pyarrow ------------------------

    def _s3_children(self, key: str, recursive: bool) -> list[Any]:
        from pyarrow import fs

        selector = fs.FileSelector(key, allow_not_found=True, recursive=recursive)
        return list(self._fs.get_file_info(selector))

    def datasets(self) -> list[str]:
        if self._fs is not None:
            from pyarrow import fs

            infos = self._s3_children(self.root.removeprefix("s3://"), recursive=False)
            names = [
                i.base_name[len("dataset=") :]
                for i in infos
                if i.type == fs.FileType.Directory and i.base_name.startswith("dataset=")
            ]
        else:
            try:
                names = [
                    e.name[len("dataset=") :]
                    for e in os.scandir(self.root)
                    if e.is_dir(follow_symlinks=False) and e.name.startswith("dataset=")
                ]
            except FileNotFoundError:
                return []
        return sorted(n for n in names if DATASET_RE.fullmatch(n))

    def _files(self, dataset: str, last: int | None = None) -> list[tuple[str, Stamp]]:
        """The dataset's entry files with their stamps, oldest logical date first; with
        ``last``, only the newest ``last`` (locally only the date folders from the newest back
        are listed: the overview of a two-year ledger lists 30 folders, not 730; on S3 one
        listing of the dataset's prefix serves)."""
        if self._fs is not None:
            out = self._s3_files(dataset)
            return out[-last:] if last is not None else out
        folder = os.path.join(self.root, f"dataset={dataset}")
        try:
            dates = sorted(
                e.name
                for e in os.scandir(folder)
                if e.is_dir(follow_symlinks=False) and e.name.startswith("date=")
            )
        except FileNotFoundError:
            return []
        found: list[list[tuple[str, Stamp]]] = []
        count = 0
        for date in reversed(dates):
            try:
                files = sorted(
                    (e.path, (e.stat().st_mtime_ns, e.stat().st_size))
                    for e in os.scandir(os.path.join(folder, date))
                    if _is_entry(e.name) and e.is_file(follow_symlinks=False)
                )
            except FileNotFoundError:
                continue
            found.append(files)
            count += len(files)
            if last is not None and count >= last:
                break
        flat = [item for files in reversed(found) for item in files]
        return flat[-last:] if last is not None else flat

    def _s3_files(self, dataset: str) -> list[tuple[str, Stamp]]:
        from pyarrow import fs

        prefix = f"{self.root.removeprefix('s3://')}/dataset={dataset}"
        out = []
        for info in self._s3_children(prefix, recursive=True):
            parts = info.path[len(prefix) + 1 :].split("/")
            if (
                info.type == fs.FileType.File
                and len(parts) == 2
                and parts[0].startswith("date=")
                and _is_entry(parts[1])
            ):
                mtime = int(info.mtime_ns or 0)
                out.append(("s3://" + info.path, (mtime, int(info.size or 0))))
        return sorted(out)

    def _stamp(self, uri: str) -> Stamp:
        """The file's stamp now (FileNotFoundError when it is gone)."""
        if self._fs is not None:
            from pyarrow import fs

            info = self._fs.get_file_info(uri.removeprefix("s3://"))
            if info.type != fs.FileType.File:
                raise FileNotFoundError(uri)
            return (int(info.mtime_ns or 0), int(info.size or 0))
        stat = os.stat(uri)
        return (stat.st_mtime_ns, stat.st_size)

    def _load(self, uri: str, stamp: Stamp) -> list[dict[str, Any]]:
        with self._lock:
            cached = self._cache.get(uri)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        relative = uri[len(self.root) + 1 :]
        if self._fs is not None:
            with self._fs.open_input_file(uri.removeprefix("s3://")) as stream:
                entries = _read_entry(stream, relative)
        else:
            entries = _read_entry(uri, relative)
        with self._lock:
            self._cache[uri] = (stamp, entries)
            for entry in entries:
                self._runs[entry["run_id"]] = (uri, stamp)
        return entries

    def entries(self, dataset: str, last: int | None = None) -> list[dict[str, Any]]:
        """The dataset's entries, oldest first; ``last``: only the newest ``last`` files."""
        if not DATASET_RE.fullmatch(dataset):
            return []
        out: list[dict[str, Any]] = []
        for uri, stamp in self._files(dataset, last):
            try:
                out.extend(self._load(uri, stamp))
            except FileNotFoundError:
                continue  # replaced by a re-run between the listing and the read
        out.sort(key=lambda e: (e["logical_date"], e["partition"]))
        return out

    def warm(self, pause_s: float = 0.002) -> None:
        """Read every entry into the cache, pausing between files so that requests served
        meanwhile are not starved (the parse is Python work and holds the GIL)."""
        for dataset in self.datasets():
            for uri, stamp in self._files(dataset):
                try:
                    self._load(uri, stamp)
                except Exception:  # the page that reads it says what is wrong
                    pass
                time.sleep(pause_s)

    def health(self, dataset: str, last: int) -> dict[str, Any]:
        """The overview's line for one dataset."""
        entries = self.entries(dataset, last)
        if not entries:
            return {"dataset": dataset, "partitions": 0, "attention": 0}
        newest = entries[-1]
        failed_runs = sum(1 for e in entries if not e["passed"])
        return {
            "dataset": dataset,
            "partitions": len(entries),
            "last_partition": newest["partition"],
            "last_date": newest["logical_date"],
            "last_run_id": newest["run_id"],
            "passed": newest["passed"],
            "rows": newest["rows"],
            "invalid_rate": newest["invalid_rate"],
            "failing_rules": newest["failed_rules"],
            "failed_runs": failed_runs,
            "trend": {
                "dates": [e["logical_date"] for e in entries],
                "rows": [e["rows"] for e in entries],
                "invalid_rate": [e["invalid_rate"] for e in entries],
                "passed": [e["passed"] for e in entries],
            },
            # Higher first: a failing newest run, then how many rules fail, how many recent
            # runs failed, and the invalid rate.
            "attention": (0 if newest["passed"] else 1_000_000)
            + 10_000 * len(newest["failed_rules"])
            + 100 * failed_runs
            + round(newest["invalid_rate"] * 99),
        }

    def overview(self, last: int) -> list[dict[str, Any]]:
        items = [self.health(name, last) for name in self.datasets()]
        items.sort(key=lambda h: (-h["attention"], h["dataset"]))
        return items

    def find_run(self, run_id: str) -> dict[str, Any] | None:
        """The entry a run wrote (its newest version when the file was replaced)."""
        if not RUN_ID_RE.fullmatch(run_id):
            return None
        with self._lock:
            known = self._runs.get(run_id)
        if known is not None:
            try:
                for entry in self._load(known[0], self._stamp(known[0])):
                    if entry["run_id"] == run_id:
                        return entry
            except FileNotFoundError:
                pass
        for dataset in self.datasets():
            for entry in self.entries(dataset):
                if entry["run_id"] == run_id:
                    return entry
        return None


def schema_changes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where the columns seen differ from the entry before: added, removed, retyped."""
    changes = []
    for before, after in zip(entries, entries[1:], strict=False):
        old = {c["name"]: c["type"] for c in before["columns"]}
        new = {c["name"]: c["type"] for c in after["columns"]}
        if old == new:
            continue
        changes.append(
            {
                "logical_date": after["logical_date"],
                "partition": after["partition"],
                "added": sorted(set(new) - set(old)),
                "removed": sorted(set(old) - set(new)),
                "retyped": sorted(c for c in set(old) & set(new) if old[c] != new[c]),
            }
        )
    return changes


def dataset_detail(view: LedgerView, dataset: str) -> dict[str, Any] | None:
    """The dataset page's model: every entry's counts, each rule's failures over time, the
    history checks with their bands, schema changes."""
    entries = view.entries(dataset)
    if not entries:
        return None
    rule_names: list[str] = []
    history_names: list[str] = []
    for entry in entries:
        for rule in entry["rules"]:
            if rule["scope"] == "history":
                if rule["name"] not in history_names:
                    history_names.append(rule["name"])
            elif rule["failed"] and rule["name"] not in rule_names:
                rule_names.append(rule["name"])

    def series(name: str, field: str) -> list[Any]:
        out = []
        for entry in entries:
            found = next((r for r in entry["rules"] if r["name"] == name), None)
            out.append(None if found is None else found[field])
        return out

    return {
        "dataset": dataset,
        "runs": [
            {
                key: e[key]
                for key in (
                    "partition",
                    "logical_date",
                    "run_id",
                    "passed",
                    "rows",
                    "valid_rows",
                    "invalid_rows",
                    "invalid_rate",
                    "failed_rules",
                    "written_at",
                    "duration_s",
                )
            }
            for e in entries
        ],
        "rule_failures": {name: series(name, "failed") for name in rule_names},
        "history": {
            name: {
                "observed": series(name, "observed"),
                "expected_low": series(name, "expected_low"),
                "expected_high": series(name, "expected_high"),
                "status": series(name, "status"),
            }
            for name in history_names
        },
        "schema_changes": schema_changes(entries),
    }
