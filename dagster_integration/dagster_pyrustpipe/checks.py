"""``build_pyrustpipe_checks``: a pyrustpipe schema as Dagster asset checks."""

import datetime
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import dagster as dg
import pyrustpipe as pp
from pyrustpipe.integrations import SchemaLike, is_arrow_like, rules_of, schema_name

from dagster_pyrustpipe.resource import PyRustPipeResource

__all__ = ["SUMMARY_CHECK", "build_pyrustpipe_checks", "check_names", "rule_to_check_name"]

SUMMARY_CHECK = "pyrustpipe"
PARTITION_KEY = "{partition_key}"
_SEVERITY = {"error": dg.AssetCheckSeverity.ERROR, "warn": dg.AssetCheckSeverity.WARN}
_SAMPLE_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("row", "int"),
        dg.TableColumn("line", "int"),
        dg.TableColumn("source", "string"),
        dg.TableColumn("column", "string"),
        dg.TableColumn("value", "string"),
        dg.TableColumn("message", "string"),
    ]
)


# ##### RULE NAMES TO CHECK NAMES


def rule_to_check_name(rule: str) -> str:
    """``txn_id:pattern`` → ``txn_id__pattern``: ``:`` becomes ``__`` and any other character
    outside ``[A-Za-z0-9_]`` becomes ``_`` (``a,b:unique`` → ``a_b__unique``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", rule.replace(":", "__"))


def check_names(rules: Sequence[str]) -> dict[str, str]:
    """Rule name → check name for every rule, unique per asset: a name that repeats one already
    taken (or ``pyrustpipe``, the summary check) gets ``_2``, ``_3``, ... appended."""
    taken = {SUMMARY_CHECK}
    names: dict[str, str] = {}
    for rule in rules:
        base = name = rule_to_check_name(rule)
        n = 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        names[rule] = name
    return names


# ##### RESULTS


def _samples_table(rule: pp.RuleResult) -> dg.MetadataValue:
    records = [
        dg.TableRecord(
            {
                "row": s.row,
                "line": s.line,
                "source": s.source,
                "column": s.column,
                "value": s.value,
                "message": s.message,
            }
        )
        for s in rule.samples
    ]
    return dg.MetadataValue.table(records=records, schema=_SAMPLE_SCHEMA)


def _uri_metadata(report: pp.Report) -> dict[str, Any]:
    outputs: Mapping[str, Any] = report.to_dict().get("outputs") or {}
    metadata: dict[str, Any] = {}
    for key, label in (("metrics", "report_uri"), ("quarantine", "quarantine_uri")):
        if outputs.get(key):
            metadata[label] = dg.MetadataValue.path(str(outputs[key]))
    return metadata


def _observed(value: Any) -> dg.MetadataValue:
    """A dataset check's measured value (a number) or a schema rule's column names (a list)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, list, dict)):
        return dg.MetadataValue.text(str(value))
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    return dg.MetadataValue.json(value)


def _history_metadata(rule: pp.RuleResult) -> dict[str, Any]:
    """A history check's value and band as numbers, so Dagster plots them per partition."""
    observed = rule.observed or {}
    expected = observed.get("expected") or {}
    metadata: dict[str, Any] = {"status": str(observed.get("status"))}
    for key, value in (
        ("value", observed.get("value")),
        ("expected_low", expected.get("low")),
        ("expected_high", expected.get("high")),
    ):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metadata[key] = dg.MetadataValue.float(float(value))
    return metadata


def _rule_result(
    asset_key: dg.AssetKey, check: str, rule: pp.RuleResult, report: pp.Report
) -> dg.AssetCheckResult:
    metadata: dict[str, Any] = {
        "rule": rule.name,
        "failed": dg.MetadataValue.int(rule.failed),
        "failure_rate": dg.MetadataValue.float(rule.failure_rate),
        "tolerance": rule.tolerance_text,
        "allowed_failures": dg.MetadataValue.int(rule.allowed_failures),
        "rows": dg.MetadataValue.int(report.rows),
        "samples": _samples_table(rule),
        **_uri_metadata(report),
    }
    if rule.observed is not None:
        metadata["observed"] = _observed(rule.observed)
    if rule.scope == "history":
        metadata.update(_history_metadata(rule))
        description = f"{rule.name}: {rule.observed.get('status')}" + (
            f" ({rule.samples[0].message})" if rule.samples else ""
        )
    elif rule.scope == "dataset":
        description = f"{rule.name}: observed {rule.observed!r}"
    else:
        description = f"{rule.name}: {rule.failed} of {report.rows} rows failed"
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check,
        passed=rule.passed,
        severity=_SEVERITY[rule.severity],
        metadata=metadata,
        description=description,
    )


