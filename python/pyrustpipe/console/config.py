"""What a console serves: the ledger's root, where its jobs write, which data they may read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ConsoleConfig:
    """``ledger``: the ledger's root (a local directory, or ``s3://bucket/prefix`` as text).
    ``workdir``: the console's own files
    (job outputs and run records; default ``<ledger>/_console`` — ledger readers glob
    ``dataset=*`` so they never see it). ``data_roots``: the only places a job may read sources
    from (local directories). ``auth_file``: the users file. ``outputs``: an ``s3://bucket/prefix``
    where jobs write their outputs instead of the workdir (the quarantine browser then pages
    them with ranged GETs); ``storage_options``: how to reach S3 (the engine's keys)."""

    ledger: Path | str
    auth_file: Path
    workdir: Path | None = None
    data_roots: list[Path | str] = field(default_factory=list)
    max_jobs: int = 2
    overview_last: int = 30
    outputs: str | None = None
    storage_options: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.ledger, Path) and str(self.ledger).startswith("s3:"):
            # Path("s3://b/x") reads as "s3:/b/x": give an S3 ledger as text.
            raise ValueError(f"give an S3 ledger as text (s3://...), not as a path: {self.ledger}")
        if str(self.ledger).startswith("s3://"):
            self.ledger = str(self.ledger).rstrip("/")
            if self.workdir is None:
                raise ValueError("an S3 ledger needs a local --workdir for the console's files")
        else:
            self.ledger = Path(os.path.realpath(self.ledger))
            if self.workdir is None:
                self.workdir = self.ledger / "_console"
        self.workdir = Path(os.path.realpath(self.workdir))
        self.data_roots = [
            str(p).rstrip("/") if str(p).startswith("s3://") else Path(os.path.realpath(p))
            for p in self.data_roots
        ]
        if self.outputs is not None:
            if not self.outputs.startswith("s3://") or self.outputs.rstrip("/") == "s3:/":
                raise ValueError(f"outputs must be an s3://bucket/prefix, not {self.outputs!r}")
            self.outputs = self.outputs.rstrip("/")

    def job_outputs(self, job_id: str) -> str:
        """Where a job writes: ``<outputs>/<job>/`` on S3, else ``<workdir>/outputs/<job>/``."""
        if self.outputs is not None:
            return f"{self.outputs}/{job_id}/"
        return str(self.outputs_root / job_id) + "/"

    @property
    def local_ledger(self) -> Path | None:
        """The ledger's directory, when it is local (the quarantine browser may read in it)."""
        return self.ledger if isinstance(self.ledger, Path) else None

    @property
    def outputs_root(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "outputs"

    @property
    def runs_root(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "runs"
