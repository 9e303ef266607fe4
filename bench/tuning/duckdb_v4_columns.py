"""DuckDB variant: v1 + read_csv(columns={...: VARCHAR})"""

from _duck_variants import run

run(flags_once=True, columns=True)
