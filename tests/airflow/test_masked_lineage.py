"""A sensitive column's values never reach Airflow: the XCom summary, the task log and the
OpenLineage facets of a run over data with a distinctive phone number show none of it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyrustpipe as pp
import pytest
from pyrustpipe_provider.operators import PyRustPipeValidateOperator

PHONE = "+256772000111"
DATA = f"id,phone\n1,+256700000001\n2,{PHONE}\n3,{PHONE}\n4,x{PHONE}\n"


class Contacts(pp.Schema):
    id: int
    phone: str = pp.Field(unique=True, pattern=r"^\+[0-9]+$", sensitive=True)


def test_summary_log_and_lineage_are_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PYRUSTPIPE_MASK_KEY", "airflow-test-key")
    source = tmp_path / "contacts.csv"
    source.write_text(DATA, encoding="utf-8")
    op = PyRustPipeValidateOperator(
        task_id="v",
        source=str(source),
        rules=Contacts,
        mode="quarantine",
        valid_output=f"{tmp_path}/out/",
        quarantine=f"{tmp_path}/out/",
        aws_conn_id=None,
    )
    with caplog.at_level(logging.DEBUG):
        summary = op.execute({})  # type: ignore[arg-type]
    lineage = op.get_openlineage_facets_on_complete(None)
    assert summary["invalid_rows"] == 3
    shown = "\n".join([json.dumps(summary), caplog.text, repr(lineage)])
    assert "256772000" not in shown
    assert "airflow-test-key" not in shown
    # the quarantine is the data
    assert PHONE in (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8")
