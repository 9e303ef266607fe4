"""pyrustpipe: a data-quality gate. Write rules as a typed Python class; a Rust engine validates
CSV, NDJSON and Parquet files (local or S3) against them in parallel.

>>> import pyrustpipe as pp
>>> class Transfers(pp.Schema):
...     transfer_id: str = pp.Field(pattern=r"^TR[0-9]{6}$", unique=True)
...     amount: float = pp.Field(gt=0)
>>> Transfers.to_spec()["name"]
'Transfers'

See docs/dsl.md for the rule language and docs/cli.md for the command line.
"""

from __future__ import annotations

from pyrustpipe._trace import row_rule
from pyrustpipe._typing import TYPE_CHECKING
from pyrustpipe.api import Spec, load_rules, validate
from pyrustpipe.exceptions import (
    CancelledError,
    DataFormatError,
    PyRustPipeError,
    SchemaError,
    StorageError,
    UntraceableRuleWarning,
    ValidationFailed,
)
from pyrustpipe.expr import DatasetCheck, Expr, MetricExpr, col, lit, row_count
from pyrustpipe.schema import Check, Field, Schema, Unique

if TYPE_CHECKING:
    from pyrustpipe import history
    from pyrustpipe.compiled import Compiled, Rule, compile
    from pyrustpipe.report import Report, RuleResult, Sample, SourceResult
    from pyrustpipe.splits import Split, gate_splits, plan_splits

__all__ = [
    "CancelledError",
    "Check",
    "Compiled",
    "DataFormatError",
    "DatasetCheck",
    "Expr",
    "Field",
    "MetricExpr",
    "PyRustPipeError",
    "Report",
    "Rule",
    "RuleResult",
    "Sample",
    "Schema",
    "SchemaError",
    "SourceResult",
    "Spec",
    "Split",
    "StorageError",
    "Unique",
    "UntraceableRuleWarning",
    "ValidationFailed",
    "__version__",
    "col",
    "history",
    "compile",
    "gate_splits",
    "lit",
    "load_rules",
    "plan_splits",
    "row_count",
    "row_rule",
    "validate",
]

try:
    from pyrustpipe._core import __version__
except ImportError:  # engine not built (DSL-only use, tests of the pure-Python parts)
    __version__ = "0.0.0+noengine"

# (module, names): loaded on first use, to keep `import pyrustpipe` light (they use dataclasses)
_LAZY = {
    "compile": "compiled",
    "Compiled": "compiled",
    "Rule": "compiled",
    "Report": "report",
    "RuleResult": "report",
    "Sample": "report",
    "SourceResult": "report",
    "Split": "splits",
    "gate_splits": "splits",
    "plan_splits": "splits",
}


def __getattr__(name: str) -> object:
    if name == "history":  # the history checks: only a rule set with a Config.history reads them
        # `import a.b`, not `from a import b`: that asks this function for `history` again
        import pyrustpipe.history

        return pyrustpipe.history
    if name in _LAZY:
        # `from ... import` (not importlib), so that `python -X importtime` sees the import
        if _LAZY[name] == "report":
            from pyrustpipe import report

            value = getattr(report, name)
        elif _LAZY[name] == "splits":
            from pyrustpipe import splits

            value = getattr(splits, name)
        else:
            from pyrustpipe import compiled

            value = getattr(compiled, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pyrustpipe' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"history"})
