"""``PyRustPipeHook``: resolves an Airflow AWS connection into engine ``storage_options``, runs
a validation, and turns the report into the small summary that travels through XCom.

The operators stay glue; everything that needs testing without a running task lives here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pyrustpipe as pp
from airflow.sdk import BaseHook
from pyrustpipe.integrations import Rule, run_validation

if TYPE_CHECKING:
    from pyrustpipe.integrations import Progress

Source = str | Sequence[str]
Rules = str | type[pp.Schema]

# The placeholder an output URI may carry so that each mapped instance writes under its own key.
PARTITION = "{partition}"
_DATA_SUFFIXES = (".csv", ".ndjson", ".jsonl", ".json", ".parquet", ".gz", ".zst")
# Rules at these scopes judge the whole dataset: quarantining rows cannot satisfy them.
BLOCKING_SCOPES = ("schema", "dataset", "history")


def is_s3(uri: str | None) -> bool:
    return uri is not None and uri.startswith("s3://")


def sources_of(source: Source) -> list[str]:
    return [source] if isinstance(source, str) else list(source)


def partition_of(source: Source) -> str:
    """The partition name of a source: its last path segment, data suffixes removed.

    ``s3://raw/tx/dt=2026-01-01/`` → ``dt=2026-01-01``; ``s3://raw/tx/part-003.csv.gz`` →
    ``part-003``. For a list, the first source names the partition.
    """
    first = sources_of(source)[0].split("://", 1)[-1].rstrip("/")
    name = PurePosixPath(first).name
    while name.endswith(_DATA_SUFFIXES):
        name = name.rsplit(".", 1)[0]
    return name.replace("*", "_") or "root"


def with_partition(uri: str | None, partition: str) -> str | None:
    return None if uri is None else uri.replace(PARTITION, partition)


def summarize(
    report: pp.Report,
    *,
    source: Source,
    mode: str,
    partition: str,
    rules: Iterable[Rule] = (),
) -> dict[str, Any]:
    """The XCom summary: counts, verdicts and URIs; rule samples (row data) are left out. A failed
    rule carries the engine's description of it when ``rules`` (the compiled table) is given."""
    data = report.to_dict()
    described = {rule.name: rule.description for rule in rules}
    failed = {
        rule["name"]: {
            "failed": rule["failed"],
            "severity": rule["severity"],
            "scope": rule["scope"],
            **({"description": described[rule["name"]]} if rule["name"] in described else {}),
        }
        for rule in data["rules"]
        if not rule["passed"]
    }
    rows = data["rows"]
    return {
        "source": source if isinstance(source, str) else list(source),
        "partition": partition,
        "mode": mode,
        "schema": data["schema_name"],
        "ruleset_hash": data["ruleset_hash"],
        "passed": data["passed"],
        "rows": rows,
        "valid_rows": data["valid_rows"],
        "invalid_rows": data["invalid_rows"],
        "quarantine_fraction": data["invalid_rows"] / rows if rows else 0.0,
        "failed_rules": failed,
        "outputs": dict(data["outputs"]),
    }


