"""Peer: DuckDB SQL over read_csv (all VARCHAR), one aggregate query."""

import duckdb
from _common import (
    FLOAT,
    ISIN,
    PATTERNS,
    REQUIRED,
    RULES,
    TIMESTAMP,
    TIMESTAMP_FORMAT,
    csv_path,
    emit,
)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def flags() -> dict[str, str]:
    """One SQL boolean per rule, true where the row fails it; NULL ("unknown") becomes false."""
    f: dict[str, str] = {}
    for col in REQUIRED:
        f[f"{col}:not_null"] = f"{col} IS NULL"
    for col, pattern in PATTERNS.items():
        f[f"{col}:pattern"] = f"NOT regexp_full_match({col}, {_lit(pattern)})"
    f["txn_id:unique"] = "txn_id IS NOT NULL AND n_txn_id > 1"
    f["timestamp:type"] = (
        f"timestamp IS NOT NULL AND NOT (regexp_full_match(timestamp, {_lit(TIMESTAMP)}) "
        f"AND try_strptime(timestamp, {_lit(TIMESTAMP_FORMAT)}) IS NOT NULL)"
    )
    for col in ("amount", "fee"):
        f[f"{col}:type"] = f"NOT regexp_full_match({col}, {_lit(FLOAT)})"
    f["amount:gt"] = "NOT (amount_v > 0)"
    f["amount:le"] = "NOT (amount_v <= 1000000)"
    f["fee:ge"] = "NOT (fee_v >= 0)"
    f["fee_within_amount"] = "NOT (fee_v <= amount_v)"
    for col, values in ISIN.items():
        f[f"{col}:isin"] = f"{col} NOT IN ({', '.join(_lit(v) for v in values)})"
    return {name: f"coalesce({sql}, false)" for name, sql in f.items()}


def query(path: str) -> str:
    f = flags()
    typed = ", ".join(
        f"CASE WHEN regexp_full_match({c}, {_lit(FLOAT)}) THEN TRY_CAST({c} AS DOUBLE) END AS {c}_v"
        for c in ("amount", "fee")
    )
    counts = ",\n  ".join(f'count_if({f[name]}) AS "{name}"' for name in RULES)
    return f"""
WITH raw AS (
  SELECT * FROM read_csv({_lit(path)}, header = true, delim = ',', quote = '"', escape = '"',
                         all_varchar = true, nullstr = '')
),
dups AS (SELECT txn_id, 2 AS n_txn_id FROM raw WHERE txn_id IS NOT NULL
         GROUP BY txn_id HAVING count(*) > 1),
t AS (SELECT raw.*, dups.n_txn_id, {typed} FROM raw LEFT JOIN dups USING (txn_id))
SELECT count(*) AS rows,
  count_if({" OR ".join(f.values())}) AS invalid_rows,
  {counts}
FROM t
"""


def main() -> None:
    cursor = duckdb.connect().execute(query(csv_path()))
    names = [d[0] for d in cursor.description]
    result = dict(zip(names, cursor.fetchone(), strict=True))
    emit(result.pop("rows"), result.pop("invalid_rows"), result)


if __name__ == "__main__":
    main()
