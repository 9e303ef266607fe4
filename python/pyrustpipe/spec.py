"""The wire types: the spec (docs/spec.md), the report (docs/report.md), the profile and the
engine options, as ``TypedDict`` s.

These dictionaries are what crosses into the Rust engine as JSON. Nothing here does any work;
the DSL (:mod:`pyrustpipe.schema`) builds them and the engine reads them with serde.

>>> from pyrustpipe.spec import SPEC_VERSION, DTYPES
>>> SPEC_VERSION, DTYPES[:3]
(1, ('str', 'int', 'float'))
"""

from typing import Any, Literal, TypeAlias, TypedDict

from pyrustpipe._versions import REPORT_VERSION, SPEC_VERSION

# Optional keys live in `total=False` base classes (Python 3.10 has no typing.NotRequired), and
# there is no `from __future__ import annotations`, so `__required_keys__` is exact at runtime.

__all__ = [
    "DTYPES",
    "METRICS",
    "REPORT_VERSION",
    "SPEC_VERSION",
    "AbsExpr",
    "BinaryExpr",
    "CaseExpr",
    "CheckOptions",
    "ColExpr",
    "ColumnCheck",
    "ColumnRules",
    "ColumnSpec",
    "CountTolerance",
    "CsvDialect",
    "DatasetCheckSpec",
    "DtPartExpr",
    "Dtype",
    "ExprNode",
    "ExternalFailure",
    "ExternalRule",
    "FractionTolerance",
    "IoDict",
    "IsNullExpr",
    "IsinExpr",
    "LitExpr",
    "MatchesExpr",
    "NegExpr",
    "NotExpr",
    "PatternCheck",
    "ProfileColumn",
    "ProfileDict",
    "ReportDict",
    "RowRuleSpec",
    "RuleReportDict",
    "RuleSettings",
    "SampleDict",
    "SetCheck",
    "Severity",
    "SourceReportDict",
    "SpecDict",
    "StrLenExpr",
    "StrTestExpr",
    "Tolerance",
    "UniqueCheck",
    "UniqueKeySpec",
    "ValidateOptions",
    "ValueCheck",
]


Dtype: TypeAlias = Literal["str", "int", "float", "bool", "decimal", "date", "datetime", "time"]
DTYPES: tuple[Dtype, ...] = (
    "str",
    "int",
    "float",
    "bool",
    "decimal",
    "date",
    "datetime",
    "time",
)
Severity: TypeAlias = Literal["error", "warn"]
Metric: TypeAlias = Literal[
    "row_count",
    "null_count",
    "null_fraction",
    "distinct_count",
    "min",
    "max",
    "mean",
    "sum",
]
METRICS: tuple[Metric, ...] = (
    "row_count",
    "null_count",
    "null_fraction",
    "distinct_count",
    "min",
    "max",
    "mean",
    "sum",
)
Scalar: TypeAlias = str | int | float | bool | None


# --------------------------------------------------------------------------------------------
# severity and tolerance


class CountTolerance(TypedDict):
    """At most ``count`` failing rows."""

    count: int


class FractionTolerance(TypedDict):
    """At most ``floor(fraction × rows)`` failing rows (``0 <= fraction <= 1``)."""

    fraction: float


Tolerance: TypeAlias = CountTolerance | FractionTolerance


class RuleSettings(TypedDict):
    """Severity and tolerance of one rule (``not_null`` and ``type`` of a column)."""

    severity: Severity
    tolerance: Tolerance | None


# --------------------------------------------------------------------------------------------
# column checks


class CheckOptions(TypedDict, total=False):
    """Optional keys of every column check."""

    severity: Severity
    tolerance: Tolerance | None
    name: str


class ValueCheck(CheckOptions):
    """A check with one ``value``: ``gt ge lt le multiple_of`` take a number (or its exact
    decimal text), or ISO text for a date / datetime / time column; ``min_length max_length`` a
    count of characters. The kinds are the engine's (docs/spec.md, "Column checks"): it rejects
    an unknown ``type``, and ``pp.compile`` lists what each check means."""

    type: str
    value: int | float | str


