"""Decompression throughput: the benchmark's CSV plain, gzip- and zstd-compressed, validated in
one process, alternating, with the same rules. The counts must agree.

    python bench/compressed.py --rows 1000000 [--repeat 5]

Decoding runs on the reader thread while the workers check the decoded blocks, so the cost shows
as how much slower the compressed file is than the plain one.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import pyarrow as pa  # noqa: E402
import pyrustpipe as pp  # noqa: E402
from run import DATA, dataset  # noqa: E402


def zstd(data: bytes) -> bytes:
    out = pa.BufferOutputStream()
    with pa.CompressedOutputStream(out, "zstd") as stream:
        stream.write(data)
    return bytes(out.getvalue().to_pybytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plain, _ = dataset(args.rows, 42)
    raw = plain.read_bytes()
    files = {"plain": plain}
    for codec, compress in (("gz", lambda b: gzip.compress(b, 6)), ("zst", zstd)):
        path = DATA / f"{plain.name}.{codec}"
        if not path.exists():
            path.write_bytes(compress(raw))
        files[codec] = path
    rules = pp.load_rules(str(ROOT / "bench" / "rules.py") + ":Transactions")
    times: dict[str, list[float]] = {name: [] for name in files}
    counts = {}
    for name, path in files.items():  # warm-up, and the counts
        report = pp.validate(str(path), rules)
        counts[name] = {r.name: r.failed for r in report.rules}
    assert counts["gz"] == counts["plain"] == counts["zst"], "the codecs disagree"
    for _ in range(args.repeat):
        for name, path in files.items():
            start = time.perf_counter()
            pp.validate(str(path), rules)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["plain"])
    print(f"| input ({args.rows:,} rows) | size MB | median s | MB/s (decoded) | vs plain |")
    print("|---|---|---|---|---|")
    for name, path in files.items():
        median = statistics.median(times[name])
        size = path.stat().st_size / 1e6
        print(
            f"| {name} | {size:.1f} | {median:.3f} | {len(raw) / 1e6 / median:.0f} "
            f"| {median / base:.2f}x |"
        )


if __name__ == "__main__":
    main()
