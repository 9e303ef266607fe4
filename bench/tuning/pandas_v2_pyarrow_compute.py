"""pandas variant: no pandas at all: pyarrow.csv (typed as strings) and pyarrow.compute kernels."""

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "peers"))

from _common import (  # noqa: E402
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


def full(col: pa.ChunkedArray, pattern: str) -> pa.ChunkedArray:
    return pc.match_substring_regex(col, f"^(?:{pattern})$")


convert = pacsv.ConvertOptions(
    column_types=dict.fromkeys(COLUMNS, pa.string()),
    null_values=[""],
    strings_can_be_null=True,
    quoted_strings_can_be_null=True,
)
parse = pacsv.ParseOptions(newlines_in_values=True)
t = pacsv.read_csv(csv_path(), parse_options=parse, convert_options=convert)
m = {}
for col in REQUIRED:
    m[f"{col}:not_null"] = pc.is_null(t[col])
for col, pattern in PATTERNS.items():
    m[f"{col}:pattern"] = pc.invert(full(t[col], pattern))
tid = t["txn_id"]
counts = pc.value_counts(tid)
repeated = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
m["txn_id:unique"] = pc.is_in(tid, value_set=repeated, skip_nulls=True)
ts = t["timestamp"]
shaped = full(ts, TIMESTAMP)
parsed = pc.strptime(pc.if_else(shaped, ts, None), TIMESTAMP_FORMAT, "s", error_is_null=True)
# Arrow's strptime rolls impossible dates over (Feb 30 -> Mar 2): format back and compare.
again = pc.strftime(parsed, TIMESTAMP_FORMAT)
m["timestamp:type"] = pc.and_(pc.is_valid(ts), pc.invert(pc.fill_null(pc.equal(again, ts), False)))
num = {}
for col in ("amount", "fee"):
    ok = full(t[col], FLOAT)
    m[f"{col}:type"] = pc.invert(ok)
    num[col] = pc.cast(pc.if_else(ok, t[col], None), pa.float64())
a, f = num["amount"], num["fee"]
m["amount:gt"] = pc.invert(pc.greater(a, 0))
m["amount:le"] = pc.invert(pc.less_equal(a, 1_000_000))
m["fee:ge"] = pc.invert(pc.greater_equal(f, 0))
m["fee_within_amount"] = pc.invert(pc.less_equal(f, a))
for col, values in ISIN.items():
    known = pc.is_in(t[col], value_set=pa.array(values))
    m[f"{col}:isin"] = pc.and_(pc.is_valid(t[col]), pc.invert(known))
m = {k: pc.fill_null(v, False) for k, v in m.items()}
invalid = m["txn_id:not_null"]
for v in m.values():
    invalid = pc.or_(invalid, v)
emit(t.num_rows, pc.sum(invalid).as_py() or 0, {k: pc.sum(v).as_py() or 0 for k, v in m.items()})
