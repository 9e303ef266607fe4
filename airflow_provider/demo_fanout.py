"""The Airflow fan-out example end to end: `airflow dags test example_pyrustpipe_fanout`.

A throwaway AIRFLOW_HOME with a sqlite DB, the local S3 server (s3s-fs on loopback) holding one
day of transactions as four partition objects, and ``aws_default`` pointing at it through
``AIRFLOW_CONN_AWS_DEFAULT``. Airflow lists the partitions, validates each in a mapped task, and
the gate merges them; the demo then prints where the outputs and the total report landed.

    .venv/bin/python airflow_provider/demo_fanout.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "pyrustpipe-example"
DAY = "2026-11-24"
PARTITIONS = 4
ROWS_PER_PARTITION = 20_000
ERROR_RATE = 0.01  # per partition; the gate allows 5% quarantined in total


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from devtools.local_s3 import make_client, running_server
    from tests.data_gen import make_transactions

    airflow = str(Path(sys.executable).with_name("airflow"))
    with (
        tempfile.TemporaryDirectory(prefix="pyrustpipe-airflow-demo-") as base,
        running_server(Path(base)) as server,
    ):
        home = Path(base) / "airflow"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "example_dags" / "airflow"),
            AIRFLOW__OPENLINEAGE__DISABLED="True",
            PYRUSTPIPE_EXAMPLE_BUCKET=BUCKET,
            AIRFLOW_CONN_AWS_DEFAULT=json.dumps(
                {
                    "conn_type": "aws",
                    "login": server.access_key_id,
                    "password": server.secret_access_key,
                    "extra": {
                        "endpoint_url": server.endpoint_url,
                        "region_name": server.region,
                        "config_kwargs": {"s3": {"addressing_style": "path"}},
                    },
                }
            ),
        )
        s3 = make_client(server.endpoint_url, server.access_key_id, server.secret_access_key)
        s3.create_bucket(Bucket=BUCKET)
        print(f"Local S3 server at {server.endpoint_url}; bucket s3://{BUCKET}")
        for index in range(PARTITIONS):
            local = Path(base) / f"part-{index:03d}.csv"
            make_transactions(local, ROWS_PER_PARTITION, 20 + index, ERROR_RATE)
            key = f"landing/transactions/{DAY}/{local.name}"
            s3.upload_file(str(local), BUCKET, key)
            print(f"  uploaded s3://{BUCKET}/{key} ({ROWS_PER_PARTITION:,} rows)")

        print("$ airflow db migrate", flush=True)
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        log = Path(base) / "dags_test.log"
        print(f"$ airflow dags test example_pyrustpipe_fanout {DAY}", flush=True)
        with log.open("w") as out:
            code = subprocess.call(
                [airflow, "dags", "test", "example_pyrustpipe_fanout", DAY],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        text = log.read_text()
        if server.secret_access_key in text:
            print("the secret key appeared in the Airflow log")
            return 1
        if code != 0 or "state=success" not in text:
            print(text[-6000:])
            print(f"\nthe Dag run failed (exit code {code})")
            return 1

        print("\nObjects written:")
        for prefix in ("clean/", "quarantine/", "dq-metrics/"):
            for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []):
                if "_pyrustpipe_" not in item["Key"]:
                    print(f"  s3://{BUCKET}/{item['Key']}  ({item['Size']:,} bytes)")
        report_key = f"dq-metrics/transactions/{DAY}/gate_report.json"
        report = json.loads(s3.get_object(Bucket=BUCKET, Key=report_key)["Body"].read())
        print(f"\nGate report s3://{BUCKET}/{report_key}:")
        print(
            f"  {report['partitions']} partitions, {report['rows']:,} rows, "
            f"{report['valid_rows']:,} valid, {report['invalid_rows']:,} quarantined "
            f"({report['quarantine_fraction']:.2%}, limit 5%)"
        )
        for name, rule in report["failed_rules"].items():
            print(f"  {name:<24} {rule['severity']:<5} {rule['failed']:>5} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
