"""``multiple_of`` end to end: ``pp.Field(multiple_of=...)`` through the engine, each failing row
counted as the oracle (written from docs/spec.md) counts it, for int, decimal and float columns."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyrustpipe as pp
import pytest

from tests.oracle import oracle_validate


class Amounts(pp.Schema):
    minor_units: int = pp.Field(multiple_of=5)
    price: Decimal = pp.Field(multiple_of=Decimal("0.05"))
    weight: float = pp.Field(multiple_of=0.1)
    cents: Decimal | None = pp.Field(multiple_of=pp.Check(Decimal("0.01"), severity="warn"))


ROWS = [
    # minor_units, price, weight, cents
    ("0", "0", "0", ""),
    ("10", "1.05", "0.3", "12.34"),
    ("-15", "100", "1.7", "1e30"),
    ("7", "0.12", "0.35", "12.345"),
    ("9223372036854775805", "0.149", "-2.5", "-0.10"),
    ("12", "99999999999999999999.95", "1e-12", "0.001"),
]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "amounts.csv"
    lines = ["minor_units,price,weight,cents", *(",".join(row) for row in ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_counts_match_the_oracle(data: Path) -> None:
    report = pp.validate(data, Amounts)
    oracle = oracle_validate(Amounts.to_spec(), [str(data)])
    failed = {rule.name: rule.failed for rule in report.rules if rule.failed}
    assert failed == {k: v for k, v in oracle["failures"].items() if v}
    assert failed == {
        "minor_units:multiple_of": 2,
        "price:multiple_of": 2,
        "weight:multiple_of": 1,
        "cents:multiple_of": 2,
    }
    assert report.rule("cents:multiple_of").severity == "warn"


def test_the_rule_table_describes_it() -> None:
    described = {r.name: r.description for r in Amounts.rules()}
    assert described["minor_units:multiple_of"] == "minor_units is a multiple of 5"
    assert described["price:multiple_of"] == "price is a multiple of 0.05"


def test_a_failure_says_which_step(data: Path) -> None:
    report = pp.validate(data, Amounts)
    (sample, *_) = report.rule("minor_units:multiple_of").samples
    assert sample.message == "7 is not a multiple of 5"


@pytest.mark.parametrize(
    ("annotation", "step", "message"),
    [
        (int, 0, "T.x: multiple_of on a int column needs a positive integer, got 0"),
        (int, 2.5, "T.x: multiple_of on a int column needs a positive integer, got 2.5"),
        (float, -1, "T.x: multiple_of on a float column needs a positive number, got -1"),
        (str, 5, "T.x: multiple_of applies to int, float and decimal columns, not str"),
    ],
)
def test_a_bad_step_is_a_schema_error_naming_the_field(
    annotation: type, step: object, message: str
) -> None:
    with pytest.raises(pp.SchemaError) as caught:
        type(
            "T",
            (pp.Schema,),
            {"__annotations__": {"x": annotation}, "x": pp.Field(multiple_of=step)},
        )
    assert str(caught.value) == message
