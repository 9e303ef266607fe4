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

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON_DIR = ROOT / "python"

try:
    import pyrustpipe  # noqa: F401
except ImportError:  # pragma: no cover - not installed yet
    sys.path.insert(0, str(PYTHON_DIR))


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PYTHON_DIR), env.get("PYTHONPATH", "")) if p
    )
    env["PYRUSTPIPE_NO_PROGRESS"] = "1"
    env.pop("PYRUSTPIPE_DEBUG", None)
    return env


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
