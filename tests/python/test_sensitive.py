"""Sensitive columns (docs/spec.md, "Sensitive columns"): their values leave a run only as keyed
tokens — in the report, its messages, the CLI's output — while the quarantine keeps them."""

from __future__ import annotations

import json
import re
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path

import pyrustpipe as pp
import pytest

PHONE = "+256772000111"
ACCOUNT = "ACC-9000417"
KEY = "test-mask-key-7f2c"
TOKEN = re.compile(r"«masked:[0-9a-f]{12}»")

# Row 1 is clean; the phone repeats (unique), breaks the pattern, and one cell is not an int.
DATA = (
    "id,phone,account,amount\n"
    f"1,+256700000001,ACC-1,5\n"
    f"2,{PHONE},{ACCOUNT},5\n"
    f"3,{PHONE},{ACCOUNT},-1\n"
    f"4,x{PHONE},ACC-2,5\n"
)


def _payments() -> type[pp.Schema]:
    with warnings.catch_warnings():
        # the Python row rule below cannot be traced, on purpose
        warnings.simplefilter("ignore", pp.UntraceableRuleWarning)

        class Payments(pp.Schema):
            id: int
            phone: str = pp.Field(unique=True, pattern=r"^\+[0-9]+$", sensitive=True)
            account: int = pp.Field(sensitive=True)  # "ACC-…" fails type: its message quotes it
            amount: float = pp.Field(gt=0)

            @pp.row_rule
            def phone_not_blocked(row):  # noqa: N805 - a row rule takes the row
                # an `if` on a column cannot be traced: this runs in Python, and its message
                # quotes the sensitive value
                if row.phone.startswith("+25677"):
                    raise ValueError(f"blocked number {row.phone}")
                return True

    return Payments


Payments = _payments()


def _data(tmp_path: Path) -> Path:
    path = tmp_path / "payments.csv"
    path.write_text(DATA, encoding="utf-8")
    return path


def _validate(path: Path, **kwargs: object) -> pp.Report:
    return pp.validate(str(path), Payments, **kwargs)  # type: ignore[arg-type]


def test_field_and_spec_carry_the_flag() -> None:
    spec = Payments.to_spec()
    flags = {c["name"]: c.get("sensitive", False) for c in spec["columns"]}
    assert flags == {"id": False, "phone": True, "account": True, "amount": False}
    assert "sensitive=True" in repr(pp.Field(sensitive=True))
    with pytest.raises(TypeError, match="sensitive"):
        pp.Field(sensitive="yes")  # type: ignore[arg-type]


def test_report_shows_tokens_and_the_quarantine_keeps_values(tmp_path: Path) -> None:
    quarantine = tmp_path / "bad.csv"
    report = _validate(_data(tmp_path), quarantine=str(quarantine), mask_key=KEY)
    text = report.to_json()
    assert PHONE not in text and ACCOUNT not in text and "256772000" not in text
    assert KEY not in text
    # every failing rule of a sensitive column shows a token where the value was
    for name in ("phone:unique", "phone:pattern", "account:type"):
        rule = report.rule(name)
        assert rule.failed and rule.samples, name
        for sample in rule.samples:
            assert sample.value is not None and TOKEN.fullmatch(sample.value), sample
    assert TOKEN.match(report.rule("account:type").samples[0].message)
    assert report.rule("account:type").samples[0].message.endswith("is not a valid int")
    # the Python row rule's message quoted the value: the engine masked it
    python_rule = report.rule("phone_not_blocked")
    assert python_rule.failed == 2
    assert all(TOKEN.search(s.message or "") for s in python_rule.samples), python_rule.samples
    # same value, same token, in every rule of the run
    unique_tokens = {s.value for s in report.rule("phone:unique").samples}
    assert len(unique_tokens) == 1
    assert unique_tokens.pop() in python_rule.samples[0].message  # type: ignore[operator]
    # the quarantine is the data: real values
    assert PHONE in quarantine.read_text(encoding="utf-8")


