"""Benchmark pyrustpipe against its peers on the transactions workload (bench/README.md).

    python bench/run.py --rows 1000000 [--rows 10000000] [--repeat 5] [--tools a,b] [--output F]

Every tool runs as a whole process, from interpreter start to exit. Each tool gets one warm-up run
(whose output is checked) then `--repeat` timed runs; the table shows the median wall and CPU time
and the largest peak RSS. Timing comes from os.wait4 on the tool's own process: wall time around
the process, CPU = user + system, peak RSS = ru_maxrss of the process (and any child it waited for).

Every tool that reports counts must agree exactly with pyrustpipe's report (and with the
generator's ground truth). A disagreement fails the run loudly, after the table is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / "peers"
DATA = BENCH / "data"
PYRUSTPIPE = ROOT / ".venv" / "bin" / "pyrustpipe"
RULES = "bench/rules.py:Transactions"
FLOOR_RULES = "bench/floor.json"

# Tools in table order. "floor" tools only read the bytes: their counts are not checked.
COUNTING = [
    "pyrustpipe",
    # The same CLI on one worker thread: the target is to beat every peer on two cores.
    "pyrustpipe_1thread",
    "polars_streaming",
    "duckdb_sql",
    "polars_eager",
    "dataframely_polars",
    "pointblank_polars",
    "pandas_pyarrow",
    "pyarrow_compute",
    "pandera_pandas",
    "gx_pandas",
    "pure_python",
]
FLOORS = ["wc", "pyarrow_read", "pyrustpipe_floor"]
# Too slow to repeat on 10M rows by default (minutes each); name them in --tools to run them.
SLOW = {"pandera_pandas", "gx_pandas", "pure_python"}
SLOW_ABOVE_ROWS = 2_000_000


@dataclass
class Run:
    wall: float
    cpu: float
    peak_kib: int
    rc: int
    stdout: str
    stderr: str


@dataclass
class Result:
    tool: str
    runs: list[Run] = field(default_factory=list)
    counts: dict | None = None  # {"rows", "invalid_rows", "failures"}
    error: str | None = None
    ir_per_row: float | None = None  # callgrind, marginal instructions per row (--instructions)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def peak_mib(self) -> float:
        return max(r.peak_kib for r in self.runs) / 1024


# ---------------------------------------------------------------------------------------------
# Data


def dataset(rows: int, seed: int) -> tuple[Path, dict]:
    """The cached CSV and its ground truth; the name carries a hash of the generator's code, so
    a changed generator never benchmarks stale data."""
    code = (BENCH / "generate.py").read_bytes()
    tag = hashlib.sha256(code).hexdigest()[:8]
    path = DATA / f"tx_{rows}_seed{seed}_{tag}.csv"
    truth = path.with_suffix(".truth.json")
    if not (path.exists() and truth.exists()):
        print(f"generating {path.relative_to(ROOT)} ...", file=sys.stderr, flush=True)
        # Written under names of this process, then renamed in (the data before its truth): two
        # processes that need the same data at once (parallel tests) each read whole files.
        own = f".{os.getpid()}.part"
        path_part, truth_part = Path(str(path) + own), Path(str(truth) + own)
        subprocess.run(
            [
                sys.executable,
                str(BENCH / "generate.py"),
                "--rows",
                str(rows),
                "--seed",
                str(seed),
                "--out",
                str(path_part),
                "--truth",
                str(truth_part),
            ],
            check=True,
        )
        os.replace(path_part, path)
        os.replace(truth_part, truth)
    return path, json.loads(truth.read_text())


# ---------------------------------------------------------------------------------------------
# Tools


def command(tool: str, data: Path) -> list[str]:
    if tool in ("pyrustpipe", "pyrustpipe_1thread"):
        threads = ["--threads", "1"] if tool == "pyrustpipe_1thread" else []
        return [
            str(PYRUSTPIPE),
            "validate",
            str(data),
            "--rules",
            RULES,
            "--format",
            "json",
            *threads,
        ]
    if tool == "pyrustpipe_floor":
        # The parse pipeline alone: the 11 columns as `str`, no checks (issue 12's floor).
        return [str(PYRUSTPIPE), "validate", str(data), "--rules", FLOOR_RULES, "--format", "json"]
    if tool == "wc":
        return ["wc", "-l", str(data)]
    return [sys.executable, str(PEERS / f"{tool}.py"), str(data)]


def pyrustpipe_missing() -> str | None:
    """Why the pyrustpipe CLI cannot run yet, or None."""
    if not PYRUSTPIPE.exists():
        return f"{PYRUSTPIPE.relative_to(ROOT)} not found (CLI not installed yet: maturin develop)"
    probe = subprocess.run(
        [str(PYRUSTPIPE), "--help"], check=False, capture_output=True, text=True, cwd=ROOT
    )
    if probe.returncode != 0:
        return f"`pyrustpipe --help` failed: {(probe.stderr or probe.stdout).strip()[-300:]}"
    return None


def run_once(cmd: list[str], timeout: float) -> Run:
    """Run one process to exit and measure it with os.wait4 (its own rusage, nothing else's)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # blocking: no polling error in the wall time
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return Run(
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss,
            proc.returncode,
            out.read(),
            err.read(),
        )


def callgrind_instructions(cmd: list[str], profile: Path | None = None) -> int:
    """Instructions the process (all its threads) executed, as valgrind's callgrind counts them;
    the profile is kept at `profile` when given."""
    with tempfile.TemporaryDirectory() as tmp:
        out = profile or Path(tmp) / "out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd],
            check=False,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise ValueError(f"callgrind gave no count (exit {proc.returncode}): {proc.stderr[-300:]}")
    return int(found.group(1))


def instructions_per_row(make_cmd: Callable[[Path], list[str]], rows: int, seed: int = 42) -> float:
    """Marginal instructions per row: callgrind on `rows` and on `rows // 10` rows of generated
    data, difference over the row difference, so start-up and imports cancel out."""
    small, _ = dataset(rows // 10, seed)
    large, _ = dataset(rows, seed)
    delta = callgrind_instructions(make_cmd(large)) - callgrind_instructions(make_cmd(small))
    return delta / (rows - rows // 10)


def parse_counts(tool: str, run: Run) -> dict:
    """The tool's counts as {"rows", "invalid_rows", "failures"}; ValueError when unusable."""
    text = run.stdout.strip()
    if not text:
        raise ValueError(f"no output (exit {run.rc}); stderr: {run.stderr.strip()[-500:]}")
    if not tool.startswith("pyrustpipe"):
        if run.rc != 0:
            raise ValueError(f"exit {run.rc}; stderr: {run.stderr.strip()[-500:]}")
        return json.loads(text.splitlines()[-1])
    # pyrustpipe exits non-zero when the gate fails (the data has bad rows): the report decides.
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"report is not JSON ({exc}); exit {run.rc}; stderr: {run.stderr.strip()[-500:]}"
        ) from exc
    return {
        "rows": report["rows"],
        "invalid_rows": report["invalid_rows"],
        "failures": {rule["name"]: rule["failed"] for rule in report["rules"]},
    }


def warm_up(tool: str, data: Path, timeout: float) -> tuple[Result, int]:
    """One untimed run (page cache, imports); its output is the one checked. Returns its exit."""
    result = Result(tool)
    warm = run_once(command(tool, data), timeout)
    if tool not in FLOORS:
        try:
            result.counts = parse_counts(tool, warm)
        except (ValueError, KeyError) as exc:
            result.error = str(exc)
    elif warm.rc != 0:
        result.error = f"exit {warm.rc}: {warm.stderr.strip()[-300:]}"
    return result, warm.rc


def measure(tools: list[str], data: Path, repeat: int, timeout: float) -> list[Result]:
    """Warm every tool up, then time them round-robin: on a shared machine, load that comes and
    goes during the run then lands on every tool alike instead of on whichever ran at the time."""
    results, exits = [], {}
    for tool in tools:
        print(f"  warm-up {tool}", file=sys.stderr, flush=True)
        result, exits[tool] = warm_up(tool, data, timeout)
        results.append(result)
    for i in range(repeat):
        print(f"  round {i + 1}/{repeat}", file=sys.stderr, flush=True)
        for result in results:
            if result.error:
                continue
            run = run_once(command(result.tool, data), timeout)
            if run.rc != exits[result.tool]:
                result.error = f"exit {run.rc} in a timed run (warm-up: {exits[result.tool]})"
                continue
            result.runs.append(run)
    return results


# ---------------------------------------------------------------------------------------------
# Agreement


def disagreements(reference: dict, counts: dict) -> list[str]:
    """Differences in rows, invalid_rows or any rule's count (a rule missing on one side is 0)."""
    out = [
        f"{key}: {counts.get(key)} != {reference.get(key)}"
        for key in ("rows", "invalid_rows")
        if counts.get(key) != reference.get(key)
    ]
    ref, got = reference["failures"], counts["failures"]
    for name in sorted(set(ref) | set(got)):
        if ref.get(name, 0) != got.get(name, 0):
            out.append(f"{name}: {got.get(name, 0)} != {ref.get(name, 0)}")
    return out


# ---------------------------------------------------------------------------------------------
# Output


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        lscpu = subprocess.run(["lscpu"], check=False, capture_output=True, text=True).stdout
        model = next(
            line.split(":", 1)[1].strip()
            for line in lscpu.splitlines()
            if line.startswith("Model name")
        )
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"Linux {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} CPUs ({model}), {mem:.0f} GiB RAM, {system}"


def versions() -> str:
    code = (
        "import importlib.metadata as m\n"
        "for p in ['polars','duckdb','pandas','pyarrow','pandera','dataframely','pointblank',"
        "'great_expectations','pyrustpipe']:\n"
        "    try: print(p, m.version(p))\n"
        "    except m.PackageNotFoundError: pass\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    ).stdout.split("\n")
    return ", ".join(line for line in out if line)


def revision() -> str:
    """The commit being measured; "+ local changes" when the work tree differs from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run(
        [*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True
    )
    dirty = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"],
        check=False,
        capture_output=True,
        text=True,
    )
    rev = head.stdout.strip() or "unknown"
    return rev + (" + local changes" if dirty.stdout.strip() else "")


def table(results: list[Result], rows: int) -> str:
    ref = next((r for r in results if r.tool == "pyrustpipe" and r.runs), None)
    lines = [
        "| tool | wall s | cpu s | instr/row | peak MiB | rows/s | × pyrustpipe |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if not r.runs:
            lines.append(
                f"| {r.tool} | — | — | — | — | — | not run: {r.error or 'no timed runs'} |"
            )
            continue
        ratio = f"{r.wall / ref.wall:.2f}" if ref else "—"
        cells = [
            r.tool,
            f"{r.wall:.2f}",
            f"{r.cpu:.2f}",
            f"{r.ir_per_row:,.0f}" if r.ir_per_row is not None else "—",
            f"{r.peak_mib:,.0f}",
            f"{rows / r.wall:,.0f}",
            ratio,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def select_tools(requested: list[str] | None, rows: int) -> list[str]:
    known = COUNTING + FLOORS
    if requested:
        unknown = [t for t in requested if t not in known]
        if unknown:
            raise SystemExit(f"unknown tools {unknown}; known: {', '.join(known)}")
        return [t for t in known if t in requested]
    return [t for t in known if not (t in SLOW and rows > SLOW_ABOVE_ROWS)]


IR_CACHE: dict[str, float] = {}


def bench_size(rows: int, args: argparse.Namespace) -> tuple[str, list[str]]:
    """Benchmark one data size; returns its markdown section and its failure messages."""
    data, truth = dataset(rows, args.seed)
    size_mb = data.stat().st_size / 1e6
    tools = select_tools(args.tools, rows)
    problems: list[str] = []
    notes: list[str] = []
    if any(tool.startswith("pyrustpipe") for tool in tools):
        why = pyrustpipe_missing()
        if why:
            msg = f"pyrustpipe skipped: {why}"
            print(f"WARNING: {msg}", file=sys.stderr)
            notes.append(msg)
            if args.require_pyrustpipe:
                problems.append(msg)
            tools = [t for t in tools if not t.startswith("pyrustpipe")]
    load_before = os.getloadavg()[0]
    print(f"[{rows:,} rows] {', '.join(tools)}", file=sys.stderr, flush=True)
    results = measure(tools, data, args.repeat, args.timeout)
    if args.instructions:
        for result in results:
            if result.tool in args.instructions_tools and not result.error:
                print(f"  callgrind {result.tool}", file=sys.stderr, flush=True)
                if result.tool not in IR_CACHE:  # the same for every --rows section
                    IR_CACHE[result.tool] = instructions_per_row(
                        lambda d, t=result.tool: command(t, d), args.instructions, args.seed
                    )
                result.ir_per_row = IR_CACHE[result.tool]
        notes.append(
            f"instr/row: callgrind instructions per row (all threads), "
            f"{', '.join(args.instructions_tools)} only, marginal between generated files of "
            f"{args.instructions // 10:,} and {args.instructions:,} rows (start-up cancels out)"
        )
    for result in results:
        if result.error:
            problems.append(f"{result.tool}: {result.error}")
        elif result.runs:
            print(
                f"  {result.tool}: wall {result.wall:.2f} s  cpu {result.cpu:.2f} s  "
                f"peak {result.peak_mib:,.0f} MiB",
                file=sys.stderr,
            )
    reference = next((r.counts for r in results if r.tool == "pyrustpipe" and r.counts), None)
    ref_name = "pyrustpipe" if reference else "the generator's ground truth"
    checked = [r for r in results if r.counts]
    for r in checked:
        diffs = disagreements(reference or truth, r.counts)
        if diffs:
            problems.append(f"{r.tool} disagrees with {ref_name}: " + "; ".join(diffs))
    if reference:
        diffs = disagreements(truth, reference)
        if diffs:
            problems.append(
                "pyrustpipe disagrees with the generator's ground truth: " + "; ".join(diffs)
            )
    agreed = [r.tool for r in checked if not disagreements(reference or truth, r.counts)]
    section = [
        f"### {rows:,} rows ({size_mb:,.0f} MB), {truth['invalid_rows']:,} invalid rows",
        "",
        table(results, rows),
        "",
        (
            f"Counts ({len(truth['failures'])} rules with failures, `invalid_rows`) checked "
            f"against {ref_name}: {', '.join(agreed) or 'none'} agree exactly."
        ),
    ]
    # Shared machines: the load around the run says how far to trust its absolute times.
    notes.append(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    section += [f"- {n}" for n in notes]
    return "\n".join(section), problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, action="append", help="data rows (repeatable); default 1000000"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="timed runs per tool after one warm-up"
    )
    parser.add_argument(
        "--tools", type=lambda s: [t for t in s.split(",") if t], help="comma-separated subset"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    parser.add_argument("--output", help="also write the markdown here (e.g. bench/out/results.md)")
    parser.add_argument(
        "--require-pyrustpipe", action="store_true", help="fail when the CLI is missing"
    )
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="ROWS",
        help="add callgrind instructions/row, measured on ROWS/10 and ROWS generated rows",
    )
    parser.add_argument(
        "--instructions-tools",
        type=lambda s: [t for t in s.split(",") if t],
        default=["pyrustpipe"],
        help="tools that get the instructions column (default pyrustpipe: callgrind is slow)",
    )
    args = parser.parse_args()
    sizes = args.rows or [1_000_000]
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (callgrind) on PATH")
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    if shutil.which("lscpu") is None:
        print("note: lscpu not found; machine info is partial", file=sys.stderr)
    sections, problems = [], []
    for rows in sizes:
        section, found = bench_size(rows, args)
        sections.append(section)
        problems += found
    doc = "\n".join(
        [
            f"## Benchmark run {started}",
            "",
            f"- command: `python bench/run.py {' '.join(sys.argv[1:])}`",
            f"- machine: {machine()}",
            f"- versions: {versions()}; repository at {revision()}",
            (
                "- method: whole process start to exit; "
                f"median of {args.repeat} round-robin runs after 1 warm-up each; "
                "peak RSS = ru_maxrss from os.wait4; × pyrustpipe = tool wall / pyrustpipe wall"
            ),
            "",
            "\n\n".join(sections),
            "",
        ]
    )
    print(doc)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(doc)
    if problems:
        print("\nBENCHMARK FAILED:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
