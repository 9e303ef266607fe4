"""pyrustpipe.backtest: spec texts checked with errors at their line, dry runs on a sample, and
backtests over a ledger written by real validations of daily partitions (tests/ledger/daily.py).

The days' amounts come in pairs around 100 (row 1 above, row 2 below, ...), so ``amount > 100``
fails exactly the even rows: the exact rows each backtest must name."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest
import yaml
from pyrustpipe import _ledger_files
from pyrustpipe.backtest import backtest, check_spec_text, dry_run
from pyrustpipe.cli import main

from tests.ledger.daily import Transactions, day, partition, write_day

DAYS = 4
ROWS = 40
EVEN_ROWS = set(range(2, ROWS + 1, 2))


def base_spec() -> dict[str, Any]:
    spec: dict[str, Any] = copy.deepcopy(dict(Transactions.to_spec()))
    spec.pop("history", None)  # history checks are not re-judged by a backtest
    return spec


def with_amount(spec: dict[str, Any], checks: list[dict[str, Any]]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    for column in spec["columns"]:
        if column["name"] == "amount":
            column["checks"] = checks
    return spec


BASE = base_spec()
TIGHT = with_amount(BASE, [{"type": "gt", "value": 100}])


def build(folder: Path, spec: dict[str, Any]) -> tuple[Path, Path]:
    """``DAYS`` daily partitions validated with ``spec`` into a ledger: (data, ledger)."""
    data, ledger = folder / "raw", folder / "ledger"
    for index in range(DAYS):
        path = write_day(data, day(index), rows=ROWS)
        pp.validate(str(path), pp.Spec(spec), ledger=str(ledger), partition=partition(day(index)))
    return data, ledger


@pytest.fixture(scope="module")
def base_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build(tmp_path_factory.mktemp("base"), BASE)


@pytest.fixture(scope="module")
def tight_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build(tmp_path_factory.mktemp("tight"), TIGHT)


def run_backtest(ledger: Path, spec: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result = backtest(
        json.dumps(spec, indent=2), ledger=str(ledger), dataset="transactions", **kwargs
    )
    return result.to_dict()


# --- the spec store ---------------------------------------------------------------------------


def test_a_run_with_a_ledger_keeps_its_spec_beside_it(base_ledger: tuple[Path, Path]) -> None:
    _, ledger = base_ledger
    ruleset_hash = pp.compile(pp.Spec(BASE)).ruleset_hash
    stored = _ledger_files.read_spec(str(ledger), ruleset_hash)
    assert stored == BASE
    assert (ledger / "_specs" / (ruleset_hash.replace(":", "-") + ".json")).is_file()


# --- backtest ---------------------------------------------------------------------------------


def test_a_tightened_rule_names_the_rows_that_would_newly_fail(
    base_ledger: tuple[Path, Path],
) -> None:
    data, ledger = base_ledger
    result = run_backtest(ledger, TIGHT, examples=ROWS)
    assert [p["partition"] for p in result["partitions"]] == [
        partition(day(i)) for i in range(DAYS)
    ]
    for part in result["partitions"]:
        assert part["status"] == "compared", part["reason"]
        assert part["sources"] == [str(data / part["partition"] / "part-0000.csv")]
        assert (part["rows"], part["invalid_before"], part["invalid_after"]) == (ROWS, 0, 20)
        assert (part["newly_failing"], part["newly_passing"]) == (20, 0)
        assert {e["row"] for e in part["examples_newly_failing"]} == EVEN_ROWS
        assert all(e["errors"] == ["amount:gt"] for e in part["examples_newly_failing"])
        assert all(float(e["values"]["amount"]) < 100 for e in part["examples_newly_failing"])
        changed = {r["rule"]: (r["before"], r["after"]) for r in part["rules"] if r["delta"]}
        assert changed == {"amount:gt": (0, 20)}
        assert part["notes"] == []
        assert part["run_id"]
    assert result["totals"] == {
        "partitions": DAYS,
        "compared": DAYS,
        "skipped": 0,
        "rows": DAYS * ROWS,
        "newly_failing": DAYS * 20,
        "newly_passing": 0,
    }


def test_a_loosened_rule_names_the_rows_that_would_newly_pass(
    tight_ledger: tuple[Path, Path],
) -> None:
    _, ledger = tight_ledger
    result = run_backtest(ledger, BASE, examples=ROWS)
    for part in result["partitions"]:
        assert part["status"] == "compared", part["reason"]
        assert (part["invalid_before"], part["invalid_after"]) == (20, 0)
        assert (part["newly_failing"], part["newly_passing"]) == (0, 20)
        assert {e["row"] for e in part["examples_newly_passing"]} == EVEN_ROWS
        assert all(e["errors"] == ["amount:gt"] for e in part["examples_newly_passing"])
        changed = {r["rule"]: r["delta"] for r in part["rules"] if r["delta"]}
        assert changed == {"amount:gt": -20}


def test_an_unchanged_spec_changes_nothing(tight_ledger: tuple[Path, Path]) -> None:
    _, ledger = tight_ledger
    result = run_backtest(ledger, TIGHT)
    assert result["totals"]["compared"] == DAYS
    for part in result["partitions"]:
        assert (part["newly_failing"], part["newly_passing"]) == (0, 0)
        assert part["examples_newly_failing"] == part["examples_newly_passing"] == []
        assert all(r["delta"] == 0 for r in part["rules"])
        assert (part["invalid_before"], part["invalid_after"]) == (20, 20)


def test_last_takes_the_newest_partitions_and_examples_are_capped(
    base_ledger: tuple[Path, Path],
) -> None:
    _, ledger = base_ledger
    result = run_backtest(ledger, TIGHT, last=2, examples=3)
    assert [p["partition"] for p in result["partitions"]] == [
        partition(day(DAYS - 2)),
        partition(day(DAYS - 1)),
    ]
    for part in result["partitions"]:
        assert [e["row"] for e in part["examples_newly_failing"]] == [2, 4, 6]
        assert part["newly_failing"] == 20


def test_newly_passing_examples_are_the_first_rows(tight_ledger: tuple[Path, Path]) -> None:
    _, ledger = tight_ledger
    (part,) = run_backtest(ledger, BASE, last=1, examples=3)["partitions"]
    assert [e["row"] for e in part["examples_newly_passing"]] == [2, 4, 6]
    assert part["newly_passing"] == 20


def test_sensitive_columns_are_masked_in_the_examples(base_ledger: tuple[Path, Path]) -> None:
    _, ledger = base_ledger
    spec = copy.deepcopy(TIGHT)
    for column in spec["columns"]:
        if column["name"] == "txn_id":
            column["sensitive"] = True
    result = run_backtest(ledger, spec, last=1, examples=2)
    examples = result["partitions"][0]["examples_newly_failing"]
    assert len(examples) == 2
    for example in examples:
        assert example["values"]["txn_id"].startswith("«masked:")
        assert "T2026" not in json.dumps(result)


def test_a_partition_whose_source_is_gone_is_skipped(tmp_path: Path) -> None:
    data, ledger = build(tmp_path, BASE)
    shutil.rmtree(data / partition(day(1)))
    result = run_backtest(ledger, TIGHT)
    statuses = [(p["partition"], p["status"]) for p in result["partitions"]]
    assert statuses == [
        (partition(day(0)), "compared"),
        (partition(day(1)), "skipped"),
        (partition(day(2)), "compared"),
        (partition(day(3)), "compared"),
    ]
    skipped = result["partitions"][1]
    assert skipped["reason"].startswith("the source is gone")
    assert "part-0000.csv" in skipped["reason"]
    assert skipped["newly_failing"] == 0
    assert result["totals"]["skipped"] == 1
    assert result["totals"]["newly_failing"] == 3 * 20


def test_a_partition_whose_spec_is_not_stored_is_skipped(tmp_path: Path) -> None:
    _, ledger = build(tmp_path, BASE)
    shutil.rmtree(ledger / "_specs")
    result = run_backtest(ledger, TIGHT, last=1)
    part = result["partitions"][0]
    assert part["status"] == "skipped"
    assert "is not stored in the ledger" in part["reason"]


def test_a_changed_source_is_noted(tmp_path: Path) -> None:
    data, ledger = build(tmp_path, BASE)
    write_day(data, day(DAYS - 1), rows=ROWS + 2)
    part = run_backtest(ledger, TIGHT, last=1)["partitions"][0]
    assert part["status"] == "compared"
    assert part["newly_failing"] == 21
    assert len(part["notes"]) == 1 and "records 40 rows" in part["notes"][0]


def test_a_bad_spec_is_refused_before_any_partition_is_read(
    base_ledger: tuple[Path, Path],
) -> None:
    _, ledger = base_ledger
    with pytest.raises(pp.SchemaError, match=r"^spec, line 1, column 2: spec_version must be 1"):
        backtest('{"spec_version": 2}', ledger=str(ledger), dataset="transactions")


# --- check_spec_text --------------------------------------------------------------------------

YAML_BAD = """\
spec_version: 1
name: Orders
columns:
  - name: order_id
    dtype: int
    nullable: false
    checks:
      - type: gt
        valu: 0