def test_same_key_same_tokens_across_runs_other_key_other_tokens(tmp_path: Path) -> None:
    path = _data(tmp_path)

    def tokens(**kwargs: object) -> list[str | None]:
        return [s.value for s in _validate(path, **kwargs).rule("phone:pattern").samples]

    first, again, other = tokens(mask_key=KEY), tokens(mask_key=KEY), tokens(mask_key="other")
    assert first == again
    assert first != other
    # without a key: a random one per run
    assert tokens() != tokens()


def test_the_key_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _data(tmp_path)
    explicit = _validate(path, mask_key=KEY).rule("phone:pattern").samples
    monkeypatch.setenv("PYRUSTPIPE_MASK_KEY", KEY)
    from_env = _validate(path).rule("phone:pattern").samples
    assert [s.value for s in from_env] == [s.value for s in explicit]


def test_the_key_is_never_in_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="mask_key") as caught:
        pp.validate(str(_data(tmp_path)), {"spec_version": 1, "columns": []}, mask_key="")
    monkeypatch.setenv("PYRUSTPIPE_MASK_KEY", "")
    with pytest.raises(pp.PyRustPipeError) as from_env:
        pp.validate(str(_data(tmp_path)), Payments.to_spec())
    assert "PYRUSTPIPE_MASK_KEY" in str(from_env.value)
    assert KEY not in str(caught.value)


def test_rule_files_take_the_flag(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "spec_version: 1\n"
        "columns:\n"
        "  - {name: id, dtype: int}\n"
        "  - name: phone\n"
        "    dtype: str\n"
        "    sensitive: true\n"
        "    checks: [{type: unique}]\n",
        encoding="utf-8",
    )
    report = pp.validate(str(_data(tmp_path)), str(rules), mask_key=KEY)
    assert PHONE not in report.to_json()
    assert all(TOKEN.fullmatch(s.value or "") for s in report.rule("phone:unique").samples)


def test_cli_output_and_logs_never_show_the_value(
    tmp_path: Path,
    run_cli: Callable[..., subprocess.CompletedProcess[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _data(tmp_path)
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(Payments.to_spec()), encoding="utf-8")
    # the project has no log setting of its own; RUST_LOG turns on any Rust logging there is
    monkeypatch.setenv("RUST_LOG", "trace")
    monkeypatch.setenv("PYRUSTPIPE_MASK_KEY", KEY)
    for fmt in ("table", "json"):
        done = run_cli(
            "validate",
            str(data),
            "--rules",
            str(rules),
            "--format",
            fmt,
            "--quarantine",
            str(tmp_path / f"bad-{fmt}.csv"),
            "--metrics-output",
            str(tmp_path / f"report-{fmt}.json"),
        )
        assert done.returncode == 1, done.stderr
        for stream in (done.stdout, done.stderr, (tmp_path / f"report-{fmt}.json").read_text()):
            assert "256772000" not in stream and ACCOUNT not in stream
            assert KEY not in stream
        assert TOKEN.search(done.stdout), done.stdout
        assert PHONE in (tmp_path / f"bad-{fmt}.csv").read_text(encoding="utf-8")


def test_init_keeps_a_sensitive_columns_values_out(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    data = tmp_path / "contacts.csv"
    data.write_text(
        "id,phone\n" + "".join(f"{i},+2567720001{i % 3}\n" for i in range(1, 40)),
        encoding="utf-8",
    )
    done = run_cli("init", str(data), "--name", "Contacts", "--sensitive", "phone")
    assert done.returncode == 0, done.stderr
    assert "25677200" not in done.stdout + done.stderr
    assert "sensitive=True" in done.stdout
    # the draft still validates its own data
    rules = tmp_path / "rules.py"
    rules.write_text(done.stdout, encoding="utf-8")
    assert pp.validate(str(data), f"{rules}:Contacts").passed
    wrong = run_cli("init", str(data), "--sensitive", "phon")
    assert wrong.returncode == 2 and "phon" in wrong.stderr
