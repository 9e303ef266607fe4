"""DuckDB variant: the committed peer: GROUP BY + join for repeated ids, regex prefilters"""

from _duck_variants import run

run()
