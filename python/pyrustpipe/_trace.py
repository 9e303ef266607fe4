"""Row-rule tracing: a ``@pp.row_rule`` function runs once on a symbolic row; what it returns is
an expression the engine runs. A function that cannot be traced becomes a :class:`PythonRule`
(run in Python by ``_python_rules``)."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable

from pyrustpipe._common import did_you_mean, normalize_severity, normalize_tolerance
from pyrustpipe._typing import TYPE_CHECKING, overload
from pyrustpipe.exceptions import SchemaError
from pyrustpipe.expr import Expr, col

if TYPE_CHECKING:
    from typing import Any, TypeVar

    from pyrustpipe.spec import Severity, Tolerance

    _F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "PythonRule",
    "RuleMarker",
    "row_rule",
    "rule_marker",
    "names_only_columns",
    "static_row_reads",
    "trace",
    "unknown_reads",
]

_LISTED_COLUMNS = 20  # declared columns named in an "unknown column" error, at most


class RuleMarker:
    """What ``@pp.row_rule`` attaches to a function: its rule name, severity and tolerance."""

    __slots__ = ("name", "severity", "tolerance")

    def __init__(self, name: str | None, severity: Severity, tolerance: Tolerance | None) -> None:
        self.name = name
        self.severity = severity
        self.tolerance = tolerance


def rule_marker(
    func: _F,
    *,
    name: str | None = None,
    severity: Severity | str = "error",
    tolerance: float | None = None,
) -> _F:
    """Mark ``func`` as a row rule (what ``@pp.row_rule`` does)."""
    target = func.__func__ if isinstance(func, staticmethod) else func
    if not callable(target):
        raise TypeError(f"@pp.row_rule decorates a function, not {func!r}")
    where = f"row rule {getattr(target, '__name__', target)!r}"
    marker = RuleMarker(
        name, normalize_severity(severity, where), normalize_tolerance(tolerance, where)
    )
    try:
        target.__pp_rule__ = marker  # type: ignore[attr-defined]
    except AttributeError as exc:  # builtins, functools.partial with slots...
        raise TypeError(f"@pp.row_rule cannot mark {func!r}: {exc}") from None
    return func


@overload
def row_rule(func: _F, /) -> _F: ...


@overload
def row_rule(
    *, name: str | None = None, severity: Severity = "error", tolerance: float | None = None
) -> Callable[[_F], _F]: ...


def row_rule(
    func: _F | None = None,
    /,
    *,
    name: str | None = None,
    severity: Severity = "error",
    tolerance: float | None = None,
) -> _F | Callable[[_F], _F]:
    """Declare a row rule inside a ``pp.Schema``: a function of one argument (the row) that
    returns a boolean expression, written ``@pp.row_rule`` or ``@pp.row_rule(severity="warn",
    tolerance=0.01, name="...")``. It is traced once into an expression the engine runs; a
    function that cannot be traced runs in Python, with an :class:`UntraceableRuleWarning`.

    >>> import pyrustpipe as pp
    >>> class Orders(pp.Schema):
    ...     amount: float = pp.Field()
    ...     fee: float = pp.Field()
    ...
    ...     @pp.row_rule(severity="warn")
    ...     def fee_below_amount(row):
    ...         return row.fee < row.amount
    >>> Orders.to_spec()["row_rules"][0]["name"], Orders.to_spec()["row_rules"][0]["severity"]
    ('fee_below_amount', 'warn')
    """
    if func is None:

        def decorator(target: _F) -> _F:
            return rule_marker(target, name=name, severity=severity, tolerance=tolerance)

        return decorator
    return rule_marker(func, name=name, severity=severity, tolerance=tolerance)


class PythonRule:
    """A row rule that could not be traced: it runs in Python (see ``_python_rules``)."""

    __slots__ = ("attributes", "func", "name", "reason", "severity", "tolerance")

    def __init__(
        self,
        name: str,
        func: Callable[[Any], Any],
        severity: Severity,
        tolerance: Tolerance | None,
        reason: str,
        attributes: dict[str, str],
    ) -> None:
        self.name = name
        self.func = func
        self.severity: Severity = severity
        self.tolerance = tolerance
        self.reason = reason
        self.attributes = attributes  # attribute -> column name

    def __repr__(self) -> str:
        return f"PythonRule({self.name!r}, reason={self.reason!r})"


# ----------------------------------------------------------------------------------------------
# tracing


class _UnknownColumn(AttributeError):
    pass


class _SymbolicRow:
    """The row a rule is traced with: ``row.<attribute>``, ``row.<column>`` and ``row["<column>"]``
    are ``pp.col(<column>)``. Every other name it is asked for is kept in ``unknown``, so that a
    typo is reported even when the rule swallows the error (``getattr(row, "x", None)``)."""

    __slots__ = ("_columns", "unknown")
    unknown: list[object]

    def __init__(self, columns: dict[str, str]) -> None:
        object.__setattr__(self, "_columns", columns)
        object.__setattr__(self, "unknown", [])

    def _read(self, name: object) -> Expr:
        columns: dict[str, str] = object.__getattribute__(self, "_columns")
        if isinstance(name, str):
            if name in columns:
                return col(columns[name])
            if name in columns.values():
                return col(name)
        object.__getattribute__(self, "unknown").append(name)
        raise _UnknownColumn(f"reads unknown column {name!r}")

    def __getattr__(self, name: str) -> Expr:
        columns: dict[str, str] = object.__getattribute__(self, "_columns")
        if name.startswith("_") and name not in columns.values():
            # private names and dunders (copy, pickle... probe them) are not column reads
            raise AttributeError(name)
        return self._read(name)

    def __getitem__(self, name: str) -> Expr:
        return self._read(name)

    def __setattr__(self, name: str, value: object) -> None:
        raise TypeError("a row rule cannot assign to the row")


def trace(
    func: Callable[[Any], Any], columns: dict[str, str]
) -> tuple[Expr | None, str, list[object]]:
    """Run ``func`` once on a symbolic row. Returns (expression, "", unknown names) or
    (None, reason, unknown names); the unknown names are every non-column the rule asked for."""
    row = _SymbolicRow(columns)
    expr, reason = _run_trace(func, row)
    return expr, reason, list(row.unknown)


def _run_trace(func: Callable[[Any], Any], row: _SymbolicRow) -> tuple[Expr | None, str]:
    try:
        result = func(row)
    except _UnknownColumn as exc:
        return None, str(exc)
    except TypeError as exc:
        if "truth value of a column expression" in str(exc):
            return None, (
                "uses and / or / not / if (or a builtin like min, max, any) on a column value; "
                "use & | ~ to keep it in Rust"
            )
        return None, f"raised TypeError while tracing: {exc}"
    except Exception as exc:  # noqa: BLE001 - any failure means "run it in Python"
        return None, f"raised {type(exc).__name__} while tracing: {exc}"
    if isinstance(result, Expr):
        return result, ""
    return None, f"returned {type(result).__name__} {result!r}, not a column expression"


def static_row_reads(func: Callable[[Any], Any]) -> list[str]:
    """The names the code of ``func`` reads off its row argument as ``row.name`` or
    ``row["name"]``, found in its bytecode (nested lambdas and generators included).

    Tracing stops at the first ``and`` / ``if`` on a column, so a typo after it is never executed
    while tracing; this finds it anyway. Names starting with ``_`` are left alone."""
    code = getattr(func, "__code__", None)
    if not isinstance(code, types.CodeType) or code.co_argcount < 1:
        return []
    return _code_row_reads(code, code.co_varnames[0])


def names_only_columns(func: Callable[[Any], Any], columns: dict[str, str]) -> bool:
    """Whether every name and string constant in the code of ``func`` (nested code included) is a
    column or starts with ``_``: then :func:`static_row_reads` can find no unknown read, and
    the rule is not decoded (``dis`` costs ~5M instructions of every start that decodes)."""
    code = getattr(func, "__code__", None)
    if not isinstance(code, types.CodeType):
        return False
    known = set(columns) | set(columns.values())
    pending = [code]
    while pending:
        current = pending.pop()
        for const in current.co_consts:
            if isinstance(const, types.CodeType):
                pending.append(const)
            elif isinstance(const, str) and not const.startswith("_") and const not in known:
                return False
        if any(not n.startswith("_") and n not in known for n in current.co_names):
            return False
    return True


def _code_row_reads(code: types.CodeType, row: str) -> list[str]:
    import dis

    instructions = list(dis.get_instructions(code))
    for store in instructions:
        if store.opname.startswith(("STORE_FAST", "STORE_DEREF", "DELETE_FAST")) and (
            store.argval == row or (isinstance(store.argval, tuple) and row in store.argval)
        ):
            return []  # the name is rebound: past that point it is not the row
    names: list[str] = []
    for index, loads in enumerate(instructions[:-1]):
        if not loads.opname.startswith(("LOAD_FAST", "LOAD_DEREF")):
            continue
        # LOAD_FAST_LOAD_FAST (3.13+) pushes two locals: the row must be the second (on top)
        loaded = loads.argval[-1] if isinstance(loads.argval, tuple) else loads.argval
        if loaded != row:
            continue
        after = instructions[index + 1]
        if after.opname in ("LOAD_ATTR", "LOAD_METHOD"):
            names.append(str(after.argval))
        elif (
            after.opname == "LOAD_CONST"
            and isinstance(after.argval, str)
            and index + 2 < len(instructions)
            and (
                instructions[index + 2].opname == "BINARY_SUBSCR"
                or instructions[index + 2].argrepr == "[]"
            )
        ):
            names.append(after.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and row in const.co_freevars:
            names.extend(_code_row_reads(const, row))
    return [n for n in names if not n.startswith("_")]


def unknown_reads(
    where: str, unknown: Iterable[object], columns: dict[str, str]
) -> SchemaError | None:
    """The error for a row rule that reads names that are not columns (``None`` if it does not)."""
    known = set(columns) | set(columns.values())
    names = [n for n in dict.fromkeys(unknown) if n not in known]
    if not names:
        return None
    hints = [did_you_mean(n, known) for n in names]
    shown = ", ".join(f"{n!r}{hint}" for n, hint in zip(names, hints, strict=True))
    noun = "column" if len(names) == 1 else "columns"
    message = f"{where}: row rule reads unknown {noun} {shown}"
    if not all(hints):
        # no close name for one of them: say what can be read, and that declaring is the way
        declared = list(columns.values())
        listed = ", ".join(declared[:_LISTED_COLUMNS]) or "none"
        if len(declared) > _LISTED_COLUMNS:
            listed += f", … ({len(declared)} in all)"
        message += f"; a row rule reads only declared columns ({listed})"
    return SchemaError(message)
