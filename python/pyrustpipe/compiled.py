"""``pp.compile``: the engine's compiled rule table — every rule a run reports, before any data.

>>> import pyrustpipe as pp
>>> class Payments(pp.Schema):
...     txn_id: str = pp.Field(pattern=r"^TX[0-9]{10}$", unique=True)
...     amount: float = pp.Field(gt=0)
>>> compiled = pp.compile(Payments)
>>> compiled.ruleset_hash.startswith("sha256:")
True
>>> for rule in compiled.rules:
...     print(f"{rule.name:24} {rule.kind:16} {rule.scope:7} {rule.description}")
schema:missing_columns   missing_columns  schema  every schema column is in the source
row:field_count          field_count      row     every record has as many fields as the header
row:malformed            malformed        row     every record can be read (quoting, encoding)
txn_id:not_null          not_null         column  txn_id is not null
txn_id:type              type             column  txn_id is a str
txn_id:pattern           pattern          column  txn_id matches "^TX[0-9]{10}$"
txn_id:unique            unique           column  txn_id is unique
amount:not_null          not_null         column  amount is not null
amount:type              type             column  amount is a float
amount:gt                gt               column  amount > 0
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pyrustpipe.api import SchemaLike
    from pyrustpipe.spec import Severity, SpecDict, Tolerance

__all__ = ["Compiled", "Rule", "compile"]

Scope = Literal["schema", "column", "row", "dataset"]


@dataclass(frozen=True)
class Rule:
    """One rule of the compiled table (the engine's ``RuleMeta``): what a report's
    :class:`~pyrustpipe.RuleResult` of the same name is about."""

    name: str
    kind: str
    scope: Scope
    #: the one column a column rule or a column aggregate is about
    column: str | None
    #: every column the rule reads (a unique key's, a row rule's)
    columns: tuple[str, ...]
    severity: Severity
    tolerance: Tolerance | None
    #: what passes, in one line (``amount > 0``)
    description: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        return cls(
            name=data["name"],
            kind=data["kind"],
            scope=data["scope"],
            column=data["column"],
            columns=tuple(data["columns"]),
            severity=data["severity"],
            tolerance=data["tolerance"],
            description=data["description"],
        )


@dataclass(frozen=True)
class Compiled:
    """A schema as the engine compiled it: the normalised spec, its ruleset hash (the report's
    ``ruleset_hash``) and the rule table in report order."""

    spec: SpecDict
    ruleset_hash: str
    rules: tuple[Rule, ...]

    def rule(self, name: str) -> Rule:
        """The rule named ``name`` (``KeyError`` if there is none)."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)


def compile(schema: SchemaLike) -> Compiled:  # noqa: A001 - pp.compile, as re.compile
    """Compile ``schema`` (a ``pp.Schema`` subclass, a spec dict, a ``pp.Spec`` or a rules
    reference) with the engine; raises :class:`~pyrustpipe.SchemaError` if the rules are
    invalid. Row rules that run in Python are listed last, as in a report."""
    from pyrustpipe import _compile, _engine
    from pyrustpipe.api import resolve_schema

    spec, python_rules = resolve_schema(schema)
    result = _engine.compile_spec(
        json.dumps(spec), json.dumps(_compile.external_rules(python_rules))
    )
    return Compiled(
        spec=result["spec"],
        ruleset_hash=result["ruleset_hash"],
        rules=tuple(Rule.from_dict(r) for r in result["rules"]),
    )
