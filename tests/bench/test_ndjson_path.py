"""bench/ndjson_path.py's two sides agree: on the transactions as JSON lines, with every value a
string, with numeric amounts and with the parties as nested objects, pyrustpipe and the polars
scan count every rule alike."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pl = pytest.importorskip("polars")

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import pyrustpipe as pp  # noqa: E402
from ndjson_path import (  # noqa: E402
    NestedTransactions,
    polars_counts,
    polars_nested_counts,
    schemas,
    write_files,
)
from typed_path import our_counts  # noqa: E402


def test_pyrustpipe_and_polars_agree_on_json_lines(tmp_path: Path) -> None:
    strings, numbers, nested = write_files(20_000, tmp_path)
    assert strings.read_text().startswith('{"txn_id":"TX')
    assert '"amount":"' not in numbers.read_text()
    rules = pp.load_rules(str(ROOT / "bench" / "rules.py") + ":Transactions")
    text_schema, number_schema = schemas(strings)
    for path, schema in ((strings, text_schema), (numbers, number_schema)):
        theirs = polars_counts(path, schema)
        assert theirs["rows"] == 20_000 and theirs["invalid_rows"] > 0
        assert theirs["amount:gt"] > 0 and theirs["txn_id:unique"] > 0
        assert our_counts(pp.validate(str(path), rules)) == theirs
    theirs = polars_nested_counts(nested, text_schema)
    assert '"payer":{"msisdn":"+254' in nested.read_text()
    assert theirs["payer.msisdn:pattern"] > 0 and theirs["payer.country:pattern"] > 0
    assert our_counts(pp.validate(str(nested), NestedTransactions)) == theirs
