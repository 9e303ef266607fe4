"""polars variant: v1 + cast, is_duplicated"""

from _polars_variants import run

run(once=True, cast_only=True)
