"""polars variant: the old peer: masks inside the aggregate, is_duplicated, regex prefilters"""

from _polars_variants import run

run()
