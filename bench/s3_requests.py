"""S3 requests of one fan-out partition, counted at the wire: pp.validate with the outputs the
fan-out example Dag gives each mapped task (valid, quarantine, report, ledger entry), through the
request-recording proxy of tests/s3 in front of the local S3 server. docs/scale.md prices them.

    python bench/s3_requests.py --rows 100000 --rows 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyrustpipe as pp  # noqa: E402

from devtools.local_s3 import make_client, running_server  # noqa: E402
from tests.data_gen import make_transactions  # noqa: E402
from tests.s3.fault_proxy import FaultProxy  # noqa: E402

RULES = f"{Path(__file__).resolve().parents[1] / 'example_dags/rules/transactions.py'}:Transactions"
BUCKET = "requests"


def operation(method: str, target: str) -> str:
    """The S3 operation of one request: the SDK names it in ``x-id``; a LIST has ``list-type``."""
    query = dict(p.partition("=")[::2] for p in target.partition("?")[2].split("&") if p)
    if "list-type" in query:
        return "ListObjectsV2"
    return query.get("x-id") or {"HEAD": "HeadObject"}.get(method, method)


def count(rows: int, tmp: Path) -> tuple[int, Counter[str]]:
    data = tmp / f"tx-{rows}.csv"
    make_transactions(data, rows, 5, 0.01)
    with running_server(tmp / f"s3-{rows}") as server:
        client = make_client(server.endpoint_url, server.access_key_id, server.secret_access_key)
        client.create_bucket(Bucket=BUCKET)
        client.upload_file(str(data), BUCKET, "landing/2026-05-01/part-000.csv")
        host, port = server.endpoint_url.removeprefix("http://").rsplit(":", 1)
        proxy = FaultProxy(host, int(port)).start()
        try:
            options = {**server.storage_options, "endpoint_url": proxy.endpoint_url}
            pp.validate(
                f"s3://{BUCKET}/landing/2026-05-01/part-000.csv",
                RULES,
                valid_output=f"s3://{BUCKET}/clean/2026-05-01/part-000/",
                quarantine=f"s3://{BUCKET}/quarantine/2026-05-01/part-000/",
                metrics_output=f"s3://{BUCKET}/dq-metrics/2026-05-01/part-000/",
                ledger=f"s3://{BUCKET}/dq-ledger",
                partition="dt=2026-05-01/part-000",
                logical_date="2026-05-01",
                storage_options=options,
            )
            ops = Counter(operation(m, t) for m, t in proxy.requests)
        finally:
            proxy.stop()
    return data.stat().st_size, ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", required=True)
    args = parser.parse_args()
    print("| rows | input MB | requests | by operation |")
    print("|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            size, ops = count(rows, Path(tmp))
            by = ", ".join(f"{op} {n}" for op, n in sorted(ops.items()))
            print(f"| {rows:,} | {size / 1e6:.1f} | {sum(ops.values())} | {by} |")


if __name__ == "__main__":
    main()
