"""A real Airflow 3 cluster on loopback under .cluster/: PostgreSQL, Redis, Celery, local S3.

    python scripts/cluster/cluster.py up      # install what is missing, start, wait until healthy
    python scripts/cluster/cluster.py down    # stop every process started, verify none is left
    python scripts/cluster/cluster.py status  # which processes are alive
    python scripts/cluster/cluster.py kill worker1   # SIGKILL a component with all its processes
    python scripts/cluster/cluster.py start worker1  # start a stopped or killed component again

Everything lives under ``.cluster/`` (data, logs, pid files); ``up`` starts from an empty one.
Every process is started in its own session, so ``down`` (and the tests' kill -9 of a worker) can
reach the task processes that Airflow's supervisor moves into process groups of their own.
``.cluster/cluster.env`` is shell-sourceable and holds what a client needs (mode 0600: it has the
API password and the S3 keys). Run it with the virtual environment's Python (make does).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / ".cluster"
PIDS = CLUSTER / "pids"
LOGS = CLUSTER / "logs"
ENV_FILE = CLUSTER / "cluster.env"
DAGS_FOLDER = ROOT / "example_dags" / "airflow"
BIN = Path(sys.executable).parent
S3S_FS = ROOT / ".tools" / "bin" / "s3s-fs"
BUCKET = "pyrustpipe-example"
API_USER = "pyrustpipe"
AWS_CONN_ID = "aws_default"
WORKERS = ("worker1", "worker2")
# Pins that Airflow 3.3.2 and the shared environment's packaging==26.4 accept together.
PIP_PACKAGES = (
    "apache-airflow-providers-celery==3.26.0",
    "psycopg2-binary==2.9.13",
    "asyncpg==0.32.0",
)
# Generous: the machine's 2 cores are shared with other builds. Never used as assertions.
HEALTH_TIMEOUT = 900.0
# Stop order: the clients before the services they need.
STOP_ORDER = (
    *WORKERS,
    "triggerer",
    "dag-processor",
    "scheduler",
    "api-server",
    "s3",
    "redis",
    "postgres",
)


class ClusterError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"cluster: {message}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, ready: Any, *procs: str, timeout: float = HEALTH_TIMEOUT) -> None:
    """Poll ``ready()`` until true; fail early when one of the processes ``procs`` has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        for proc in procs:
            if not alive(proc):
                raise ClusterError(f"{proc} exited while waiting for {what}:\n{log_tail(proc)}")
        time.sleep(1.0)
    raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}")


def log_tail(name: str, chars: int = 3000) -> str:
    path = LOGS / f"{name}.log"
    text = path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"
    for secret_name in ("S3_SECRET_ACCESS_KEY", "AIRFLOW_API_PASSWORD"):
        secret = read_env().get(secret_name) if ENV_FILE.exists() else None
        if secret:
            text = text.replace(secret, "<secret>")
    return text


# ---- processes: one session each, a pid file each ------------------------------------------


def pid_of(name: str) -> int | None:
    path = PIDS / f"{name}.pid"
    return int(path.read_text()) if path.exists() else None