class PatternCheck(CheckOptions):
    """A Rust ``regex`` search (anchor with ``^…$``)."""

    type: Literal["pattern"]
    pattern: str


class SetCheck(CheckOptions):
    """``isin`` / ``not_in`` over typed values."""

    type: Literal["isin", "not_in"]
    values: list[Scalar]


class UniqueCheck(CheckOptions):
    """``keep="none"``: every occurrence of a repeated value fails; ``"first"``: later ones do."""

    type: Literal["unique"]
    keep: Literal["none", "first"]


ColumnCheck: TypeAlias = ValueCheck | PatternCheck | SetCheck | UniqueCheck


class ColumnRules(TypedDict, total=False):
    """Optional keys of a column: severity / tolerance of ``not_null`` and ``type``, and
    ``sensitive`` (values shown only as keyed-hash tokens outside the quarantine)."""

    not_null: RuleSettings
    type: RuleSettings
    sensitive: bool


class ColumnSpec(ColumnRules):
    """One column of the schema."""

    name: str
    dtype: Dtype
    nullable: bool
    format: str | None
    checks: list[ColumnCheck]


# --------------------------------------------------------------------------------------------
# expressions (row rules)


class ColExpr(TypedDict):
    type: Literal["col"]
    name: str


class _LitDtype(TypedDict, total=False):
    dtype: Literal["date", "datetime", "time", "decimal"]


class LitExpr(_LitDtype):
    type: Literal["lit"]
    value: Scalar


class BinaryExpr(TypedDict):
    type: Literal["binary"]
    op: Literal[
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "add",
        "sub",
        "mul",
        "div",
        "mod",
        "and",
        "or",
    ]
    left: "ExprNode"
    right: "ExprNode"


class NotExpr(TypedDict):
    type: Literal["not"]
    expr: "ExprNode"


class NegExpr(TypedDict):
    type: Literal["neg"]
    expr: "ExprNode"


class AbsExpr(TypedDict):
    type: Literal["abs"]
    expr: "ExprNode"


class IsinExpr(TypedDict):
    type: Literal["isin"]
    expr: "ExprNode"
    values: list[Scalar]


class IsNullExpr(TypedDict):
    type: Literal["is_null"]
    expr: "ExprNode"


class StrLenExpr(TypedDict):
    type: Literal["str_len"]
    expr: "ExprNode"


class StrTestExpr(TypedDict):
    type: Literal["starts_with", "ends_with", "contains"]
    expr: "ExprNode"
    value: str


class MatchesExpr(TypedDict):
    type: Literal["matches"]
    expr: "ExprNode"
    pattern: str


class CaseExpr(TypedDict):
    type: Literal["lower", "upper"]
    expr: "ExprNode"


class DtPartExpr(TypedDict):
    type: Literal["dt_part"]
    expr: "ExprNode"
    part: Literal["year", "month", "day", "hour", "minute", "second", "weekday"]


ExprNode: TypeAlias = (
    ColExpr
    | LitExpr
    | BinaryExpr
    | NotExpr
    | NegExpr
    | AbsExpr
    | IsinExpr
    | IsNullExpr
    | StrLenExpr
    | StrTestExpr
    | MatchesExpr
    | CaseExpr
    | DtPartExpr
)


class RowRuleSpec(TypedDict):
    """A row rule: fails a row when ``expr`` is false."""

    name: str
    expr: "ExprNode"
    severity: Severity
    tolerance: Tolerance | None


class _UniqueName(TypedDict, total=False):
    name: str | None


class UniqueKeySpec(_UniqueName):
    """A composite uniqueness key; rule name ``a,b:unique`` unless ``name`` is given."""

    columns: list[str]
    keep: Literal["none", "first"]
    severity: Severity
    tolerance: Tolerance | None


class _Bounds(TypedDict, total=False):
    min: int | float | None
    max: int | float | None


class DatasetCheckSpec(_Bounds):
    """An aggregate check; passes when the observed value is within the bounds."""

    metric: Metric
    column: str | None
    min_inclusive: bool
    max_inclusive: bool
    name: str | None
    severity: Severity


