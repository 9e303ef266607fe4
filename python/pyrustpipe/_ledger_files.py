"""The ledger's entries read whole (run id, inputs, rules) and the spec store beside them, on the
Python side: what the playground's backtest and the orchestrator links need (docs/ledger.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, BinaryIO

__all__ = [
    "entry_files",
    "open_input",
    "read_entry",
    "read_spec",
    "remember_spec",
    "run_id_of",
    "spec_uri",
]

# Beside the entries, one file per ruleset hash. The leading `_` keeps it out of readers that
# glob `dataset=*/date=*/*.parquet`, as the manifests and staging keys are.
SPECS_DIR = "_specs"
# What backtest reads of an entry; the other columns (profiles, key indexes) can be large.
ENTRY_COLUMNS = (
    "dataset_name",
    "partition",
    "logical_date",
    "run_id",
    "rules_hash",
    "passed",
    "rows",
    "valid_rows",
    "invalid_rows",
    "inputs",
    "rules",
)


def _is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts]) if _is_s3(root) else os.path.join(root, *parts)


def _s3(storage_options: Mapping[str, str] | None) -> Any:
    """A pyarrow S3 filesystem from the engine's storage options (docs: the same keys)."""
    try:
        from pyarrow import fs
    except ImportError as exc:
        raise ImportError(
            "reading the ledger's entries on S3 from Python needs pyarrow (pip install "
            "'pyrustpipe[arrow]')"
        ) from exc
    options = dict(storage_options or {})
    kwargs: dict[str, Any] = {}
    endpoint = options.get("endpoint_url") or options.get("aws_endpoint_url")
    if endpoint:
        scheme, _, host = endpoint.partition("://")
        kwargs["endpoint_override"] = host.rstrip("/") if host else endpoint
        kwargs["scheme"] = scheme if host else "https"
    region = options.get("region") or options.get("aws_region")
    if region:
        kwargs["region"] = region
    key, secret = options.get("aws_access_key_id"), options.get("aws_secret_access_key")
    if key and secret:
        kwargs["access_key"], kwargs["secret_key"] = key, secret
        token = options.get("aws_session_token")
        if token:
            kwargs["session_token"] = token
    return fs.S3FileSystem(**kwargs)


def open_input(uri: str, storage_options: Mapping[str, str] | None = None) -> BinaryIO:
    """A binary stream over a local file or an S3 object (read as it goes, never whole)."""
    if _is_s3(uri):
        # A random-access file: Parquet reads its footer first, then ranges.
        stream: BinaryIO = _s3(storage_options).open_input_file(uri.removeprefix("s3://"))
        return stream
    return open(uri, "rb")


def _exists(uri: str, storage_options: Mapping[str, str] | None) -> bool:
    if _is_s3(uri):
        from pyarrow import fs

        info = _s3(storage_options).get_file_info(uri.removeprefix("s3://"))
        return bool(info.type != fs.FileType.NotFound)
    return os.path.exists(uri)


def _write(uri: str, data: bytes, storage_options: Mapping[str, str] | None) -> None:
    if _is_s3(uri):
        with _s3(storage_options).open_output_stream(uri.removeprefix("s3://")) as out:
            out.write(data)
        return
    os.makedirs(os.path.dirname(uri) or ".", exist_ok=True)
    # A temporary name then a rename: a reader never sees half a spec.
    temporary = f"{uri}.{os.getpid()}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, uri)


def spec_uri(root: str, ruleset_hash: str) -> str:
    """``<root>/_specs/sha256-<hex>.json``: the spec a ruleset hash stands for."""
    return _join(root, SPECS_DIR, ruleset_hash.replace(":", "-") + ".json")


def remember_spec(
    root: str,
    spec: Mapping[str, Any],
    ruleset_hash: str,
    storage_options: Mapping[str, str] | None = None,
) -> None:
    """Keep the spec of a run that wrote a ledger entry, so a backtest can run the rules that
    ran. Content-addressed by the ruleset hash: written once, never changed."""
    uri = spec_uri(root, ruleset_hash)
    if not _exists(uri, storage_options):
        text = json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True)
        _write(uri, text.encode(), storage_options)


def read_spec(
    root: str, ruleset_hash: str, storage_options: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The spec stored for ``ruleset_hash``; None when the ledger does not hold it (entries
    written before the spec store, or by a run whose rules were only Python)."""
    uri = spec_uri(root, ruleset_hash)
    try:
        with open_input(uri, storage_options) as stream:
            data = stream.read()
    except OSError:
        return None
    try:
        spec = json.loads(data)
    except ValueError:
        return None  # not written by us: as good as absent
    return spec if isinstance(spec, dict) else None


def entry_files(
    root: str,
    dataset: str,
    logical_date: str,
    storage_options: Mapping[str, str] | None = None,
) -> list[str]:
    """The entry files of one date directory (one per partition sharing that date)."""
    folder = _join(root, f"dataset={dataset}", f"date={logical_date}")
    if _is_s3(folder):
        from pyarrow import fs

        selector = fs.FileSelector(folder.removeprefix("s3://"), allow_not_found=True)
        names = [
            "s3://" + info.path
            for info in _s3(storage_options).get_file_info(selector)
            if info.type == fs.FileType.File
        ]
    else:
        names = (
            [os.path.join(folder, name) for name in os.listdir(folder)]
            if os.path.isdir(folder)
            else []
        )
    return sorted(
        n for n in names if os.path.basename(n).startswith("run-") and n.endswith(".parquet")
    )


def read_entry(
    root: str,
    dataset: str,
    partition: str,
    logical_date: str,
    storage_options: Mapping[str, str] | None = None,
) -> dict[str, Any] | None:
    """The entry of (dataset, partition) with its run id, inputs and rules; None if absent."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError(
            "reading ledger entries from Python needs pyarrow (pip install 'pyrustpipe[arrow]')"
        ) from exc
    for uri in entry_files(root, dataset, logical_date, storage_options):
        with open_input(uri, storage_options) as stream:
            table = pq.read_table(stream, columns=list(ENTRY_COLUMNS))
        for row in table.to_pylist():
            if row["partition"] == partition:
                row["logical_date"] = str(row["logical_date"])
                row["uri"] = uri
                return dict(row)
    return None


def run_id_of(ledger_uri: str, storage_options: Mapping[str, str] | None = None) -> str | None:
    """The run id recorded in the entry a report names (``report.outputs["ledger"]``); None
    when it cannot be read (pyarrow missing): a link is a convenience, never a failure."""
    try:
        import pyarrow.parquet as pq

        with open_input(ledger_uri, storage_options) as stream:
            table = pq.read_table(stream, columns=["run_id"])
    except (ImportError, OSError, ValueError):
        return None
    ids = table.column("run_id").to_pylist()
    return str(ids[0]) if ids else None