"""

JSON_BAD = """{
  "spec_version": 1,
  "name": "Orders",
  "columns": [
    {"name": "order_id", "dtype": "int", "nullable": false,
     "checks": [{"type": "pattern", "pattern": "("}]}
  ]
}
"""


def test_valid_specs_have_no_problems() -> None:
    assert check_spec_text(json.dumps(BASE, indent=2)) == []
    assert check_spec_text(yaml.safe_dump(BASE)) == []


def test_a_yaml_error_is_placed_at_its_line_and_column() -> None:
    (problem,) = check_spec_text(YAML_BAD)
    assert (problem.line, problem.column) == (9, 9)
    assert "columns[0].checks[0].valu" in problem.message
    assert "unknown field `valu`" in problem.message


def test_a_json_engine_error_is_placed_at_its_line_and_column() -> None:
    (problem,) = check_spec_text(JSON_BAD)
    assert problem.line == 6
    assert "columns[0].checks[0]" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ('{\n  "spec_version": 1,\n  "name": "A",\n}\n', 4, 1, "invalid JSON"),
        ("spec_version: 1\nname: [A\n", 3, 1, "invalid YAML"),
        ("spec_version: 1\nname: A\nname: B\n", 3, 1, "duplicate key 'name'"),
        ("spec_version: 1\nbase: &x 1\n", 2, 7, "anchors and aliases are not allowed"),
        ("spec_version: 3\n", 1, 1, "spec_version must be 1"),
        ("name: A\nspec_version: 2\n", 2, 1, "spec_version must be 1"),
        ("- 1\n- 2\n", 1, 1, "a spec is a mapping"),
        ("", 1, 1, "the spec is empty"),
    ],
)
def test_parse_errors_name_their_place(text: str, line: int, column: int, words: str) -> None:
    (problem,) = check_spec_text(text)
    assert (problem.line, problem.column) == (line, column), problem
    assert words in problem.message


def test_a_python_row_rule_is_refused() -> None:
    text = (
        "spec_version: 1\nname: Orders\ncolumns: []\nrow_rules:\n"
        "  - name: fee_ok\n    python: \"__import__('os').system('touch /tmp/x')\"\n"
    )
    (problem,) = check_spec_text(text)
    assert (problem.line, problem.column) == (6, 5)
    assert "row rule 'fee_ok' is Python code" in problem.message
    assert "never executes Python" in problem.message


def test_python_source_is_refused_not_imported(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n\nclass A:\n    pass\n"
    (problem,) = check_spec_text(text)
    assert problem.line == 1
    assert "looks like Python code" in problem.message
    assert not marker.exists()


def test_external_rules_are_refused() -> None:
    text = '{"spec_version": 1, "columns": [],\n "external_rules": [{"name": "x"}]}'
    (problem,) = check_spec_text(text)
    assert (problem.line, problem.column) == (2, 2)
    assert "run in Python are refused" in problem.message


def test_a_spec_over_one_mebibyte_is_refused() -> None:
    (problem,) = check_spec_text("#" * (1 << 20) + "\nspec_version: 1\n")
    assert "limited to 1 MiB" in problem.message


# --- dry_run ----------------------------------------------------------------------------------


def test_a_dry_run_validates_the_first_rows_only(base_ledger: tuple[Path, Path]) -> None:
    data, _ = base_ledger
    report = dry_run(json.dumps(TIGHT), str(data), rows=10)
    assert report["rows"] == 10
    assert report["sample"] == {
        "rows": 10,
        "limit": 10,
        "sources": [str(data / partition(day(0)) / "part-0000.csv")],
        "complete": False,
    }
    rule = next(r for r in report["rules"] if r["name"] == "amount:gt")
    assert rule["failed"] == 5
    assert [s["row"] for s in rule["samples"]] == [2, 4, 6, 8, 10]
    assert {s["source"] for s in rule["samples"]} == set(report["sample"]["sources"])


def test_a_dry_run_reads_on_into_the_next_files(base_ledger: tuple[Path, Path]) -> None:
    data, _ = base_ledger
    report = dry_run(json.dumps(TIGHT), str(data), rows=ROWS + 5)
    assert report["rows"] == ROWS + 5
    assert [s["rows"] for s in report["sources"]] == [ROWS, 5]
    assert report["sample"]["complete"] is False
    whole = dry_run(json.dumps(TIGHT), str(data), rows=10_000)
    assert whole["rows"] == DAYS * ROWS and whole["sample"]["complete"] is True


def test_a_dry_run_keeps_records_with_line_breaks_whole(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('id,note\n1,"two\nlines"\n2,plain\n3,"x"\n')
    spec = {
        "spec_version": 1,
        "name": "Notes",
        "columns": [
            {"name": "id", "dtype": "int", "nullable": False, "checks": []},
            {"name": "note", "dtype": "str", "nullable": False, "checks": []},
        ],
    }
    report = dry_run(json.dumps(spec), str(path), rows=2)
    assert (report["rows"], report["invalid_rows"]) == (2, 0)


def test_a_dry_run_masks_sensitive_columns(base_ledger: tuple[Path, Path]) -> None:
    data, _ = base_ledger
    spec = with_amount(BASE, [{"type": "min_length", "value": 99}])
    for column in spec["columns"]:
        if column["name"] == "amount":
            column["dtype"] = "str"
            column["sensitive"] = True
    report = dry_run(json.dumps(spec), str(data), rows=4)
    rule = next(r for r in report["rules"] if r["name"] == "amount:min_length")
    assert rule["failed"] == 4
    assert all(s["value"].startswith("«masked:") for s in rule["samples"])


def test_a_dry_run_of_a_bad_spec_names_the_place() -> None:
    with pytest.raises(pp.SchemaError, match=r"^spec, line 9, column 9: .*valu"):
        dry_run(YAML_BAD, "nowhere.csv")


# --- the command line -------------------------------------------------------------------------


def test_the_cli_prints_the_backtest(
    base_ledger: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ledger = base_ledger
    spec = tmp_path / "tight.yaml"
    spec.write_text(yaml.safe_dump(TIGHT))
    args = ["backtest", str(spec), "--ledger", str(ledger), "--dataset", "transactions"]
    assert main([*args, "--last", "2", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [p["newly_failing"] for p in result["partitions"]] == [20, 20]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{partition(day(3))}" in out and "newly failing 20" in out
    assert "4 compared, 0 skipped: 80 rows newly failing, 0 newly passing" in out


def test_the_cli_names_the_spec_file_in_errors(
    base_ledger: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, ledger = base_ledger
    spec = tmp_path / "bad.yaml"
    spec.write_text(YAML_BAD)
    code = main(["backtest", str(spec), "--ledger", str(ledger), "--dataset", "transactions"])
    assert code == 2
    assert f"{spec}, line 9, column 9:" in capsys.readouterr().err


# --- other formats ----------------------------------------------------------------------------


def write_as(csv_path: Path, fmt: str) -> Path:
    """The day's CSV rewritten as ``fmt``: NDJSON (amounts as JSON numbers), Parquet (typed
    amounts), zstd-compressed CSV, or one pretty-printed JSON array."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(csv_path, newline="") as handle:
        records: list[dict[str, Any]] = list(csv.DictReader(handle))
    for record in records:
        record["amount"] = float(record["amount"])
        record["agent_id"] = record["agent_id"] or None
    target = csv_path.with_suffix(
        {"ndjson": ".ndjson", "parquet": ".parquet", "zst": ".csv.zst", "array": ".json"}[fmt]
    )
    if fmt == "ndjson":
        target.write_text("".join(json.dumps(r) + "\n" for r in records))
    elif fmt == "array":
        target.write_text(json.dumps(records, indent=2))
    elif fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(records), target)
    else:
        with pa.output_stream(str(target), compression="zstd") as out:
            out.write(csv_path.read_bytes())
    csv_path.unlink()
    return target


