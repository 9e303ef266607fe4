"""Small helpers shared by the DSL modules: severity, tolerance, JSON-safe values and the
"did you mean" hint of a misspelt name."""

from __future__ import annotations

import datetime as _dt
import math
import sys
from collections.abc import Iterable

from pyrustpipe._typing import TYPE_CHECKING, cast
from pyrustpipe.exceptions import SchemaError

if TYPE_CHECKING:
    from decimal import Decimal
    from typing import TypeGuard, TypeVar

    from pyrustpipe.spec import Severity, Tolerance

    _T = TypeVar("_T")

__all__ = [
    "clone",
    "decimal_class",
    "did_you_mean",
    "is_decimal",
    "normalize_severity",
    "normalize_tolerance",
    "number",
    "scalar",
]


def decimal_class() -> type[Decimal] | None:
    """``decimal.Decimal`` once anything has imported ``decimal``, else ``None``: no Decimal can
    exist before that, and the DSL does not import it itself (~5.6M instructions of every start).
    """
    module = sys.modules.get("decimal")
    return None if module is None else cast("type[Decimal]", module.Decimal)


def is_decimal(value: object) -> TypeGuard[Decimal]:
    """Whether ``value`` is a ``decimal.Decimal`` (without importing ``decimal``).

    >>> from decimal import Decimal
    >>> is_decimal(Decimal("1.5")), is_decimal(1.5)
    (True, False)
    """
    cls = decimal_class()
    return cls is not None and isinstance(value, cls)


def did_you_mean(name: object, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a candidate is close to ``name``, else ``""``.

    >>> did_you_mean("bill_lenght_mm", ["bill_length_mm", "body_mass_g"])
    " (did you mean 'bill_length_mm'?)"
    >>> did_you_mean("zzz", ["amount"])
    ''
    """
    if not isinstance(name, str):
        return ""
    import difflib  # only on an error's path

    close = difflib.get_close_matches(name, list(dict.fromkeys(candidates)), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def normalize_severity(value: object, where: str) -> Severity:
    """``"error"`` or ``"warn"`` (``"warning"`` is accepted as ``"warn"``)."""
    if value is None or value == "error":
        return "error"
    if value in ("warn", "warning"):
        return "warn"
    raise SchemaError(f'{where}: severity must be "error" or "warn", not {value!r}')


def normalize_tolerance(value: object, where: str) -> Tolerance | None:
    """``None``; an ``int`` count; a ``float`` fraction in ``[0, 1]``; or the spec's dict form."""
    if value is None:
        return None
    if isinstance(value, dict):
        if set(value) == {"count"}:
            value = value["count"]
            if not isinstance(value, int) or isinstance(value, bool):
                raise SchemaError(f"{where}: tolerance count must be an int, not {value!r}")
        elif set(value) == {"fraction"}:
            value = value["fraction"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SchemaError(f"{where}: tolerance fraction must be a float, not {value!r}")
            value = float(value)
        else:
            raise SchemaError(
                f'{where}: tolerance must be {{"count": N}} or {{"fraction": F}}, not {value!r}'
            )
    if isinstance(value, bool):
        raise SchemaError(
            f"{where}: tolerance must be an int count or a float fraction, not a bool"
        )
    if isinstance(value, int):
        if value < 0:
            raise SchemaError(f"{where}: tolerance must be >= 0, not {value}")
        return {"count": value}
    if isinstance(value, float):
        if not math.isfinite(value) or value < 0 or value > 1:
            raise SchemaError(
                f"{where}: a fractional tolerance must be between 0 and 1, not {value!r} "
                "(use an int for a count of rows)"
            )
        return {"fraction": value}
    raise SchemaError(
        f"{where}: tolerance must be an int count or a float fraction, not {type(value).__name__}"
    )


def number(value: object, where: str) -> int | float:
    """A finite JSON number (Decimal becomes int when integral, else float)."""
    if is_decimal(value):
        if not value.is_finite():
            raise SchemaError(f"{where}: expected a finite number, not {value!r}")
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(f"{where}: expected a number, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SchemaError(f"{where}: expected a finite number, not {value!r}")
    return value


def scalar(value: object, where: str) -> str | int | float | bool | None:
    """A JSON scalar for ``isin`` lists and literals: dates and times become ISO strings."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, float)) or is_decimal(value):
        return number(value, where)
    if isinstance(value, (_dt.date, _dt.time)):  # datetime is a date
        return value.isoformat()
    raise SchemaError(f"{where}: cannot use {type(value).__name__} value {value!r}")


def clone(value: _T) -> _T:
    """A deep copy of JSON-like data (dicts, lists, tuples, scalars) — cheaper to import than
    :mod:`copy`."""
    if isinstance(value, dict):
        return cast("_T", {k: clone(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return cast("_T", [clone(v) for v in value])
    return value
