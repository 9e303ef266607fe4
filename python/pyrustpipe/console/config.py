"""What a console serves: the ledger's root, where its jobs write, which data they may read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ConsoleConfig:
    """``ledger``: the ledger's root (a local directory). ``workdir``: the console's own files
    (job outputs and run records; default ``<ledger>/_console`` — ledger readers glob
    ``dataset=*`` so they never see it). ``data_roots``: the only places a job may read sources
    from (local directories). ``auth_file``: the users file."""

    ledger: Path
    auth_file: Path
    workdir: Path | None = None
    data_roots: list[Path] = field(default_factory=list)
    max_jobs: int = 2
    overview_last: int = 30

    def __post_init__(self) -> None:
        if str(self.ledger).startswith("s3:"):  # Path("s3://b") reads as "s3:/b"
            raise ValueError(
                "the console reads local ledgers in this version; sync an S3 ledger to a "
                "directory first (docs/console.md)"
            )
        self.ledger = Path(os.path.realpath(self.ledger))
        if self.workdir is None:
            self.workdir = self.ledger / "_console"
        self.workdir = Path(os.path.realpath(self.workdir))
        self.data_roots = [Path(os.path.realpath(p)) for p in self.data_roots]

    @property
    def outputs_root(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "outputs"

    @property
    def runs_root(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "runs"
