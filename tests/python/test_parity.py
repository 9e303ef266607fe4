"""The Python fallback parses values exactly like the engine (needs the engine).

A Python-run rule must see the same typed values as a Rust rule. ``parse_value`` (and the rule
runner) ask the engine's own parser (``_core.parse_texts``), so they have no grammar of their
own; this guards that path: every text below is validated by the engine, and its
``<column>:type`` verdict is compared with ``parse_value``'s.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyrustpipe import _core  # noqa: F401 - engine-backed: fail, never skip, without it
from pyrustpipe._python_rules import parse_value

TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "decimal": Decimal,
    "bool": bool,
    "date": dt.date,
    "datetime": dt.datetime,
    "time": dt.time,
}
TRICKY = {
    "int": [
        "0",
        "-0",
        "+7",
        "007",
        "1.0",
        "1e3",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "--1",
        "+",
        "1_000",
        "١٢",
    ],
    "float": [
        "1",
        "1.",
        ".5",
        "-.5e-3",
        "1e",
        "1e+",
        "NaN",
        "inf",
        "Infinity",
        "1e308",
        "1e309",
        "0x1p3",
        "1_0",
        "+.e1",
        "5E2",
    ],
    "decimal": ["1.10", "-0.000", "1e-30", "nan", ".", "12345678901234567890.123"],
    "bool": ["true", "TRUE", "t", "Y", "yes", "No", "0", "1", "2", "on", "off", "nil"],
    "date": [
        "2024-02-29",
        "2023-02-29",
        "2026-1-5",
        "2026-01-05T00:00",
        "0001-01-01",
        "9999-12-31",
        "2026-00-10",
        "26-01-05",
    ],
    "datetime": [
        "2026-01-05T10:20",
        "2026-01-05 10:20:30",
        "2026-01-05T10:20:30.123456789",
        "2026-01-05T10:20:30.1234567890",
        "2026-01-05T10:20:30Z",
        "2026-01-05T10:20:30+03:00",
        "2026-01-05T10:20:30+0300",
        "2026-01-05T24:00:00",
        "2026-01-05",
        "2026-01-05T10",
        "2026-01-05T10:20:60",
        "2026-01-05t10:20",
    ],
    "time": [
        "00:00",
        "23:59:59",
        "23:59:59.999999999",
        "24:00",
        "7:30",
        "07:30:5",
        "07:30:00Z",
    ],
}


def engine_type_failures(tmp: Path, dtype: str, texts: list[str]) -> set[int]:
    namespace: dict[str, Any] = {"__annotations__": {"v": TYPES[dtype]}}
    schema = type("Parity", (pp.Schema,), namespace)
    path = tmp / f"{dtype}.csv"
    path.write_text("v\n" + "".join(f"{t}\n" for t in texts), encoding="utf-8")
    report = pp.validate(path, schema, sample_size=len(texts) + 1)
    rule = report.rule("v:type")
    assert rule.failed == len(rule.samples)
    return {s.row for s in rule.samples if s.row is not None}


def python_type_failures(dtype: str, texts: list[str]) -> set[int]:
    bad = set()
    for row, text in enumerate(texts, start=1):
        try:
            parse_value(text, dtype)
        except ValueError:
            bad.add(row)
    return bad


@pytest.mark.parametrize("dtype", sorted(TRICKY))
def test_tricky_texts(tmp_path: Path, dtype: str) -> None:
    texts = TRICKY[dtype]
    engine = engine_type_failures(tmp_path, dtype, texts)
    python = python_type_failures(dtype, texts)
    disagree = sorted(engine ^ python)
    assert disagree == [], [(texts[i - 1], i in engine) for i in disagree]


_NUMERIC_TEXT = st.text(alphabet="0123456789.eE+-", min_size=1, max_size=8)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(_NUMERIC_TEXT, min_size=1, max_size=30))
def test_random_numeric_texts(tmp_path: Path, texts: list[str]) -> None:
    for dtype in ("int", "float"):
        assert engine_type_failures(tmp_path, dtype, texts) == python_type_failures(dtype, texts)
