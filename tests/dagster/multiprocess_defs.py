"""The job of tests/dagster/test_multiprocess.py, loaded by ``dagster job execute -m`` and by the
multiprocess executor's child processes: per region a daily asset, its pyrustpipe checks and a
downstream asset they gate.

Where the data lives comes from the environment (read at import, in every child process):
``PYRUSTPIPE_MP_LANDING`` holds ``<region>-<day>.csv``; the assets copy them under
``PYRUSTPIPE_MP_LAKE``.
"""

# No `from __future__ import annotations`: Dagster reads the asset's parameter annotations.
import os
import shutil
from pathlib import Path

import dagster as dg
from dagster_pyrustpipe import PyRustPipeResource, build_pyrustpipe_checks

from tests.dagster.support import RULES

REGIONS = ("eu", "us")
DAYS = ("2025-04-01", "2025-04-02", "2025-04-03")
LANDING = Path(os.environ.get("PYRUSTPIPE_MP_LANDING", "landing"))
LAKE = Path(os.environ.get("PYRUSTPIPE_MP_LAKE", "lake"))

days = dg.StaticPartitionsDefinition(list(DAYS))


def _region(region: str) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    @dg.asset(name=f"{region}_transactions", partitions_def=days)
    def landed(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        folder = LAKE / region / context.partition_key
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(LANDING / f"{region}-{context.partition_key}.csv", folder / "part-0.csv")
        return dg.MaterializeResult(metadata={"pid": os.getpid()})

    @dg.asset(name=f"{region}_totals", partitions_def=days, deps=[landed])
    def totals() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata={"pid": os.getpid()})

    checks = build_pyrustpipe_checks(
        asset=landed,
        schema=RULES,
        source=f"{LAKE}/{region}/{{partition_key}}/*.csv",
        quarantine=f"{LAKE}/quarantine/{region}/{{partition_key}}/",
        blocking=True,
    )
    return [landed, totals], list(checks)


_assets = [_region(region) for region in REGIONS]

defs = dg.Definitions(
    assets=[a for assets, _ in _assets for a in assets],
    asset_checks=[c for _, checks in _assets for c in checks],
    jobs=[
        dg.define_asset_job(
            "regions",
            selection=dg.AssetSelection.all(),
            executor_def=dg.multiprocess_executor.configured({"max_concurrent": 2}),
        )
    ],
    resources={"pyrustpipe": PyRustPipeResource(threads=1)},
)


def regions_job() -> dg.JobDefinition:
    """What ``dg.reconstructable`` rebuilds in each child process."""
    return defs.resolve_job_def("regions")