def error_failures(
    summary: Mapping[str, Any], scopes: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Failed error-severity rules of a summary, optionally only those at ``scopes``."""
    wanted = None if scopes is None else set(scopes)
    return {
        name: rule
        for name, rule in summary["failed_rules"].items()
        if rule["severity"] == "error" and (wanted is None or rule["scope"] in wanted)
    }


def describe(failures: Mapping[str, Mapping[str, Any]]) -> str:
    """``txn_id:unique (2 rows), amount:mean (dataset check)``: for failure messages and logs."""
    return ", ".join(
        f"{name} ({rule['failed']} rows)"
        if rule["scope"] in ("column", "row")
        else f"{name} ({rule['scope']} check)"
        for name, rule in sorted(failures.items())
    )


def gate_split_summaries(
    summaries: Iterable[Mapping[str, Any]], storage_options: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The summaries with each split object's splits judged as one (``pp.gate_splits``: unique
    keys merged across splits), so an object validated in splits counts as one partition."""
    plain: list[dict[str, Any]] = []
    objects: dict[str, list[Mapping[str, Any]]] = {}
    for summary in summaries:
        if "split_report" in summary:
            objects.setdefault(summary["split"]["uri"], []).append(summary)
        else:
            plain.append(dict(summary))
    for uri, parts in sorted(objects.items()):
        report = pp.gate_splits([p["split_report"] for p in parts], storage_options=storage_options)
        first = parts[0]
        whole = summarize(report, source=uri, mode=first["mode"], partition=partition_of(uri))
        for name, rule in whole["failed_rules"].items():
            rule.update(
                {k: v for k, v in first["failed_rules"].get(name, {}).items() if k not in rule}
            )
        whole["splits"] = len(parts)
        data: dict[str, Any] = dict(report.to_dict())
        whole["cross_split_failures"] = len(data["cross_split"]["failures"])
        plain.append(whole)
    return plain


def split_report(report: pp.Report) -> dict[str, Any]:
    """A split's report for the gate without row data: the samples are left out."""
    data = report.to_dict()
    for rule in data["rules"]:
        rule["samples"] = []
    return dict(data)


def merge_summaries(
    summaries: Iterable[Mapping[str, Any]], storage_options: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """One total over mapped summaries: summed counts and rule failures, every partition kept;
    the splits of one object are judged together first (``gate_split_summaries``)."""
    parts = gate_split_summaries(summaries, storage_options)
    failed: dict[str, dict[str, Any]] = {}
    for part in parts:
        for name, rule in part["failed_rules"].items():
            total = failed.setdefault(name, {**rule, "failed": 0, "partitions": 0})
            total["failed"] += rule["failed"]
            total["partitions"] += 1
    rows = sum(p["rows"] for p in parts)
    invalid = sum(p["invalid_rows"] for p in parts)
    return {
        "partitions": len(parts),
        "passed": all(p["passed"] for p in parts),
        "rows": rows,
        "valid_rows": sum(p["valid_rows"] for p in parts),
        "invalid_rows": invalid,
        "quarantine_fraction": invalid / rows if rows else 0.0,
        "failed_rules": dict(sorted(failed.items())),
        "failed_partitions": sorted(p["partition"] for p in parts if not p["passed"]),
        "summaries": sorted(parts, key=lambda p: p["partition"]),
    }


def format_table(summary: Mapping[str, Any]) -> str:
    """A plain-text table for the task log: totals, then every rule that did not pass."""
    lines = [
        f"pyrustpipe {summary.get('schema', 'total')}: "
        f"{'PASSED' if summary['passed'] else 'FAILED'}  rows={summary['rows']}  "
        f"valid={summary['valid_rows']}  invalid={summary['invalid_rows']}  "
        f"quarantined={summary['quarantine_fraction']:.2%}",
    ]
    failed = summary["failed_rules"]
    if failed:
        width = max(len("rule"), *(len(name) for name in failed))
        lines.append(f"  {'rule':<{width}}  severity  scope    {'failed':>10}  what passes")
        for name, rule in failed.items():
            lines.append(
                f"  {name:<{width}}  {rule['severity']:<8}  {rule['scope']:<7}"
                f"  {rule['failed']:>10}  {rule.get('description', '')}".rstrip()
            )
    else:
        lines.append("  every rule passed")
    return "\n".join(lines)


class PyRustPipeHook(BaseHook):
    """Runs pyrustpipe with credentials from an Airflow AWS connection.

    The connection is read through the Amazon provider's ``AwsBaseHook``, so every auth method
    it supports (keys, profile, assumed role, web identity) works; the resolved frozen keys,
    region and endpoint become the engine's ``storage_options``. They are fetched per call,
    because assumed-role credentials expire, and are never logged.

    :param aws_conn_id: Airflow AWS connection; ``None`` lets the engine use the default chain.
    :param region_name: overrides the connection's region.
    """

    conn_name_attr = "aws_conn_id"
    default_conn_name = "aws_default"
    conn_type = "aws"
    hook_name = "pyrustpipe"

    def __init__(self, aws_conn_id: str | None = "aws_default", region_name: str | None = None):
        super().__init__()
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name

    def storage_options(self) -> dict[str, str]:
        """Engine ``storage_options`` for S3, from the AWS connection (empty without one)."""
        if self.aws_conn_id is None:
            return {}
        from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

        aws = AwsBaseHook(
            aws_conn_id=self.aws_conn_id, region_name=self.region_name, client_type="s3"
        )
        creds = aws.get_credentials()  # masks the secret key and token in Airflow's logs
        options: dict[str, str] = {}
        if creds.access_key:
            options["aws_access_key_id"] = creds.access_key
            options["aws_secret_access_key"] = creds.secret_key
        if creds.token:
            options["aws_session_token"] = creds.token
        region = aws.region_name or os.environ.get("AWS_DEFAULT_REGION") or aws.conn_region_name
        if region:
            options["region"] = region
        endpoint = aws.conn_config.get_service_endpoint_url("s3")
        if endpoint:
            options["endpoint_url"] = endpoint
        s3_config = getattr(aws.config, "s3", None) or {}
        if s3_config.get("addressing_style") == "path":
            options["force_path_style"] = "true"
        return options

    def validate(
        self,
        source: Source,
        rules: Rules,
        *,
        valid_output: str | None = None,
        quarantine: str | None = None,
        metrics_output: str | None = None,
        threads: int | None = None,
        ledger: str | None = None,
        partition: str | None = None,
        logical_date: str | None = None,
        handle: Progress | None = None,
        split: str | None = None,
        split_keys: str | None = None,
    ) -> pp.Report:
        """Run the engine; credentials are resolved only when a source or output is on S3.
        With ``ledger`` the run appends its entry for ``partition`` (docs/ledger.md).
        ``handle.cancel()`` (from ``on_kill``) stops the run: uploads aborted, nothing committed,
        ``pp.CancelledError`` raised."""
        uris = [*sources_of(source), valid_output, quarantine, metrics_output, ledger]
        options = self.storage_options() if any(is_s3(u) for u in uris) else None
        return run_validation(
            source,
            rules,
            quarantine=quarantine,
            valid_output=valid_output,
            metrics_output=metrics_output,
            threads=threads,
            storage_options=options,
            ledger=ledger,
            partition=partition if ledger else None,
            logical_date=(logical_date or None) if ledger else None,
            progress=handle,
            split=split,
            split_keys=split_keys,
        )

    def plan_splits(self, source: str, parts: int) -> list[str]:
        """``parts`` byte-range splits of the one object ``source``, in their string form (a
        mapped task's argument); only the object's size is read."""
        options = self.storage_options() if is_s3(source) else None
        return [str(s) for s in pp.plan_splits(source, parts, storage_options=options)]

    def write_json(self, uri: str, data: Mapping[str, Any], name: str) -> str:
        """Write ``data`` to ``uri`` (a prefix ending in ``/`` gets ``name``); returns the URI.

        Overwrites, so a retried task leaves one object, not two.
        """
        if uri.endswith("/"):
            uri += name
        body = json.dumps(data, indent=2, sort_keys=True) + "\n"
        if is_s3(uri):
            bucket, key = uri.removeprefix("s3://").split("/", 1)
            self._s3_client().put_object(Bucket=bucket, Key=key, Body=body.encode())
        else:
            path = Path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(body)
            tmp.replace(path)
        return uri

    def _s3_client(self) -> Any:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.aws_conn_id, region_name=self.region_name).get_conn()
