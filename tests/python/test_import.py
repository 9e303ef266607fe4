"""``import pyrustpipe`` stays light: no rich, yaml, dataframe or arrow library at import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


# What only an error, a notebook, a Python-run rule, a split or `serve` needs: a traced
# `validate` on a CSV loads none of it (each costs 1–4 ms of every run's start).
ON_DEMAND = (
    "dataclasses",  # the report's records (pyrustpipe/_report_records.py): not for a JSON report
    "inspect",
    "threading",  # the progress bar's, only with a terminal on stderr
    "hashlib",
    "shutil",
    "pathlib",
    "difflib",
    "html",
    "csv",
    "gzip",
    "pyrustpipe._python_rules",
    "pyrustpipe.history",  # a Config.history's checks
    "copy",  # a report copied from a caller's dict (runs adopt theirs)
    "decimal",  # a schema or value naming Decimal imports it itself
    "dis",  # a row rule naming only columns is not decoded (_trace.names_only_columns)
    "pyrustpipe.spec",  # the wire types: only type checkers need them
    "zlib",  # the rules file's module name is an FNV-1a hash of its path
    "typing",  # pyrustpipe/_typing.py: annotations are strings, type-only names under TYPE_CHECKING
)


def test_validate_command_loads_only_what_it_runs(cli_env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    data.write_text("a\n1\n2\n")
    rules = tmp_path / "rules.py"
    rules.write_text(
        "import pyrustpipe as pp\n\n"
        "class T(pp.Schema):\n"
        "    a: int = pp.Field(gt=0)\n\n"
        "    @pp.row_rule\n"
        "    def small(row):\n"
        "        return row.a < 10\n"
    )
    code = (
        "import sys\nfrom pyrustpipe.cli import main\n"
        f"sys.exit(main(['validate', {str(data)!r}, '--rules', {str(rules) + ':T'!r},"
        " '--format', 'json']))"
    )
    modules = imported_modules(code, cli_env)
    assert "pyrustpipe.report" in modules  # the run did happen
    assert sorted(m for m in modules if m in ON_DEMAND) == []


def test_every_name_a_module_exports_exists_at_run_time() -> None:
    # Type-only names live under `if TYPE_CHECKING:` (pyrustpipe/_typing.py): none of them may be
    # listed in an `__all__`, or `from module import *` fails.
    import importlib
    import pkgutil

    import pyrustpipe

    for info in pkgutil.walk_packages(pyrustpipe.__path__, "pyrustpipe."):
        if info.name.startswith("pyrustpipe.console") or info.name == "pyrustpipe.__main__":
            continue  # the console needs its optional dependencies; __main__ runs the CLI
        module = importlib.import_module(info.name)
        missing = [n for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
        assert missing == [], f"{info.name}.__all__ names {missing}"
