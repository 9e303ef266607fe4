"""polars variant: v3 + scan_csv(schema=all String)"""

from _polars_variants import run

run(once=True, window=True, cast_only=True, schema=True)
