"""The ledger profile's distinct estimates and top values (``Config.profile = "full"``; left out
by default), read back with DuckDB: exact counts
for a small string column (ties by value), an empty list and a flag for a large one, none for a
sensitive or non-string column, and the same profile for any block size and thread count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyrustpipe as pp
import pytest

ROWS = 20_000
# Exact counts, two of them tied: ties come out by value.
CURRENCIES = {"KES": 8_000, "USD": 5_000, "EUR": 5_000, "GHS": 2_000}


class Payments(pp.Schema):
    txn_id: str = pp.Field(unique=True)
    currency: str
    phone: str = pp.Field(sensitive=True)
    amount: float
    kind: int | None = None

    class Config:
        dataset = "payments"
        profile = "full"


def write(path: Path) -> None:
    currencies = [c for c, n in CURRENCIES.items() for _ in range(n)]
    lines = ["txn_id,currency,phone,amount,kind"]
    for row in range(ROWS):
        # 1,000 distinct amounts, 3 phones, `kind` null on every tenth row with 7 values.
        kind = "" if row % 10 == 0 else str(row % 7)
        lines.append(
            f"TX{row:08d},{currencies[(row * 7919) % ROWS]},+25470000000{row % 3},"
            f"{row % 1000}.5,{kind}"
        )
    path.write_text("\n".join(lines) + "\n")


def profiles(ledger: Path) -> dict[str, tuple[Any, ...]]:
    rows = (
        duckdb.connect()
        .execute(
            "SELECT p.column, p.distinct, p.top_values, p.top_values_over_cap FROM "
            f"read_parquet('{ledger}/**/*.parquet', hive_partitioning = true), "
            "unnest(profiles) AS t(p)"
        )
        .fetchall()
    )
    return {name: tuple(rest) for name, *rest in rows}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("profiles") / "payments.csv"
    write(path)
    return path


def test_distinct_and_top_values_read_back(data: Path, tmp_path: Path) -> None:
    pp.validate(str(data), Payments, ledger=str(tmp_path), partition="dt=2026-03-01")
    got = profiles(tmp_path)
    assert set(got) == {"txn_id", "currency", "phone", "amount", "kind"}
    # The estimate is within 5% (its error is ~1.6%); a handful of values is exact.
    distinct = {name: row[0] for name, row in got.items()}
    assert distinct["txn_id"] == pytest.approx(ROWS, rel=0.05)
    assert distinct["amount"] == pytest.approx(1000, rel=0.05)
    assert (distinct["currency"], distinct["phone"], distinct["kind"]) == (4, 3, 7)
    _, top, over_cap = got["currency"]
    assert [(t["value"], t["count"]) for t in top] == [
        ("KES", 8000),
        ("EUR", 5000),
        ("USD", 5000),
        ("GHS", 2000),
    ]
    assert over_cap is False
    # A unique id is not small: no values, and the flag says why.
    assert got["txn_id"][1:] == ([], True)
    # A sensitive column's values are never stored; numbers have no top values.
    assert got["phone"][1:] == (None, None)
    assert got["amount"][1:] == (None, None)
    assert got["kind"][1:] == (None, None)


class BasicPayments(Payments):
    class Config:
        profile = "basic"


def test_a_basic_profile_leaves_them_out(data: Path, tmp_path: Path) -> None:
    pp.validate(str(data), BasicPayments, ledger=str(tmp_path), partition="dt=2026-03-01")
    got = profiles(tmp_path)
    assert set(got) == {"txn_id", "currency", "phone", "amount", "kind"}
    assert all(row == (None, None, None) for row in got.values()), got


def test_profile_takes_only_basic_or_full() -> None:
    with pytest.raises(pp.SchemaError, match="profile must be 'basic' or 'full'"):

        class Odd(pp.Schema):
            amount: float

            class Config:
                profile = "deep"

        pp.compile(Odd)


def test_the_profile_is_the_same_for_any_split(data: Path, tmp_path: Path) -> None:
    seen = []
    for threads, chunk_size in [(1, None), (2, 4096), (2, 65_536)]:
        ledger = tmp_path / f"t{threads}-{chunk_size}"
        pp.validate(
            str(data),
            Payments,
            ledger=str(ledger),
            partition="dt=2026-03-01",
            threads=threads,
            chunk_size=chunk_size,
        )
        seen.append(profiles(ledger))
    assert seen[1] == seen[0] and seen[2] == seen[0]
