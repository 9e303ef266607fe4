"""polars variant: v2 + numbers: one strict=False cast, is_finite (no regex)"""

from _polars_variants import run

run(once=True, window=True, cast_only=True)
