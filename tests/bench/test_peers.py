"""Every benchmark peer (bench/peers/) reports exactly the oracle's counts on a small file: the
generator's faults plus hand-written edge cases where the tools' own parsers differ from
docs/spec.md (spaces and `_` in numbers, NaN/inf, unpadded or rolled-over timestamps, a trailing
newline in a quoted phone)."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.data_gen import make_transactions
from tests.oracle import oracle_validate

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from run import COUNTING, PEERS  # noqa: E402

# The package each peer needs beyond the generator's (the test is skipped without it).
NEEDS = {
    "polars_streaming": "polars",
    "duckdb_sql": "duckdb",
    "polars_eager": "polars",
    "dataframely_polars": "dataframely",
    "pointblank_polars": "pointblank",
    "pandas_pyarrow": "pandas",
    "pyarrow_compute": "pyarrow",
    "pandera_pandas": "pandera",
    "gx_pandas": "great_expectations",
    "pure_python": "csv",
}
GOOD = {
    "txn_id": "TX9000000000",
    "timestamp": "2026-03-01T10:00:00",
    "sender_phone": "+254700000001",
    "receiver_phone": "+254700000002",
    "amount": "100.00",
    "fee": "1.00",
    "currency": "KES",
    "channel": "APP",
    "status": "SUCCESS",
    "country": "NA",
    "agent_id": "",
}
# One field changed per row (each id distinct, so only the named rule can fail).
EDGES = [
    {"amount": " 12.5"},
    {"amount": "12.5 "},
    {"amount": "1_000"},
    {"amount": "NaN"},
    {"fee": "inf"},
    {"fee": "-Infinity"},
    {"amount": "5."},
    {"amount": "+.5"},
    {"amount": "1e"},
    {"fee": "0x10"},
    {"timestamp": "2026-1-1T0:0:0"},
    {"timestamp": " 2026-01-01T00:00:00"},
    {"timestamp": "+2026-01-01T00:00:00"},
    {"timestamp": "2026-02-30T00:00:00"},
    {"timestamp": "2026-01-01T00:00:00\n"},
    {"sender_phone": "+254700000001\n"},
    {"country": "na"},
    {"currency": ""},
    {"fee": "200", "amount": "100"},
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("peers") / "tx.csv"
    make_transactions(path, 2_000, seed=7)
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        for i, change in enumerate(EDGES):
            row = GOOD | {"txn_id": f"TX{8_000_000_000 + i}"} | change
            writer.writerow(row.values())
    spec = json.loads((ROOT / "bench" / "rules.json").read_text())
    return path, oracle_validate(spec, [str(path)])


@pytest.mark.parametrize("peer", [t for t in COUNTING if not t.startswith("pyrustpipe")])
def test_peer_agrees_with_the_oracle(peer: str, data: tuple[Path, dict]) -> None:
    if importlib.util.find_spec(NEEDS[peer]) is None:
        pytest.skip(f"{NEEDS[peer]} not installed (bench/requirements.txt)")
    path, expected = data
    out = subprocess.run(
        [sys.executable, str(PEERS / f"{peer}.py"), str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    got = json.loads(out.stdout.splitlines()[-1])
    assert got["rows"] == expected["rows"]
    assert got["invalid_rows"] == expected["invalid_rows"]
    want = {name: n for name, n in expected["failures"].items() if n}
    assert {name: n for name, n in got["failures"].items() if n} == want
