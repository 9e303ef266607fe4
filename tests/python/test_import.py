"""``import pyrustpipe`` stays light: no rich, yaml, dataframe or arrow library at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("rich", "yaml", "polars", "pandas", "pyarrow", "numpy", "dataclasses")


def imported_modules(code: str, env: dict[str, str]) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize(
    "code",
    [
        "import pyrustpipe",
        "import pyrustpipe as pp; pp.col('a') > 1",
        "import pyrustpipe as pp\nclass T(pp.Schema):\n    a: int = pp.Field(gt=0)\nT.to_spec()",
        "from pyrustpipe.cli import build_parser; build_parser()",
    ],
)
def test_no_heavy_imports(code: str, cli_env: dict[str, str]) -> None:
    modules = imported_modules(code, cli_env)
    assert "pyrustpipe" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_report_is_loaded_on_first_use(cli_env: dict[str, str]) -> None:
    modules = imported_modules("import pyrustpipe as pp; pp.Report", cli_env)
    assert "pyrustpipe.report" in modules
    assert not any(m.split(".")[0] == "rich" for m in modules)
