"""Validation jobs started from the console: checked before anything runs (sources inside the
data roots, rules a spec — never Python), run in worker threads through ``run_validation`` with a
Progress handle (live counters, cancel), outputs written under the console's workdir."""

from __future__ import annotations

import datetime as _dt
import glob
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyrustpipe.console.config import ConsoleConfig
from pyrustpipe.console.runs import RunStore, spec_view

TERMINAL = ("passed", "failed", "cancelled", "error")
MAX_SOURCES = 100


class JobRequestError(ValueError):
    """The request is refused before anything runs; the message says why."""


def parse_spec(text: str) -> dict[str, Any]:
    """A rules spec from YAML / JSON text, read as the playground reads it (the rule files'
    limits, Python refused) and checked by the engine before a worker is taken; a problem is
    named at its line and column in the text."""
    from pyrustpipe.backtest import load_spec_text

    document, problems = load_spec_text(text)
    if problems:
        raise JobRequestError(f"rules: {problems[0]}")
    return document


def confine_source(source: str, roots: list[Path | str]) -> str:
    """``source`` if it lies inside one of the data roots: a local path (its fixed part before
    any glob character and every file the glob matches, symlinks resolved) or an S3 key under
    an ``s3://`` root (no ``.``, ``..`` or empty segment); otherwise ``JobRequestError``."""
    from pyrustpipe.console.quarantine import QuarantineError, confined_s3

    if source.startswith("s3://"):
        try:
            return confined_s3(source, [r for r in roots if isinstance(r, str)])
        except QuarantineError:
            raise JobRequestError(
                f"source {source!r} is outside the console's data roots"
            ) from None
    if "://" in source:
        raise JobRequestError(f"source {source!r}: a local path or an s3:// URI")
    if "\x00" in source or not os.path.isabs(source):
        raise JobRequestError(f"source {source!r}: give an absolute path inside a data root")
    local = [r for r in roots if isinstance(r, Path)]
    fixed = source
    for index, char in enumerate(source):
        if char in "*?[":
            fixed = source[: source.rfind("/", 0, index) + 1] or "/"
            break
    candidates = [fixed, *glob.glob(source, recursive=True)] if fixed != source else [fixed]
    for candidate in candidates:
        real = Path(os.path.realpath(candidate))
        if not any(real == r or r in real.parents for r in local):
            raise JobRequestError(f"source {source!r} is outside the console's data roots")
    return source


@dataclass
class Job:
    id: str
    user: str
    sources: list[str]
    spec: dict[str, Any]
    ledger: bool
    partition: str | None
    logical_date: str | None
    created_at: str
    progress: Any
    outdir: str
    write_valid: bool
    status: str = "queued"
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    run_id: str | None = None
    result: dict[str, Any] | None = None
    counters: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        """The job as the API and the live page show it, counters read now."""
        total, done, rows, writing = self.progress.snapshot()
        end = self.finished if self.finished is not None else time.monotonic()
        elapsed = end - self.started if self.started is not None else 0.0
        if self.status not in TERMINAL or not self.counters:
            self.counters = {
                "rows": rows,
                "bytes_done": done,
                "bytes_total": total,
                "writing": writing,
            }
        counters = dict(self.counters)
        counters["elapsed_s"] = round(elapsed, 3)
        counters["rows_per_s"] = round(counters["rows"] / elapsed, 1) if elapsed > 0 else 0.0
        return {
            "id": self.id,
            "user": self.user,
            "status": self.status,
            "sources": self.sources,
            "dataset": self.spec.get("dataset", self.spec.get("name")),
            "partition": self.partition,
            "logical_date": self.logical_date,
            "created_at": self.created_at,
            "progress": counters,
            "run_id": self.run_id,
            "error": self.error,
            "result": self.result,
        }