class _CsvHeader(TypedDict, total=False):
    header: bool  # absent: the first record is a header
    strict: bool  # absent: lenient quotes (strict: bare quotes / text after a quote are invalid)


class CsvDialect(_CsvHeader):
    delimiter: str
    quote: str
    null_values: list[str]


class _SpecLedger(TypedDict, total=False):
    dataset: str  # the ledger key (docs/ledger.md); absent: ``name``
    history: list[Any]  # pyrustpipe.history.HistoryCheckSpec entries


class SpecDict(_SpecLedger):
    """The top-level spec document (``spec_version`` 1)."""

    spec_version: int
    name: str
    csv: CsvDialect
    strict: bool
    ordered: bool
    columns: list[ColumnSpec]
    row_rules: list[RowRuleSpec]
    unique: list[UniqueKeySpec]
    dataset_checks: list[DatasetCheckSpec]


# --------------------------------------------------------------------------------------------
# engine options


class _ExternalFailureMasking(TypedDict, total=False):
    sensitive_values: list[str]
    """The row's values of sensitive columns: the engine masks them in ``message``."""


class ExternalFailure(_ExternalFailureMasking):
    source: str
    row: int
    message: str


class ExternalRule(TypedDict):
    """A rule evaluated in Python (an untraceable ``@pp.row_rule``) whose failures the engine
    folds into the report and the quarantine."""

    name: str
    severity: Severity
    tolerance: Tolerance | None
    failures: list[ExternalFailure]


class _SplitRangeKeys(TypedDict, total=False):
    keys_output: str


class SplitRange(_SplitRangeKeys):
    """The engine's ``split`` option: validate the records that start in ``[start, end)``."""

    start: int
    end: int


class _StorageOptions(TypedDict, total=False):
    storage_options: dict[str, str]
    mask_key: str
    ledger: dict[str, str]  # root, partition, logical_date, dataset (docs/ledger.md)
    split: SplitRange  # one byte range of one object (docs/splits.md)


class ValidateOptions(_StorageOptions):
    threads: int | None
    sample_size: int
    chunk_size: int | None
    max_record_bytes: int | None
    valid_output: str | None
    quarantine: str | None
    metrics_output: str | None
    allow_empty: bool
    external_rules: list[ExternalRule]


# --------------------------------------------------------------------------------------------
# report (docs/report.md)


class _SampleDetails(TypedDict, total=False):
    line: int | None
    source: str | None
    column: str | None
    value: str | None
    message: str | None


class SampleDict(_SampleDetails):
    row: int | None


class RuleReportDict(TypedDict):
    name: str
    kind: str
    scope: str
    column: str | None
    severity: Severity
    failed: int
    failure_rate: float
    tolerance: Tolerance | None
    allowed_failures: int
    passed: bool
    observed: object
    samples: list[SampleDict]


class SourceReportDict(TypedDict):
    uri: str
    format: str
    bytes: int
    rows: int
    valid_rows: int
    invalid_rows: int
    skipped_blank_lines: int
    quote_garbage_records: int
    columns: list[str]
    failures: dict[str, int]


class IoDict(TypedDict):
    """What the run's storage did beyond reading and writing (docs/report.md)."""

    retries: dict[str, int]


class ReportDict(TypedDict):
    report_version: int
    engine_version: str
    schema_name: str
    ruleset_hash: str
    passed: bool
    rows: int
    valid_rows: int
    invalid_rows: int
    skipped_blank_lines: int
    bytes: int
    duration_s: float
    rows_per_s: float
    threads: int
    sources: list[SourceReportDict]
    rules: list[RuleReportDict]
    outputs: dict[str, str | None]
    io: IoDict


# --------------------------------------------------------------------------------------------
# profile (pyrustpipe init)


class ProfileColumn(TypedDict):
    name: str
    dtype: Literal["int", "float", "bool", "date", "datetime", "time", "str"]
    null_count: int
    distinct_count: int | None
    unique: bool
    min: int | float | str | None
    max: int | float | str | None
    min_length: int | None
    max_length: int | None
    top_values: list[str] | None
    pattern: str | None


class ProfileDict(TypedDict):
    rows: int
    sources: list[str]
    columns: list[ProfileColumn]
