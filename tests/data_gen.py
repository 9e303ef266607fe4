"""Seeded CSV generators for the engine's tests.

- `make_transactions`: the benchmark's mobile-money file with injected faults. It is
  bench/generate.py itself (loaded by path): one implementation, one ground truth.
- `make_random_csv`: hostile-but-valid CSV text for property tests: quoted fields, embedded
  delimiters, quotes, newlines and CRLF, a BOM, blank lines, ragged rows, invalid UTF-8, empties.
  It returns what it wrote, so a test can compare the engine's (or the oracle's) reading with it.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

GENERATE_PY = Path(__file__).resolve().parent.parent / "bench" / "generate.py"


@cache
def _generator() -> ModuleType:
    # Loaded by path under a private name: "generate" is too generic to put on sys.path.
    spec = importlib.util.spec_from_file_location("_pyrustpipe_bench_generate", GENERATE_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered while it executes
    spec.loader.exec_module(module)
    return module


def make_transactions(path: str | Path, rows: int, seed: int, error_rate: float = 0.015) -> dict:
    """Write the transactions CSV; returns the ground truth {"rows", "invalid_rows", "failures"}
    for the rules of bench/rules.json."""
    return _generator().make(rows, seed, path, None, error_rate)


# ---------------------------------------------------------------------------------------------

# Field material: plain text, the characters that force quoting, non-ASCII, and (separately)
# bytes that are not UTF-8.
_PLAIN = "abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 -_.:/"
_SPECIAL = [",", '"', "\n", "\r\n", "\r", "  ", "é", "ß", "✓", "😀", "\t", ";"]
_INVALID_UTF8 = [b"\xff", b"\xfe", b"\xc3", b"\xe2\x82", b"\x80", b"\xed\xa0\x80"]


@dataclass
class RandomCsv:
    path: Path
    header: list[str]
    # Data records as a CSV reader must return them: field bytes (UTF-8 unless invalid on purpose).
    records: list[list[bytes]]
    ragged_rows: list[int]  # 1-based data rows whose field count differs from the header's
    invalid_utf8_cells: list[tuple[int, int]]  # (1-based row, 0-based column)
    blank_lines: int
    bom: bool
    line_ending: bytes


def _field(rng: random.Random, special_prob: float, empty_prob: float) -> bytes:
    if rng.random() < empty_prob:
        return b""
    parts = []
    for _ in range(rng.randint(1, 12)):
        if rng.random() < special_prob:
            parts.append(rng.choice(_SPECIAL))
        else:
            parts.append(rng.choice(_PLAIN))
    return "".join(parts).encode()


def _encode(value: bytes, delimiter: bytes, quote: bytes, force: bool) -> bytes:
    """RFC 4180: quote when the field holds a delimiter, quote, CR or LF (or when asked to)."""
    if force or any(ch in value for ch in (delimiter, quote, b"\r", b"\n")):
        return quote + value.replace(quote, quote + quote) + quote
    return value


def make_random_csv(
    path: str | Path,
    rows: int,
    seed: int,
    *,
    columns: int = 5,
    delimiter: str = ",",
    quote: str = '"',
    bom: bool | None = None,
    crlf: bool | None = None,
    quote_prob: float = 0.1,
    special_prob: float = 0.05,
    empty_prob: float = 0.1,
    ragged_prob: float = 0.02,
    invalid_utf8_prob: float = 0.01,
    blank_line_prob: float = 0.01,
    trailing_newline: bool | None = None,
) -> RandomCsv:
    """Write a random CSV (header + `rows` data records) and describe exactly what was written.

    `bom`, `crlf` and `trailing_newline` are drawn from the seed when None. Blank lines are
    written between records (they are not rows). A record that would encode to an empty line
    (one column, empty field) is written as `""` so that it stays a record.
    """
    rng = random.Random(seed)
    bom = rng.random() < 0.3 if bom is None else bom
    crlf = rng.random() < 0.5 if crlf is None else crlf
    trailing_newline = rng.random() < 0.8 if trailing_newline is None else trailing_newline
    eol = b"\r\n" if crlf else b"\n"
    delim, q = delimiter.encode(), quote.encode()
    header = [f"c{i}" for i in range(columns)]
    result = RandomCsv(Path(path), header, [], [], [], 0, bom, eol)

    lines = [delim.join(h.encode() for h in header)]
    for row in range(1, rows + 1):
        while rng.random() < blank_line_prob:
            lines.append(b"")
            result.blank_lines += 1
        width = columns
        if rng.random() < ragged_prob:
            width = max(1, columns + rng.choice([-2, -1, 1, 2])) if columns > 1 else 2
            if width != columns:
                result.ragged_rows.append(row)
        values = []
        for col in range(width):
            value = _field(rng, special_prob, empty_prob)
            if rng.random() < invalid_utf8_prob:
                # Cut between characters, so the bad bytes cannot complete a split character.
                text = value.decode()
                cut = rng.randint(0, len(text))
                value = text[:cut].encode() + rng.choice(_INVALID_UTF8) + text[cut:].encode()
                result.invalid_utf8_cells.append((row, col))
            values.append(value)
        line = delim.join(_encode(v, delim, q, rng.random() < quote_prob) for v in values)
        lines.append(line if line else q + q)
        result.records.append(values)

    data = eol.join(lines) + (eol if trailing_newline else b"")
    Path(path).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return result
