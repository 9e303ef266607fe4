"""The engine's live counters (``pyrustpipe._core.Progress``) and the CLI's progress bar drawn from
them on a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pyrustpipe as pp
from pyrustpipe import _engine
from pyrustpipe.api import run_validation

from tests.python.conftest import cli_env


class Amounts(pp.Schema):
    id: int = pp.Field()
    amount: float = pp.Field(ge=0)


def write_csv(path: Path, rows: int) -> Path:
    lines = ["id,amount"] + [f"{i},{-1 if i % 10 == 0 else i}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_counters_reach_the_total_of_every_source(tmp_path: Path) -> None:
    sources = [write_csv(tmp_path / f"part-{i}.csv", 5000 + i) for i in range(3)]
    total = sum(p.stat().st_size for p in sources)
    progress = _engine.new_progress()
    assert progress.snapshot() == (0, 0, 0, False)
    report = run_validation([str(p) for p in sources], Amounts, chunk_size=4096, progress=progress)
    assert progress.snapshot() == (total, total, report.rows, False)


def test_pass_two_counts_again_while_writing(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "data.csv", 20_000)
    progress = _engine.new_progress()
    report = run_validation(
        str(source), Amounts, quarantine=tmp_path / "q.csv", chunk_size=8192, progress=progress
    )
    size = source.stat().st_size
    assert progress.snapshot() == (size, size, report.rows, True)


def test_parquet_and_tables(tmp_path: Path) -> None:
    table = pa.table({"id": list(range(1000)), "amount": [1.0] * 1000})
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=100)
    size = (tmp_path / "t.parquet").stat().st_size
    from_file = _engine.new_progress()
    run_validation(str(tmp_path / "t.parquet"), Amounts, progress=from_file)
    assert from_file.snapshot() == (size, size, 1000, False)
    in_memory = _engine.new_progress()
    run_validation(table, Amounts, progress=in_memory)
    assert in_memory.snapshot() == (0, 0, 1000, False)


def test_the_cli_draws_a_bar_on_a_terminal(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "data.csv", 50_000)
    rules = tmp_path / "rules.py"
    rules.write_text(
        "import pyrustpipe as pp\n\n"
        "class Amounts(pp.Schema):\n"
        "    id: int = pp.Field()\n"
        "    amount: float = pp.Field(ge=0)\n"
    )
    env = cli_env()
    del env["PYRUSTPIPE_NO_PROGRESS"]
    env["PYRUSTPIPE_PROGRESS_DELAY_S"] = "0"
    env["COLUMNS"] = "120"
    leader, follower = pty.openpty()
    out = tmp_path / "report.json"
    with out.open("w") as stdout:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pyrustpipe",
                "validate",
                str(source),
                "--rules",
                f"{rules}:Amounts",
                "--format",
                "json",
                "--threads",
                "1",
            ],
            stdout=stdout,
            stderr=follower,
            env=env,
        )
    os.close(follower)
    drawn = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is gone
            break
        if not chunk:
            break
        drawn += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 1  # the data has negative amounts
    screen = drawn.decode("utf-8", "replace")
    assert "validating" in screen and "rows" in screen
    assert pp.Report.from_json(out.read_text()).rows == 50_000
