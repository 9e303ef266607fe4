"""The ``pyrustpipe`` command line, run as ``python -m pyrustpipe`` in a subprocess.

Tests marked "engine" need the Rust extension and fail without it."""

from __future__ import annotations

import csv
import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pyrustpipe as pp
import pytest

Run = Callable[..., CompletedProcess[str]]
Write = Callable[[str, str], Path]

RULES = """
import pyrustpipe as pp

class Orders(pp.Schema):
    order_id: int = pp.Field(unique=True)
    amount: float = pp.Field(gt=0)
    fee: float = pp.Field(ge=0)
    currency: str = pp.Field(isin=["KES", "UGX"])

    @pp.row_rule
    def fee_below_amount(row):
        return row.fee <= row.amount
"""
GOOD = "order_id,amount,fee,currency\n1,10.0,1.0,KES\n2,20,0,UGX\n3,5.5,5.5,KES\n"
BAD = (
    "order_id,amount,fee,currency\n"
    "1,10.0,1.0,KES\n"  # row 1 ok
    "2,-5,0,KES\n"  # row 2 amount:gt, fee_below_amount (0 <= -5 is false)
    "3,5,6,UGX\n"  # row 3 fee_below_amount
    "3,7,1,USD\n"  # row 4 order_id:unique (rows 3 and 4), currency:isin
)


