"""DuckDB variant: flags computed once in a projection, then count_if"""

from _duck_variants import run

run(flags_once=True)
