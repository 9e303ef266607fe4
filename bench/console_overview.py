"""The console's first page with a big ledger (issue 15): 10 datasets × 2 years of daily
partitions written by the real engine, then GET / (after login) and GET /api/datasets timed
against a real uvicorn server on loopback — cold (a fresh server) and warm.

    python bench/console_overview.py --ledger bench/out/console-ledger [--days 730 --datasets 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devtools.console_ledger import write_partition  # noqa: E402


def _fill(args: tuple[str, str, str, int]) -> int:
    ledger, data, dataset, days = args
    start = dt.date(2025, 1, 1)
    for n in range(days):
        day = start + dt.timedelta(days=n)
        write_partition(
            Path(ledger),
            Path(data),
            dataset,
            day,
            200 + (n * 13) % 40,
            bad_every=50 if n % 9 == 0 else 0,
            extra=n > days * 3 // 4 and dataset.endswith("3"),
        )
    return days


def build(ledger: Path, datasets: int, days: int, workers: int) -> float:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as data:
        jobs = [(str(ledger), data, f"feed{i}", days) for i in range(datasets)]
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_fill, jobs))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, default=ROOT / "bench/out/console-ledger")
    parser.add_argument("--datasets", type=int, default=10)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    import httpx
    from pyrustpipe.console.app import create_app
    from pyrustpipe.console.config import ConsoleConfig

    from devtools.console_server import running_console

    if not (args.ledger / "dataset=feed0").exists():
        took = build(args.ledger, args.datasets, args.days, args.workers)
        print(f"ledger written by the engine: {args.datasets} x {args.days} in {took:.0f} s")
    files = len(list(args.ledger.glob("dataset=*/date=*/*.parquet")))
    print(f"ledger: {args.ledger} ({files} entries)")
    token = "bench-token"
    with tempfile.TemporaryDirectory() as work:
        users = Path(work) / "users.yaml"
        digest = hashlib.sha256(token.encode()).hexdigest()
        users.write_text(f"users:\n- name: bench\n  role: viewer\n  token_sha256: {digest}\n")
        config = ConsoleConfig(ledger=args.ledger, auth_file=users, workdir=Path(work))
        with running_console(create_app(config)) as url, httpx.Client(base_url=url) as client:
            login = client.post(
                "/login", data={"token": token, "next": "/"}, headers={"origin": url}
            )
            assert login.status_code == 303, login.status_code

            def timed(path: str) -> float:
                started = time.perf_counter()
                response = client.get(path)
                took = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (path, response.status_code)
                return took

            cold_page = timed("/")
            cold_api = timed("/api/datasets")
            page = [timed("/") for _ in range(args.repeat)]
            api = [timed("/api/datasets") for _ in range(args.repeat)]
            # Not the target, for the record: a dataset's page charts all its partitions.
            dataset_cold = timed("/datasets/feed3")
            dataset_warm = timed("/datasets/feed3")
    print(f"GET / (first, cold cache)           {cold_page:8.1f} ms")
    print(f"GET /api/datasets (after the page)  {cold_api:8.1f} ms")
    print(
        f"GET / warm, median of {args.repeat}          {statistics.median(page):8.1f} ms "
        f"(max {max(page):.1f})"
    )
    print(
        f"GET /api/datasets warm, median      {statistics.median(api):8.1f} ms (max {max(api):.1f})"
    )
    print(
        f"GET /datasets/feed3 ({args.days} partitions) first {dataset_cold:8.1f} ms, "
        f"again {dataset_warm:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
