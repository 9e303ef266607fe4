"""polars variant: the committed peer: masks inside the aggregate, is_duplicated, regex prefilters"""

from _polars_variants import run

run()
