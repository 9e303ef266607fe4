"""polars variant: masks selected once, then summed"""

from _polars_variants import run

run(once=True)
