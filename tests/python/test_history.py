"""The history-check DSL (pyrustpipe/history.py): Config.history and Config.dataset compile into
the spec; bad arguments are SchemaErrors that say what is wrong."""

from __future__ import annotations

import datetime as dt

import pyrustpipe as pp
import pytest


def test_config_history_and_dataset_compile_into_the_spec() -> None:
    class Tx(pp.Schema):
        ts: dt.datetime
        amount: float
        agent: str | None = pp.Field(alias="agent_id")

        class Config:
            dataset = "tx.daily"
            history = [
                pp.history.row_count(seasonality="weekday", direction="drop"),
                pp.history.null_fraction("agent", sigma=2),  # an attribute resolves to its column
                pp.history.freshness("ts", max_lag="90m"),
                pp.history.schema_drift(severity="warn"),
            ]

    spec = Tx.to_spec()
    assert spec["dataset"] == "tx.daily"
    history = spec["history"]
    assert [h["check"] for h in history] == [
        "row_count",
        "null_fraction",
        "freshness",
        "schema_drift",
    ]
    assert history[0]["seasonality"] == "weekday" and history[0]["direction"] == "drop"
    assert history[1]["column"] == "agent_id" and history[1]["sigma"] == 2.0
    assert history[2]["max_lag_s"] == 5400.0
    assert history[3]["severity"] == "warn"
    assert pp.history.null_fraction("agent").rule_name() == "history:null_fraction:agent"


def test_a_schema_without_history_keeps_its_spec() -> None:
    class Plain(pp.Schema):
        a: int

    assert "history" not in Plain.to_spec() and "dataset" not in Plain.to_spec()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: [pp.history.mean("nope")], "unknown column 'nope'"),
        (lambda: [pp.history.row_count(sigma=0)], "sigma must be positive"),
        (lambda: [pp.history.row_count(lookback=0)], "lookback must be an int >= 1"),
        (lambda: [pp.history.row_count(seasonality="monthly")], "seasonality"),
        (lambda: [pp.history.freshness("a", max_lag="soon")], "duration 'soon'"),
        (lambda: ["row_count"], r"history\[0\] must be a pp.history"),
    ],
)
def test_bad_history_arguments_are_schema_errors(make: object, message: str) -> None:
    with pytest.raises(pp.SchemaError, match=message):

        class Bad(pp.Schema):
            a: int

            class Config:
                history = make()  # type: ignore[operator]


def test_bad_dataset_names_are_refused() -> None:
    with pytest.raises(pp.SchemaError, match="dataset must be"):

        class Bad(pp.Schema):
            a: int

            class Config:
                dataset = "../x"


def test_durations() -> None:
    assert [pp.history.parse_duration(v) for v in ("90s", "30m", "6h", "2d", 15)] == [
        90.0,
        1800.0,
        21600.0,
        172800.0,
        15.0,
    ]