def _summary_result(
    asset_key: dg.AssetKey, report: pp.Report, extra: Mapping[str, Any] | None = None
) -> dg.AssetCheckResult:
    failed = [r.name for r in report.rules if not r.passed]
    metadata: dict[str, Any] = {
        "rows": dg.MetadataValue.int(report.rows),
        "valid_rows": dg.MetadataValue.int(report.valid_rows),
        "invalid_rows": dg.MetadataValue.int(report.invalid_rows),
        "failed_rules": dg.MetadataValue.json(failed),
        "ruleset_hash": report.ruleset_hash,
        "duration_s": dg.MetadataValue.float(report.duration_s),
        **_uri_metadata(report),
        **(extra or {}),
    }
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=SUMMARY_CHECK,
        passed=report.passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=f"{report.invalid_rows} of {report.rows} rows invalid; "
        f"failed rules: {', '.join(failed) or 'none'}",
    )


# ##### THE FACTORY


def _asset_key_and_partitions(
    asset: Any, partitions_def: dg.PartitionsDefinition | None
) -> tuple[dg.AssetKey, dg.PartitionsDefinition | None]:
    if isinstance(asset, (dg.AssetsDefinition, dg.AssetSpec)):
        return asset.key, partitions_def or asset.partitions_def
    return dg.AssetKey.from_coercible(asset), partitions_def


def _fill(
    template: str | os.PathLike[str] | None, partition: str | None, *, output: bool = False
) -> str | None:
    """``template`` with ``{partition_key}`` replaced. In an output location the key is
    percent-encoded (``/`` too), so a partition key such as ``../x`` cannot leave the prefix."""
    if template is None:
        return None
    text = os.fspath(template)
    if PARTITION_KEY in text:
        if partition is None:
            raise dg.Failure(f"{text!r} needs a partition key, but the run has none")
        text = text.replace(PARTITION_KEY, quote(partition, safe="") if output else partition)
    return text


def _ledger_options(ledger: str | os.PathLike[str] | None, partition: str | None) -> dict[str, Any]:
    """``pp.validate``'s ledger arguments for a run of ``partition`` (an unpartitioned asset:
    the run's UTC date is its logical date)."""
    if ledger is None:
        return {}
    if partition is None:
        today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
        return {"ledger": os.fspath(ledger), "partition": f"date={today}"}
    options: dict[str, Any] = {"ledger": os.fspath(ledger), "partition": partition}
    try:
        options["logical_date"] = datetime.date.fromisoformat(partition).isoformat()
    except ValueError:
        pass  # the engine takes it from a dt= / date= segment
    return options


