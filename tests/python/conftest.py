"""Fixtures of the Python package's tests.

The package is imported from the installed build (``maturin develop``); when the checkout has not
been installed yet, ``python/`` is put on ``sys.path`` so the pure-Python parts stay testable.
Engine-backed tests import ``pyrustpipe._core`` directly and fail (never skip) without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON_DIR = ROOT / "python"

try:
    import pyrustpipe  # noqa: F401
except ImportError:  # pragma: no cover - not installed yet
    sys.path.insert(0, str(PYTHON_DIR))


def cli_env() -> dict[str, str]:
    """The environment of a subprocess: it imports the same pyrustpipe as these tests."""
    import pyrustpipe

    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(pyrustpipe.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    env["PYRUSTPIPE_NO_PROGRESS"] = "1"
    env.pop("PYRUSTPIPE_DEBUG", None)
    return env


@pytest.fixture(name="cli_env")
def cli_env_fixture() -> dict[str, str]:
    """Environment for a subprocess that imports this checkout's pyrustpipe."""
    return cli_env()


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m pyrustpipe ARGS`` in ``tmp_path``."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pyrustpipe", *args],
            cwd=cwd or tmp_path,
            env=cli_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a text file below ``tmp_path`` (exact bytes: no newline translation)."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return path

    return write_file


# -- a report as the engine writes it (docs/report.md) --------------------------------------


def rule(name: str, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "kind": name.split(":")[-1],
        "scope": "column",
        "column": name.split(":")[0],
        "severity": "error",
        "failed": 0,
        "failure_rate": 0.0,
        "tolerance": None,
        "allowed_failures": 0,
        "passed": True,
        "observed": None,
        "samples": [],
    }
    base.update(overrides)
    return base


def report_dict(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "report_version": 1,
        "engine_version": "0.1.0",
        "schema_name": "Transactions",
        "ruleset_hash": "sha256:abc",
        "passed": False,
        "rows": 1000,
        "valid_rows": 985,
        "invalid_rows": 15,
        "skipped_blank_lines": 2,
        "bytes": 96123,
        "duration_s": 0.31,
        "rows_per_s": 3225.8,
        "threads": 2,
        "sources": [
            {
                "uri": "data/tx.csv",
                "format": "csv",
                "bytes": 96123,
                "rows": 1000,
                "valid_rows": 985,
                "invalid_rows": 15,
                "skipped_blank_lines": 2,
                "columns": ["txn_id", "amount"],
                "failures": {"amount:gt": 12, "txn_id:unique": 3},
            }
        ],
        "rules": [
            rule("schema:missing_columns", scope="schema", column=None),
            rule(
                "amount:gt",
                failed=12,
                failure_rate=0.012,
                passed=False,
                samples=[
                    {
                        "row": 17,
                        "line": 18,
                        "source": "data/tx.csv",
                        "column": "amount",
                        "value": "-5.00",
                        "message": "-5.00 is not > 0",
                    }
                ],
            ),
            rule(
                "txn_id:unique",
                failed=3,
                failure_rate=0.003,
                passed=False,
                severity="warn",
            ),
            rule(
                "fee:ge",
                failed=2,
                failure_rate=0.002,
                tolerance={"count": 5},
                allowed_failures=5,
            ),
            rule(
                "amount:mean",
                scope="dataset",
                failed=1,
                failure_rate=0.001,
                passed=False,
                observed=7.5,
            ),
        ],
        "outputs": {
            "valid": "out/valid.csv",
            "quarantine": "out/q.csv",
            "metrics": None,
        },
    }
    data.update(overrides)
    return data


@pytest.fixture(name="report_dict")
def report_dict_fixture() -> Callable[..., dict[str, Any]]:
    """A factory of report dicts: ``report_dict(passed=True)``."""
    return report_dict
