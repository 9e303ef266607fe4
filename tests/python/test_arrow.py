"""``pp.validate`` on in-memory tables (pyrustpipe/_arrow.py): pandas, polars and pyarrow give the
same report as the CSV file they were read from."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pyrustpipe as pp
import pytest
from pyrustpipe import _arrow, _engine

from tests.data_gen import make_transactions
from tests.tables import TEXT_READERS, read_pyarrow

ROOT = Path(__file__).resolve().parents[2]


def _transactions_schema() -> type[pp.Schema]:
    spec = importlib.util.spec_from_file_location(
        "_test_arrow_transactions", ROOT / "example_dags" / "rules" / "transactions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    schema: type[pp.Schema] = module.Transactions
    return schema


Transactions = _transactions_schema()


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arrow") / "tx.csv"
    make_transactions(path, rows=3000, seed=7, error_rate=0.03)
    return path


READERS: dict[str, Any] = {
    **TEXT_READERS,
    "pyarrow-reader": lambda path: read_pyarrow(path).to_reader(max_chunksize=700),
}


def comparable(report: pp.Report) -> dict[str, Any]:
    """The report without what differs between a file and a table: timings, sizes, the source
    name and the physical line (a table has no lines)."""
    data: dict[str, Any] = dict(report.to_dict())
    for key in ("bytes", "duration_s", "rows_per_s", "threads", "sources"):
        data.pop(key, None)
    for rule in data["rules"]:
        for sample in rule["samples"]:
            sample.pop("line")
            sample.pop("source")
    return data


@pytest.mark.parametrize("reader", READERS, ids=list(READERS))
def test_in_memory_report_equals_csv_report(csv_path: Path, reader: str) -> None:
    expected = pp.validate(csv_path, Transactions)
    assert not expected.passed and expected.invalid_rows > 0
    table = READERS[reader](csv_path)
    assert _arrow.is_arrow_like(table)
    report = pp.validate(table, Transactions)
    assert comparable(report) == comparable(expected)
    sources = {s.source for r in report.rules for s in r.samples}
    assert sources == {_arrow.IN_MEMORY}
    assert [s.uri for s in report.sources] == [_arrow.IN_MEMORY]


def test_quarantine_of_a_table_is_parquet(tmp_path: Path) -> None:
    class Tiny(pp.Schema):
        id: int = pp.Field(gt=0)
        name: str = pp.Field()

    frame = pl.DataFrame({"id": [1, -2, 3, None], "name": ["a", "b", None, "d"]})
    report = pp.validate(frame, Tiny, quarantine=tmp_path / "q.parquet")
    assert (report.rows, report.valid_rows, report.invalid_rows) == (4, 1, 3)
    quarantined = pq.read_table(tmp_path / "q.parquet")
    assert quarantined.num_rows == 3


def test_typed_columns_are_read_as_their_text() -> None:
    class Typed(pp.Schema):
        n: int = pp.Field(ge=0)
        x: float = pp.Field(lt=1.5)
        flag: bool = pp.Field()

        class Config:
            strict = True

    frame = pd.DataFrame({"n": [0, 5, -1], "x": [0.5, 2.5, 1.0], "flag": [True, False, True]})
    report = pp.validate(frame, Typed)
    assert (report.rule("n:ge").failed, report.rule("x:lt").failed) == (1, 1)
    assert report.rule("flag:type").failed == 0
    # The pandas index is not a column.
    assert report.rule("schema:unknown_columns").failed == 0


@pytest.mark.parametrize("value", ["data.csv", Path("data.csv"), ["a.csv", "b.csv"], b"x", 3, None])
def test_paths_are_not_tables(value: object) -> None:
    assert not _arrow.is_arrow_like(value)


def test_empty_table() -> None:
    class Tiny(pp.Schema):
        id: int = pp.Field()

    table = pa.table({"id": pa.array([], pa.int64())})
    report = pp.validate(table, Tiny, allow_empty=True)
    assert report.rows == 0


class Amounts(pp.Schema):
    id: int = pp.Field(unique=True)
    amount: float = pp.Field(ge=0)


def amounts_table(rows: int) -> pa.Table:
    """One batch of ``rows`` rows; every 7th amount is negative and ids repeat every 100_000."""
    ids = [i % 100_000 for i in range(rows)]
    amounts = [-1.0 if i % 7 == 0 else float(i) for i in range(rows)]
    return pa.table({"id": ids, "amount": amounts})


def test_a_large_batch_is_split_and_counted_exactly() -> None:
    rows = 150_000  # more than one unit of work (64k rows) in a single batch
    table = amounts_table(rows)
    assert table.column("id").num_chunks == 1
    report = pp.validate(table, Amounts)
    assert report.rows == rows
    assert report.rule("amount:ge").failed == len(range(0, rows, 7))
    # Every occurrence of a repeated id fails (keep="none"): ids 0..49_999 occur twice.
    assert report.rule("id:unique").failed == 2 * 50_000


def test_reports_are_identical_across_threads() -> None:
    table = amounts_table(140_000)
    reports = [comparable(pp.validate(table, Amounts, threads=threads)) for threads in (1, 2, 8)]
    assert reports[0] == reports[1] == reports[2]


def test_outputs_equal_those_of_the_same_rows_in_a_parquet_file(
    csv_path: Path, tmp_path: Path
) -> None:
    table = read_pyarrow(csv_path)
    pq.write_table(table, tmp_path / "tx.parquet", row_group_size=1000)
    from_file = pp.validate(
        tmp_path / "tx.parquet",
        Transactions,
        valid_output=tmp_path / "file_valid.parquet",
        quarantine=tmp_path / "file_q.parquet",
    )
    from_table = pp.validate(
        table.to_reader(max_chunksize=333),
        Transactions,
        valid_output=tmp_path / "table_valid.parquet",
        quarantine=tmp_path / "table_q.parquet",
    )
    assert from_table.valid_rows + from_table.invalid_rows == from_table.rows == 3000
    assert (from_table.valid_rows, from_table.invalid_rows) == (
        from_file.valid_rows,
        from_file.invalid_rows,
    )
    valid = pq.read_table(tmp_path / "table_valid.parquet")
    assert valid.equals(pq.read_table(tmp_path / "file_valid.parquet"))
    quarantined = pq.read_table(tmp_path / "table_q.parquet")
    assert set(quarantined.column("_pyrustpipe_source").to_pylist()) == {_arrow.IN_MEMORY}
    expected = pq.read_table(tmp_path / "file_q.parquet").drop_columns(["_pyrustpipe_source"])
    assert quarantined.drop_columns(["_pyrustpipe_source"]).equals(expected)


def test_a_one_shot_python_stream_is_read_without_the_gil() -> None:
    """Batches produced by a Python generator: the engine's reader thread reads the stream while
    the caller waits with the GIL released (pyarrow takes it for each batch)."""
    schema = pa.schema([("id", pa.int64()), ("amount", pa.float64())])

    def batches() -> Any:
        for start in range(0, 10_000, 1000):
            yield pa.record_batch(
                [pa.array(range(start, start + 1000)), pa.array([1.0] * 999 + [-5.0])],
                schema=schema,
            )

    report = pp.validate(pa.RecordBatchReader.from_batches(schema, batches()), Amounts)
    assert (report.rows, report.invalid_rows) == (10_000, 10)
    assert report.rule("amount:ge").samples[0].row == 1000


def test_a_failing_stream_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    schema = pa.schema([("id", pa.int64()), ("amount", pa.float64())])

    def batches() -> Any:
        yield pa.record_batch([pa.array([1, 2]), pa.array([1.0, 2.0])], schema=schema)
        raise RuntimeError("upstream broke at batch 2")

    with pytest.raises(pp.DataFormatError, match="upstream broke at batch 2") as caught:
        pp.validate(
            pa.RecordBatchReader.from_batches(schema, batches()),
            Amounts,
            quarantine=tmp_path / "q.parquet",
        )
    assert caught.value.path == _arrow.IN_MEMORY
    assert list(tmp_path.iterdir()) == []


def test_python_rules_run_on_a_one_shot_stream() -> None:
    with pytest.warns(pp.UntraceableRuleWarning):

        class WithPythonRule(pp.Schema):
            id: int = pp.Field()
            amount: float = pp.Field()

            @pp.row_rule
            def amount_is_round(row: Any) -> bool:
                return float(row.amount).is_integer()  # float() does not trace: runs in Python

    table = pa.table({"id": [1, 2, 3], "amount": [1.0, 2.5, 3.0]})
    report = pp.validate(table.to_reader(max_chunksize=1), WithPythonRule)
    rule = report.rule("amount_is_round")
    assert (rule.failed, rule.samples[0].row, rule.samples[0].source) == (1, 2, _arrow.IN_MEMORY)


def test_polars_view_types_and_categoricals() -> None:
    class Kinds(pp.Schema):
        kind: str = pp.Field(isin=["a", "b"])
        label: str = pp.Field(max_length=3)

    frame = pl.DataFrame(
        {"kind": ["a", "b", "c"], "label": ["xy", "long label", "z"]},
        schema={"kind": pl.Categorical, "label": pl.String},
    )
    report = pp.validate(frame, Kinds)
    assert (report.rule("kind:isin").failed, report.rule("label:max_length").failed) == (1, 1)


def ordinal_table(seed: int, rows: int = 5000) -> pa.Table:
    """Integers of every width, timestamps of three units and dates, each with nulls."""
    rng = np.random.default_rng(seed)

    def column(values: Any, kind: pa.DataType, null_rate: float = 0.03) -> pa.Array:
        return pa.array(values, mask=rng.random(rows) < null_rate).cast(kind)

    ints = rng.integers(-120, 120, rows)
    a = rng.integers(0, 50, rows)
    micros = np.datetime64("2024-01-01", "us").astype(np.int64) + rng.integers(-5e11, 5e11, rows)
    earlier = micros - rng.integers(-(10**10), 10**11, rows)
    return pa.table(
        {
            "i8": column(ints, pa.int8()),
            "i32": column(ints, pa.int32(), 0.0),
            "i64": column(ints * 10**15, pa.int64()),
            "u16": column(np.abs(ints), pa.uint16()),
            "u64": column(np.abs(ints) * 10**16, pa.uint64()),
            "a": column(a, pa.int64()),
            "b": column(a + rng.integers(-1, 20, rows), pa.int16()),
            "at_ms": column(micros // 1000, pa.int64()).cast(pa.timestamp("ms")),
            "earlier_ms": column(earlier // 1000, pa.int64()).cast(pa.timestamp("ms")),
            "at_ns": column(micros * 1000, pa.int64()).cast(pa.timestamp("ns", tz="UTC")),
            "day": column(micros // 86_400_000_000, pa.int32()).cast(pa.date32()),
            "earlier_day": column(earlier // 86_400_000_000, pa.int32()).cast(pa.date32()),
            "x": column(
                rng.choice([0.0, -1.5, 2.25, 1e300, np.nan, np.inf, 7.0, 10.0], rows), pa.float64()
            ),
            "flag": column(rng.random(rows) < 0.5, pa.bool_()),
        }
    )


ORDINAL_CHECKS = dict(
    i8=pp.Field(ge=-110, lt=110),
    i32=pp.Field(gt=-115, ge=-114.5),
    i64=pp.Field(le=115 * 10**15, not_in=[v * 10**15 for v in range(-300, 300, 29)]),
    u16=pp.Field(lt=115),
    u64=pp.Field(ge=10**17, le=2 * 10**18),
    a=pp.Field(isin=[*range(48), 100_000]),
    b=pp.Field(isin=[*range(-1, 60), 2**14]),
    at_ms=pp.Field(ge=dt.datetime(2023, 12, 27), lt=dt.datetime(2024, 1, 6)),
    earlier_ms=pp.Field(),
    at_ns=pp.Field(le=dt.datetime(2024, 1, 6, tzinfo=dt.timezone.utc)),
    day=pp.Field(
        ge=dt.date(2023, 12, 27),
        isin=[dt.date(2023, 12, 26) + dt.timedelta(days) for days in range(11)],
    ),
    earlier_day=pp.Field(),
    x=pp.Field(),
    flag=pp.Field(),
)
ORDINAL_TYPES: dict[str, Any] = dict(
    i8=int | None, i32=int, i64=int | None, u16=int | None, u64=int | None, a=int | None, b=int,
    at_ms=dt.datetime, earlier_ms=dt.datetime | None, at_ns=dt.datetime | None, day=dt.date,
    earlier_day=dt.date | None, x=float | None, flag=bool | None,
)  # fmt: skip
PAIRS = {
    "a_le_b": ("a", "<=", "b"),
    "ms": ("at_ms", ">=", "earlier_ms"),
    "days": ("day", ">=", "earlier_day"),
}


# Row rules other than a pair, each judged a batch of rows at a time (check/row_batches.rs): int
# and float arithmetic, an int overflow, a division and a modulo by zero, negation and `abs`,
# `and` / `or` / `not` with nulls on either side, `isin`, `is_null`, a bool column, a datetime
# literal, and a comparison of an int with a float.
EXPRESSIONS: dict[str, Any] = {
    "x_within_a": lambda row: row.x <= row.a + 5,
    "square_positive": lambda row: row.i64 * row.i64 > 0,
    "ratio": lambda row: row.a / row.b < 2,
    "unknown_and": lambda row: (row.a / row.b < 100) & (row.a > 1),
    "remainder": lambda row: row.a % row.b != 1,
    "negated": lambda row: -row.i32 < abs(row.b - 30) + 80,
    "both": lambda row: (row.a > 2) & (row.x > -1),
    "either": lambda row: (row.a > 5) | row.flag,
    "not_flag": lambda row: ~row.flag | (row.u16 < 110),
    "listed": lambda row: row.u16.isin([1, 2, 3, 50]) | (row.i8 < 100),
    "missing": lambda row: row.earlier_ms.is_null() | (row.at_ms >= row.earlier_ms),
    "instant": lambda row: row.at_ms < dt.datetime(2024, 1, 6),
    "mixed": lambda row: row.x * 2.5 - row.i8 >= row.a / 3 - 100,
    "float_mod": lambda row: row.x % 4 < 3,
    "int_float": lambda row: row.u64 > row.x,
}


def ordinal_schema() -> type[pp.Schema]:
    """The checks above, the pairs and the expressions as row rules."""
    import operator

    ops = {"<=": operator.le, ">=": operator.ge}
    namespace: dict[str, Any] = {"__annotations__": dict(ORDINAL_TYPES), **ORDINAL_CHECKS}
    for name, (x, op, y) in PAIRS.items():

        def pair(row: Any, x: str = x, op: str = op, y: str = y) -> Any:
            return ops[op](getattr(row, x), getattr(row, y))

        pair.__name__ = name
        namespace[name] = pp.row_rule(pair)
    for name, expression in EXPRESSIONS.items():
        expression.__name__ = name
        namespace[name] = pp.row_rule(expression)
    return type("Ordinals", (pp.Schema,), namespace)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("source", ["polars", "pyarrow", "parquet"])
def test_ordinal_columns_are_judged_as_their_text(tmp_path: Path, seed: int, source: str) -> None:
    """Integer, date and datetime columns are checked a column at a time, a comparison of two
    of them too, and row rules of numbers, instants and bools a batch of rows at a time
    (check/ints.rs, check/row_whole.rs, check/row_batches.rs): the same counts and failing rows
    as the same values cast to text, which the engine parses and judges row by row."""
    table = ordinal_table(seed)
    data: Any = {"polars": pl.from_arrow(table), "pyarrow": table}.get(source)
    if source == "parquet":
        data = tmp_path / "ordinals.parquet"
        pq.write_table(table, data, row_group_size=1500)
    typed = pp.validate(data, ordinal_schema(), threads=2)
    as_text = pl.from_arrow(table).select(pl.all().cast(pl.String))
    text = pp.validate(as_text, ordinal_schema(), threads=2)
    failed = {r.name: r.failed for r in typed.rules}
    assert failed == {r.name: r.failed for r in text.rules}
    rows = {r.name: [s.row for s in r.samples] for r in typed.rules}
    assert rows == {r.name: [s.row for s in r.samples] for r in text.rules}
    assert typed.invalid_rows == text.invalid_rows < typed.rows
    assert {name for name, count in failed.items() if count} >= {
        *("i8:ge", "i8:lt", "i32:gt", "i32:ge", "i64:le", "i64:not_in", "u16:lt", "u64:ge"),
        *("a:isin", "b:isin", "at_ms:ge", "at_ms:lt", "at_ns:le", "day:ge", "day:isin", *PAIRS),
        *EXPRESSIONS,
    }


PUBLIC_CSVS = [
    "seattle-weather.csv",
    "sf-temps.csv",
    "airports.csv",
    "stocks.csv",
    "us-employment.csv",
]


def _public_schema(frame: pl.DataFrame) -> type[pp.Schema]:
    """Each numeric column of `frame` bounded at its least value (a slice of it passes, settled by
    its span) and at a quantile (some rows fail); a small-cardinality integer column given a set
    with one member 90 past its least (two words of bits)."""
    annotations: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for number, (name, dtype) in enumerate(frame.schema.items()):
        if not (dtype.is_float() or dtype.is_integer()):
            continue
        values = sorted(frame[name].drop_nulls().to_list())
        if not values:
            continue
        least, high = values[0], values[int(0.9 * (len(values) - 1))]
        attribute = f"c{number}"
        if dtype.is_integer():
            annotations[attribute] = int | None
            members = sorted(set(values))
            near = {"isin": [*members[:-1], members[0] + 90]} if len(members) <= 8 else {}
            fields[attribute] = pp.Field(alias=name, ge=least, le=high, **near)
        else:
            annotations[attribute] = float | None
            fields[attribute] = pp.Field(alias=name, ge=least, lt=high)
    schema: type[pp.Schema] = type(
        "PublicDataset", (pp.Schema,), {"__annotations__": annotations, **fields}
    )
    return schema


@pytest.mark.parametrize("name", PUBLIC_CSVS)
def test_a_public_dataset_typed_finds_what_its_text_finds(name: str, tmp_path: Path) -> None:
    """A public dataset (vega_datasets, not written by this project) typed by polars — as the
    frame, as a table of 64-row batches (slices settled by their span and not) and as Parquet of
    500-row groups — finds what its CSV file's text finds: each rule's count."""
    module = pytest.importorskip("vega_datasets")
    path = Path(module.__file__).parent / "_data" / name
    frame = pl.read_csv(path)
    schema = _public_schema(frame)
    expected = pp.validate(path, schema)
    counts = {rule.name: rule.failed for rule in expected.rules}
    assert expected.rows == frame.height and any(counts.values())
    table = frame.to_arrow()
    pq.write_table(table, tmp_path / "typed.parquet", row_group_size=500)
    sources: dict[str, Any] = {
        "frame": frame,
        "batches": pa.Table.from_batches(table.to_batches(max_chunksize=64)),
        "parquet": tmp_path / "typed.parquet",
    }
    for source, data in sources.items():
        for threads in (1, 2):
            report = pp.validate(data, schema, threads=threads)
            found = {rule.name: rule.failed for rule in report.rules}
            assert (report.rows, report.invalid_rows) == (expected.rows, expected.invalid_rows)
            assert found == counts, (source, threads)


def _awkward_keys(rows: int) -> list[str | None]:
    """Short keys with repeats five rows back, across 64-row words and over a run of 640 rows;
    long keys, nulls, empty texts (nulls too), texts with NUL (not `str` values), non-ASCII and
    exactly 12-byte keys among them."""
    keys: list[str | None] = [f"K{i:09d}" for i in range(rows)]
    for i in range(5, rows, 997):
        keys[i] = keys[i - 5]
    for i in range(64 + 63, rows, 64 * 37):
        keys[i] = keys[i - 64]
    for i in range(100, rows, 1301):
        keys[i] = f"LONGKEY-{i:012d}"
    for i in range(1401, rows, 2999):
        keys[i] = keys[100]
    for every, start, key in [
        (4001, 300, None),
        (5003, 400, ""),
        (6007, 500, "a\x00b"),
        (7001, 600, "é-ключ"),
        (8009, 700, "TWELVEBYTES!"),
    ]:
        for i in range(start, rows, every):
            keys[i] = key
    for i in range(20_000, 20_640):
        keys[i] = keys[i - 640]
    return keys


@pytest.mark.parametrize("keep", ["none", "first"])
def test_a_typed_str_key_fails_exactly_its_repeats(keep: str) -> None:
    """A `str` key read in place from a polars frame and from a table of 7,777-row batches (words
    of 64 rows cut at batch edges), on one and two threads, fails exactly the rows a dictionary
    finds: every occurrence of a repeated key (`unique=True`) or every one after the first
    (`"first"`), its samples the first of them; nulls, empty texts and texts with NUL (not `str`
    values) are not keys."""
    rows = 50_000
    keys = _awkward_keys(rows)
    seen: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        if key and "\x00" not in key:
            seen.setdefault(key, []).append(row)
    failing = sorted(
        row
        for occurrences in seen.values()
        if len(occurrences) > 1
        for row in (occurrences if keep == "none" else occurrences[1:])
    )
    assert len(failing) > 500

    class Keyed(pp.Schema):
        key: str | None = pp.Field(unique=True if keep == "none" else "first")

    frame = pl.DataFrame({"key": pl.Series(keys, dtype=pl.String)})
    table = frame.to_arrow()
    sources = {"frame": frame, "batches": pa.Table.from_batches(table.to_batches(7777))}
    for source, data in sources.items():
        for threads in (1, 2):
            rule = pp.validate(data, Keyed, threads=threads).rule("key:unique")
            assert rule.failed == len(failing), (source, threads)
            sampled = [sample.row - 1 for sample in rule.samples]  # rows count from 1
            assert sampled == failing[: len(sampled)] and sampled, (source, threads)


def test_unchecked_long_texts_fail_exactly_where_they_are_not_str_values() -> None:
    """An unchecked `str` column of a polars frame, proven a 64-row word at a time: words of long
    values (13 bytes and more, held in the frame's data buffers), of short ones and of both, on
    one and two threads and in 7,777-row batches; a value with NUL is not a `str` value (a
    `type` failure, sampled first), a non-ASCII one is, and a null is neither."""
    rows = 40_000
    texts: list[str | None] = []
    for i in range(rows):
        word = i // 64
        if word % 3 == 0:
            texts.append(f"+2547{i:08d}")  # 13 bytes: every value of the word long
        elif word % 3 == 1:
            texts.append(f"S{i}")  # short
        else:
            texts.append(f"+2547{i:08d}" if i % 5 else f"s{i}")  # mostly long
    for i in range(3, rows, 997):
        texts[i] = f"+254712\x00{i:05d}"  # long, with NUL
    for i in range(7, rows, 1201):
        texts[i] = f"+2547-é-{i:06d}"  # long, not ASCII
    for i in range(11, rows, 1409):
        texts[i] = None
    for i in range(13, rows, 2003):
        texts[i] = "a\x00"  # short, with NUL
    failing = [row for row, text in enumerate(texts) if text is not None and "\x00" in text]
    assert len(failing) > 40

    class Unchecked(pp.Schema):
        phone: str | None = pp.Field()

    frame = pl.DataFrame({"phone": pl.Series(texts, dtype=pl.String)})
    table = frame.to_arrow()
    sources = {"frame": frame, "batches": pa.Table.from_batches(table.to_batches(7777))}
    for source, data in sources.items():
        for threads in (1, 2):
            report = pp.validate(data, Unchecked, threads=threads)
            rule = report.rule("phone:type")
            assert rule.failed == len(failing), (source, threads)
            assert report.invalid_rows == len(failing), (source, threads)
            sampled = [sample.row - 1 for sample in rule.samples]  # rows count from 1
            assert sampled == failing[: len(sampled)] and sampled, (source, threads)


@pytest.mark.parametrize("threads", [1, 2])
def test_dictionary_columns_report_what_their_strings_report(threads: int) -> None:
    """A `str` column held as a dictionary (polars' Categorical and Enum, pyarrow dictionaries of
    `large_string` with null keys and a null value) is read in place as the strings it stands
    for: its report is the plain string column's, rule by rule and sample by sample."""
    rng = np.random.default_rng(11)
    rows = 20_000
    choices = ["KES", "UGX", "", "a\x00b", "é-a-long-category", "Kenya Commercial Bank", "USD"]
    texts: list[str | None] = [choices[i] for i in rng.integers(0, len(choices), rows)]
    for i in range(5, rows, 401):
        texts[i] = None
    codes = [f"id-{i % (rows - 30)}" for i in range(rows)]

    class Coded(pp.Schema):
        kind: str | None = pp.Field(isin=["KES", "UGX", "USD", "Kenya Commercial Bank"])
        label: str | None = pp.Field(min_length=1, max_length=12)
        code: str = pp.Field(unique=True, pattern=r"^id-[0-9]+$")

    plain = pl.DataFrame({"kind": texts, "label": texts, "code": codes})
    expected = pp.validate(plain, Coded, threads=threads).to_dict()
    categorical = plain.with_columns(
        pl.col("kind").cast(pl.Categorical),
        pl.col("label").cast(pl.Categorical),
        pl.col("code").cast(pl.Categorical),
    )

    def dictionary(values: list[str | None]) -> pa.DictionaryArray:
        encoded = pa.array(values, type=pa.large_string()).dictionary_encode()
        with_null = pa.array([*encoded.dictionary.to_pylist(), None], type=pa.large_string())
        return pa.DictionaryArray.from_arrays(encoded.indices, with_null)

    dictionaries = pa.table(
        {"kind": dictionary(texts), "label": dictionary(texts), "code": dictionary(codes)}
    )
    for source in (categorical, dictionaries):
        report = pp.validate(source, Coded, threads=threads).to_dict()
        for volatile in ("duration_s", "rows_per_s", "sources", "bytes"):
            report.pop(volatile, None)
            expected.pop(volatile, None)
        assert report == expected
    assert expected["invalid_rows"] > 1000


@pytest.mark.parametrize("threads", [1, 2])
def test_polars_categoricals_are_handed_over_as_codes_and_read_as_their_strings(
    threads: int, tmp_path: Path
) -> None:
    """polars' Categorical (global, and named with 8- and 16-bit codes) and Enum columns go to
    the engine as their codes and categories once (`_arrow._polars_categorical_keys`), not
    through polars' export, which remaps every row: the report and the quarantined rows are the
    plain string columns', and a code no category has is an error, never a row read wrong."""
    rng = np.random.default_rng(5)
    rows = 30_000
    words = [f"c{i}" for i in range(300)] + ["a category longer than a view inlines", "", "é"]
    texts: list[str | None] = [words[i] for i in rng.integers(0, len(words), rows)]
    for i in range(3, rows, 257):
        texts[i] = None

    class Coded(pp.Schema):
        a: str | None = pp.Field(isin=words[:200], max_length=4)
        b: str | None = pp.Field(pattern=r"^c[0-9]$")
        c: str | None = pp.Field(min_length=2)
        d: str | None = pp.Field(isin=words[100:])

    plain = pl.DataFrame({"a": texts, "b": texts[::-1], "c": texts, "d": texts[::-1]})
    # Categories seen first in another order: the global codes are not the column's order.
    pl.Series(["zz", "yy", *words[::-1]], dtype=pl.Categorical)
    present = sorted({t for t in texts if t is not None})
    categorical = plain.with_columns(
        pl.col("a").cast(pl.Categorical),
        pl.col("b").cast(pl.Enum(present)),
        pl.col("c").cast(pl.Categorical(pl.Categories("pp_u16", physical=pl.UInt16))),
        pl.col("d").cast(pl.Categorical(pl.Categories("pp_u32", physical=pl.UInt32))),
    )
    handed, dictionaries = _arrow._polars_categorical_keys(categorical)
    assert [name for name, _ in dictionaries] == ["a", "b", "c", "d"]
    assert isinstance(handed, pl.DataFrame) and handed.dtypes[0] == pl.UInt32

    expected = pp.validate(plain, Coded, threads=threads, quarantine=tmp_path / "plain.parquet")
    report = pp.validate(categorical, Coded, threads=threads, quarantine=tmp_path / "coded.parquet")
    volatile = ("duration_s", "rows_per_s", "sources", "bytes", "outputs")
    assert {k: v for k, v in report.to_dict().items() if k not in volatile} == {
        k: v for k, v in expected.to_dict().items() if k not in volatile
    }
    assert expected.invalid_rows > 1000
    as_text = [pl.col(name).cast(pl.String) for name in "abcd"]
    quarantined = pl.read_parquet(tmp_path / "coded.parquet").with_columns(as_text)
    assert quarantined.equals(pl.read_parquet(tmp_path / "plain.parquet"))

    # Codes past the categories (a frame that lies) stop the run with a clear error.
    with pytest.raises(ValueError, match="key"):
        _engine.validate_arrow(
            Coded._engine_spec()[1],
            pl.DataFrame({"a": pl.Series([0, 999], dtype=pl.UInt32)}),
            _arrow.IN_MEMORY,
            "{}",
            None,
            [("a", pl.DataFrame({"a": ["c1"]}))],
        )


@pytest.mark.parametrize("name", PUBLIC_CSVS)
def test_a_public_dataset_with_categories_reports_what_its_strings_report(name: str) -> None:
    """A public dataset's string columns (vega_datasets, read by polars) given an `isin`, a
    `max_length` or a pattern report the same as polars Categoricals and as pandas `category`
    columns as they do as strings: counts and samples, at 1 and 2 threads."""
    module = pytest.importorskip("vega_datasets")
    frame = pl.read_csv(Path(module.__file__).parent / "_data" / name)
    texts = [column for column, kind in frame.schema.items() if kind == pl.String]
    if not texts:
        pytest.skip(f"{name} has no string column")
    annotations: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for i, column in enumerate(texts):
        values = frame[column].drop_nulls().unique().sort().to_list()
        lengths = sorted(len(v) for v in values) or [1]
        annotations[f"c{i}"] = str | None
        fields[f"c{i}"] = [
            pp.Field(alias=column, isin=values[: max(1, len(values) // 2)]),
            pp.Field(alias=column, max_length=lengths[len(lengths) // 2]),
            pp.Field(alias=column, pattern=r"^[A-Z][a-z]+"),
        ][i % 3]
    schema: type[pp.Schema] = type(
        "PublicCategories", (pp.Schema,), {"__annotations__": annotations, **fields}
    )

    def seen(report: pp.Report) -> dict[str, Any]:
        rules = {r.name: (r.failed, [(s.row, s.value) for s in r.samples]) for r in report.rules}
        return {"invalid_rows": report.invalid_rows, "rules": rules}

    expected = seen(pp.validate(frame, schema))
    assert expected["invalid_rows"] > 0
    categorical = frame.with_columns(pl.col(column).cast(pl.Categorical) for column in texts)
    for source in (categorical, categorical.to_pandas()):
        for threads in (1, 2):
            assert seen(pp.validate(source, schema, threads=threads)) == expected
