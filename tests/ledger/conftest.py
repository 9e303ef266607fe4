"""The season of daily partitions every ledger test reads: written and run once per session."""

from __future__ import annotations

from pathlib import Path

import pyrustpipe as pp
import pytest

from tests.ledger.test_ledger import DAYS, run, write_season


@pytest.fixture(scope="session")
def season(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[pp.Report]]:
    """Five weeks of normal days, then a half day, a stale day and a day with a new column, run
    in date order into one local ledger: ``(data folder, ledger root, reports)``."""
    root = tmp_path_factory.mktemp("season")
    data, ledger = root / "raw", root / "ledger"
    write_season(data)
    reports = [run(data, ledger, index) for index in range(DAYS)]
    return data, ledger, reports
