"""The rule playground's console side: the requests' checks (sources inside the data roots, a
known dataset, bounded sizes) around helper-playground's ``pyrustpipe.backtest`` — spec check,
dry run, backtest — and the spec that ran last for a dataset, to start editing from."""

from __future__ import annotations

import json
from typing import Any

from pyrustpipe.console.config import ConsoleConfig
from pyrustpipe.console.jobs import JobRequestError, confine_source
from pyrustpipe.console.ledger_view import DATASET_RE, LedgerView

MAX_DRY_ROWS = 100_000
MAX_LAST = 90
MAX_EXAMPLES = 20


def _text(body: dict[str, Any]) -> str:
    spec = body.get("spec")
    if not isinstance(spec, str):
        raise JobRequestError("spec: the rules spec as YAML or JSON text")
    return spec


def _int(body: dict[str, Any], key: str, default: int, high: int) -> int:
    value = body.get(key, default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise JobRequestError(f"{key}: a whole number from 1 to {high}")
    return value


def check(body: dict[str, Any]) -> dict[str, Any]:
    from pyrustpipe.backtest import check_spec_text

    return {"problems": [p.to_dict() for p in check_spec_text(_text(body))]}


def dry_run(config: ConsoleConfig, body: dict[str, Any]) -> dict[str, Any]:
    from pyrustpipe import backtest

    text = _text(body)
    source = body.get("source")
    if not isinstance(source, str) or not source.strip():
        raise JobRequestError("source: a path inside a data root")
    if not config.data_roots:
        raise JobRequestError("this console has no data roots (serve --data DIR)")
    source = confine_source(source.strip(), config.data_roots)
    rows = _int(body, "rows", 10_000, MAX_DRY_ROWS)
    problems = backtest.check_spec_text(text)
    if problems:
        return {"problems": [p.to_dict() for p in problems]}
    report = backtest.dry_run(
        text, source, rows=rows, storage_options=config.storage_options or None
    )
    return {"problems": [], "report": report}


def run_backtest(config: ConsoleConfig, view: LedgerView, body: dict[str, Any]) -> dict[str, Any]:
    from pyrustpipe import backtest

    text = _text(body)
    dataset = body.get("dataset")
    if not isinstance(dataset, str) or dataset not in view.datasets():
        raise JobRequestError("dataset: a dataset of the ledger")
    last = _int(body, "last", 30, MAX_LAST)
    examples = _int(body, "examples", 5, MAX_EXAMPLES)
    problems = backtest.check_spec_text(text)
    if problems:
        return {"problems": [p.to_dict() for p in problems]}
    result = backtest.backtest(
        text,
        ledger=str(config.ledger),
        dataset=dataset,
        last=last,
        examples=examples,
        storage_options=config.storage_options or None,
    )
    return {"problems": [], "backtest": result.to_dict()}


def spec_that_ran(config: ConsoleConfig, view: LedgerView, dataset: str) -> dict[str, Any]:
    """The spec of the dataset's newest entry, from the ledger's spec store, as JSON text."""
    from pyrustpipe import _ledger_files

    if not DATASET_RE.fullmatch(dataset):
        raise JobRequestError("dataset: a dataset of the ledger")
    entries = view.entries(dataset, 1)
    if not entries:
        raise JobRequestError(f"no dataset {dataset!r} in the ledger")
    ruleset_hash = entries[-1]["rules_hash"]
    spec = _ledger_files.read_spec(str(config.ledger), ruleset_hash, config.storage_options or None)
    return {
        "dataset": dataset,
        "ruleset_hash": ruleset_hash,
        "spec": None if spec is None else json.dumps(spec, indent=2, ensure_ascii=False),
    }
