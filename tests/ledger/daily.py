"""Daily transaction partitions with weekday seasonality, for the ledger tests: exact, seeded
and steady enough that a normal day stays inside every history band, plus the faults each
history check must catch (a day short by half, a stale feed, a new column)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyrustpipe as pp

START = dt.date(2026, 1, 5)  # a Monday
# Rows per weekday (Monday first): weekends are quieter.
BASE_ROWS = (1000, 1000, 1050, 1000, 1100, 600, 400)


class Transactions(pp.Schema):
    txn_id: str = pp.Field(unique=True)
    timestamp: dt.datetime
    agent_id: str | None = None
    amount: float = pp.Field(gt=0)
    currency: str

    class Config:
        dataset = "transactions"
        history = [
            pp.history.row_count(sigma=3, lookback=28, seasonality="weekday", min_history=4),
            pp.history.null_fraction("agent_id", sigma=3),
            pp.history.mean("amount", sigma=4),
            pp.history.freshness("timestamp", max_lag="6h"),
            pp.history.schema_drift(),
        ]


def day(index: int) -> dt.date:
    return START + dt.timedelta(days=index)


def partition(date: dt.date) -> str:
    return f"dt={date.isoformat()}"


# Each week moves every day's volume by one of these (multiples of 50 keep the null share at
# exactly 2%); any four consecutive weeks have a spread (MAD) of 25 to 50 rows.
WEEKLY_NOISE = (0, 50, -50, 50, -50, 0)


def rows_for(date: dt.date) -> int:
    """The weekday's base, moved by the week's noise."""
    week = (date - START).days // 7
    return BASE_ROWS[date.weekday()] + WEEKLY_NOISE[week % len(WEEKLY_NOISE)]


def write_day(
    folder: Path,
    date: dt.date,
    *,
    rows: int | None = None,
    stale: bool = False,
    new_column: bool = False,
) -> Path:
    """``<folder>/dt=<date>/part-0000.csv``. 2% of agent_id empty, amounts in pairs around
    100 (mean exactly 100), timestamps spread over the day up to 23:50 — or only its first
    twelve hours when ``stale``."""
    count = rows_for(date) if rows is None else rows
    rng = random.Random(date.toordinal() * 7919)
    path = folder / partition(date) / "part-0000.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    span = (12 * 3600 if stale else 23 * 3600 + 50 * 60) - 1
    nulls = set(rng.sample(range(count), count // 50))
    delta = 0.0
    lines = ["txn_id,timestamp,agent_id,amount,currency" + (",channel" if new_column else "")]
    for row in range(count):
        second = span if row == count - 1 else rng.randrange(span)
        stamp = dt.datetime.combine(date, dt.time()) + dt.timedelta(seconds=second)
        if row % 2 == 0:
            delta = rng.randrange(1, 5000) / 100
        amount = 100 + delta if row % 2 == 0 else 100 - delta
        agent = "" if row in nulls else f"A{rng.randrange(500):04d}"
        line = f"T{date:%Y%m%d}{row:06d},{stamp:%Y-%m-%dT%H:%M:%S}Z,{agent},{amount:.2f},KES"
        lines.append(line + (",app" if new_column else ""))
    path.write_text("\n".join(lines) + "\n")
    return path
