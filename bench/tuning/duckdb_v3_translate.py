"""DuckDB variant: v1 + numbers: translate() character check + TRY_CAST + isfinite"""

from _duck_variants import run

run(flags_once=True, translate=True)
