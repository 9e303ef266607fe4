"""bench/public_csv.py's two sides agree: on copies of vega_datasets' airports and Seattle
weather, pyrustpipe and the polars scan count every rule alike, and each rule fails some rows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")
pytest.importorskip("vega_datasets")

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import pyrustpipe as pp  # noqa: E402
from public_csv import (  # noqa: E402
    DATA,
    Airports,
    Weather,
    airports_polars,
    weather_polars,
    write_copies,
)
from typed_path import our_counts  # noqa: E402


def test_pyrustpipe_and_polars_agree_on_airports(tmp_path: Path) -> None:
    path = tmp_path / "airports.csv"
    write_copies(DATA / "airports.csv", path, 3)
    theirs = airports_polars(path)
    assert theirs["rows"] == 3 * 3376
    for rule in ("iata:pattern", "name:max_length", "country:isin", "longitude:ge"):
        assert theirs[rule] > 0, rule
    assert our_counts(pp.validate(path, Airports)) == theirs


def test_pyrustpipe_and_polars_agree_on_seattle_weather(tmp_path: Path) -> None:
    path = tmp_path / "weather.csv"
    write_copies(DATA / "seattle-weather.csv", path, 2)
    theirs = weather_polars(path)
    assert theirs["rows"] == 2 * 1461
    assert theirs["weather:isin"] > theirs["rows"] // 5  # `fog` is not in the list
    assert our_counts(pp.validate(path, Weather, threads=2)) == theirs
