"""``on_kill`` cancels the running validation. Airflow 3's task runner installs a SIGTERM handler
that calls ``task.on_kill()`` and returns; this test installs the same handler, so the real path
runs: the signal arrives while the engine works, the bindings run the handler, ``on_kill`` sets the
run's cancel switch, and ``execute`` raises ``pp.CancelledError`` with nothing written."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest
from pyrustpipe_provider.operators import PyRustPipeValidateOperator

SPEC = (
    '{"spec_version": 1, "columns": [{"name": "id", "dtype": "int"},'
    ' {"name": "amount", "dtype": "float", "checks": [{"type": "gt", "value": 0}]},'
    ' {"name": "note", "dtype": "str"}]}'
)


def test_sigterm_to_the_task_cancels_the_validation_through_on_kill(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    pad = "x" * 80
    block = "".join(f"{i},{-1 if i % 10 == 0 else i % 997 + 1},{pad}\n" for i in range(10_000))
    with source.open("w") as f:
        f.write("id,amount,note\n")
        for _ in range(40_000_000 // len(block)):
            f.write(block)
    rules = tmp_path / "rules.json"
    rules.write_text(SPEC)
    out = tmp_path / "out"
    out.mkdir()
    op = PyRustPipeValidateOperator(
        task_id="v",
        source=str(source),
        rules=str(rules),
        mode="quarantine",
        # gzip keeps pass 2 busy long enough for the signal to land while it writes.
        valid_output=str(out / "valid.csv.gz"),
        quarantine=str(out / "bad.csv.gz"),
        aws_conn_id=None,
    )

    def on_term(signum: int, frame: Any) -> None:  # what airflow.sdk's task runner installs
        op.on_kill()

    def terminate_once_writing() -> None:
        deadline = time.monotonic() + 120
        while not any(out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, on_term)
    killer = threading.Thread(target=terminate_once_writing)
    try:
        killer.start()
        with pytest.raises(pp.CancelledError) as caught:
            op.execute({})  # type: ignore[arg-type]
    finally:
        killer.join()
        signal.signal(signal.SIGTERM, previous)
    assert str(caught.value) == "cancelled: no outputs committed"
    assert list(out.iterdir()) == []
