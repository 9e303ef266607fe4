"""History checks for ``Config.history``: a partition judged against the quality ledger's
earlier partitions (docs/ledger.md). The engine evaluates them at the end of the same pass.

>>> import pyrustpipe as pp
>>> pp.history.row_count(sigma=3, seasonality="weekday").to_dict()["check"]
'row_count'
>>> pp.history.freshness("ts", max_lag="6h").to_dict()["max_lag_s"]
21600.0
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypedDict

from pyrustpipe.exceptions import SchemaError

__all__ = [
    "HistoryCheck",
    "freshness",
    "mean",
    "new_values",
    "null_fraction",
    "parse_duration",
    "row_count",
    "schema_drift",
    "unique_across",
]

Seasonality = Literal["none", "weekday"]
Direction = Literal["both", "drop", "rise"]


class _HistoryOptional(TypedDict, total=False):
    column: str
    max_lag_s: float
    name: str


class HistoryCheckSpec(_HistoryOptional):
    """One ``history`` entry of the spec (docs/spec.md)."""

    check: str
    sigma: float
    lookback: int
    seasonality: str
    min_history: int
    direction: str
    severity: str


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: str | float | int) -> float:
    """Seconds from ``"90s"``, ``"30m"``, ``"6h"``, ``"2d"`` (or a number of seconds)."""
    if isinstance(value, bool):
        raise SchemaError(f"a duration is a number of seconds or text like '6h', not {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([smhd])\s*", str(value))
        if match is None:
            raise SchemaError(f"duration {value!r}: write e.g. '90s', '30m', '6h' or '2d'")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not seconds > 0:
        raise SchemaError(f"duration {value!r} must be positive")
    return seconds


class HistoryCheck:
    """One history check; build it with the functions of this module. (A plain class: the
    package's import stays light, without dataclasses.)"""

    __slots__ = (
        "check",
        "column",
        "direction",
        "lookback",
        "max_lag_s",
        "min_history",
        "name",
        "seasonality",
        "severity",
        "sigma",
    )

    def __init__(
        self,
        check: str,
        column: str | None = None,
        sigma: float = 3.0,
        lookback: int = 28,
        seasonality: Seasonality = "none",
        min_history: int = 4,
        direction: Direction = "both",
        max_lag_s: float | None = None,
        name: str | None = None,
        severity: str = "error",
    ) -> None:
        self.check = check
        self.column = column
        self.sigma = sigma
        self.lookback = lookback
        self.seasonality = seasonality
        self.min_history = min_history
        self.direction = direction
        self.max_lag_s = max_lag_s
        self.name = name
        self.severity = severity

    def __repr__(self) -> str:
        column = "" if self.column is None else f"{self.column!r}"
        return f"pp.history.{self.check}({column})"

    def rule_name(self) -> str:
        """The name the report gives it (``history:null_fraction:agent_id``)."""
        if self.name:
            return self.name
        suffix = f":{self.column}" if self.column else ""
        return f"history:{self.check}{suffix}"

    def to_dict(self, resolve: Callable[[str, str], str] | None = None) -> HistoryCheckSpec:
        where = f"history check {self.rule_name()}"
        if isinstance(self.sigma, bool) or not isinstance(self.sigma, (int, float)):
            raise SchemaError(f"{where}: sigma must be a number")
        if not self.sigma > 0:
            raise SchemaError(f"{where}: sigma must be positive, not {self.sigma!r}")
        for key in ("lookback", "min_history"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SchemaError(f"{where}: {key} must be an int >= 1, not {value!r}")
        if self.seasonality not in ("none", "weekday"):
            raise SchemaError(
                f'{where}: seasonality must be None or "weekday", not {self.seasonality!r}'
            )
        if self.direction not in ("both", "drop", "rise"):
            raise SchemaError(
                f'{where}: direction must be "both", "drop" or "rise", not {self.direction!r}'
            )
        if self.severity not in ("error", "warn"):
            raise SchemaError(f'{where}: severity must be "error" or "warn"')
        entry: HistoryCheckSpec = {
            "check": self.check,
            "sigma": float(self.sigma),
            "lookback": self.lookback,
            "seasonality": self.seasonality,
            "min_history": self.min_history,
            "direction": self.direction,
            "severity": self.severity,
        }
        if self.column is not None:
            entry["column"] = resolve(self.column, where) if resolve else self.column
        if self.max_lag_s is not None:
            entry["max_lag_s"] = self.max_lag_s
        if self.name is not None:
            entry["name"] = self.name
        return entry


def _seasonality(value: str | None) -> Seasonality:
    if value is None or value == "none":
        return "none"
    if value == "weekday":
        return "weekday"
    raise SchemaError(f'seasonality must be None or "weekday", not {value!r}')


def row_count(
    *,
    sigma: float = 3.0,
    lookback: int = 28,
    seasonality: str | None = None,
    min_history: int = 4,
    direction: Direction = "both",
    severity: str = "error",
    name: str | None = None,
) -> HistoryCheck:
    """The partition's row count within ``median ± sigma × 1.4826 × MAD`` of its history
    (same weekday with ``seasonality="weekday"``); ``direction="drop"`` fails only below."""
    return HistoryCheck(
        "row_count",
        None,
        sigma,
        lookback,
        _seasonality(seasonality),
        min_history,
        direction,
        None,
        name,
        severity,
    )


def null_fraction(
    column: str,
    *,
    sigma: float = 3.0,
    lookback: int = 28,
    seasonality: str | None = None,
    min_history: int = 4,
    direction: Direction = "both",
    severity: str = "error",
    name: str | None = None,
) -> HistoryCheck:
    """The column's share of nulls within the band of its history."""
    return HistoryCheck(
        "null_fraction",
        column,
        sigma,
        lookback,
        _seasonality(seasonality),
        min_history,
        direction,
        None,
        name,
        severity,
    )


def mean(
    column: str,
    *,
    sigma: float = 3.0,
    lookback: int = 28,
    seasonality: str | None = None,
    min_history: int = 4,
    direction: Direction = "both",
    severity: str = "error",
    name: str | None = None,
) -> HistoryCheck:
    """The numeric column's mean within the band of its history."""
    return HistoryCheck(
        "mean",
        column,
        sigma,
        lookback,
        _seasonality(seasonality),
        min_history,
        direction,
        None,
        name,
        severity,
    )


def freshness(
    column: str,
    *,
    max_lag: str | float = "6h",
    severity: str = "error",
    name: str | None = None,
) -> HistoryCheck:
    """The newest value of a date/datetime column at most ``max_lag`` before the end of the
    logical date (its next midnight, UTC). Needs no history, only the logical date."""
    return HistoryCheck(
        "freshness",
        column,
        max_lag_s=parse_duration(max_lag),
        name=name,
        severity=severity,
    )


def schema_drift(
    *, lookback: int = 28, severity: str = "error", name: str | None = None
) -> HistoryCheck:
    """Columns added, removed or retyped since the latest earlier partition in the ledger."""
    return HistoryCheck(
        "schema_drift", lookback=lookback, min_history=1, name=name, severity=severity
    )


def new_values(
    column: str,
    *,
    lookback: int = 28,
    min_history: int = 4,
    severity: str = "error",
    name: str | None = None,
) -> HistoryCheck:
    """Rows whose value of ``column`` no earlier partition of the last ``lookback`` days had
    are quarantined (a new currency code overnight). Each ledger entry keeps the column's
    distinct values, up to 10,000; over that the check is skipped."""
    return HistoryCheck(
        "new_values",
        column,
        lookback=lookback,
        min_history=min_history,
        name=name,
        severity=severity,
    )


def unique_across(
    column: str,
    *,
    lookback: int = 7,
    min_history: int = 1,
    severity: str = "error",
    name: str | None = None,
) -> HistoryCheck:
    """Rows whose ``column`` key an earlier partition of the last ``lookback`` days already had
    are quarantined, naming that partition (yesterday's file loaded again). Each ledger entry
    keeps 64-bit xxh3 hashes of the keys, never the keys."""
    return HistoryCheck(
        "unique_across",
        column,
        lookback=lookback,
        min_history=min_history,
        name=name,
        severity=severity,
    )


def apply_config(
    spec: dict[str, Any],
    config: dict[str, Any],
    where: str,
    resolve: Callable[[str, str], str],
) -> None:
    """``Config.dataset``, ``Config.history`` and ``Config.profile`` into the spec (each left out
    when unset, so rule sets without them keep their hash)."""
    profile = config.get("profile")
    if profile is not None:
        if profile not in ("basic", "full"):
            raise SchemaError(f"{where}: profile must be 'basic' or 'full', not {profile!r}")
        if profile == "full":
            spec["profile"] = profile
    dataset = config.get("dataset")
    if dataset is not None:
        if not isinstance(dataset, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", dataset):
            raise SchemaError(
                f"{where}: dataset must be letters, digits, '_', '-' and '.', not {dataset!r}"
            )
        spec["dataset"] = dataset
    checks = config.get("history", [])
    if isinstance(checks, HistoryCheck):
        checks = [checks]
    entries: list[HistoryCheckSpec] = []
    for index, check in enumerate(checks):
        if not isinstance(check, HistoryCheck):
            raise SchemaError(
                f"{where}: history[{index}] must be a pp.history.* check, not {check!r}"
            )
        entries.append(check.to_dict(resolve))
    if entries:
        spec["history"] = entries
