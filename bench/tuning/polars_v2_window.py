"""polars variant: v1 + pl.len().over(txn_id) > 1"""

from _polars_variants import run

run(once=True, window=True)
