"""A sensitive column's values never reach Dagster: the asset-check metadata (samples table,
messages) and the run's event log show tokens, from a file source and from an in-memory frame."""

from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.csv as pacsv
import pyrustpipe as pp
import pytest
from dagster_pyrustpipe import PyRustPipeResource, build_pyrustpipe_checks

PHONE = "+256772000111"
DATA = f"id,phone\n1,+256700000001\n2,{PHONE}\n3,{PHONE}\n4,x{PHONE}\n"


class Contacts(pp.Schema):
    id: int
    phone: str = pp.Field(unique=True, pattern=r"^\+[0-9]+$", sensitive=True)


def _everything(result: dg.ExecuteInProcessResult) -> str:
    """Every event of the run (metadata included) as text."""
    return "\n".join(repr(event) for event in result.all_events)


@pytest.mark.parametrize("in_memory", [False, True], ids=["file", "frame"])
def test_check_metadata_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_memory: bool
) -> None:
    monkeypatch.setenv("PYRUSTPIPE_MASK_KEY", "dagster-test-key")
    path = tmp_path / "contacts.csv"
    path.write_text(DATA, encoding="utf-8")

    @dg.asset(name="contacts")
    def contacts() -> Any:
        return pacsv.read_csv(path) if in_memory else None

    checks = build_pyrustpipe_checks(
        asset=contacts,
        schema=Contacts,
        source=None if in_memory else str(path),
        quarantine=f"{tmp_path}/out/",
    )
    result = dg.materialize(
        [contacts, *checks], resources={"pyrustpipe": PyRustPipeResource()}, raise_on_error=False
    )
    found = {e.check_name: e for e in result.get_asset_check_evaluations()}
    samples = found["phone__unique"].metadata["samples"].records
    assert samples and all(r.data["value"].startswith("«masked:") for r in samples)
    text = _everything(result)
    assert "256772000" not in text
    assert "dagster-test-key" not in text
    assert "«masked:" in text
