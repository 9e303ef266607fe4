"""Variants of the DuckDB peer, switched by flags, for bench/tune.py (bench/README.md, "Tuning")."""

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "peers"))

from _common import (  # noqa: E402
    COLUMNS,
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


def run(
    window: bool = False,
    flags_once: bool = False,
    columns: bool = False,
    translate: bool = False,
    threads: int | None = None,
) -> None:
    path = csv_path()
    if columns:
        cols = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in COLUMNS) + "}"
        read = f"columns = {cols}"
    else:
        read = "all_varchar = true"
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
    typed = []
    for col in ("amount", "fee"):
        if translate:
            # Only the grammar's characters, then DuckDB's own parser (which would also accept
            # surrounding spaces and `1_000`), finite (it also reads NaN and inf).
            ok = (
                f"(translate({col}, '0123456789+-.eE', '') = '' "
                f"AND coalesce(isfinite(TRY_CAST({col} AS DOUBLE)), false))"
            )
        else:
            ok = f"regexp_full_match({col}, {_lit(FLOAT)})"
        typed.append(f"{ok} AS {col}_ok")
        f[f"{col}:type"] = f"{col} IS NOT NULL AND NOT {col}_ok"
        typed.append(f"CASE WHEN {ok} THEN TRY_CAST({col} AS DOUBLE) END AS {col}_v")
    f["amount:gt"] = "NOT (amount_v > 0)"
    f["amount:le"] = "NOT (amount_v <= 1000000)"
    f["fee:ge"] = "NOT (fee_v >= 0)"
    f["fee_within_amount"] = "NOT (fee_v <= amount_v)"
    for col, values in ISIN.items():
        f[f"{col}:isin"] = f"{col} NOT IN ({', '.join(_lit(v) for v in values)})"
    f = {name: f"coalesce({sql}, false)" for name, sql in f.items()}
    raw = (
        f"SELECT * FROM read_csv({_lit(path)}, header = true, delim = ',', quote = '\"', "
        f"escape = '\"', {read}, nullstr = '')"
    )
    if window:
        dups = ""
        t = (
            "t AS (SELECT *, count(*) OVER (PARTITION BY txn_id) AS n_txn_id, "
            f"{', '.join(typed)} FROM raw)"
        )
    else:
        dups = (
            "dups AS (SELECT txn_id, 2 AS n_txn_id FROM raw WHERE txn_id IS NOT NULL "
            "GROUP BY txn_id HAVING count(*) > 1),"
        )
        t = (
            f"t AS (SELECT raw.*, dups.n_txn_id, {', '.join(typed)} "
            "FROM raw LEFT JOIN dups USING (txn_id))"
        )
    if flags_once:
        names = [f'"{n}"' for n in RULES]
        flagged = "fl AS (SELECT " + ", ".join(f'{f[n]} AS "{n}"' for n in RULES) + " FROM t)"
        sql = (
            f"WITH raw AS ({raw}), {dups} {t}, {flagged} SELECT count(*) AS rows, "
            f"count_if({' OR '.join(names)}) AS invalid_rows, "
            + ", ".join(f"count_if({n}) AS {n}" for n in names)
            + " FROM fl"
        )
    else:
        sql = (
            f"WITH raw AS ({raw}), {dups} {t} SELECT count(*) AS rows, "
            f"count_if({' OR '.join(f.values())}) AS invalid_rows, "
            + ", ".join(f'count_if({f[n]}) AS "{n}"' for n in RULES)
            + " FROM t"
        )
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    result = dict(zip(names, cursor.fetchone(), strict=True))
    emit(result.pop("rows"), result.pop("invalid_rows"), result)
