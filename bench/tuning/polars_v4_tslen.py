"""polars variant: v3 + timestamp shape by byte length 19 (approximate)"""

from _polars_variants import run

run(once=True, window=True, cast_only=True, ts_len=True)
