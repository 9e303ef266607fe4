"""``pyrustpipe serve`` (pyrustpipe/console/serve.py): its arguments and their errors, through
the real command line parser."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyrustpipe.cli import build_parser, main


def test_serve_arguments() -> None:
    args = build_parser().parse_args(
        ["serve", "--ledger", "L", "--auth", "u.yaml", "--data", "d1", "--data", "d2"]
    )
    assert (args.host, args.port, args.data, args.max_jobs) == ("127.0.0.1", 8765, ["d1", "d2"], 2)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--ledger", "L"])  # --auth is required


def test_serve_refuses_a_bad_users_file_and_an_s3_ledger_without_workdir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users = tmp_path / "users.yaml"
    users.write_text("users: []\n")
    assert main(["serve", "--ledger", str(tmp_path), "--auth", str(users)]) == 2
    assert "expected 'users:'" in capsys.readouterr().err
    assert main(["serve", "--ledger", "s3://b/ledger", "--auth", str(users)]) == 2
    assert "needs a local --workdir" in capsys.readouterr().err
