"""polars variant: v3 eager read_csv + in-memory engine"""

from _polars_variants import run

run(once=True, window=True, cast_only=True, eager=True, engine="in-memory")