class JobManager:
    def __init__(self, config: ConsoleConfig, runs: RunStore) -> None:
        self._config = config
        self._runs = runs
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(config.max_jobs)
        self._ids = itertools.count(1)
        self._stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d%H%M%S")

    def submit(self, user: str, request: dict[str, Any]) -> Job:
        from pyrustpipe.integrations import new_progress

        sources = request.get("sources")
        if isinstance(sources, str):
            sources = [s for s in sources.splitlines() if s.strip()]
        if not isinstance(sources, list) or not sources or len(sources) > MAX_SOURCES:
            raise JobRequestError(f"sources: give 1 to {MAX_SOURCES} paths")
        if not all(isinstance(s, str) for s in sources):
            raise JobRequestError("sources: every source is a path string")
        if not self._config.data_roots:
            raise JobRequestError("this console has no data roots (serve --data DIR)")
        sources = [confine_source(s.strip(), self._config.data_roots) for s in sources]
        rules = request.get("rules")
        if isinstance(rules, dict):
            from pyrustpipe.compiled import compile as compile_rules

            compile_rules(rules)
            spec = rules
        elif isinstance(rules, str) and rules.strip():
            spec = parse_spec(rules)
        else:
            raise JobRequestError("rules: give the rules spec (YAML or JSON text, or an object)")
        partition = request.get("partition") or None
        logical_date = request.get("logical_date") or None
        for key, value in (("partition", partition), ("logical_date", logical_date)):
            if value is not None and (not isinstance(value, str) or len(value) > 512):
                raise JobRequestError(f"{key}: a string of at most 512 characters")
        if logical_date is not None:
            try:
                _dt.date.fromisoformat(logical_date)
            except ValueError:
                raise JobRequestError("logical_date: YYYY-MM-DD") from None
        number = next(self._ids)
        job_id = f"j{self._stamp}-{number}"
        job = Job(
            id=job_id,
            user=user,
            sources=sources,
            spec=spec,
            ledger=bool(request.get("ledger", True)),
            partition=partition,
            logical_date=logical_date,
            created_at=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            progress=new_progress(),
            outdir=self._config.job_outputs(job_id),
            write_valid=bool(request.get("valid_output", False)),
        )
        with self._lock:
            self._jobs[job_id] = job
        threading.Thread(target=self._run, args=(job,), name=f"job-{job_id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def cancel(self, job: Job) -> None:
        """The engine's cancel switch: a running job stops with nothing committed; a queued one
        starts cancelled and stops at once."""
        if job.status not in TERMINAL:
            job.progress.cancel()

    def _run(self, job: Job) -> None:
        from pyrustpipe.exceptions import CancelledError, PyRustPipeError
        from pyrustpipe.integrations import run_validation

        with self._slots:
            job.status = "running"
            job.started = time.monotonic()
            try:
                if not job.outdir.startswith("s3://"):
                    Path(job.outdir).mkdir(parents=True, exist_ok=True)
                report = run_validation(
                    job.sources if len(job.sources) > 1 else job.sources[0],
                    job.spec,
                    quarantine=job.outdir,
                    valid_output=job.outdir if job.write_valid else None,
                    metrics_output=job.outdir,
                    progress=job.progress,
                    storage_options=self._config.storage_options or None,
                    ledger=str(self._config.ledger) if job.ledger else None,
                    partition=job.partition,
                    logical_date=job.logical_date,
                )
                self._finish(job, dict(report.to_dict()))
            except CancelledError:
                job.status = "cancelled"
                job.error = "cancelled: nothing committed"
            except (PyRustPipeError, OSError, ValueError) as exc:
                job.status = "error"
                job.error = " ".join(str(exc).split()) or type(exc).__name__
            except Exception as exc:  # a worker never dies silently
                job.status = "error"
                job.error = f"internal error ({type(exc).__name__})"
            finally:
                job.finished = time.monotonic()

    def _finish(self, job: Job, report: dict[str, Any]) -> None:
        run_id = f"job-{job.id}"
        ledger_path = (report.get("outputs") or {}).get("ledger")
        if ledger_path:
            from pyrustpipe._ledger_files import run_id_of

            run_id = run_id_of(ledger_path, self._config.storage_options or None) or run_id
        self._runs.save(
            run_id,
            {
                "run_id": run_id,
                "job_id": job.id,
                "user": job.user,
                "report": report,
                "spec": spec_view(job.spec),
                "outputs": {
                    k: v
                    for k, v in (report.get("outputs") or {}).items()
                    if k in ("valid", "quarantine", "metrics") and v
                },
            },
        )
        job.run_id = run_id
        job.result = {
            "passed": report["passed"],
            "rows": report["rows"],
            "valid_rows": report["valid_rows"],
            "invalid_rows": report["invalid_rows"],
            "failing_rules": [r["name"] for r in report["rules"] if not r["passed"]],
        }
        total, done, _rows, _writing = job.progress.snapshot()
        job.counters = {
            "rows": report["rows"],
            "bytes_done": done,
            "bytes_total": total,
            "writing": False,
        }
        job.status = "passed" if report["passed"] else "failed"
