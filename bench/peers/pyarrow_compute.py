"""Peer: no DataFrame library: pyarrow.csv into a Table of strings, pyarrow.compute kernels.

`ConvertOptions` types every column as a string and makes only the empty field null (so `NA`
stays Namibia). Arrow's `strptime` rolls impossible dates over (Feb 30 -> Mar 2), so a parsed
timestamp must format back to its own text; Arrow's string-to-float cast raises on bad input,
so numbers are cast only where the float grammar's regex matched.
"""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from _common import (
    COLUMNS,
    FLOAT,
    ISIN,
    PATTERNS,
    REQUIRED,
    TIMESTAMP,
    TIMESTAMP_FORMAT,
    csv_path,
    emit,
)


def _full(col: pa.ChunkedArray, pattern: str) -> pa.ChunkedArray:
    return pc.match_substring_regex(col, f"^(?:{pattern})$")


def read(path: str) -> pa.Table:
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(COLUMNS, pa.string()),
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    parse = pacsv.ParseOptions(newlines_in_values=True)
    return pacsv.read_csv(path, parse_options=parse, convert_options=convert)


def failure_masks(t: pa.Table) -> dict[str, pa.ChunkedArray]:
    """One boolean array per rule, True where the row fails it (nulls become False)."""
    m = {}
    for col in REQUIRED:
        m[f"{col}:not_null"] = pc.is_null(t[col])
    for col, pattern in PATTERNS.items():
        m[f"{col}:pattern"] = pc.invert(_full(t[col], pattern))
    tid = t["txn_id"]
    counts = pc.value_counts(tid)
    repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    m["txn_id:unique"] = pc.is_in(tid, value_set=repeated, skip_nulls=True)
    ts = t["timestamp"]
    parsed = pc.strptime(
        pc.if_else(_full(ts, TIMESTAMP), ts, None), TIMESTAMP_FORMAT, "s", error_is_null=True
    )
    same = pc.fill_null(pc.equal(pc.strftime(parsed, TIMESTAMP_FORMAT), ts), False)
    m["timestamp:type"] = pc.and_(pc.is_valid(ts), pc.invert(same))
    num = {}
    for col in ("amount", "fee"):
        ok = _full(t[col], FLOAT)
        m[f"{col}:type"] = pc.invert(ok)
        num[col] = pc.cast(pc.if_else(ok, t[col], None), pa.float64())
    amount, fee = num["amount"], num["fee"]
    m["amount:gt"] = pc.invert(pc.greater(amount, 0))
    m["amount:le"] = pc.invert(pc.less_equal(amount, 1_000_000))
    m["fee:ge"] = pc.invert(pc.greater_equal(fee, 0))
    m["fee_within_amount"] = pc.invert(pc.less_equal(fee, amount))
    for col, values in ISIN.items():
        known = pc.is_in(t[col], value_set=pa.array(values))
        m[f"{col}:isin"] = pc.and_(pc.is_valid(t[col]), pc.invert(known))
    return {name: pc.fill_null(mask, False) for name, mask in m.items()}


def main() -> None:
    table = read(csv_path())
    masks = failure_masks(table)
    invalid = pc.is_null(table["txn_id"])
    for mask in masks.values():
        invalid = pc.or_(invalid, mask)
    emit(
        table.num_rows,
        pc.sum(invalid).as_py() or 0,
        {name: pc.sum(mask).as_py() or 0 for name, mask in masks.items()},
    )


if __name__ == "__main__":
    main()
