"""Job requests (pyrustpipe/console/jobs.py) checked before anything runs: sources confined to
the data roots (globs and symlinks included), specs parsed as the playground parses them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyrustpipe.console.jobs import JobRequestError, confine_source, parse_spec


def test_confine_source(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    (root / "a" / "x.csv").write_text("id\n1\n")
    assert confine_source(str(root / "a" / "x.csv"), [root])
    assert confine_source(str(root / "a" / "*.csv"), [root])
    for bad in ("x.csv", "/etc/passwd", str(root / ".." / "x.csv"), "s3://b/k", "file:///etc/x"):
        with pytest.raises(JobRequestError):
            confine_source(bad, [root])
    os.symlink("/etc", root / "a" / "etc")
    with pytest.raises(JobRequestError, match="outside"):
        confine_source(str(root / "a" / "etc" / "passwd"), [root])
    with pytest.raises(JobRequestError, match="outside"):
        confine_source(str(root / "a" / "*"), [root])  # the glob reaches the symlink


def test_parse_spec() -> None:
    assert parse_spec("spec_version: 1\nname: x\n")["name"] == "x"
    with pytest.raises(JobRequestError, match="line 3, column 15"):
        parse_spec("spec_version: 1\ncolumns:\n  - {name: a, dtype: intt}\n")
    with pytest.raises(JobRequestError, match="never executes Python"):
        parse_spec("import os\n")