@pytest.mark.parametrize("fmt", ["ndjson", "parquet", "zst"])
def test_a_backtest_reads_every_format(tmp_path: Path, fmt: str) -> None:
    ledger = tmp_path / "ledger"
    for index in range(2):
        path = write_as(write_day(tmp_path / "raw", day(index), rows=ROWS), fmt)
        pp.validate(str(path), pp.Spec(BASE), ledger=str(ledger), partition=partition(day(index)))
    result = run_backtest(ledger, TIGHT, examples=ROWS)
    for part in result["partitions"]:
        assert part["status"] == "compared", part["reason"]
        assert (part["newly_failing"], part["newly_passing"]) == (20, 0)
        assert {e["row"] for e in part["examples_newly_failing"]} == EVEN_ROWS
        assert all(float(e["values"]["amount"]) < 100 for e in part["examples_newly_failing"])
        assert all(e["values"]["currency"] == "KES" for e in part["examples_newly_failing"])
    back = run_backtest(ledger, BASE)
    assert back["totals"]["newly_failing"] == back["totals"]["newly_passing"] == 0


@pytest.mark.parametrize("fmt", ["ndjson", "parquet", "zst", "array"])
def test_a_dry_run_reads_every_format(tmp_path: Path, fmt: str) -> None:
    path = write_as(write_day(tmp_path / "raw", day(0), rows=ROWS), fmt)
    report = dry_run(json.dumps(TIGHT), str(path), rows=10)
    whole = fmt == "array"  # one JSON array is taken whole
    assert report["rows"] == (ROWS if whole else 10)
    assert report["sample"]["sources"] == [str(path)]
    rule = next(r for r in report["rules"] if r["name"] == "amount:gt")
    assert rule["failed"] == (20 if whole else 5)


def test_the_cli_reads_the_spec_from_stdin(
    base_ledger: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    _, ledger = base_ledger
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(TIGHT)))
    args = ["backtest", "-", "--ledger", str(ledger), "--dataset", "transactions", "--last", "1"]
    assert main([*args, "--format", "json"]) == 0
    (part,) = json.loads(capsys.readouterr().out)["partitions"]
    assert part["partition"] == partition(day(DAYS - 1)) and part["newly_failing"] == 20
