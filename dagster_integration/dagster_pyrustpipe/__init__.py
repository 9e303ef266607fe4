"""Dagster asset checks from pyrustpipe rules (docs/dagster.md).

- :func:`build_pyrustpipe_checks`: one asset check per rule plus a summary check (or the summary
  alone), over files (local or S3, per partition or a partition range) or the asset's in-memory
  DataFrame.
- :class:`PyRustPipeResource`: S3 settings (``dagster_aws`` names) and engine options.
- :func:`rules_to_table_schema`: the rules as ``dagster/column_schema`` metadata.
"""

from __future__ import annotations

from dagster_pyrustpipe.checks import (
    SUMMARY_CHECK,
    Blocking,
    build_pyrustpipe_checks,
    check_names,
    rule_to_check_name,
)
from dagster_pyrustpipe.resource import PyRustPipeResource
from dagster_pyrustpipe.table_schema import rules_to_table_schema

# Also the distribution's version (pyproject.toml reads it from here);
# tests/python/test_packaging.py holds it equal to the Cargo workspace version.
__version__ = "0.1.0"

__all__ = [
    "SUMMARY_CHECK",
    "Blocking",
    "PyRustPipeResource",
    "__version__",
    "build_pyrustpipe_checks",
    "check_names",
    "rule_to_check_name",
    "rules_to_table_schema",
]

try:
    from dagster._core.libraries import DagsterLibraryRegistry

    DagsterLibraryRegistry.register("dagster-pyrustpipe", __version__, is_dagster_package=False)
except (ImportError, TypeError):  # pragma: no cover - the registry is internal to Dagster
    pass
