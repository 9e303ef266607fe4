"""polars variant: v3 lazy, in-memory engine"""

from _polars_variants import run

run(once=True, window=True, cast_only=True, engine="in-memory")
