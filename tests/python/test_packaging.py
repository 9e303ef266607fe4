"""The three distributions agree: one version (the Cargo workspace's), one licence text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
PURE = ("airflow_provider", "dagster_integration")
PACKAGES = {"airflow_provider": "pyrustpipe_provider", "dagster_integration": "dagster_pyrustpipe"}


def workspace_version() -> str:
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    return str(cargo["workspace"]["package"]["version"])


def test_the_engine_wheel_takes_its_version_from_cargo() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"] and "version" not in project


def test_pure_distributions_carry_the_workspace_version() -> None:
    # Each pure distribution writes its version once, in its package's `__init__.py`, and its
    # build backend reads it from there; that one copy must match the Cargo workspace.
    version = workspace_version()
    for folder, package in PACKAGES.items():
        pyproject = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())
        project = pyproject["project"]
        assert "version" in project["dynamic"] and "version" not in project, folder
        init = (ROOT / folder / package / "__init__.py").read_text()
        found = re.search(r'^__version__ = "(.+)"$', init, re.M)
        assert found is not None and found[1] == version, package
    for folder, package in PACKAGES.items():
        hatch = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["tool"]["hatch"]
        assert hatch["version"] == {"path": f"{package}/__init__.py"}, folder


def test_the_built_engine_reports_the_workspace_version() -> None:
    core = pytest.importorskip("pyrustpipe._core")
    assert core.__version__ == workspace_version()
    assert core.build_info()["engine_version"] == workspace_version()


def test_every_distribution_ships_the_same_licence() -> None:
    text = (ROOT / "LICENSE").read_bytes()
    assert b"Apache License" in text and b"Version 2.0, January 2004" in text
    for folder in ("", *PURE):
        project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]
        assert project["license"] == "Apache-2.0", folder
        assert project["license-files"] == ["LICENSE"], folder
        assert (ROOT / folder / "LICENSE").read_bytes() == text, folder
