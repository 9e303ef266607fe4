"""Operators: ``PyRustPipeValidateOperator`` (one dataset or one partition) and
``PyRustPipeGateOperator`` (one decision over a mapped fan-out).

Failure semantics: invalid data raises ``PyRustPipeValidationFailed``, an ``AirflowFailException``
(retrying cannot fix data); storage errors stay ordinary exceptions so Airflow's retries apply, and
the engine's S3 manifest makes a retry commit its outputs exactly once; invalid rules and unreadable
files fail without retrying (``pyrustpipe_provider.retry``).

A killed task (Airflow 3's task runner calls ``on_kill`` from its SIGTERM handler; an
``execution_timeout`` raises in the task) stops the validation within a second: uploads are
aborted, nothing is committed, and the task fails with ``pp.CancelledError``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyrustpipe as pp
from airflow.exceptions import AirflowProviderDeprecationWarning
from airflow.sdk import Asset, BaseOperator, BaseOperatorLink
from airflow.sdk.exceptions import AirflowFailException
from pyrustpipe.integrations import CONSOLE_URL_ENV, console_run_url, new_progress, rules_of

from pyrustpipe_provider.hooks import (
    BLOCKING_SCOPES,
    PyRustPipeHook,
    Rules,
    Source,
    describe,
    error_failures,
    format_table,
    is_s3,
    merge_summaries,
    partition_of,
    sources_of,
    split_report,
    summarize,
    with_partition,
)
from pyrustpipe_provider.retry import pyrustpipe_retry_policy

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey
    from pyrustpipe.integrations import Progress

Mode = Literal["gate", "quarantine"]


class PyRustPipeValidationFailed(AirflowFailException):
    """The data broke the rules; the task fails without retrying."""


def _check_fraction(summary: dict[str, Any], limit: float | None, what: str) -> None:
    if limit is not None and summary["quarantine_fraction"] > limit:
        raise PyRustPipeValidationFailed(
            f"pyrustpipe: {what} quarantined {summary['invalid_rows']} of {summary['rows']} rows "
            f"({summary['quarantine_fraction']:.2%}), above max_quarantine_fraction={limit:.2%}; "
            f"failed rules: {describe(error_failures(summary))}"
        )


def _emit_asset_events(context: Context, outlets: list[Any], summary: dict[str, Any]) -> None:
    """Counts on every Asset outlet's event, so downstream Dags can read them."""
    extra = {k: summary[k] for k in ("rows", "valid_rows", "invalid_rows", "passed")}
    for outlet in outlets:
        if isinstance(outlet, Asset):
            context["outlet_events"][outlet].extra = extra


class PyRustPipeConsoleLink(BaseOperatorLink):
    """The task's extra link to its run's page in the pyrustpipe console. Airflow asks for it
    when the task ends (its value is kept in XCom), so it is the URL ``execute`` found."""

    name = "pyrustpipe console"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return str(getattr(operator, "console_link", None) or "")


def _console_url(given: str | None) -> str | None:
    """The console's base URL: the operator's argument, else ``$PYRUSTPIPE_CONSOLE_URL``, else
    ``[pyrustpipe] console_url`` in Airflow's configuration."""
    if given:
        return given
    if os.environ.get(CONSOLE_URL_ENV):
        return os.environ[CONSOLE_URL_ENV]
    from airflow.configuration import conf

    value = conf.get("pyrustpipe", "console_url", fallback=None)
    return str(value) if value else None