def session_members(sid: int) -> list[int]:
    """Every live process whose session is ``sid`` (field 6 of /proc/<pid>/stat)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def alive(name: str) -> bool:
    pid = pid_of(name)
    return pid is not None and bool(session_members(pid))


def start(name: str, cmd: list[str], env: dict[str, str], user: str | None = None) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    with (LOGS / f"{name}.log").open("ab") as out:
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=CLUSTER,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            user=user,
            group=user,
        )
    (PIDS / f"{name}.pid").write_text(str(proc.pid))
    return proc.pid


def kill_session(name: str, sig: int) -> None:
    pid = pid_of(name)
    for member in session_members(pid) if pid else []:
        try:
            os.kill(member, sig)
        except ProcessLookupError:
            pass


def stop(name: str, grace: float = 30.0) -> None:
    """SIGTERM (PostgreSQL: SIGINT, its fast shutdown) to the leader, then SIGKILL the session."""
    pid = pid_of(name)
    if pid is None:
        return
    if session_members(pid):
        try:
            os.kill(pid, signal.SIGINT if name == "postgres" else signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + grace
        while session_members(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        # Task processes left behind by a worker's warm shutdown, or a stuck leader.
        while session_members(pid):
            kill_session(name, signal.SIGKILL)
            time.sleep(0.2)
    (PIDS / f"{name}.pid").unlink()


# ---- configuration -------------------------------------------------------------------------


def read_env() -> dict[str, str]:
    """``.cluster/cluster.env`` as a dict (its lines are ``export NAME=<shell-quoted value>``)."""
    env = {}
    for line in ENV_FILE.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0] if value else ""
    return env


def write_env(env: dict[str, str]) -> None:
    ENV_FILE.touch(mode=0o600)
    lines = ["# The local Airflow cluster (scripts/cluster/cluster.py); source it to use it."]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    ENV_FILE.write_text("\n".join(lines) + "\n")


def process_env(cluster: dict[str, str], **extra: str) -> dict[str, str]:
    # No stray cloud credentials: the cluster talks to the local S3 server only.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIRFLOW"))}
    return {**base, **cluster, **extra}


def configuration() -> dict[str, str]:
    ports = {n: free_port() for n in ("postgres", "redis", "s3", "api", "triggerer_logs")}
    db_password = secrets.token_hex(16)
    db = f"airflow:{db_password}@127.0.0.1:{ports['postgres']}/airflow"
    api = f"http://127.0.0.1:{ports['api']}"
    home = CLUSTER / "airflow"
    return {
        "AIRFLOW_HOME": str(home),
        "DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW_API": f"{api}/api/v2",
        "AIRFLOW_API_USER": API_USER,
        "AIRFLOW_API_PASSWORD": secrets.token_urlsafe(16),
        "S3_ENDPOINT": f"http://127.0.0.1:{ports['s3']}",
        "S3_ACCESS_KEY_ID": "AKIAPYRUSTPIPE" + secrets.token_hex(3).upper(),
        # Hex: a secret starting with '-' would be read by s3s-fs as a flag.
        "S3_SECRET_ACCESS_KEY": secrets.token_hex(20),
        "S3_BUCKET": BUCKET,
        "AWS_CONN_ID": AWS_CONN_ID,
        "PGPORT_CLUSTER": str(ports["postgres"]),
        "PGPASSWORD_CLUSTER": db_password,
        "REDIS_PORT_CLUSTER": str(ports["redis"]),
        "PYRUSTPIPE_EXAMPLE_BUCKET": BUCKET,
        # The checkout's packages first (a worktree's code, not another checkout's install),
        # and the hostname callable.
        "PYTHONPATH": os.pathsep.join(
            str(p) for p in (ROOT / "python", ROOT / "airflow_provider", Path(__file__).parent)
        ),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "cluster_hostname.get",
        # Deployment defaults, not the Dags': a task lost with its worker is retried, soon.
        "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "2",
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "5",
        "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{API_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{db}",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{ports['redis']}/0",
        # postgresql+psycopg2: SQLAlchemy 2.1 defaults postgresql:// to psycopg 3.
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{db}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(ports["api"]),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        # A worker killed with its tasks: the scheduler notices the silent task within ~40 s.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        # A restarted scheduler adopts the queued and running tasks of the one that died.
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "15",
        # A task a killed worker had received but not started is sent again after this.
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "180",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        # Runs only when triggered (the tests, the REST API, the UI): unpausing the daily fan-out
        # would otherwise start today's scheduled run beside the test's, and its first task on a
        # fresh worker (~10 s of cold imports) could hold that worker while the other took all
        # the mapped tasks.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(ports["triggerer_logs"]),
        "AIRFLOW__OPENLINEAGE__DISABLED": "True",
    }


# ---- installation --------------------------------------------------------------------------


def pg_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def ensure_installed() -> None:
    missing = []
    if pg_bindir() is None:
        missing.append("postgresql")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if missing:
        log(f"installing {' '.join(missing)} with apt-get")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-q", *missing], check=True, env=env)
    probe = "import airflow.providers.celery, psycopg2, asyncpg"
    if subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode != 0:
        log(f"installing {' '.join(PIP_PACKAGES)} with pip")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *PIP_PACKAGES], check=True)
    if not os.access(S3S_FS, os.X_OK):
        subprocess.run([str(ROOT / "scripts" / "install-s3s-fs.sh")], check=True)


def postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as the unprivileged ``postgres``
    user (the Debian package's), creating a system user when there is none."""
    if os.geteuid() != 0:
        return None
    if subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


# ---- health --------------------------------------------------------------------------------


def http_json(
    url: str, token: str | None = None, body: Any = None, method: str | None = None
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read() or b"null")


def token(env: dict[str, str]) -> str:
    """A JWT for the REST API v2 from the simple auth manager's /auth/token."""
    base = env["AIRFLOW_API"].removesuffix("/api/v2")
    user = {"username": env["AIRFLOW_API_USER"], "password": env["AIRFLOW_API_PASSWORD"]}
    return str(http_json(f"{base}/auth/token", body=user)["access_token"])


def api_healthy(env: dict[str, str]) -> bool:
    try:
        health = http_json(f"{env['AIRFLOW_API']}/monitor/health")
    except (OSError, ValueError):
        return False
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all((health.get(p) or {}).get("status") == "healthy" for p in parts)


