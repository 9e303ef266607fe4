"""The typed rule DSL: :class:`Schema`, :func:`Field`, :class:`Check`, :class:`Unique`.

A ``Schema`` subclass compiles to the spec (docs/spec.md) when the class is defined, so every
mistake in the rules is a :class:`~pyrustpipe.SchemaError` naming the field, at import time:

>>> import pyrustpipe as pp
>>> class Payments(pp.Schema):
...     txn_id: str = pp.Field(pattern=r"^TX[0-9]{10}$", unique=True)
...     amount: float = pp.Field(gt=0, le=1_000_000)
...     fee: float = pp.Field(ge=0)
...     agent_id: str | None = pp.Field()
...
...     @pp.row_rule
...     def fee_within_amount(row):
...         return row.fee <= row.amount
>>> spec = Payments.to_spec()
>>> [c["name"] for c in spec["columns"]]
['txn_id', 'amount', 'fee', 'agent_id']
>>> spec["row_rules"][0]["name"], spec["row_rules"][0]["expr"]["op"]
('fee_within_amount', 'le')
>>> try:
...     class Broken(pp.Schema):
...         code: int = pp.Field(pattern="^[0-9]+$")
... except pp.SchemaError as exc:
...     print(exc)
Broken.code: pattern applies to str columns, not int
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pyrustpipe._common import clone
from pyrustpipe._trace import PythonRule, RuleMarker
from pyrustpipe._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, ClassVar, Literal, TypeAlias

    from pyrustpipe.compiled import Rule
    from pyrustpipe.spec import Severity, SpecDict

FieldValue: TypeAlias = "Any"  # a string: building it needs no `typing`

__all__ = ["CONSTRAINTS", "Check", "Field", "FieldInfo", "Schema", "Unique"]

# What Field() returns, as far as type checkers know: anything, so that
# `amount: float = pp.Field(gt=0)` type-checks (as with pydantic.Field).

# Every constraint argument of Field() and the shape of its wire value: "value" (one value of
# the column's type), "count" (an int), "pattern" (a regex), "values" (a list of values of the
# column's type), "unique" (True or "first"). The engine decides what each one means.
CONSTRAINTS: dict[str, str] = {
    "gt": "value",
    "ge": "value",
    "lt": "value",
    "le": "value",
    "min_length": "count",
    "max_length": "count",
    "multiple_of": "value",
    "pattern": "pattern",
    "isin": "values",
    "not_in": "values",
    "unique": "unique",
}


class Check:
    """A constraint value with its own severity / tolerance / rule name.

    >>> import pyrustpipe as pp
    >>> class T(pp.Schema):
    ...     amount: float = pp.Field(gt=0, le=pp.Check(10_000, severity="warn", tolerance=0.01))
    >>> T.to_spec()["columns"][0]["checks"][1]
    {'type': 'le', 'value': 10000, 'severity': 'warn', 'tolerance': {'fraction': 0.01}}
    """

    __slots__ = ("name", "severity", "tolerance", "value")

    def __init__(
        self,
        value: object,
        *,
        severity: Severity | None = None,
        tolerance: float | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(value, Check):
            raise TypeError("pp.Check() cannot wrap another pp.Check()")
        self.value = value
        self.severity = severity
        self.tolerance = tolerance
        self.name = name

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={getattr(self, k)!r}"
            for k in ("severity", "tolerance", "name")
            if getattr(self, k) is not None
        )
        return f"Check({self.value!r}{extra})"


class FieldInfo:
    """What :func:`Field` returns: the constraints of one column (immutable)."""

    __slots__ = (
        "alias",
        "constraints",
        "format",
        "sensitive",
        "severity",
        "tolerance",
    )

    def __init__(
        self,
        constraints: dict[str, Any],
        *,
        format: str | None,
        severity: Severity | None,
        tolerance: float | None,
        alias: str | None,
        sensitive: bool = False,
    ) -> None:
        self.constraints = constraints
        self.sensitive = sensitive
        self.format = format
        self.severity = severity
        self.tolerance = tolerance
        self.alias = alias

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.constraints.items()]
        for key in ("format", "severity", "tolerance", "alias"):
            value = getattr(self, key)
            if value is not None:
                parts.append(f"{key}={value!r}")
        if self.sensitive:
            parts.append("sensitive=True")
        return f"Field({', '.join(parts)})"


def Field(
    *,
    gt: object = None,
    ge: object = None,
    lt: object = None,
    le: object = None,
    min_length: int | Check | None = None,
    max_length: int | Check | None = None,
    multiple_of: object = None,
    pattern: str | Check | None = None,
    isin: Iterable[object] | Check | None = None,
    not_in: Iterable[object] | Check | None = None,
    unique: bool | Literal["first"] | Check = False,
    format: str | None = None,
    severity: Severity | None = None,
    tolerance: float | None = None,
    alias: str | None = None,
    sensitive: bool = False,
) -> FieldValue:
    """Constraints of a column. Every constraint is optional; a null value skips them all.

    - ``gt ge lt le``: bounds (numbers; ``date`` / ``datetime`` / ``time`` objects or ISO
      strings for temporal columns).
    - ``min_length max_length``: string length in characters.
    - ``multiple_of``: a whole multiple of a positive step (``multiple_of=5`` for amounts in
      minor units); exact for int and decimal columns, within a relative 1e-9 for float.
    - ``pattern``: a Rust-``regex`` search (no look-around, no back-references).
    - ``isin`` / ``not_in``: allowed / forbidden values.
    - ``unique``: ``True`` (every repeated value fails) or ``"first"`` (the first one passes).
    - ``format``: strftime-style format of a date / datetime / time column (ISO 8601 if absent).
    - ``severity`` (``"error"`` | ``"warn"``) and ``tolerance`` (``int`` count or ``float``
      fraction) apply to every rule of the column, ``not_null`` and ``type`` included; wrap one
      value in :class:`Check` to override them for that constraint only.
    - ``alias``: the column's name in the data, when it differs from the attribute.
    - ``sensitive``: the column's values leave the run (report samples, messages, logs) only as
      keyed-hash tokens such as ``«masked:1f3a9c0b2d4e»``; the quarantine output keeps them.

    The return type is ``Any`` so that ``amount: float = pp.Field(gt=0)`` type-checks.
    """
    given = {
        "gt": gt,
        "ge": ge,
        "lt": lt,
        "le": le,
        "min_length": min_length,
        "max_length": max_length,
        "multiple_of": multiple_of,
        "pattern": pattern,
        "isin": isin,
        "not_in": not_in,
        "unique": None if unique is False else unique,
    }
    constraints = {key: given[key] for key in CONSTRAINTS if given[key] is not None}
    if not isinstance(sensitive, bool):
        raise TypeError(f"sensitive must be True or False, not {sensitive!r}")
    return FieldInfo(
        constraints,
        format=format,
        severity=severity,
        tolerance=tolerance,
        alias=alias,
        sensitive=sensitive,
    )


class Unique:
    """A composite uniqueness key for ``Config.unique``.

    >>> import pyrustpipe as pp
    >>> key = pp.Unique(("sender", "timestamp"), keep="first", severity="warn")
    >>> key.columns, key.keep
    (('sender', 'timestamp'), 'first')
    """

    __slots__ = ("columns", "keep", "name", "severity", "tolerance")

    def __init__(
        self,
        columns: Iterable[str],
        *,
        keep: Literal["none", "first"] = "none",
        severity: Severity = "error",
        tolerance: float | None = None,
        name: str | None = None,
    ) -> None:
        if isinstance(columns, str):
            columns = (columns,)
        self.columns = tuple(columns)
        self.keep = keep
        self.severity = severity
        self.tolerance = tolerance
        self.name = name

    def __repr__(self) -> str:
        return f"Unique({self.columns!r}, keep={self.keep!r})"


class Schema:
    """Base class of a rule set. Subclass it; annotate one attribute per column.

    Class-level API: :meth:`to_spec`, :meth:`spec_json`, :meth:`rules` (the engine's compiled
    rule table), :meth:`python_rules`. ``Config`` (an inner class) holds
    table-level options: ``strict ordered unique min_rows max_rows checks delimiter quote
    null_values header name``. See docs/dsl.md.
    """

    __pp_spec__: ClassVar[SpecDict]
    __pp_python_rules__: ClassVar[tuple[PythonRule, ...]] = ()
    # The spec and its JSON text, kept by `_engine_spec` (in the class's own __dict__).
    __pp_spec_text__: ClassVar[tuple[SpecDict, str] | None] = None
    __pp_fields__: ClassVar[dict[str, tuple[str, FieldInfo, object]]] = {}
    __pp_rules__: ClassVar[dict[str, tuple[Callable[[Any], Any], RuleMarker]]] = {}
    __pp_config__: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: object) -> None:
        from pyrustpipe import _compile

        super().__init_subclass__(**kwargs)
        _compile.build(cls)

    @classmethod
    def to_spec(cls) -> SpecDict:
        """The spec (docs/spec.md) of this schema, as a fresh dict."""
        if cls is Schema:
            from pyrustpipe._compile import empty_spec

            return empty_spec("Schema")
        spec: SpecDict = clone(cls.__pp_spec__)
        return spec

    @classmethod
    def _engine_spec(cls) -> tuple[SpecDict, str]:
        """This schema's own spec (not a copy: a run only reads it) and its JSON text as the
        engine reads it, dumped once a class: cloning and dumping the spec for every run was
        ~85 µs of a small frame's ~0.7 ms validation."""
        spec = cls.__pp_spec__
        kept: tuple[SpecDict, str] | None = cls.__dict__.get("__pp_spec_text__")
        if kept is None or kept[0] is not spec:
            import json

            kept = (spec, json.dumps(spec))
            cls.__pp_spec_text__ = kept
        return kept

    @classmethod
    def spec_json(cls, indent: int | None = None) -> str:
        """The spec as JSON text."""
        import json

        return json.dumps(cls.to_spec(), indent=indent, ensure_ascii=False)

    @classmethod
    def python_rules(cls) -> tuple[PythonRule, ...]:
        """The row rules that could not be traced and run in Python."""
        return cls.__pp_python_rules__

    @classmethod
    def rules(cls) -> tuple[Rule, ...]:
        """The compiled rule table, in report order: every rule a run reports, with its kind,
        columns, severity, tolerance and a one-line description (see :func:`pyrustpipe.compile`).

        >>> import pyrustpipe as pp
        >>> class Fees(pp.Schema):
        ...     fee: float = pp.Field(ge=0)
        >>> [r.description for r in Fees.rules() if r.column == "fee"]
        ['fee is not null', 'fee is a float', 'fee >= 0']
        """
        from pyrustpipe.compiled import compile

        return compile(cls).rules
