"""An independent, pure-Python reference validator for the rule spec (docs/spec.md).

Written from the spec text only, never from the engine's code, so that the engine's tests can
compare against a second reading of the same document. Slow on purpose: one obvious loop, no
cleverness. `oracle_validate(spec, paths)` returns

    {"rows", "valid_rows", "invalid_rows", "failures": {rule: count},
     "invalid_row_numbers": {source: [row, ...]}, "rule_rows": {rule: [(source, row), ...]},
     "passed", "rule_passed": {rule: bool}, "observed": {dataset rule: value}}

Rows are 1-based data rows within their source (the header and blank lines are not rows).
Readings of the spec that the text leaves open are marked "ASSUMPTION" below.
"""

from __future__ import annotations

import csv
import math
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

SCHEMA_RULES = ["schema:missing_columns", "schema:unknown_columns", "schema:column_order"]
FIELD_COUNT = "row:field_count"
# NDJSON lines that are not objects; a CSV reader never fails it, so the oracle lists it at 0.
MALFORMED = "row:malformed"


class _Null:
    """A null field (its text is one of null_values)."""

    def __repr__(self) -> str:
        return "NULL"


class _Bad:
    """A field that failed its column's type check."""

    def __repr__(self) -> str:
        return "BAD"


NULL = _Null()
BAD = _Bad()


class Skip(Exception):
    """A row rule is unknown for this row (division by zero): counted as passing."""


# ---------------------------------------------------------------------------------------------
# Regexes: the spec's patterns use Rust `regex` syntax. Python's `$` also matches before a final
# "\n", Rust's does not (end of text only), so an unescaped `$` outside a class becomes `\Z`.


def rust_regex(pattern: str) -> re.Pattern[str]:
    if "(?m" in pattern:  # multi-line mode: both engines treat `$` as end of line
        return re.compile(pattern)
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\Z" if nxt == "z" and not in_class else ch + nxt)
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append("\\Z" if ch == "$" and not in_class else ch)
        i += 1
    return re.compile("".join(out))


# ---------------------------------------------------------------------------------------------
# Parsing, one function per dtype: text -> typed value, or ValueError.
# Date-times are (naive UTC datetime to the second, nanoseconds) so that 9 fraction digits compare
# exactly; times are (time to the second, nanoseconds).

_INT = re.compile(r"[+-]?[0-9]+")
# ASSUMPTION: "digits[.digits]" is read literally, so "5." is rejected (".5" is accepted).
_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_BOOL = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "0": False,
}
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ISO_TIME = r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?"
_ISO_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]" + _ISO_TIME + r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)
_ISO_TIME_RE = re.compile(_ISO_TIME)

DateTimeValue = tuple[datetime, int]
TimeValue = tuple[time, int]


def _is_text(text: str) -> bool:
    """Valid UTF-8 (no surrogate-escaped bytes) and no NUL."""
    return "\x00" not in text and not any("\udc80" <= ch <= "\udcff" for ch in text)


def parse_str(text: str) -> str:
    if not _is_text(text):
        raise ValueError("invalid UTF-8 or NUL")
    return text


def parse_int(text: str) -> int:
    if not _INT.fullmatch(text):
        raise ValueError("not an int")
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError("out of 64-bit range")
    return value


