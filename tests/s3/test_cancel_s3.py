"""Cancelling a run that writes to S3 (issue 10, item 2): Ctrl-C to the CLI and a SIGTERM caught by
a Python handler, both landing while a multipart upload is stalled mid-way; the run must stop
within 1 s of the signal with no manifest, no object and no open multipart upload left. And
``pyrustpipe gc`` over what killed runs leave behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from devtools.local_s3 import S3Server  # noqa: E402

# The budget: a cancelled run is gone within 1 s of the signal.
CANCEL_BUDGET_S = 1.0

SPEC = {
    "spec_version": 1,
    "columns": [
        {"name": "id", "dtype": "int"},
        {"name": "amount", "dtype": "float", "checks": [{"type": "gt", "value": 0}]},
        {"name": "note", "dtype": "str"},
    ],
}


def child_env(server: S3Server | None = None) -> dict[str, str]:
    """A subprocess's environment: this checkout's pyrustpipe, and the server's credentials."""
    import pyrustpipe

    package_parent = str(Path(pyrustpipe.__file__).resolve().parents[1])
    env = dict(os.environ, PYRUSTPIPE_NO_PROGRESS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    env.pop("PYRUSTPIPE_DEBUG", None)
    if server is not None:
        env.update(
            AWS_ACCESS_KEY_ID=server.access_key_id,
            AWS_SECRET_ACCESS_KEY=server.secret_access_key,
            AWS_REGION=server.region,
        )
    return env


def write_big_csv(path: Path, megabytes: int) -> None:
    """About ``megabytes`` MB of CSV, every tenth row invalid (amount -1)."""
    pad = "x" * 80
    block = "".join(f"{i},{-1 if i % 10 == 0 else i % 997 + 1},{pad}\n" for i in range(10_000))
    with path.open("w") as f:
        f.write("id,amount,note\n")
        for _ in range(max(1, megabytes * 1_000_000 // len(block))):
            f.write(block)


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The valid output (90% of the rows) is above the CLI's 64 MiB multipart threshold, so it goes
    # up in 8 MiB parts.
    path = tmp_path_factory.mktemp("cancel") / "big.csv"
    write_big_csv(path, 85)
    return path


def all_keys(s3_client: Any, bucket: str) -> list[str]:
    listed = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def open_uploads(server: S3Server) -> list[str]:
    """Multipart uploads begun and neither completed nor aborted: s3s-fs keeps one
    ``.upload-<id>.json`` per upload in its root (it does not implement ListMultipartUploads)."""
    return sorted(p.name for p in server.root.glob(".upload-*.json"))


def stall_second_part(fault_proxy: Any) -> None:
    # The proxy forwards part 2 (the server stores it), then holds the answer back for 60 s.
    fault_proxy.add_fault(
        "PUT", r"partNumber=2(&|$)", "stall", times=1, seconds=60, before_head=True
    )


def wait_for_stall(fault_proxy: Any, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while fault_proxy.pending_faults() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fault_proxy.pending_faults() == 0, "the run never reached the stalled part"
    # Past the stall's request: give the engine a moment to be waiting on its answer.
    time.sleep(0.2)


def signal_and_time(child: subprocess.Popen[str], signum: int) -> tuple[float, str, str]:
    """Send ``signum``; the seconds until the process has exited, its stdout and its stderr."""
    sent = time.monotonic()
    child.send_signal(signum)
    try:
        stdout, stderr = child.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        pytest.fail("the run ignored the signal for 30 s")
    return time.monotonic() - sent, stdout or "", stderr or ""


def test_ctrl_c_during_a_multipart_upload_aborts_it_and_commits_nothing(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    fault_proxy: Any,
    big_csv: Path,
    tmp_path: Path,
) -> None:
    out = s3_bucket()
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(SPEC))
    stall_second_part(fault_proxy)
    env = child_env(s3_server)
    before = set(open_uploads(s3_server))
    child = subprocess.Popen(
        [sys.executable, "-m", "pyrustpipe", "validate", str(big_csv), "--rules", str(rules)]
        + ["--valid-output", f"s3://{out}/clean/", "--quarantine", f"s3://{out}/bad/"]
        + ["--endpoint-url", fault_proxy.endpoint_url],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    wait_for_stall(fault_proxy, child)
    assert fault_proxy.count("PUT", r"uploadId=") >= 2
    elapsed, _, stderr = signal_and_time(child, signal.SIGINT)
    assert child.returncode == 130, stderr
    assert "cancelled: no outputs committed" in stderr
    print(f"cancel: {elapsed:.3f}s from SIGINT to exit (CLI, mid multipart upload)")
    assert elapsed < CANCEL_BUDGET_S, f"{elapsed:.2f}s from SIGINT to exit"
    assert fault_proxy.count("DELETE", r"uploadId=") == 1  # AbortMultipartUpload
    assert all_keys(s3_client, out) == []
    assert set(open_uploads(s3_server)) == before


SIGTERM_SCRIPT = """
import json, signal, sys
import pyrustpipe as pp

class Terminated(BaseException):
    pass

def on_term(signum, frame):
    raise Terminated()

signal.signal(signal.SIGTERM, on_term)
args = json.loads(sys.argv[1])
try:
    pp.validate(args["source"], args["spec"], storage_options=args["options"], **args["outputs"])
except Terminated as exc:
    print(type(exc.__cause__).__name__, getattr(exc.__cause__, "code", None))
    sys.exit(143)
"""


def test_a_sigterm_handled_in_python_aborts_the_upload_and_re_raises_its_exception(
    s3_server: S3Server,
    s3_client: Any,
    s3_bucket: Any,
    fault_proxy: Any,
    big_csv: Path,
) -> None:
    out = s3_bucket()
    stall_second_part(fault_proxy)
    options = dict(
        s3_server.storage_options,
        endpoint_url=fault_proxy.endpoint_url,
        multipart_threshold_mb="5",
    )
    payload = {
        "source": str(big_csv),
        "spec": SPEC,
        "options": options,
        "outputs": {"valid_output": f"s3://{out}/clean/", "quarantine": f"s3://{out}/bad/"},
    }
    before = set(open_uploads(s3_server))
    child = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_SCRIPT, json.dumps(payload)],
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    wait_for_stall(fault_proxy, child)
    elapsed, stdout, _ = signal_and_time(child, signal.SIGTERM)
    assert child.returncode == 143
    # The handler's own exception comes out, the engine's CancelledError as its cause.
    assert stdout.split() == ["CancelledError", "cancelled"]
    print(f"cancel: {elapsed:.3f}s from SIGTERM to exit (API, mid multipart upload)")
    assert elapsed < CANCEL_BUDGET_S, f"{elapsed:.2f}s from SIGTERM to exit"
    assert all_keys(s3_client, out) == []
    assert set(open_uploads(s3_server)) == before


class RunInThread:
    """``run_validation`` of ``source`` into ``outputs`` on a thread of its own, with a progress
    handle to cancel it: what an orchestrator's kill hook does."""

    def __init__(self, source: Path, outputs: dict[str, Any], options: dict[str, Any]) -> None:
        import threading

        from pyrustpipe import _engine
        from pyrustpipe.api import run_validation

        self.handle = _engine.new_progress()
        self.raised: list[BaseException] = []

        def run() -> None:
            try:
                run_validation(
                    str(source), SPEC, storage_options=options, progress=self.handle, **outputs
                )
            except BaseException as exc:  # noqa: BLE001 - the test looks at it
                self.raised.append(exc)

        self.thread = threading.Thread(target=run)
        self.thread.start()

    def cancel_and_join(self) -> list[BaseException]:
        """Cancels the run; what it raised once it has returned."""
        self.handle.cancel()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()
        return self.raised


def test_a_cancel_from_another_thread_stops_the_run(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, fault_proxy: Any, big_csv: Path
) -> None:
    """What an orchestrator's kill hook does: ``Progress.cancel()`` from another thread."""
    import pyrustpipe as pp

    out = s3_bucket()
    stall_second_part(fault_proxy)
    options = dict(
        s3_server.storage_options,
        endpoint_url=fault_proxy.endpoint_url,
        multipart_threshold_mb="5",
    )
    run = RunInThread(big_csv, {"valid_output": f"s3://{out}/clean/"}, options)
    deadline = time.monotonic() + 120
    while fault_proxy.pending_faults() and time.monotonic() < deadline:
        time.sleep(0.02)
    cancelled = run.cancel_and_join()
    assert len(cancelled) == 1 and isinstance(cancelled[0], pp.CancelledError)
    assert cancelled[0].code == "cancelled"  # type: ignore[attr-defined]
    assert all_keys(s3_client, out) == []


def test_a_staged_put_the_server_stores_after_the_cancel_is_still_deleted(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, fault_proxy: Any, tmp_path: Path
) -> None:
    """The chaos loop's finding: a put cancelled after its body was sent, stored by the server
    only after the clean-up's delete, left its staging key behind. The write in flight now gets a
    grace to answer, so the delete comes after it."""
    import pyrustpipe as pp

    data = tmp_path / "data.csv"
    write_big_csv(data, 12)  # the quarantine (~1.2 MB) goes up in one put
    out = s3_bucket()
    hold_s = 0.1
    fault_proxy.add_fault(
        "PUT", r"_pyrustpipe_attempts/[^?]*/quarantine\.csv", "late", seconds=hold_s
    )
    options = dict(
        s3_server.storage_options, endpoint_url=fault_proxy.endpoint_url, multipart_threshold_mb="5"
    )
    before = set(open_uploads(s3_server))
    outputs = {"valid_output": f"s3://{out}/clean/", "quarantine": f"s3://{out}/bad/"}
    run = RunInThread(data, outputs, options)
    deadline = time.monotonic() + 120
    while fault_proxy.pending_faults() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert fault_proxy.pending_faults() == 0, "the run never reached the staged put"
    time.sleep(0.03)  # the proxy holds the whole body now; the server has not seen it
    raised = run.cancel_and_join()
    assert len(raised) == 1 and isinstance(raised[0], pp.CancelledError), raised
    time.sleep(hold_s + 0.5)  # past the moment the held put reaches the server
    assert all_keys(s3_client, out) == []
    assert set(open_uploads(s3_server)) == before


def run_gc(s3_server: S3Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pyrustpipe", "gc", *args, "--endpoint-url", s3_server.endpoint_url],
        env=child_env(s3_server),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_gc_removes_stale_attempts_and_keeps_committed_outputs(
    s3_server: S3Server, s3_client: Any, s3_bucket: Any, tmp_path: Path
) -> None:
    import pyrustpipe as pp

    out = s3_bucket()
    data = tmp_path / "small.csv"
    write_big_csv(data, 1)
    pp.validate(
        str(data),
        SPEC,
        valid_output=f"s3://{out}/clean/",
        quarantine=f"s3://{out}/clean/",
        storage_options=s3_server.storage_options,
    )
    committed = all_keys(s3_client, out)
    manifest = json.loads(
        s3_client.get_object(Bucket=out, Key="clean/_pyrustpipe_manifest.json")["Body"].read()
    )
    # What killed runs leave: two days old (the attempt id starts with its epoch seconds in hex),
    # an hour old, and the committed attempt's own staged copy (a publish cut short).
    old = f"{int(time.time()) - 2 * 86400:x}-1-2"
    young = f"{int(time.time()) - 3600:x}-1-2"
    for attempt in (old, young, manifest["attempt"]):
        s3_client.put_object(
            Bucket=out, Key=f"clean/_pyrustpipe_attempts/{attempt}/valid.csv", Body=b"x"
        )
    s3_client.put_object(Bucket=out, Key=f"other/_pyrustpipe_attempts/{old}/q.csv", Body=b"y")

    dry = run_gc(s3_server, f"s3://{out}/", "--older-than", "24h", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    listed = sorted(line.split()[3] for line in dry.stdout.splitlines())
    assert listed == [
        f"s3://{out}/clean/_pyrustpipe_attempts/{old}/",
        f"s3://{out}/other/_pyrustpipe_attempts/{old}/",
    ]
    assert dry.stdout.startswith("would remove attempt ")
    # s3s-fs cannot list multipart uploads: gc says so rather than failing.
    assert "ListMultipartUploads" in dry.stderr
    assert len(all_keys(s3_client, out)) == len(committed) + 4

    done = run_gc(s3_server, f"s3://{out}/", "--older-than", "24h")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("removed attempt ") == 2
    assert all_keys(s3_client, out) == sorted(
        [
            *committed,
            f"clean/_pyrustpipe_attempts/{young}/valid.csv",
            f"clean/_pyrustpipe_attempts/{manifest['attempt']}/valid.csv",
        ]
    )
    again = run_gc(s3_server, f"s3://{out}/", "--older-than", "24h")
    assert again.stdout == "nothing to remove\n"
