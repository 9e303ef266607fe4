"""Ledgers for the console's tests, benchmark and demo, written by the real engine: one CSV
partition per day validated with ``run_validation(ledger=...)`` (no hand-made entries)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any


def spec(dataset: str, *, extra: bool = False, history: bool = True) -> dict[str, Any]:
    """A small transactions spec; ``extra``: a ``channel`` column (a schema change)."""
    columns: list[dict[str, Any]] = [
        {"name": "txn_id", "dtype": "int", "nullable": False, "checks": [{"type": "unique"}]},
        {
            "name": "amount",
            "dtype": "float",
            "nullable": False,
            "checks": [{"type": "gt", "value": 0}],
        },
        {
            "name": "currency",
            "dtype": "str",
            "nullable": False,
            "checks": [{"type": "isin", "values": ["KES", "UGX", "USD"]}],
        },
        {"name": "phone", "dtype": "str", "nullable": True, "sensitive": True},
    ]
    if extra:
        columns.append({"name": "channel", "dtype": "str", "nullable": True})
    out: dict[str, Any] = {
        "spec_version": 1,
        "name": dataset,
        "dataset": dataset,
        "columns": columns,
    }
    if history:
        out["history"] = [
            {
                "check": "row_count",
                "sigma": 3.0,
                "lookback": 28,
                "seasonality": "none",
                "min_history": 3,
                "direction": "both",
                "severity": "error",
            },
        ]
    return out


def write_csv(
    path: Path,
    rows: int,
    *,
    bad_every: int = 0,
    bad_currency_every: int = 0,
    extra: bool = False,
    seed: int = 0,
) -> None:
    """``rows`` transactions; every ``bad_every``-th has a negative amount, every
    ``bad_currency_every``-th an unknown currency."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "txn_id,amount,currency,phone" + (",channel" if extra else "")
    lines = [header]
    for i in range(rows):
        amount = -5 if bad_every and i % bad_every == 3 else 10 + (i * 7 + seed) % 990
        currency = "XXX" if bad_currency_every and i % bad_currency_every == 5 else "KES"
        line = f"{i},{amount},{currency},+2547{(i * 31 + seed) % 10**8:08d}"
        lines.append(line + (",app" if extra else ""))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_partition(
    ledger: Path | str,
    data: Path,
    dataset: str,
    day: dt.date,
    rows: int,
    *,
    bad_every: int = 0,
    bad_currency_every: int = 0,
    extra: bool = False,
    history: bool = True,
    storage_options: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One day of ``dataset`` validated into the ledger; returns the report as a dict."""
    from pyrustpipe.integrations import run_validation

    source = data / dataset / f"dt={day.isoformat()}.csv"
    write_csv(
        source,
        rows,
        bad_every=bad_every,
        bad_currency_every=bad_currency_every,
        extra=extra,
        seed=day.toordinal(),
    )
    report = run_validation(
        str(source),
        spec(dataset, extra=extra, history=history),
        ledger=str(ledger),
        partition=f"dt={day.isoformat()}",
        threads=1,
        storage_options=storage_options,
    )
    result: dict[str, Any] = json.loads(json.dumps(report.to_dict()))
    return result