class _PyRustPipeBaseOperator(BaseOperator):
    """Shared parameters.

    :param metrics_output: where the report goes (local path or ``s3://``; a trailing ``/`` is a
        prefix). May contain ``{partition}``.
    :param max_quarantine_fraction: fail when more than this fraction of rows is invalid.
    :param aws_conn_id: Airflow AWS connection for S3 (keys, session token, region, endpoint URL
        from its extras); ``None`` uses the default credential chain.
    :param retry_policy: defaults to :func:`~pyrustpipe_provider.retry.pyrustpipe_retry_policy`:
        storage faults retry (within ``retries``), invalid rules or unreadable data fail at once.
    """

    ui_color = "#f6c66b"

    def __init__(
        self,
        *,
        metrics_output: str | None = None,
        max_quarantine_fraction: float | None = None,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("retry_policy", pyrustpipe_retry_policy())
        super().__init__(**kwargs)
        self.metrics_output = metrics_output
        self.max_quarantine_fraction = max_quarantine_fraction
        self.aws_conn_id = aws_conn_id

    @property
    def hook(self) -> PyRustPipeHook:
        return PyRustPipeHook(aws_conn_id=self.aws_conn_id)


class PyRustPipeValidateOperator(_PyRustPipeBaseOperator):
    """Validate one dataset against pyrustpipe rules; stop the pipeline or quarantine bad rows.

    :param source: ``s3://`` key, prefix or glob, or local path; or a list of them (templated).
    :param rules: ``"path.py:Class"``, ``"module:Class"``, a spec file, or a ``pp.Schema`` class.
    :param mode: ``"gate"`` fails on any failed error rule; ``"quarantine"`` writes bad rows to
        ``quarantine`` and fails only above ``max_quarantine_fraction`` or when a schema
        or dataset check fails.
    :param valid_output: where the valid rows go (templated, may contain ``{partition}``).
    :param quarantine: where the invalid rows go (templated, may contain ``{partition}``);
        required in quarantine mode. ``quarantine_output`` is its old spelling (deprecated).
    :param threads: engine threads (default: all cores).
    :param ledger: the quality ledger's root (templated; docs/ledger.md): the run appends its
        entry and judges the rules' history checks against the earlier partitions.
    :param partition: the ledger's partition key (templated; default: ``{partition}``, the
        source's last path segment, e.g. ``dt=2026-01-01``).
    :param logical_date: the partition's day, ``YYYY-MM-DD`` (templated, e.g. ``"{{ ds }}"``;
        default: the partition's ``dt=`` / ``date=`` segment).
    :param console_url: the pyrustpipe console's base URL (default: ``$PYRUSTPIPE_CONSOLE_URL``,
        else ``[pyrustpipe] console_url`` in Airflow's configuration). With a ledger, the task
        gets the extra link "pyrustpipe console" to ``{console_url}/runs/{run_id}``.
    :param split: one split of ``source`` from :class:`PyRustPipePlanSplitsOperator` (its string
        form, templated; the natural ``.expand(split=plan.output)`` argument): only the records
        starting in its byte range are validated, with the object's row and line numbers
        (docs/splits.md). ``{partition}`` becomes ``<object>-split-<index>``. ``source`` may be
        left out (the split names its object).
    :param split_keys: where the split writes its unique keys for the gate (templated, a path
        the gate's worker can read or an ``s3://`` URI; may contain ``{partition}``); needed when
        the rules check unique keys.

    An untemplated ``s3://`` ``valid_output`` is the task's outlet unless ``outlets`` is given;
    every ``Asset`` outlet's event carries the counts.

    ``{partition}`` in an output is replaced by the source's last path segment without its data
    suffix (``.../dt=2026-01-01/`` → ``dt=2026-01-01``, ``.../part-003.csv`` → ``part-003``), so
    mapped instances write under their own keys. Returns the summary (no row data) to XCom.
    """

    template_fields: Sequence[str] = (
        "source",
        "rules",
        "valid_output",
        "quarantine",
        "metrics_output",
        "ledger",
        "partition",
        "logical_date",
        "split",
        "split_keys",
    )
    operator_extra_links = (PyRustPipeConsoleLink(),)

    def __init__(
        self,
        *,
        source: Source | None = None,
        rules: Rules,
        mode: Mode = "gate",
        valid_output: str | None = None,
        quarantine: str | None = None,
        threads: int | None = None,
        ledger: str | None = None,
        partition: str | None = None,
        logical_date: str | None = None,
        quarantine_output: str | None = None,
        console_url: str | None = None,
        split: str | None = None,
        split_keys: str | None = None,
        **kwargs: Any,
    ) -> None:
        if quarantine_output is not None:
            warnings.warn(
                "quarantine_output is the old spelling of quarantine (as in pp.validate, the "
                "CLI's --quarantine and the Dagster checks)",
                AirflowProviderDeprecationWarning,
                stacklevel=2,
            )
            if quarantine is not None:
                raise ValueError("give quarantine, not both quarantine and quarantine_output")
            quarantine = quarantine_output
        if mode not in ("gate", "quarantine"):
            raise ValueError(f"mode must be 'gate' or 'quarantine', not {mode!r}")
        if mode == "quarantine" and quarantine is None:
            raise ValueError("mode='quarantine' needs quarantine")
        if "outlets" not in kwargs and is_s3(valid_output) and "{" not in str(valid_output):
            # Outlets are fixed at parse time: only an untemplated output can be one by default.
            kwargs["outlets"] = [Asset(uri=str(valid_output))]
        if source is None and split is None:
            raise ValueError("give source (or split, which names its object)")
        super().__init__(**kwargs)
        self.source = source
        self.split = split
        self.split_keys = split_keys
        self.rules = rules
        self.mode = mode
        self.valid_output = valid_output
        self.quarantine = quarantine
        self.threads = threads
        self.ledger = ledger
        self.partition = partition
        self.logical_date = logical_date
        self.console_url = console_url
        self.console_link: str | None = None
        self._report: dict[str, Any] | None = None
        self._run: Progress | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        split = None if self.split is None else pp.Split.parse(str(self.split))
        if split is not None and self.source is None:
            self.source = split.uri
        assert self.source is not None  # checked in __init__
        partition = partition_of(self.source)
        if split is not None:
            partition = f"{partition}-split-{split.index:04d}"
        split_keys = with_partition(self.split_keys, partition)
        if split_keys is not None and not is_s3(split_keys):
            # A fresh day's directory on the shared volume.
            Path(split_keys).parent.mkdir(parents=True, exist_ok=True)
        self._run = new_progress()
        report = self.hook.validate(
            self.source,
            self.rules,
            valid_output=with_partition(self.valid_output, partition),
            quarantine=with_partition(self.quarantine, partition),
            metrics_output=with_partition(self.metrics_output, partition),
            threads=self.threads,
            ledger=self.ledger,
            partition=with_partition(self.partition, partition) or partition,
            logical_date=self.logical_date,
            handle=self._run,
            split=None if split is None else str(split),
            split_keys=split_keys,
        )
        summary = summarize(
            report,
            source=self.source,
            mode=self.mode,
            partition=partition,
            rules=rules_of(self.rules),
        )
        self._report = dict(report.to_dict())  # for the OpenLineage facets, built later
        self.console_link = self._console_link(report)
        self.log.info("%s", format_table(summary))
        self.log.info("outputs: %s", summary["outputs"])
        if split is not None:
            # The gate judges the object: uniqueness across splits, tolerances on the total.
            summary["split"] = split.to_dict()
            summary["split_report"] = split_report(report)
            _emit_asset_events(context, self.outlets, summary)
            return summary
        self._decide(summary)
        _emit_asset_events(context, self.outlets, summary)
        return summary

    def _console_link(self, report: Any) -> str | None:
        """The run's console page (before the verdict: a failed run is the one to look at)."""
        base = _console_url(self.console_url)
        if not base or not self.ledger:
            return None
        options = self.hook.storage_options() if is_s3(self.ledger) else None
        link = console_run_url(report, base, options)
        if link:
            self.log.info("pyrustpipe console: %s", link)
        return link

    def on_kill(self) -> None:
        """Cancel the running validation (Airflow calls this on SIGTERM): it aborts its
        uploads, commits nothing and raises ``pp.CancelledError`` in ``execute``."""
        if self._run is not None:
            self._run.cancel()

    def _decide(self, summary: dict[str, Any]) -> None:
        rules = summary["failed_rules"]
        warned = {n: r for n, r in rules.items() if r["severity"] == "warn"}
        if warned:
            self.log.warning("pyrustpipe: warn rules failed, task goes on: %s", describe(warned))
        where = f"{summary['schema']} on {summary['source']}"
        blocking = error_failures(summary, BLOCKING_SCOPES if self.mode == "quarantine" else None)
        if blocking:
            raise PyRustPipeValidationFailed(
                f"pyrustpipe: {len(blocking)} rule(s) failed for {where} "
                f"({summary['invalid_rows']} of {summary['rows']} rows invalid): "
                f"{describe(blocking)}"
            )
        _check_fraction(summary, self.max_quarantine_fraction, where)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Data-quality metrics and assertions on the inputs, row counts on the outputs."""
        from pyrustpipe_provider.lineage import operator_lineage

        if self._report is None or self.source is None:
            return None
        return operator_lineage(sources_of(self.source), self._report)


class PyRustPipePlanSplitsOperator(_PyRustPipeBaseOperator):
    """Plan ``parts`` byte-range splits of one big CSV / NDJSON object for a mapped
    ``PyRustPipeValidateOperator`` (``.expand(split=plan.output)``); returns their string forms.
    Only the object's size is read; a compressed object plans as one split only (``parts=1``).

    :param source: the object (``s3://`` key or local path, templated).
    :param parts: how many splits (templated).
    """

    template_fields: Sequence[str] = ("source", "parts")

    def __init__(self, *, source: str, parts: int | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.parts = parts

    def execute(self, context: Context) -> list[str]:
        splits = self.hook.plan_splits(str(self.source), int(self.parts))
        self.log.info("pyrustpipe: %d splits of %s", len(splits), self.source)
        return splits


class PyRustPipeGateOperator(_PyRustPipeBaseOperator):
    """Merge the summaries of mapped ``PyRustPipeValidateOperator`` instances into one decision.
    The splits of one object (``split=``) are first judged as that object (``pp.gate_splits``):
    unique keys repeated across splits fail, tolerances apply to the object's total.

    Fails when any error-severity rule failed in any partition (``max_quarantine_fraction=None``)
    or when the total quarantined fraction exceeds ``max_quarantine_fraction``. The total report
    (every partition's summary plus the sums) goes to ``metrics_output`` as ``gate_report.json``
    when given, and to XCom without the per-partition list.

    :param summaries: the mapped task's ``.output`` (or any list of summaries).
    """

    template_fields: Sequence[str] = ("summaries", "metrics_output")

    def __init__(self, *, summaries: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.summaries = summaries

    def execute(self, context: Context) -> dict[str, Any]:
        total = merge_summaries(self.summaries, storage_options=self.hook.storage_options())
        if self.metrics_output:
            total["report"] = self.hook.write_json(self.metrics_output, total, "gate_report.json")
        self.log.info("%s", format_table(total))
        self.log.info("partitions: %s, failed: %s", total["partitions"], total["failed_partitions"])
        result = {k: v for k, v in total.items() if k != "summaries"}
        if self.max_quarantine_fraction is None and not total["passed"]:
            raise PyRustPipeValidationFailed(
                f"pyrustpipe gate: {len(total['failed_partitions'])} of {total['partitions']} "
                f"partitions failed ({', '.join(total['failed_partitions'])}): "
                f"{describe(error_failures(total))}"
            )
        _check_fraction(total, self.max_quarantine_fraction, f"{total['partitions']} partitions")
        _emit_asset_events(context, self.outlets, total)
        return result
