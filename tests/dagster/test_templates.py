"""Partition keys in location templates: sources get the key as it is, output locations get it
percent-encoded, so a dynamic partition key cannot move an output out of its prefix."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster_pyrustpipe.checks import _fill


def test_sources_take_the_key_as_it_is() -> None:
    assert _fill("s3://raw/tx/dt={partition_key}/", "2026-01-01") == "s3://raw/tx/dt=2026-01-01/"
    assert _fill("data/{partition_key}.csv", "EU|2026") == "data/EU|2026.csv"


@pytest.mark.parametrize(
    ("key", "encoded"),
    [("2026-01-01", "2026-01-01"), ("../../etc", "..%2F..%2Fetc"), ("EU|2026", "EU%7C2026")],
)
def test_outputs_take_the_key_percent_encoded(key: str, encoded: str) -> None:
    assert _fill("s3://q/tx/{partition_key}/", key, output=True) == f"s3://q/tx/{encoded}/"


def test_a_template_needs_a_partition() -> None:
    with pytest.raises(dg.Failure, match="needs a partition key"):
        _fill("s3://q/{partition_key}/", None, output=True)
    assert _fill(None, "x") is None
