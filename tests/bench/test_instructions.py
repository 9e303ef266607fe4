"""bench/instructions.py: a function's total is its largest callgrind split, and a real count
of one validate call is the engine's (when valgrind is installed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from instructions import function_totals  # noqa: E402

BLOCK = "pyrustpipe_core/src/formats/csv/block.rs"
PARSE_ROWS = "pyrustpipe_core::formats::csv::block::parse_rows"
CLOSURE = (
    "pyrustpipe_core::check::row_whole::<impl pyrustpipe_core::check::Block>"
    "::check_rows_whole::{{closure}}"
)
ANNOTATED = "\n".join(
    [
        f" 58,991,813 (11.80%)  /work/x/{BLOCK}:{PARSE_ROWS}",
        f" 25,189,061 ( 5.04%)  pyrustpipe_core/src/formats/csv/parser.rs:{PARSE_ROWS}",
        f"  7,132,001 ( 1.43%)  {BLOCK}:{PARSE_ROWS} [/p/_core.abi3.so]",
        f" 42,743,937 ( 3.10%)  /w/row_whole.rs:{CLOSURE} [/p/_core.abi3.so]",
        "  9,000,000 ( 1.80%)  => /w/check.rs:pyrustpipe_core::check::value_hash (199,892x)",
        "544,711,870 (120.7%)  ???:0x0000000004936718'2 [???]",
    ]
)


def test_a_function_is_its_largest_split_and_calls_are_not_functions() -> None:
    assert function_totals(ANNOTATED) == {PARSE_ROWS: 58_991_813, CLOSURE: 42_743_937}


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
@pytest.mark.parametrize("rules", ["bench", "floor"])
def test_one_validate_is_counted(rules: str) -> None:
    script = str(ROOT / "bench" / "instructions.py")
    out = subprocess.run(
        [sys.executable, script, "--rows", "2000", "--rules", rules],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert f"rules: {rules}" in out, out
    line = next(line for line in out.splitlines() if line.startswith("one validate:"))
    per_row = int(line.split()[2].replace(",", "")) / 2000
    # The engine's own work: thousands of instructions a row, not the interpreter's millions.
    assert 500 < per_row < 50_000, out