def workers_answering(env: dict[str, str]) -> set[str]:
    """The workers that answer ``celery inspect ping``."""
    done = subprocess.run(
        [
            str(BIN / "celery"),
            "--app",
            "airflow.providers.celery.executors.celery_executor.app",
            "inspect",
            "ping",
            "--json",
            "--timeout",
            "10",
        ],
        env=process_env(env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        return set()
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    answers = json.loads(lines[-1]) if lines else {}
    return {name.split("@")[0] for name, reply in answers.items() if reply.get("ok") == "pong"}


def dags_parsed(env: dict[str, str]) -> bool:
    """Every Dag file has been parsed: each is the file of a Dag, and no import error."""
    try:
        auth = token(env)
        errors = http_json(f"{env['AIRFLOW_API']}/importErrors", auth)
        dags = http_json(f"{env['AIRFLOW_API']}/dags?limit=1000", auth)["dags"]
    except (OSError, ValueError, KeyError):
        return False
    if errors["total_entries"]:
        shown = [(e["filename"], e["stack_trace"][-800:]) for e in errors["import_errors"]]
        raise ClusterError(f"Dag import errors: {shown}")
    files = {Path(d["fileloc"]).name for d in dags}
    wanted = {p.name for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_")}
    return wanted <= files


# ---- up / down -----------------------------------------------------------------------------


def airflow(env: dict[str, str], *args: str, timeout: float = HEALTH_TIMEOUT) -> None:
    done = subprocess.run(
        [str(BIN / "airflow"), *args],
        env=process_env(env),
        cwd=CLUSTER,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise ClusterError(f"airflow {args[0]} {args[1]} failed:\n{done.stderr[-3000:]}")


def start_postgres(env: dict[str, str]) -> None:
    bindir = pg_bindir()
    assert bindir is not None
    user = postgres_user()
    data = CLUSTER / "pg"
    sockets = CLUSTER / "pg-run"
    pwfile = CLUSTER / "pg-password"
    for path in (data, sockets):
        path.mkdir(mode=0o700)
    pwfile.touch(mode=0o600)
    pwfile.write_text(env["PGPASSWORD_CLUSTER"] + "\n")
    if user:
        for path in (data, sockets, pwfile):
            shutil.chown(path, user, user)
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "airflow", "-E", "UTF8"]
    initdb += ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
    done = subprocess.run(
        initdb, cwd=CLUSTER, capture_output=True, text=True, user=user, group=user
    )
    pwfile.unlink()
    if done.returncode != 0:
        raise ClusterError(f"initdb failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    port = env["PGPORT_CLUSTER"]
    cmd = [
        str(bindir / "postgres"),
        "-D",
        str(data),
        "-p",
        port,
        "-c",
        "listen_addresses=127.0.0.1",
    ]
    cmd += ["-c", f"unix_socket_directories={sockets}", "-c", "max_connections=200"]
    start("postgres", cmd, process_env(env), user=user)
    pg_env = {**process_env(env), "PGPASSWORD": env["PGPASSWORD_CLUSTER"]}
    address = ["-h", "127.0.0.1", "-p", port, "-U", "airflow"]

    def ready() -> bool:
        check = [str(bindir / "pg_isready"), *address, "-d", "postgres"]
        return subprocess.run(check, env=pg_env, capture_output=True).returncode == 0

    wait_for("PostgreSQL", ready, "postgres")
    create = [str(bindir / "createdb"), *address, "airflow"]
    subprocess.run(create, env=pg_env, check=True, capture_output=True)


def start_redis(env: dict[str, str]) -> None:
    data = CLUSTER / "redis"
    data.mkdir()
    port = env["REDIS_PORT_CLUSTER"]
    cmd = ["redis-server", "--bind", "127.0.0.1", "--port", port, "--dir", str(data)]
    cmd += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
    start("redis", cmd, process_env(env))

    def ready() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", int(port)), timeout=2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_for("Redis", ready, "redis")


def start_s3(env: dict[str, str]) -> None:
    root = CLUSTER / "s3"
    (root / BUCKET).mkdir(parents=True)  # s3s-fs: a bucket is a directory
    port = env["S3_ENDPOINT"].rsplit(":", 1)[1]
    cmd = [str(S3S_FS), "--host", "127.0.0.1", "--port", port]
    cmd += ["--access-key", env["S3_ACCESS_KEY_ID"], "--secret-key", env["S3_SECRET_ACCESS_KEY"]]
    start("s3", [*cmd, str(root)], process_env(env, RUST_LOG="s3s=warn"))

    def ready() -> bool:
        try:
            urllib.request.urlopen(env["S3_ENDPOINT"], timeout=2)  # noqa: S310 - loopback
        except urllib.error.HTTPError:
            return True  # unsigned: 403, but it answers
        except OSError:
            return False
        return True

    wait_for("the S3 server", ready, "s3")


def aws_connection(env: dict[str, str]) -> dict[str, Any]:
    return {
        "conn_type": "aws",
        "login": env["S3_ACCESS_KEY_ID"],
        "password": env["S3_SECRET_ACCESS_KEY"],
        "extra": json.dumps(
            {
                "endpoint_url": env["S3_ENDPOINT"],
                "region_name": "us-east-1",
                "config_kwargs": {"s3": {"addressing_style": "path"}},
            }
        ),
    }


def start_airflow(env: dict[str, str]) -> None:
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir()
    passwords = home / "passwords.json"
    passwords.touch(mode=0o600)
    passwords.write_text(json.dumps({API_USER: env["AIRFLOW_API_PASSWORD"]}))
    log("migrating the metadata database")
    airflow(env, "db", "migrate")
    # Imported from a 0600 file, not given on the command line, where ps would show the key.
    conn_file = CLUSTER / "connections.json"
    conn_file.touch(mode=0o600)
    conn_file.write_text(json.dumps({AWS_CONN_ID: aws_connection(env)}))
    try:
        airflow(env, "connections", "import", str(conn_file))
    finally:
        conn_file.unlink()
    for component in AIRFLOW_COMPONENTS:
        start_component(env, component)


AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", *WORKERS)


def start_component(env: dict[str, str], name: str) -> None:
    """Start one Airflow component; a worker gets its own hostname and log-server port."""
    if name not in AIRFLOW_COMPONENTS:
        raise ClusterError(f"{name} is not one of {AIRFLOW_COMPONENTS}")
    if alive(name):
        raise ClusterError(f"{name} is already running")
    airflow_bin = str(BIN / "airflow")
    if name in WORKERS:
        cmd = [airflow_bin, "celery", "worker", "--celery-hostname", f"{name}@%h"]
        extra = {
            "PYRUSTPIPE_CLUSTER_HOSTNAME": name,
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        }
        start(name, cmd, process_env(env, **extra))
    else:
        start(name, [airflow_bin, name], process_env(env))


def wait_healthy(env: dict[str, str]) -> None:
    log("waiting for the API server, scheduler, DAG processor and triggerer")
    wait_for("/api/v2/monitor/health", lambda: api_healthy(env), "api-server")
    log("waiting for both Celery workers (celery inspect ping)")
    wait_for(f"{WORKERS} to answer", lambda: workers_answering(env) >= set(WORKERS), *WORKERS)
    log("waiting for the Dags to be parsed")
    wait_for(f"the Dags of {DAGS_FOLDER}", lambda: dags_parsed(env), "dag-processor")


def running() -> list[str]:
    return [name for name in STOP_ORDER if alive(name)]


def up() -> None:
    if running():
        raise ClusterError(f"already running: {running()}; run `make cluster-down` first")
    ensure_installed()
    shutil.rmtree(CLUSTER, ignore_errors=True)
    CLUSTER.mkdir()
    # Traversable by the postgres user when run as root (its data directory stays 0700).
    CLUSTER.chmod(0o755)
    env = configuration()
    write_env(env)
    log("starting PostgreSQL, Redis and the S3 server")
    start_postgres(env)
    start_redis(env)
    start_s3(env)
    start_airflow(env)
    wait_healthy(env)
    for component in ("scheduler", "dag-processor", "triggerer", *WORKERS):
        if not alive(component):
            raise ClusterError(f"{component} exited:\n{log_tail(component)}")
    log(f"up: {env['AIRFLOW_API']} (user {API_USER}), S3 {env['S3_ENDPOINT']}; source {ENV_FILE}")


def down() -> None:
    for name in STOP_ORDER:
        stop(name, grace=10.0 if name in WORKERS else 30.0)
    left = [p.stem for p in PIDS.glob("*.pid")] if PIDS.exists() else []
    if left:
        raise ClusterError(f"unknown pid files left: {left}")
    # The tests run when it exists: it must not outlive the cluster.
    ENV_FILE.unlink(missing_ok=True)
    log("down: no cluster process is running")


def status() -> None:
    for name in STOP_ORDER:
        print(f"{name:14} {'running' if alive(name) else 'stopped'}  pid {pid_of(name)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "kill", "start"])
    parser.add_argument("component", nargs="?", choices=AIRFLOW_COMPONENTS)
    args = parser.parse_args()
    if (args.component is None) != (args.command in ("up", "down", "status")):
        parser.error("kill and start take a component; up, down and status do not")
    try:
        if args.command == "up":
            try:
                up()
            except BaseException:
                log("start failed; stopping what was started")
                down()
                raise
        elif args.command == "down":
            down()
        elif args.command == "kill":
            # Machine loss: no shutdown, every process of the component at once.
            while alive(args.component):
                kill_session(args.component, signal.SIGKILL)
                time.sleep(0.1)
        elif args.command == "start":
            start_component(read_env(), args.component)
        else:
            status()
    except ClusterError as error:
        print(f"cluster: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
