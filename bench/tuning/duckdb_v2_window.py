"""DuckDB variant: v1 + count(*) OVER (PARTITION BY txn_id)"""

from _duck_variants import run

run(flags_once=True, window=True)
