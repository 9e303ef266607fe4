"""A Dagster run cancel ends the validation cleanly. Dagster's run worker gets SIGTERM, and during a
step its handler (``raise_interrupts_as``) raises ``DagsterExecutionInterruptedError``; the bindings
run that handler while the engine works, cancel the run (nothing written) and re-raise it."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import dagster as dg
import pyrustpipe as pp
import pytest
from dagster._utils.interrupts import raise_interrupts_as
from dagster_pyrustpipe import PyRustPipeResource

SPEC = {
    "spec_version": 1,
    "columns": [
        {"name": "id", "dtype": "int"},
        {"name": "amount", "dtype": "float", "checks": [{"type": "gt", "value": 0}]},
        {"name": "note", "dtype": "str"},
    ],
}


def test_a_run_cancel_interrupts_the_validation_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    pad = "x" * 80
    block = "".join(f"{i},{-1 if i % 10 == 0 else i % 997 + 1},{pad}\n" for i in range(10_000))
    with source.open("w") as f:
        f.write("id,amount,note\n")
        for _ in range(40_000_000 // len(block)):
            f.write(block)
    out = tmp_path / "out"
    out.mkdir()

    def cancel_once_writing() -> None:
        deadline = time.monotonic() + 120
        while not any(out.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)  # what `dagster run cancel` sends the run worker

    killer = threading.Thread(target=cancel_once_writing)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(dg.DagsterExecutionInterruptedError) as caught:
            with raise_interrupts_as(dg.DagsterExecutionInterruptedError):
                killer.start()
                PyRustPipeResource().validate_data(
                    str(source),
                    SPEC,
                    valid_output=str(out / "valid.csv.gz"),
                    quarantine=str(out / "bad.csv.gz"),
                )
    finally:
        killer.join()
        signal.signal(signal.SIGTERM, previous)
    assert isinstance(caught.value.__cause__, pp.CancelledError)
    assert list(out.iterdir()) == []