def parse_float(text: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise ValueError("not a float")
    return float(
        text
    )  # ASSUMPTION: "1e400" is in the grammar and reads as inf, as Rust's parse does


def parse_decimal(text: str) -> Decimal:
    if not _FLOAT.fullmatch(text):
        raise ValueError("not a decimal")
    return Decimal(text)


def parse_bool(text: str) -> bool:
    try:
        return _BOOL[text.lower()]
    except KeyError:
        raise ValueError("not a bool") from None


def _nanos(fraction: str | None) -> int:
    return int((fraction or "0").ljust(9, "0"))


def _offset(text: str | None) -> timedelta:
    if not text or text == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError("bad offset")
    return sign * timedelta(hours=hours, minutes=minutes)


def _datetime(parts: dict[str, str | None]) -> DateTimeValue:
    """Build a real date-time (ValueError otherwise); an offset is normalised to UTC.

    ASSUMPTION: second 60 (a leap second) is not a real time; values with an offset compare as
    their UTC instant, values without one as written.
    """
    num = {k: int(v) for k, v in parts.items() if v is not None and k not in ("fraction", "offset")}
    stamp = datetime(
        num.get("year", 1970),
        num.get("month", 1),
        num.get("day", 1),
        num.get("hour", 0),
        num.get("minute", 0),
        num.get("second", 0),
    )
    if parts.get("offset") is not None:
        stamp = stamp.replace(tzinfo=timezone(_offset(parts["offset"]))).astimezone(timezone.utc)
        stamp = stamp.replace(tzinfo=None)
    return stamp, _nanos(parts.get("fraction"))


def parse_date_iso(text: str) -> date:
    m = _ISO_DATE.fullmatch(text)
    if not m:
        raise ValueError("not an ISO date")
    return date(int(m[1]), int(m[2]), int(m[3]))


def parse_datetime_iso(text: str) -> DateTimeValue:
    m = _ISO_DATETIME.fullmatch(text)
    if not m:
        raise ValueError("not an ISO date-time")
    keys = ["year", "month", "day", "hour", "minute", "second", "fraction", "offset"]
    return _datetime(dict(zip(keys, m.groups(), strict=True)))


def parse_time_iso(text: str) -> TimeValue:
    m = _ISO_TIME_RE.fullmatch(text)
    if not m:
        raise ValueError("not an ISO time")
    return time(int(m[1]), int(m[2]), int(m[3] or 0)), _nanos(m[4])


_FORMAT_PARTS = {
    "Y": ("year", "[0-9]{4}"),
    "m": ("month", "[0-9]{2}"),
    "d": ("day", "[0-9]{2}"),
    "H": ("hour", "[0-9]{2}"),
    "M": ("minute", "[0-9]{2}"),
    "S": ("second", "[0-9]{2}"),
    "f": ("fraction", "[0-9]{1,9}"),
    "z": ("offset", "Z|[+-][0-9]{2}:?[0-9]{2}"),
}


def format_regex(fmt: str) -> re.Pattern[str]:
    """strftime-style format -> an exact regex with one named group per directive."""
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] != "%":
            out.append(re.escape(fmt[i]))
            i += 1
            continue
        if i + 1 >= len(fmt):
            raise ValueError(f"format ends with %: {fmt!r}")
        d = fmt[i + 1]
        if d == "%":
            out.append("%")
        elif d in _FORMAT_PARTS:
            name, rx = _FORMAT_PARTS[d]
            out.append(f"(?P<{name}>{rx})")
        else:
            raise ValueError(f"unsupported directive %{d} in {fmt!r}")
        i += 2
    return re.compile("".join(out))


def _formatted(fmt: str, dtype: str) -> Callable[[str], Any]:
    rx = format_regex(fmt)

    def parse(text: str) -> Any:
        m = rx.fullmatch(text)
        if not m:
            raise ValueError(f"does not match {fmt}")
        stamp, nanos = _datetime(m.groupdict())
        if dtype == "date":
            return stamp.date()
        if dtype == "time":
            return stamp.time(), nanos
        return stamp, nanos

    return parse


def parser_for(dtype: str, fmt: str | None = None) -> Callable[[str], Any]:
    if fmt is not None and dtype in ("date", "datetime", "time"):
        inner = _formatted(fmt, dtype)
    else:
        inner = {
            "str": parse_str,
            "int": parse_int,
            "float": parse_float,
            "decimal": parse_decimal,
            "bool": parse_bool,
            "date": parse_date_iso,
            "datetime": parse_datetime_iso,
            "time": parse_time_iso,
        }[dtype]
    if dtype == "str":
        return inner

    def parse(text: str) -> Any:
        if not _is_text(text):
            raise ValueError("invalid UTF-8 or NUL")
        return inner(text)

    return parse


def typed_constant(value: Any, dtype: str | None) -> Any:
    """A spec constant (bound, isin value, literal) as a typed value comparable with the column."""
    if isinstance(value, bool) or value is None:
        return value
    if dtype in ("date", "datetime", "time") and isinstance(value, str):
        return parser_for(dtype)(value)
    if dtype == "decimal":
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if dtype == "int" and isinstance(value, str):
        return parse_int(value)
    if dtype == "float" and isinstance(value, str):
        return parse_float(value)
    return value


# ---------------------------------------------------------------------------------------------
# Row-rule expressions