def assert_one_line_error(result: CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = [
        line for line in result.stderr.splitlines() if not line.startswith("pyrustpipe: warning:")
    ]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pyrustpipe: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


# -- no engine needed ----------------------------------------------------------------------------


def test_the_program_runs_main_then_exits_with_its_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pyrustpipe import cli

    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '\npyrustpipe = "pyrustpipe.cli:run"\n' in pyproject  # the console script
    missing = str(tmp_path / "missing.json")
    frozen = gc.get_freeze_count()
    assert cli.main(["report", missing]) == 2
    assert gc.get_freeze_count() == frozen  # main leaves a long-lived caller's collector alone
    monkeypatch.setattr(sys, "argv", ["pyrustpipe", "report", missing])
    try:
        with pytest.raises(SystemExit) as exited:
            cli.run()
        assert exited.value.code == 2
    finally:
        gc.unfreeze()


def test_help(run_cli: Run) -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("validate", "init", "compile", "report"):
        assert command in result.stdout


def help_of(parser: Any, args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        parser.parse_args(args)
    return str(capsys.readouterr().out)


def test_a_command_built_alone_parses_and_helps_as_in_the_whole_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pyrustpipe.cli import build_parser

    whole = build_parser()
    commands = help_of(whole, ["--help"], capsys)
    names = ["validate", "gc", "init", "compile", "report", "history", "backtest", "serve"]
    assert all(name in commands for name in names)
    for name in names:
        assert help_of(build_parser([name]), [name, "--help"], capsys) == help_of(
            whole, [name, "--help"], capsys
        )
    # What names no command gets the whole parser, and its list of commands.
    assert help_of(build_parser(["--help"]), ["--help"], capsys) == commands
    args = build_parser(["validate", "x.csv", "-r", "r.py:X"]).parse_args(
        ["validate", "x.csv", "-r", "r.py:X"]
    )
    assert (args.command, args.data, args.rules) == ("validate", ["x.csv"], "r.py:X")


def test_version(run_cli: Run) -> None:
    from pyrustpipe._core import build_info

    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("pyrustpipe ")
    info = build_info()
    assert info["profile"] in ("release", "debug") and "gzip" in info["codecs"]
    # argparse wraps the line at the terminal width.
    text = " ".join(result.stdout.split())
    assert f"engine {info['engine_version']}, {info['profile']} build, {info['target']}" in text
    assert f"codecs: {', '.join(info['codecs'])}" in text


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ((), ("required: COMMAND",)),
        (("frobnicate",), ("invalid choice", "'validate'", "'serve'")),
        (("validate", "x.csv"), ("--rules",)),
        (("validate", "--rules", "r.py:X"), ("DATA",)),
        (("validate", "x.csv", "-r", "r.py:X", "--threads", "0"), ("not a whole number >= 1",)),
        (
            ("validate", "x.csv", "-r", "r.py:X", "--sample-size", "x"),
            ("not an integer",),
        ),
        (("validate", "x.csv", "-r", "r.py:X", "--format", "xml"), ("invalid choice",)),
        (
            ("validate", "x.csv", "-r", "missing.py:X"),
            ("rules file not found: missing.py",),
        ),
        (("validate", "x.csv", "-r", "missing.yaml"), ("rules file not found",)),
        (
            ("validate", "x.csv", "-r", "nonsense"),
            ("cannot load rules from 'nonsense'",),
        ),
        (("compile", "missing.py:X"), ("rules file not found",)),
        (("report", "missing.json"), ("No such file or directory: missing.json",)),
        (("init",), ("DATA",)),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    run_cli: Run, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    assert_one_line_error(run_cli(*args), *fragments)


def test_rule_errors_exit_2_naming_the_field(run_cli: Run, write: Write) -> None:
    write(
        "bad.py",
        "import pyrustpipe as pp\nclass X(pp.Schema):\n    n: int = pp.Field(pattern='x')\n",
    )
    write("data.csv", "n\n1\n")
    assert_one_line_error(
        run_cli("validate", "data.csv", "--rules", "bad.py:X"),
        "X.n: pattern applies to str",
    )


def test_a_misspelt_class_name_suggests_the_schema(run_cli: Run, write: Write) -> None:
    write("rules.py", RULES)
    write("data.csv", GOOD)
    assert_one_line_error(
        run_cli("validate", "data.csv", "--rules", "rules.py:Order"),
        "rules.py: has no attribute 'Order' (did you mean 'Orders'?)",
    )
    assert_one_line_error(run_cli("compile", "rules.py:Ordres"), "(did you mean 'Orders'?)")


def test_a_misspelt_column_in_a_row_rule_exits_2(run_cli: Run, write: Write) -> None:
    write(
        "typo.py",
        "import pyrustpipe as pp\nclass Penguins(pp.Schema):\n    bill_length_mm: float\n"
        "    @pp.row_rule\n    def long_bill(row):\n        return row.bill_lenght_mm > 40\n",
    )
    write("data.csv", "bill_length_mm\n41\n")
    result = run_cli("validate", "data.csv", "--rules", "typo.py:Penguins")
    assert_one_line_error(
        result,
        "Penguins.long_bill: row rule reads unknown column 'bill_lenght_mm' "
        "(did you mean 'bill_length_mm'?)",
    )
    assert "warning" not in result.stderr  # an error, not a Python-run rule


def test_yaml_spec_with_code_is_refused(run_cli: Run, write: Write) -> None:
    write("evil.yaml", "spec_version: !!python/object/apply:os.system ['echo pwned']\n")
    result = run_cli("compile", "evil.yaml")
    assert_one_line_error(result, "invalid YAML")
    assert "pwned" not in result.stdout


@pytest.mark.parametrize(("passed", "code"), [(True, 0), (False, 1)])
def test_report_renders_a_saved_report(
    run_cli: Run, write: Write, report_dict: Callable[..., Any], passed: bool, code: int
) -> None:
    write("r.json", json.dumps(report_dict(passed=passed)))
    result = run_cli("report", "r.json")
    assert result.returncode == code, result.stderr
    assert "amount:gt" in result.stdout and "Transactions" in result.stdout
    assert ("passed" if passed else "FAILED") in result.stdout
    assert result.stderr == ""


def test_summary_notes_quote_garbage_and_retries(
    run_cli: Run, write: Write, report_dict: Callable[..., Any]
) -> None:
    data = report_dict()
    write("clean.json", json.dumps(data))
    data["sources"][0]["quote_garbage_records"] = 3
    data["io"] = {"retries": {"get_object": 2, "head_object": 1}}
    write("noted.json", json.dumps(data))
    clean = run_cli("report", "clean.json").stdout
    assert "closing quote" not in clean and "retries" not in clean
    noted = " ".join(run_cli("report", "noted.json").stdout.split())
    assert "data/tx.csv: 3 CSV record(s) have text after a closing quote" in noted
    assert "storage retries: get_object 2, head_object 1" in noted


def test_report_json_format(run_cli: Run, write: Write, report_dict: Callable[..., Any]) -> None:
    data = report_dict()
    write("r.json", json.dumps(data))
    result = run_cli("report", "r.json", "--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == data


@pytest.mark.parametrize("text", ["{not json", "[]", '{"a": 1}'])
def test_report_of_a_non_report_exits_2(run_cli: Run, write: Write, text: str) -> None:
    write("r.json", text)
    assert_one_line_error(run_cli("report", "r.json"), "r.json")


# -- engine-backed -------------------------------------------------------------------------------


@pytest.fixture
def rules(write: Write) -> Path:
    return write("rules.py", RULES)


def test_validate_passes_exit_0(run_cli: Run, write: Write, rules: Path) -> None:
    write("good.csv", GOOD)
    result = run_cli("validate", "good.csv", "--rules", "rules.py:Orders")
    assert result.returncode == 0, result.stderr
    assert "passed" in result.stdout
    assert "3 rows" in result.stdout and "3 valid" in result.stdout


def test_validate_fails_exit_1_table(run_cli: Run, write: Write, rules: Path) -> None:
    write("bad.csv", BAD)
    result = run_cli("validate", "bad.csv", "--rules", "rules.py:Orders")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "FAILED" in out
    assert "4 rows" in out and "1 valid" in out and "3 invalid" in out
    for name in ("amount:gt", "fee_below_amount", "order_id:unique", "currency:isin"):
        assert name in out
    assert "samples of amount:gt" in out and "row 2" in out


def test_validate_json_is_exactly_the_report(
    run_cli: Run, write: Write, rules: Path, tmp_path: Path
) -> None:
    write("bad.csv", BAD)
    result = run_cli(
        "validate",
        "bad.csv",
        "--rules",
        "rules.py:Orders",
        "--format",
        "json",
        "--metrics-output",
        "metrics.json",
        "--sample-size",
        "1",
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["report_version"] == 1
    assert (report["rows"], report["valid_rows"], report["invalid_rows"]) == (4, 1, 3)
    failed = {r["name"]: r["failed"] for r in report["rules"]}
    assert failed["amount:gt"] == 1
    assert failed["fee_below_amount"] == 2
    assert failed["order_id:unique"] == 2
    assert failed["currency:isin"] == 1
    assert all(len(r["samples"]) <= 1 for r in report["rules"])
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["rows"] == 4 and saved["ruleset_hash"] == report["ruleset_hash"]
    again = run_cli("report", "metrics.json")
    assert again.returncode == 1


def test_validate_writes_quarantine_and_valid_rows(
    run_cli: Run, write: Write, rules: Path, tmp_path: Path
) -> None:
    write("bad.csv", BAD)
    result = run_cli(
        "validate",
        "bad.csv",
        "-r",
        "rules.py:Orders",
        "--quarantine",
        "q.csv",
        "--valid-output",
        "v.csv",
    )
    assert result.returncode == 1, result.stderr
    assert "q.csv" in result.stdout and "v.csv" in result.stdout
    with open(tmp_path / "q.csv", newline="") as handle:
        quarantined = list(csv.DictReader(handle))
    assert [int(r["_pyrustpipe_row"]) for r in quarantined] == [2, 3, 4]
    assert "amount:gt" in quarantined[0]["_pyrustpipe_errors"]
    with open(tmp_path / "v.csv", newline="") as handle:
        valid = list(csv.DictReader(handle))
    assert [r["order_id"] for r in valid] == ["1"]


def test_validate_dialect_flags(run_cli: Run, write: Write, rules: Path) -> None:
    """--delimiter, --no-header and --null-values override the rules' CSV dialect."""
    write("semi.txt", "1;10.0;1.0;KES\n2;20;NA;UGX\n3;5.5;5.5;KES\n")
    flags = ["--rules", "rules.py:Orders", "--format", "json", "--delimiter", ";", "--no-header"]
    plain = run_cli("validate", "semi.txt", *flags)
    assert plain.returncode == 1, plain.stderr
    report = json.loads(plain.stdout)
    failed = {r["name"]: r["failed"] for r in report["rules"] if r["failed"]}
    assert report["rows"] == 3 and failed == {"fee:type": 1}
    nulls = run_cli("validate", "semi.txt", *flags, "--null-values", ",NA")
    failed = {r["name"]: r["failed"] for r in json.loads(nulls.stdout)["rules"] if r["failed"]}
    assert failed == {"fee:not_null": 1}
    bad = run_cli("validate", "semi.txt", *flags, "--delimiter", ";;")
    assert_one_line_error(bad, "--delimiter")


def test_validate_with_a_json_spec(run_cli: Run, write: Write, rules: Path) -> None:
    compiled = run_cli("compile", "rules.py:Orders")
    assert compiled.returncode == 0, compiled.stderr
    write("rules.json", compiled.stdout)
    write("bad.csv", BAD)
    result = run_cli("validate", "bad.csv", "-r", "rules.json", "--format", "json")
    assert result.returncode == 1
    names = {r["name"] for r in json.loads(result.stdout)["rules"]}
    assert {"amount:gt", "fee_below_amount", "order_id:unique"} <= names


def test_compile_prints_spec_and_hash(run_cli: Run, rules: Path) -> None:
    result = run_cli("compile", "rules.py:Orders")
    assert result.returncode == 0, result.stderr
    spec = json.loads(result.stdout)
    assert spec["name"] == "Orders" and spec["spec_version"] == 1
    assert result.stderr.startswith("ruleset_hash: sha256:")
    assert result.stdout.startswith("{\n  ")
    normalized = run_cli("compile", "rules.py:Orders", "--normalized")
    assert normalized.returncode == 0
    assert json.loads(normalized.stdout)["name"] == "Orders"
    assert normalized.stderr == result.stderr


def test_compile_rules_prints_the_engines_rule_table(run_cli: Run, rules: Path) -> None:
    result = run_cli("compile", "rules.py:Orders", "--rules")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["schema:missing_columns", "error", "schema"]
    names = [line.split()[0] for line in lines]
    assert names == [r.name for r in pp.compile(pp.load_rules(f"{rules}:Orders")).rules]
    assert result.stderr.startswith("ruleset_hash: sha256:")


def test_untraceable_rule_warns_on_stderr(run_cli: Run, write: Write) -> None:
    write(
        "slow.py",
        "import pyrustpipe as pp\nclass S(pp.Schema):\n    a: int\n    b: int\n"
        "    @pp.row_rule\n    def both(row):\n        return row.a > 0 and row.b > 0\n",
    )
    write("d.csv", "a,b\n1,1\n1,0\n0,5\n")
    result = run_cli("validate", "d.csv", "-r", "slow.py:S", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert "pyrustpipe: warning: row rule 'both' of S cannot be compiled to Rust" in result.stderr
    report = json.loads(result.stdout)
    assert next(r for r in report["rules"] if r["name"] == "both")["failed"] == 2
    assert (report["rows"], report["invalid_rows"]) == (3, 2)


def test_missing_data_exits_2(run_cli: Run, rules: Path) -> None:
    assert_one_line_error(run_cli("validate", "nope.csv", "-r", "rules.py:Orders"), "nope.csv")


def test_init_prints_a_schema_that_compiles(run_cli: Run, write: Write, tmp_path: Path) -> None:
    rows = ["id,amount,currency,opened,note"]
    for i in range(1, 41):
        note = "" if i % 5 == 0 else f"n{i}"
        rows.append(f"{i},{i * 1.5},{['KES', 'UGX'][i % 2]},2026-01-{(i % 28) + 1:02d},{note}")
    write("accounts.csv", "\n".join(rows) + "\n")
    result = run_cli("init", "accounts.csv")
    assert result.returncode == 0, result.stderr
    source = result.stdout
    assert "class Accounts(pp.Schema):" in source
    namespace: dict[str, Any] = {}
    exec(compile(source, "init.py", "exec"), namespace)  # noqa: S102 - our own output
    spec = namespace["Accounts"].to_spec()
    columns = {c["name"]: c for c in spec["columns"]}
    assert columns["id"]["dtype"] == "int"
    assert {
        "type": "unique",
        "keep": "none",
        "severity": "error",
        "tolerance": None,
    } in columns["id"]["checks"]
    assert columns["amount"]["dtype"] == "float"
    assert {c["type"] for c in columns["amount"]["checks"]} >= {"ge", "le"}
    assert columns["currency"]["checks"][0]["values"] in (
        ["KES", "UGX"],
        ["UGX", "KES"],
    )
    assert columns["opened"]["dtype"] == "date"
    assert columns["note"]["nullable"] is True
    write("accounts_rules.py", source)
    check = run_cli("validate", "accounts.csv", "-r", "accounts_rules.py:Accounts")
    assert check.returncode == 0, check.stdout + check.stderr

    named = run_cli("init", "accounts.csv", "--name", "Acc")
    assert "class Acc(pp.Schema):" in named.stdout
    assert_one_line_error(
        run_cli("init", "accounts.csv", "--name", "1bad"),
        "not a valid Python class name",
    )