def build_pyrustpipe_checks(
    *,
    asset: dg.AssetsDefinition | dg.AssetSpec | dg.AssetKey | str | Sequence[str],
    schema: SchemaLike,
    source: str | os.PathLike[str] | None = None,
    blocking: bool = False,
    quarantine: str | os.PathLike[str] | None = None,
    valid_output: str | os.PathLike[str] | None = None,
    metrics_output: str | os.PathLike[str] | None = None,
    partitions_def: dg.PartitionsDefinition | None = None,
    resource_key: str = "pyrustpipe",
    ledger: str | os.PathLike[str] | None = None,
    quarantine_output: str | os.PathLike[str] | None = None,
) -> Sequence[dg.AssetChecksDefinition]:
    """Asset checks for ``asset`` from the rules of ``schema``: one check per rule (named by
    :func:`rule_to_check_name`, e.g. ``amount__gt``) plus the summary check ``pyrustpipe``,
    evaluated together in one step by one validation run.

    Args:
        asset: the checked asset (its key and, for a definition or spec, its partitions).
        schema: a ``pp.Schema`` subclass, a spec or a rules reference.
        source: a path, glob or ``s3://`` URI (template: ``{partition_key}`` is replaced by the
            run's partition) of the files to validate. ``None``: the asset's value is loaded
            through its IO manager and validated in memory (a pandas / polars DataFrame or a
            pyarrow Table, read by the engine through the Arrow C stream interface, zero-copy).
        blocking: the checks block downstream assets in the same run when they fail with
            severity ERROR (an error rule; warn rules never block).
        quarantine, valid_output, metrics_output: where the run writes the invalid rows,
            the valid rows and the report (templates, as ``source``).
        partitions_def: the partitions of the checks; by default the asset's.
        resource_key: the key of the :class:`PyRustPipeResource`.
        ledger: the quality ledger's root (docs/ledger.md): each run appends its entry for the
            run's partition key (its logical date: the key itself when it is a date, else its
            ``dt=`` / ``date=`` segment) and judges the schema's history checks against it.
        quarantine_output: the old spelling of ``quarantine`` (deprecated).

    Each rule check reports ``passed``, the rule's severity (error → ERROR, warn → WARN) and
    metadata ``failed``, ``failure_rate``, ``tolerance``, ``allowed_failures``, ``rows``,
    ``samples`` (a table) and, when written, ``report_uri`` and ``quarantine_uri``. The summary
    check passes when the report does (every error rule passed) and reports the row counts.
    """
    if quarantine_output is not None:
        warnings.warn(
            "quarantine_output is the old spelling of quarantine (as in pp.validate)",
            DeprecationWarning,
            stacklevel=2,
        )
        if quarantine is not None:
            raise ValueError("give quarantine, not both quarantine and quarantine_output")
        quarantine = quarantine_output
    asset_key, partitions = _asset_key_and_partitions(asset, partitions_def)
    if partitions is None:
        for template in (source, quarantine, valid_output, metrics_output):
            if template is not None and PARTITION_KEY in os.fspath(template):
                raise ValueError(
                    f"{os.fspath(template)!r} uses {PARTITION_KEY}, but the asset "
                    f"{asset_key.to_user_string()} is not partitioned"
                )
    rules = rules_of(schema)
    names = check_names([r.name for r in rules])
    kind = "in memory" if source is None else f"over {os.fspath(source)}"
    specs = [
        dg.AssetCheckSpec(
            SUMMARY_CHECK,
            asset=asset_key,
            description=f"pyrustpipe: every error rule of {schema_name(schema)} passes ({kind})",
            blocking=blocking,
            partitions_def=partitions,
        ),
        *(
            dg.AssetCheckSpec(
                names[rule.name],
                asset=asset_key,
                description=f"pyrustpipe rule {rule.name}: {rule.description} ({rule.severity})",
                blocking=blocking,
                partitions_def=partitions,
                metadata={"rule": rule.name},
            )
            for rule in rules
        ),
    ]

    def run(context: dg.AssetCheckExecutionContext, value: Any) -> list[dg.AssetCheckResult]:
        resource: PyRustPipeResource = getattr(context.resources, resource_key)
        partition = context.partition_key if context.has_partition_key else None
        if source is None and not is_arrow_like(value):
            raise dg.Failure(
                f"{asset_key.to_user_string()}: pyrustpipe checks without a source validate the "
                "asset's value, which must be a pandas or polars DataFrame, a pyarrow Table or "
                f"another Arrow stream, not {type(value).__name__} (or give the checks a source)"
            )
        target = value if source is None else _fill(source, partition)
        report = resource.validate_data(
            target,
            schema,
            quarantine=_fill(quarantine, partition, output=True),
            valid_output=_fill(valid_output, partition, output=True),
            metrics_output=_fill(metrics_output, partition, output=True),
            **_ledger_options(ledger, partition),
        )
        context.log.info(
            f"pyrustpipe {asset_key.to_user_string()}"
            f"{'' if partition is None else f' [{partition}]'}: {report!r}"
        )
        by_name = {r.name: r for r in report.rules}
        return [
            _summary_result(asset_key, report, resource.console_metadata(report)),
            *(_rule_result(asset_key, names[r.name], by_name[r.name], report) for r in rules),
        ]

    name = f"{asset_key.to_python_identifier()}_pyrustpipe"
    common: dict[str, Any] = {
        "specs": specs,
        "name": name,
        "required_resource_keys": {resource_key},
        "compute_kind": "pyrustpipe",
    }
    if source is None:

        @dg.multi_asset_check(**common, ins={"value": dg.AssetIn(key=asset_key)})
        def in_memory_check(context: dg.AssetCheckExecutionContext, value: Any) -> Any:
            yield from run(context, value)

        return [in_memory_check]

    @dg.multi_asset_check(**common)
    def files_check(context: dg.AssetCheckExecutionContext) -> Any:
        yield from run(context, None)

    return [files_check]
