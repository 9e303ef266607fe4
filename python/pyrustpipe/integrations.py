"""The public seam the orchestrator packages build on (the Airflow provider, the Dagster
integration, yours): what they may import besides ``pyrustpipe`` itself, kept stable.

>>> import pyrustpipe as pp
>>> from pyrustpipe import integrations
>>> class Tiny(pp.Schema):
...     id: int = pp.Field(unique=True)
>>> integrations.schema_name(Tiny), [r.name for r in integrations.rules_of(Tiny)][-1]
('Tiny', 'id:unique')
>>> integrations.is_arrow_like("data.csv")
False
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from pyrustpipe._arrow import is_arrow_like
from pyrustpipe._engine import new_progress
from pyrustpipe._trace import PythonRule
from pyrustpipe.api import SchemaLike, SourceLike, resolve_schema, run_validation
from pyrustpipe.compiled import Compiled, Rule, compile

if TYPE_CHECKING:
    # A run's live counters and cancel switch (``new_progress()``; ``cancel()`` from a kill hook).
    from pyrustpipe._core import Progress as Progress
    from pyrustpipe.report import Report

__all__ = [
    "Compiled",
    "PythonRule",
    "Rule",
    "SchemaLike",
    "SourceLike",
    "console_run_url",
    "is_arrow_like",
    "new_progress",
    "resolve_schema",
    "rules_of",
    "run_validation",
    "schema_name",
]


def rules_of(schema: SchemaLike) -> tuple[Rule, ...]:
    """Every rule a run of ``schema`` reports, in report order (the engine's rule table)."""
    return compile(schema).rules


def schema_name(schema: SchemaLike) -> str:
    """The name a report gives ``schema`` (``Config.name``, else the class name)."""
    spec, _ = resolve_schema(schema)
    return str(spec.get("name", "schema"))


# The console's base URL when the orchestrator is not given one (docs/airflow.md, docs/dagster.md).
CONSOLE_URL_ENV = "PYRUSTPIPE_CONSOLE_URL"


def console_run_url(
    report: Report,
    console_url: str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> str | None:
    """The run's page in the console, ``{console_url}/runs/{run_id}``, the run id as the
    ledger entry records it; None without a console URL (argument or ``$PYRUSTPIPE_CONSOLE_URL``)
    or without a ledger entry (the console's runs are the ledger's)."""
    from urllib.parse import quote

    from pyrustpipe._ledger_files import run_id_of

    base = (console_url or os.environ.get(CONSOLE_URL_ENV) or "").strip().rstrip("/")
    entry = report.outputs.get("ledger")
    if not base or not entry:
        return None
    run_id = run_id_of(entry, storage_options)
    return None if run_id is None else f"{base}/runs/{quote(run_id, safe='')}"