def columns_read(expr: dict, through_is_null: bool = False) -> tuple[set[str], set[str]]:
    """(columns read directly, columns read only through is_null) of an expression."""
    direct: set[str] = set()
    null_only: set[str] = set()
    kind = expr["type"]
    if kind == "col":
        (null_only if through_is_null else direct).add(expr["name"])
        return direct, null_only
    for key in ("expr", "left", "right"):
        if key in expr:
            d, n = columns_read(expr[key], through_is_null or kind == "is_null")
            direct |= d
            null_only |= n
    return direct, null_only


def _arith(op: str, a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        a, b = _dec(a), _dec(b)
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if b == 0:
        raise Skip("division by zero")
    if op == "div":
        return a / b  # int / int is a float, as the spec says
    # docs/spec.md: `mod` is Python's `%` (the result takes the divisor's sign); decimals take
    # part in row rules as floats.
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return float(a) % float(b)
    return a % b


def _dec(v: Any) -> Decimal:
    return Decimal(repr(v)) if isinstance(v, float) else Decimal(v)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def _dt_part(value: Any, part: str) -> int:
    if isinstance(value, tuple):  # (datetime or time, nanos)
        value = value[0]
    if part == "weekday":
        return value.weekday()  # Monday = 0
    return int(getattr(value, part))


def evaluate(expr: dict, row: dict[str, Any], dtypes: dict[str, str]) -> Any:
    """Evaluate a spec expression over one row of typed values (NULL / BAD allowed for is_null)."""
    kind = expr["type"]
    if kind == "col":
        return row[expr["name"]]
    if kind == "lit":
        return typed_constant(expr["value"], expr.get("dtype"))
    if kind == "is_null":
        return row[expr["expr"]["name"]] is NULL
    if kind == "binary":
        op = expr["op"]
        a, b = evaluate(expr["left"], row, dtypes), evaluate(expr["right"], row, dtypes)
        if op in _COMPARE:
            if isinstance(a, Decimal) or isinstance(b, Decimal):
                a, b = _dec(a), _dec(b)
            return _COMPARE[op](a, b)
        if op == "and":
            return bool(a) and bool(b)
        if op == "or":
            return bool(a) or bool(b)
        return _arith(op, a, b)
    value = evaluate(expr["expr"], row, dtypes)
    if kind == "not":
        return not value
    if kind == "neg":
        return -value
    if kind == "abs":
        return abs(value)
    if kind == "isin":
        dtype = _dtype_of(value)
        return value in [typed_constant(v, dtype) for v in expr["values"]]
    if kind == "str_len":
        return len(value)
    if kind == "starts_with":
        return value.startswith(expr["value"])
    if kind == "ends_with":
        return value.endswith(expr["value"])
    if kind == "contains":
        return expr["value"] in value
    if kind == "matches":
        return rust_regex(expr["pattern"]).search(value) is not None
    if kind == "lower":
        return value.lower()
    if kind == "upper":
        return value.upper()
    if kind == "dt_part":
        return _dt_part(value, expr["part"])
    raise ValueError(f"unknown expression type {kind!r}")


def _dtype_of(value: Any) -> str | None:
    if isinstance(value, Decimal):
        return "decimal"
    if isinstance(value, tuple):
        return "datetime" if isinstance(value[0], datetime) else "time"
    if isinstance(value, date):
        return "date"
    return None


# ---------------------------------------------------------------------------------------------
# The compiled spec


@dataclass
class Rule:
    name: str
    severity: str = "error"
    tolerance: dict | None = None


@dataclass
class ColumnCheck:
    rule: Rule
    passes: Callable[[Any], bool] | None  # None for unique
    keep: str | None = None  # unique only


@dataclass
class Column:
    name: str
    dtype: str
    nullable: bool
    parse: Callable[[str], Any]
    not_null: Rule
    type: Rule
    checks: list[ColumnCheck]


@dataclass
class RowRule:
    rule: Rule
    expr: dict
    direct: set[str]
    reads: set[str]


@dataclass
class UniqueKey:
    rule: Rule
    columns: list[str]
    keep: str


def _rule(name: str, obj: dict | None) -> Rule:
    obj = obj or {}
    return Rule(obj.get("name") or name, obj.get("severity", "error"), obj.get("tolerance"))


def _check(col: str, dtype: str, chk: dict) -> ColumnCheck:
    kind = chk["type"]
    rule = _rule(f"{col}:{kind}", chk)
    if kind in ("gt", "ge", "lt", "le"):
        bound = typed_constant(chk["value"], dtype)
        if dtype == "decimal":
            bound = _dec(bound)
        cmp = _COMPARE[kind]
        return ColumnCheck(rule, lambda v: cmp(v, bound))
    if kind == "min_length":
        n = chk["value"]
        return ColumnCheck(rule, lambda v: len(v) >= n)
    if kind == "max_length":
        n = chk["value"]
        return ColumnCheck(rule, lambda v: len(v) <= n)
    if kind == "pattern":
        rx = rust_regex(chk["pattern"])
        return ColumnCheck(rule, lambda v: rx.search(v) is not None)
    if kind in ("isin", "not_in"):
        values = {typed_constant(v, dtype) for v in chk["values"]}
        want = kind == "isin"
        return ColumnCheck(rule, lambda v: (v in values) == want)
    if kind == "multiple_of":
        return ColumnCheck(rule, _multiple_of(dtype, chk["value"]))
    if kind == "unique":
        return ColumnCheck(rule, None, chk.get("keep", "none"))
    raise ValueError(f"unknown check type {kind!r} on column {col!r}")


def _multiple_of(dtype: str, step: Any) -> Callable[[Any], bool]:
    """docs/spec.md: a whole multiple of ``step``, exactly for int and decimal; for float within a
    relative 1e-9 of one (the quotient's distance to the nearest integer, at least 1e-9)."""
    if dtype == "float":
        size = float(step)

        def near(v: float) -> bool:
            quotient = v / size
            return abs(quotient - round(quotient)) <= 1e-9 * max(abs(quotient), 1.0)

        return near
    exact = Fraction(_dec(step))  # exact rationals: no precision limit, unlike Decimal's %
    return lambda v: (Fraction(_dec(v)) / exact).denominator == 1


def compile_spec(spec: dict) -> tuple[list[Column], list[RowRule], list[UniqueKey], list[dict]]:
    columns = []
    for c in spec.get("columns", []):
        name, dtype = c["name"], c["dtype"]
        columns.append(
            Column(
                name=name,
                dtype=dtype,
                nullable=bool(c.get("nullable", False)),
                parse=parser_for(dtype, c.get("format")),
                not_null=_rule(f"{name}:not_null", c.get("not_null")),
                type=_rule(f"{name}:type", c.get("type")),
                checks=[_check(name, dtype, chk) for chk in c.get("checks", [])],
            )
        )
    row_rules = []
    for r in spec.get("row_rules", []):
        direct, null_only = columns_read(r["expr"])
        row_rules.append(RowRule(_rule(r["name"], r), r["expr"], direct, direct | null_only))
    uniques = [
        UniqueKey(
            _rule(",".join(u["columns"]) + ":unique", u), list(u["columns"]), u.get("keep", "none")
        )
        for u in spec.get("unique", [])
    ]
    return columns, row_rules, uniques, list(spec.get("dataset_checks", []))


def rule_names(spec: dict) -> list[str]:
    """Every rule of the spec, in the report's order."""
    columns, row_rules, uniques, dataset = compile_spec(spec)
    names = [*SCHEMA_RULES, FIELD_COUNT, MALFORMED]
    for col in columns:
        names += [col.not_null.name, col.type.name, *(chk.rule.name for chk in col.checks)]
    names += [r.rule.name for r in row_rules] + [u.rule.name for u in uniques]
    names += [_dataset_name(d) for d in dataset]
    return names


def _dataset_name(check: dict) -> str:
    if check.get("name"):
        return check["name"]
    if check["metric"] == "row_count":
        return "dataset:row_count"
    return f"{check['column']}:{check['metric']}"


# ---------------------------------------------------------------------------------------------
# Reading


def read_records(path: str, delimiter: str = ",", quote: str = '"') -> Iterator[list[str]]:
    """CSV records; the BOM is stripped and blank lines are skipped (they are not rows)."""
    with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
        first = True
        for rec in csv.reader(fh, delimiter=delimiter, quotechar=quote):
            if not rec:
                continue
            if first:
                rec[0] = rec[0].removeprefix("\ufeff")
                first = False
            yield rec


# ---------------------------------------------------------------------------------------------
# Validation


@dataclass
class _State:
    rules: dict[str, Rule]
    rule_rows: dict[str, list[tuple[str, int]]]
    schema_failed: set[str] = field(default_factory=set)
    invalid: set[tuple[str, int]] = field(default_factory=set)
    rows: int = 0

    def fail(self, rule: Rule, source: str, row: int) -> None:
        self.rule_rows[rule.name].append((source, row))
        if rule.severity == "error":
            self.invalid.add((source, row))


@dataclass
class _Metric:
    nulls: int = 0
    values: list[Any] = field(default_factory=list)


def oracle_validate(spec: dict, paths: list[str], null_values: list[str] | None = None) -> dict:
    csv_opts = spec.get("csv") or {}
    nulls = set(null_values if null_values is not None else csv_opts.get("null_values", [""]))
    columns, row_rules, uniques, dataset = compile_spec(spec)
    all_rules: dict[str, Rule] = {n: Rule(n) for n in [*SCHEMA_RULES, FIELD_COUNT, MALFORMED]}
    for col in columns:
        all_rules |= {r.name: r for r in [col.not_null, col.type, *(c.rule for c in col.checks)]}
    all_rules |= {r.rule.name: r.rule for r in row_rules} | {u.rule.name: u.rule for u in uniques}
    state = _State(all_rules, {n: [] for n in rule_names(spec)})
    # typed value -> occurrences, per unique rule (column or composite), across all sources
    seen: dict[str, dict[Any, list[tuple[str, int]]]] = {}
    metrics = {c["column"]: _Metric() for c in dataset if c.get("column")}
    by_name = {c.name: c for c in columns}

    for source in paths:
        records = read_records(source, csv_opts.get("delimiter", ","), csv_opts.get("quote", '"'))
        header = next(records, [])
        index = {}
        for i, name in enumerate(header):
            index.setdefault(name, i)
        present = [c for c in columns if c.name in index]
        _schema_rules(spec, columns, header, index, state)
        # A source without a declared column matches no schema: all its rows are invalid.
        mismatch = any(c.name not in index for c in columns)
        # Columns a row rule reads but the schema does not name are read as str.
        extra = {n for r in row_rules for n in r.reads if n not in by_name and n in index}
        for row_no, rec in enumerate(records, 1):
            state.rows += 1
            if mismatch:
                state.fail(all_rules["schema:missing_columns"], source, row_no)
            if len(rec) != len(header):
                state.fail(all_rules[FIELD_COUNT], source, row_no)
                continue
            typed: dict[str, Any] = {}
            for col in present:
                typed[col.name] = _check_field(
                    col, rec[index[col.name]], nulls, state, seen, source, row_no
                )
            for name in extra:
                text = rec[index[name]]
                typed[name] = NULL if text in nulls else _try(parse_str, text)
            for rr in row_rules:
                _row_rule(rr, typed, by_name, state, source, row_no)
            for key in uniques:
                vals = [typed.get(c, BAD) for c in key.columns]
                if all(v is not NULL and v is not BAD for v in vals):
                    seen.setdefault(key.rule.name, {}).setdefault(tuple(vals), []).append(
                        (source, row_no)
                    )
            for name, metric in metrics.items():
                if name in typed:
                    v = typed[name]
                    if v is NULL:
                        metric.nulls += 1
                    elif v is not BAD:
                        metric.values.append(v)

    unique_rules = {
        chk.rule.name: (chk.rule, chk.keep)
        for c in columns
        for chk in c.checks
        if chk.passes is None
    }
    unique_rules |= {u.rule.name: (u.rule, u.keep) for u in uniques}
    for name, (rule, keep) in unique_rules.items():
        for occurrences in seen.get(name, {}).values():
            if len(occurrences) > 1:
                for where in occurrences[1:] if keep == "first" else occurrences:
                    state.fail(rule, *where)

    observed = {}
    failures: dict[str, int] = {}
    for check in dataset:
        name = _dataset_name(check)
        value = _observe(check, state.rows, metrics)
        observed[name] = value
        failures[name] = 0 if _within(check, value) else 1
        all_rules[name] = Rule(name, check.get("severity", "error"), check.get("tolerance"))
    for name, where in state.rule_rows.items():
        if name in failures:
            continue
        failures[name] = 1 if name in state.schema_failed else len(where)
        where.sort()
    rule_passed = {n: failures[n] <= _allowed(all_rules[n].tolerance, state.rows) for n in failures}
    invalid_rows: dict[str, list[int]] = {p: [] for p in paths}
    for source, row in sorted(state.invalid):
        invalid_rows[source].append(row)
    return {
        "rows": state.rows,
        "valid_rows": state.rows - len(state.invalid),
        "invalid_rows": len(state.invalid),
        "failures": failures,
        "invalid_row_numbers": invalid_rows,
        "rule_rows": {n: w for n, w in state.rule_rows.items() if n not in observed},
        "passed": all(rule_passed[n] for n in failures if all_rules[n].severity == "error"),
        "rule_passed": rule_passed,
        "observed": observed,
    }


def _try(parse: Callable[[str], Any], text: str) -> Any:
    try:
        return parse(text)
    except ValueError:
        return BAD


def _check_field(
    col: Column,
    text: str,
    nulls: set[str],
    state: _State,
    seen: dict[str, dict[Any, list[tuple[str, int]]]],
    source: str,
    row: int,
) -> Any:
    """Run one column's rules on one field; returns its typed value, NULL or BAD."""
    if text in nulls:
        if not col.nullable:
            state.fail(col.not_null, source, row)
        return NULL
    try:
        value = col.parse(text)
    except (ValueError, InvalidOperation, OverflowError):
        state.fail(col.type, source, row)
        return BAD
    for chk in col.checks:
        if chk.passes is None:
            seen.setdefault(chk.rule.name, {}).setdefault(value, []).append((source, row))
        elif not chk.passes(value):
            state.fail(chk.rule, source, row)
    return value


def _row_rule(
    rr: RowRule,
    typed: dict[str, Any],
    by_name: dict[str, Column],
    state: _State,
    source: str,
    row: int,
) -> None:
    # A row rule reading a column absent from this source is not evaluated for the source.
    if any(name not in typed for name in rr.reads):
        return
    # SQL's NULL logic, decided statically: any column read other than through is_null that is
    # null or failed its type makes the row skip the rule.
    if any(typed[name] is NULL or typed[name] is BAD for name in rr.direct):
        return
    dtypes = {n: c.dtype for n, c in by_name.items()}
    try:
        result = evaluate(rr.expr, typed, dtypes)
    except Skip:
        return
    if result is False:
        state.fail(rr.rule, source, row)
    elif result is not True:
        raise ValueError(f"row rule {rr.rule.name!r} did not evaluate to a bool: {result!r}")


def _schema_rules(
    spec: dict, columns: list[Column], header: list[str], index: dict[str, int], state: _State
) -> None:
    names = [c.name for c in columns]
    if any(n not in index for n in names):
        state.schema_failed.add("schema:missing_columns")
    if spec.get("strict") and any(h not in names for h in header):
        state.schema_failed.add("schema:unknown_columns")
    if spec.get("ordered"):
        positions = [index[n] for n in names if n in index]
        if positions != sorted(positions):
            state.schema_failed.add("schema:column_order")


def _observe(check: dict, rows: int, metrics: dict[str, _Metric]) -> Any:
    metric = check["metric"]
    if metric == "row_count":
        return rows
    m = metrics[check["column"]]
    if metric == "null_count":
        return m.nulls
    if metric == "null_fraction":
        return m.nulls / rows if rows else 0.0
    if metric == "distinct_count":
        return len(set(m.values))
    if not m.values:
        return None if metric != "sum" else 0
    if metric == "min":
        return min(m.values)
    if metric == "max":
        return max(m.values)
    total = _exact_sum(m.values)
    return total if metric == "sum" else total / len(m.values)


def _exact_sum(values: list[Any]) -> Any:
    if all(isinstance(v, int) for v in values):
        return sum(values)
    if any(isinstance(v, Decimal) for v in values):
        return sum((_dec(v) for v in values), Decimal(0))
    return math.fsum(values)


def _within(check: dict, value: Any) -> bool:
    if value is None:
        return False
    lo, hi = check.get("min"), check.get("max")
    if lo is not None and (value < lo if check.get("min_inclusive", True) else value <= lo):
        return False
    return not (
        hi is not None and (value > hi if check.get("max_inclusive", True) else value >= hi)
    )


def _allowed(tolerance: dict | None, rows: int) -> int:
    if not tolerance:
        return 0
    if "count" in tolerance:
        return int(tolerance["count"])
    return math.floor(tolerance["fraction"] * rows)
