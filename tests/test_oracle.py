"""The oracle's own tests: small files, expected counts worked out by hand from docs/spec.md."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.data_gen import make_random_csv, make_transactions
from tests.oracle import oracle_validate, parse_float, rust_regex

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def col(
    name: str, dtype: str = "str", *checks: dict, nullable: bool = False, **extra: object
) -> dict:
    return {"name": name, "dtype": dtype, "nullable": nullable, "checks": list(checks), **extra}


def spec(*columns: dict, **top: object) -> dict:
    return {"spec_version": 1, "name": "T", "columns": list(columns), **top}


def nonzero(result: dict) -> dict[str, int]:
    return {k: v for k, v in result["failures"].items() if v}


# ---------------------------------------------------------------------------------------------
# Columns: null, type, checks


def test_null_fails_only_not_null_and_type_failure_skips_checks(tmp_path: Path) -> None:
    data = write(tmp_path, "a,b\n5,x\n,y\nabc,\n-1,z\n")
    s = spec(col("a", "int", {"type": "gt", "value": 0}), col("b", nullable=True))
    r = oracle_validate(s, [data])
    # row 2: null a -> not_null only; row 3: "abc" -> type only (gt skipped), b null is allowed;
    # row 4: -1 -> gt
    assert nonzero(r) == {"a:not_null": 1, "a:type": 1, "a:gt": 1}
    assert r["rows"] == 4 and r["invalid_rows"] == 3 and r["valid_rows"] == 1
    assert r["invalid_row_numbers"] == {data: [2, 3, 4]}
    assert r["rule_rows"]["a:gt"] == [(data, 4)]


def test_float_grammar() -> None:
    for ok in ["1", "-1.5", "+2", ".5", "1e3", "1E-3", "0.0", "-0", "5."]:
        parse_float(ok)
    for bad in [
        "NaN",
        "nan",
        "inf",
        "-inf",
        "1,000.5",
        " 1",
        "1 ",
        "0x10",
        "1e",
        "e3",
        "",
        "1.2.3",
    ]:
        with pytest.raises(ValueError):
            parse_float(bad)


def test_bounds_and_lengths_and_sets(tmp_path: Path) -> None:
    data = write(tmp_path, "x,s,c\n0,ab,KES\n1000000,abcd,kes\n1000000.01,a,USD\n")
    s = spec(
        col("x", "float", {"type": "gt", "value": 0}, {"type": "le", "value": 1_000_000}),
        col("s", "str", {"type": "min_length", "value": 2}, {"type": "max_length", "value": 3}),
        col(
            "c",
            "str",
            {"type": "isin", "values": ["KES", "USD"]},
            {"type": "not_in", "values": ["USD"]},
        ),
    )
    assert nonzero(oracle_validate(s, [data])) == {
        "x:gt": 1,
        "x:le": 1,
        "s:min_length": 1,
        "s:max_length": 1,
        "c:isin": 1,
        "c:not_in": 1,
    }


def test_min_length_counts_characters_not_bytes(tmp_path: Path) -> None:
    data = write(tmp_path, "s\néé\n")
    s = spec(col("s", "str", {"type": "max_length", "value": 2}))
    assert nonzero(oracle_validate(s, [data])) == {}


def test_pattern_dollar_is_end_of_text_as_in_rust(tmp_path: Path) -> None:
    assert rust_regex("^abc$").search("abc\n") is None
    assert rust_regex("^a[$]$").search("a$") is not None
    data = write(tmp_path, 'p\nKE\n"KE\n"\nke\n')
    s = spec(col("p", "str", {"type": "pattern", "pattern": "^[A-Z]{2}$"}))
    assert oracle_validate(s, [data])["rule_rows"]["p:pattern"] == [(data, 2), (data, 3)]


def test_isin_and_unique_compare_typed_values(tmp_path: Path) -> None:
    data = write(tmp_path, "i,f\n007,1.0\n7,1\n8,2.5\n")
    s = spec(
        col("i", "int", {"type": "isin", "values": [7, 8]}, {"type": "unique", "keep": "none"}),
        col("f", "float", {"type": "unique", "keep": "none"}),
    )
    r = oracle_validate(s, [data])
    assert nonzero(r) == {"i:unique": 2, "f:unique": 2}
    assert r["invalid_row_numbers"][data] == [1, 2]


def test_unique_keep_first_across_sources_and_nulls_skipped(tmp_path: Path) -> None:
    a = write(tmp_path, "k\nx\n\ny\n", "a.csv")
    b = write(tmp_path, "k\ny\nx\nx\n\n", "b.csv")
    first = spec(col("k", "str", {"type": "unique", "keep": "first"}, nullable=True))
    none = spec(col("k", "str", {"type": "unique", "keep": "none"}, nullable=True))
    r = oracle_validate(first, [a, b])
    # "x" first at a:1, "y" first at a:3; later occurrences fail. "" is null (skipped)
    assert r["rule_rows"]["k:unique"] == [(b, 1), (b, 2), (b, 3)]
    assert oracle_validate(none, [a, b])["failures"]["k:unique"] == 5


def test_bool_decimal_and_invalid_utf8(tmp_path: Path) -> None:
    data = write(tmp_path, b"b,d,s\nYes,0.1000000000000000001,ok\nmaybe,0.1,\xff\xfe\n")
    s = spec(col("b", "bool"), col("d", "decimal", {"type": "gt", "value": 0.1}), col("s"))
    r = oracle_validate(s, [data])
    # decimal compares exactly: 0.1000000000000000001 > 0.1 although equal as binary floats
    assert nonzero(r) == {"b:type": 1, "d:gt": 1, "s:type": 1}
    assert r["rule_rows"]["d:gt"] == [(data, 2)]


# ---------------------------------------------------------------------------------------------
# Dates and times


def test_datetime_with_format_is_exact_and_calendar_real(tmp_path: Path) -> None:
    values = [
        "2024-02-29T23:59:59",  # leap day: valid
        "2025-02-29T00:00:00",
        "2026-02-30T10:00:00",
        "2026-01-05T25:00:00",
        "2026-13-01T00:00:00",
        "2026-01-05 10:00:00",
        "2026-1-5T10:00:00",
        "2026-01-05T10:00:00Z",
        "2026-01-05",
    ]
    data = write(tmp_path, "ts\n" + "\n".join(values) + "\n")
    s = spec(col("ts", "datetime", format="%Y-%m-%dT%H:%M:%S"))
    assert oracle_validate(s, [data])["rule_rows"]["ts:type"] == [(data, i) for i in range(2, 10)]


def test_iso_datetime_date_and_time(tmp_path: Path) -> None:
    data = write(
        tmp_path,
        "dt,d,t\n"
        "2026-01-05T10:00,2026-01-05,10:00\n"
        "2026-01-05 10:00:00.123456789+03:00,2026-02-30,25:00\n"
        "2026-01-05T24:00:00,2026-1-5,10:00:00.5\n",
    )
    s = spec(
        col("dt", "datetime", {"type": "gt", "value": "2026-01-05T07:00:00"}),
        col("d", "date"),
        col("t", "time", {"type": "lt", "value": "10:00:01"}),
    )
    r = oracle_validate(s, [data])
    # row 2's +03:00 makes it 07:00:00.123456789 UTC: later than the bound by the fraction only
    assert r["rule_rows"]["dt:type"] == [(data, 3)]
    assert r["rule_rows"]["dt:gt"] == []
    assert r["rule_rows"]["d:type"] == [(data, 2), (data, 3)]
    assert r["rule_rows"]["t:type"] == [(data, 2)]
    assert r["rule_rows"]["t:lt"] == []


# ---------------------------------------------------------------------------------------------
# Row rules


def _fee_rule(**extra: object) -> dict:
    expr = {
        "type": "binary",
        "op": "le",
        "left": {"type": "col", "name": "fee"},
        "right": {"type": "col", "name": "amount"},
    }
    return {"name": "fee_within_amount", "expr": expr, **extra}


def test_row_rule_skips_null_and_unparsable(tmp_path: Path) -> None:
    data = write(tmp_path, "amount,fee\n10,5\n10,11\n,11\nabc,11\n10,x\n-5,0\n")
    s = spec(col("amount", "float"), col("fee", "float", nullable=True), row_rules=[_fee_rule()])
    r = oracle_validate(s, [data])
    assert r["rule_rows"]["fee_within_amount"] == [(data, 2), (data, 6)]
    assert nonzero(r) == {
        "fee_within_amount": 2,
        "amount:not_null": 1,
        "amount:type": 1,
        "fee:type": 1,
    }


def test_warn_rule_is_counted_but_rows_stay_valid(tmp_path: Path) -> None:
    data = write(tmp_path, "amount,fee\n10,11\n10,1\n")
    s = spec(col("amount", "float"), col("fee", "float"), row_rules=[_fee_rule(severity="warn")])
    r = oracle_validate(s, [data])
    assert r["failures"]["fee_within_amount"] == 1
    assert r["invalid_rows"] == 0 and r["passed"] is True


def test_is_null_reads_do_not_skip(tmp_path: Path) -> None:
    # agent_id required when channel == AGENT: channel is read directly, agent_id via is_null only
    expr = {
        "type": "binary",
        "op": "or",
        "left": {
            "type": "binary",
            "op": "ne",
            "left": {"type": "col", "name": "channel"},
            "right": {"type": "lit", "value": "AGENT"},
        },
        "right": {
            "type": "not",
            "expr": {"type": "is_null", "expr": {"type": "col", "name": "agent_id"}},
        },
    }
    data = write(tmp_path, "channel,agent_id\nAGENT,A1\nAGENT,\nAPP,\n,\n")
    s = spec(
        col("channel", nullable=True),
        col("agent_id", nullable=True),
        row_rules=[{"name": "agent", "expr": expr}],
    )
    assert oracle_validate(s, [data])["rule_rows"]["agent"] == [(data, 2)]


def test_expression_functions(tmp_path: Path) -> None:
    def rule(name: str, expr: dict) -> dict:
        return {"name": name, "expr": expr}

    c = {"type": "col", "name": "s"}
    n = {"type": "col", "name": "n"}
    ts = {"type": "col", "name": "ts"}

    def lit(v, **kw):
        return {"type": "lit", "value": v, **kw}

    rules = [
        rule(
            "len3",
            {"type": "binary", "op": "eq", "left": {"type": "str_len", "expr": c}, "right": lit(3)},
        ),
        rule(
            "upper_in",
            {"type": "isin", "expr": {"type": "upper", "expr": c}, "values": ["ABC", "XYZ"]},
        ),
        rule("starts", {"type": "starts_with", "expr": {"type": "lower", "expr": c}, "value": "a"}),
        rule("matches", {"type": "matches", "expr": c, "pattern": "^[a-z]+$"}),
        rule(
            "half_lt_3",
            {
                "type": "binary",
                "op": "lt",
                "left": {"type": "binary", "op": "div", "left": n, "right": lit(2)},
                "right": lit(3),
            },
        ),
        rule(
            "inv",
            {
                "type": "binary",
                "op": "gt",
                "left": {"type": "binary", "op": "div", "left": lit(1), "right": n},
                "right": lit(0),
            },
        ),
        rule(
            "monday",
            {
                "type": "binary",
                "op": "eq",
                "left": {"type": "dt_part", "expr": ts, "part": "weekday"},
                "right": lit(0),
            },
        ),
        rule(
            "after",
            {
                "type": "binary",
                "op": "ge",
                "left": ts,
                "right": lit("2026-01-01T00:00:00", dtype="datetime"),
            },
        ),
        rule(
            "abs_neg",
            {
                "type": "binary",
                "op": "eq",
                "left": {"type": "abs", "expr": {"type": "neg", "expr": n}},
                "right": n,
            },
        ),
    ]
    # 2026-01-05 is a Monday; 2025-12-30 a Tuesday
    data = write(
        tmp_path,
        "s,n,ts\nabc,5,2026-01-05T00:00:00\nXyZ,0,2025-12-30T00:00:00\nab1,-4,2026-01-06T00:00:00\n",
    )
    s = spec(col("s"), col("n", "int"), col("ts", "datetime"), row_rules=rules)
    r = oracle_validate(s, [data])
    got = {name: [row for _, row in rows] for name, rows in r["rule_rows"].items() if rows}
    # 5/2 = 2.5 < 3 passes; 1/0 (row 2, rule inv) skips; 1/-4 < 0 fails inv on row 3
    assert got == {
        "upper_in": [3],
        "starts": [2],
        "matches": [2, 3],
        "inv": [3],
        "monday": [2, 3],
        "after": [2],
        "abs_neg": [3],
    }


# ---------------------------------------------------------------------------------------------
# Records, schema rules, composite keys, dataset checks


def test_bom_blank_lines_quoted_newlines_and_ragged_rows(tmp_path: Path) -> None:
    data = write(tmp_path, b'\xef\xbb\xbfid,v\r\n1,"a\r\nb"\r\n\r\n2\r\n3,x,y\r\n1,z\r\n')
    s = spec(col("id", "int", {"type": "unique", "keep": "none"}), col("v"))
    r = oracle_validate(s, [data])
    # rows: 1 (quoted CRLF), 2 ragged, 3 ragged, 4; the blank line is not a row
    assert r["rows"] == 4
    assert r["rule_rows"]["row:field_count"] == [(data, 2), (data, 3)]
    # ragged rows run no other check: id 1 repeats at rows 1 and 4 only
    assert r["rule_rows"]["id:unique"] == [(data, 1), (data, 4)]
    assert r["invalid_rows"] == 4


def test_schema_rules(tmp_path: Path) -> None:
    data = write(tmp_path, "b,extra,a\n1,2,\n")
    s = spec(col("a", "int"), col("b", "int"), col("c", "int"), strict=True, ordered=True)
    r = oracle_validate(s, [data])
    assert r["failures"]["schema:missing_columns"] == 1
    assert r["failures"]["schema:unknown_columns"] == 1
    assert r["failures"]["schema:column_order"] == 1
    assert (
        r["failures"]["a:not_null"] == 1 and r["failures"]["c:not_null"] == 0
    )  # c is absent: not evaluated
    assert r["invalid_rows"] == 1 and r["passed"] is False


def test_composite_unique(tmp_path: Path) -> None:
    data = write(tmp_path, "a,b\n1,x\n1,y\n01,x\n,x\n,x\n")
    s = spec(
        col("a", "int", nullable=True), col("b"), unique=[{"columns": ["a", "b"], "keep": "none"}]
    )
    assert oracle_validate(s, [data])["rule_rows"]["a,b:unique"] == [(data, 1), (data, 3)]


def test_dataset_checks_and_tolerance(tmp_path: Path) -> None:
    data = write(tmp_path, "x,y\n1,\n2,\n3,\nbad,\n")
    s = spec(
        col("x", "int", {"type": "lt", "value": 3, "tolerance": {"count": 1}}),
        col("y", "float", nullable=True),
        dataset_checks=[
            {"metric": "row_count", "column": None, "min": 4, "max": 4},
            {"metric": "mean", "column": "x", "min": 2, "max": 2},
            {"metric": "sum", "column": "x", "max": 5},
            {"metric": "null_fraction", "column": "y", "max": 0.5},
            {"metric": "mean", "column": "y", "min": 0},  # over zero values: null, fails
        ],
    )
    r = oracle_validate(s, [data])
    assert r["observed"] == {
        "dataset:row_count": 4,
        "x:mean": 2.0,
        "x:sum": 6,
        "y:null_fraction": 1.0,
        "y:mean": None,
    }
    assert nonzero(r) == {"x:type": 1, "x:lt": 1, "x:sum": 1, "y:null_fraction": 1, "y:mean": 1}
    assert r["rule_passed"]["x:lt"] is True  # one failure, one allowed
    assert r["invalid_rows"] == 2  # tolerance never changes which rows are invalid


def test_null_values_override(tmp_path: Path) -> None:
    data = write(tmp_path, "c\nNA\nN/A\n\n")
    s = spec(col("c"), csv={"delimiter": ",", "quote": '"', "null_values": ["", "N/A"]})
    assert (
        oracle_validate(s, [data])["failures"]["c:not_null"] == 1
    )  # "" is a blank line, not a row
    assert oracle_validate(s, [data], null_values=["NA", "N/A"])["failures"]["c:not_null"] == 2


# ---------------------------------------------------------------------------------------------
# The generators


def test_transactions_truth_matches_oracle(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    truth = make_transactions(path, rows=3000, seed=7, error_rate=0.05)
    rules = json.loads((ROOT / "bench" / "rules.json").read_text())
    r = oracle_validate(rules, [str(path)])
    assert (r["rows"], r["invalid_rows"]) == (truth["rows"], truth["invalid_rows"])
    assert nonzero(r) == truth["failures"]


def test_random_csv_reads_back_as_written(tmp_path: Path) -> None:
    for seed in range(5):
        path = tmp_path / f"r{seed}.csv"
        made = make_random_csv(path, rows=200, seed=seed, columns=4)
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as fh:
            records = [rec for rec in csv.reader(fh) if rec]
        header = [records[0][0].removeprefix("\ufeff"), *records[0][1:]]
        assert header == made.header
        expected = [[f.decode("utf-8", "surrogateescape") for f in rec] for rec in made.records]
        assert records[1:] == expected
        spec_ = spec(*(col(h, nullable=True) for h in made.header))
        r = oracle_validate(spec_, [str(path)])
        assert r["rows"] == 200
        assert [row for _, row in r["rule_rows"]["row:field_count"]] == made.ragged_rows


def _with_defaults(spec_: dict) -> str:
    """The spec with its optional keys filled in, as canonical JSON."""
    default = {"severity": "error", "tolerance": None}
    spec_ = json.loads(json.dumps(spec_))
    for c in spec_["columns"]:
        c.setdefault("not_null", dict(default))
        c.setdefault("type", dict(default))
        for chk in c["checks"]:
            chk.update({k: chk.get(k, v) for k, v in default.items()})
    for r in spec_.get("row_rules", []):
        r.update({k: r.get(k, v) for k, v in default.items()})
    return json.dumps(spec_, sort_keys=True)


def test_bench_rules_py_compiles_to_rules_json() -> None:
    """bench/rules.py (DSL) and bench/rules.json (hand-written) must stay the same rule set."""
    pytest.importorskip("pyrustpipe")
    import importlib.util

    loader = importlib.util.spec_from_file_location("_bench_rules", ROOT / "bench" / "rules.py")
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    hand = json.loads((ROOT / "bench" / "rules.json").read_text())
    assert _with_defaults(module.Transactions.to_spec()) == _with_defaults(hand)


def test_random_csv_other_dialect(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    made = make_random_csv(path, rows=100, seed=11, columns=3, delimiter=";", quote="'")
    dialect = {"delimiter": ";", "quote": "'", "null_values": [""]}
    s = spec(*(col(h, nullable=True) for h in made.header), csv=dialect)
    r = oracle_validate(s, [str(path)])
    assert r["rows"] == 100
    assert [row for _, row in r["rule_rows"]["row:field_count"]] == made.ragged_rows
    ragged = set(made.ragged_rows)
    bad_utf8_rows = sorted({row for row, _ in made.invalid_utf8_cells if row not in ragged})
    assert bad_utf8_rows  # the seed does produce some
    typed = sorted({row for h in made.header for _, row in r["rule_rows"][f"{h}:type"]})
    assert typed == bad_utf8_rows
