"""`make demo`, last step: a quality ledger of three feeds over three weeks, written by the
engine, and the console started over it in the background. Prints the URL, a fresh operator
token and how to stop it; the demo itself exits."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo_out" / "console"
DAYS = 21


def _ledger(ledger: Path, data: Path) -> None:
    from devtools.console_ledger import write_partition

    start = dt.date(2026, 11, 4)
    for n in range(DAYS):
        day = start + dt.timedelta(days=n)
        write_partition(
            ledger,
            data,
            "transactions",
            day,
            2_000 + 37 * (n % 7),
            bad_every=250 if n in (9, 20) else 0,
            extra=n >= 15,
        )
        write_partition(ledger, data, "kyc", day, 800, bad_currency_every=400 if n == 20 else 0)
        write_partition(ledger, data, "payouts", day, 1_200 if n != 13 else 400)


def _port(preferred: int) -> int:
    import socket

    from devtools.console_server import free_port

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    pid_file = OUT / "console.pid"
    if pid_file.exists():
        # A console from an earlier demo: stop it (its own pid, recorded when it started).
        try:
            os.kill(int(pid_file.read_text()), 15)
        except (OSError, ValueError):
            pass
    shutil.rmtree(OUT, ignore_errors=True)
    ledger, data = OUT / "ledger", OUT / "data"
    _ledger(ledger, data)
    token = secrets.token_urlsafe(24)
    users = OUT / "users.yaml"
    digest = hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept on disk
    users.write_text(
        f"users:\n- name: demo\n  role: operator\n  token_sha256: {digest}\n", encoding="utf-8"
    )
    port = _port(8765)
    log = open(OUT / "console.log", "wb")  # noqa: SIM115 - the server keeps it
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pyrustpipe",
            "serve",
            "--ledger",
            str(ledger),
            "--auth",
            str(users),
            "--data",
            str(data),
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # it outlives the demo
    )
    pid_file.write_text(str(server.pid))
    url = f"http://127.0.0.1:{port}/"
    for _ in range(600):
        if server.poll() is not None:
            print(f"the console did not start; see {OUT / 'console.log'}")
            return 1
        try:
            urllib.request.urlopen(url + "login", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    print()
    print("== the quality console ==")
    print(f"ledger:  {ledger} (3 datasets x {DAYS} days)")
    print(f"open:    {url}")
    print(f"token:   {token}   (operator; paste it at the login page)")
    print(f"stop:    kill $(cat {pid_file})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
