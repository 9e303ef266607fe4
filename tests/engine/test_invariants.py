"""Engine invariants: conservation, determinism across threads and chunkings, agreement with the
oracle on hostile random CSVs (hypothesis), and the CSV edge cases of
/work/shared/research/reliability.md §1.2, each with exact expectations.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyrustpipe as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.data_gen import make_random_csv
from tests.oracle import oracle_validate

from .conftest import (
    assert_failures_match,
    expected_valid_bytes,
    line_starts,
    normalized,
    run,
    split_records,
)

settings.register_profile(
    "engine-fast",
    max_examples=int(os.environ.get("PYRUSTPIPE_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FAST = settings.get_profile("engine-fast")

THREADS = (1, 2, 8)
CHUNKS = (37, 256, 4096, None)


def col(name: str, dtype: str = "str", *checks: dict, nullable: bool = False) -> dict:
    return {"name": name, "dtype": dtype, "nullable": nullable, "checks": list(checks)}


def spec_of(*columns: dict, **extra: object) -> dict:
    return {"spec_version": 1, "name": "T", "columns": list(columns), **extra}


RANDOM_SPEC = spec_of(
    col("c0", "str", {"type": "pattern", "pattern": "^[a-m]"}),
    col("c1", "int", {"type": "ge", "value": 0}, nullable=True),
    col("c2", "str", {"type": "max_length", "value": 6}, nullable=True),
    col("c3", "str", {"type": "unique", "keep": "none"}, nullable=True),
)


def _opts(threads: int, chunk: int | None) -> dict:
    return {"threads": threads} | ({"chunk_size": chunk} if chunk is not None else {})


def check_against_oracle(spec: dict, path: Path, out_dir: Path, **opts: object) -> dict:
    """Run the engine once with outputs and check everything against the oracle and the input."""
    oracle = oracle_validate(spec, [str(path)])
    report, valid, qrows = run(spec, path, out_dir, **opts)
    assert report["rows"] == oracle["rows"]
    assert report["valid_rows"] == oracle["valid_rows"]
    assert report["invalid_rows"] == oracle["invalid_rows"]
    assert report["valid_rows"] + report["invalid_rows"] == report["rows"]
    assert report["passed"] == oracle["passed"]
    assert_failures_match(report, oracle)
    rows = [row for _, _, row, _ in qrows]
    assert rows == oracle["invalid_row_numbers"][str(path)]
    data = path.read_bytes()
    assert valid == expected_valid_bytes(data, set(rows))
    # conservation in the files: header + valid records, and one quarantine record per bad row
    assert len(split_records(valid)) - 1 + len(qrows) == report["rows"]
    return report


# ---------------------------------------------------------------------------------------------
# 2. Property tests over random hostile CSVs


random_csvs = st.fixed_dictionaries(
    {
        "rows": st.integers(0, 80),
        "seed": st.integers(0, 2**32 - 1),
        "columns": st.sampled_from([4, 5, 6]),
        "quote_prob": st.sampled_from([0.0, 0.1, 0.5]),
        "special_prob": st.sampled_from([0.0, 0.05, 0.3]),
        "empty_prob": st.sampled_from([0.0, 0.1, 0.4]),
        "ragged_prob": st.sampled_from([0.0, 0.02, 0.2]),
        "invalid_utf8_prob": st.sampled_from([0.0, 0.01, 0.1]),
        "blank_line_prob": st.sampled_from([0.0, 0.01, 0.2]),
    }
)


@FAST
@given(params=random_csvs)
def test_random_csv_invariants(params: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "in.csv"
        written = make_random_csv(path, **params)
        base = check_against_oracle(RANDOM_SPEC, path, folder, threads=1)
        assert base["rows"] == params["rows"]
        assert base["skipped_blank_lines"] == written.blank_lines
        assert base["rules"][1]["name"] == "row:field_count"
        assert base["rules"][1]["failed"] == len(written.ragged_rows)
        base_valid = (folder / "valid.csv").read_bytes()
        base_q = (folder / "quarantine.csv").read_bytes()
        for threads in THREADS:
            for chunk in CHUNKS:
                report, valid, _ = run(RANDOM_SPEC, path, folder, **_opts(threads, chunk))
                where = (threads, chunk)
                assert normalized(report) == normalized(base), where
                assert valid == base_valid, where
                assert (folder / "quarantine.csv").read_bytes() == base_q, where


@FAST
@given(params=random_csvs, chunk=st.integers(1, 300), threads=st.sampled_from(THREADS))
def test_random_csv_any_chunk_size_matches_oracle(params: dict, chunk: int, threads: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "in.csv"
        make_random_csv(path, **params)
        check_against_oracle(RANDOM_SPEC, path, folder, threads=threads, chunk_size=chunk)


# ---------------------------------------------------------------------------------------------
# 3. CSV edge cases (reliability.md §1.2), table-driven, exact expectations


EDGE_OPTS = [_opts(1, None), _opts(2, 4096), _opts(8, 64), _opts(2, 7), _opts(8, 3), _opts(2, 1)]
EDGE_IDS = ["t1", "t2-c4096", "t8-c64", "t2-c7", "t8-c3", "t2-c1"]

# (id, data, spec, rows, {rule: failed}, invalid rows, {rule: [sample lines]}, skipped blank)
EDGE_CASES = [
    (
        "rfc4180-quoting",
        b'id,name\n1,"a,b"\n2,"say ""hi"""\n3,plain\n4,""\n',
        spec_of(
            col("id", "int"),
            col("name", "str", {"type": "isin", "values": ["a,b", 'say "hi"']}, nullable=True),
        ),
        4,
        {"name:isin": 1, "name:not_null": None},
        [3],
        {"name:isin": [4]},
        0,
    ),
    (
        "newlines-in-quoted-fields",
        b'id,note\n5,"a\nb\nc"\n20,"d\r\ne"\n7,f\n30,"\n"\n',
        spec_of(col("id", "int", {"type": "ge", "value": 10}), col("note", "str")),
        4,
        {"id:ge": 2},
        [1, 3],
        {"id:ge": [2, 7]},
        0,
    ),
    (
        "crlf-lf-cr-mixed",
        b"id,v\r\n1,a\n2,b\r3,c\r\n4,d",
        spec_of(
            col("id", "int", {"type": "le", "value": 2}),
            col("v", "str", {"type": "isin", "values": ["a", "b", "c", "d"]}),
        ),
        4,
        {"id:le": 2, "v:isin": 0},
        [3, 4],
        {"id:le": [4, 5]},
        0,
    ),
    (
        "bom-quoted-header",
        b'\xef\xbb\xbf"id",v\n1,x\n-2,y\n',
        spec_of(col("id", "int", {"type": "ge", "value": 0}), col("v", "str")),
        2,
        {"schema:missing_columns": 0, "id:type": 0, "id:ge": 1},
        [2],
        {"id:ge": [3]},
        0,
    ),
    (
        "ragged-rows",
        b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n1,2,3\n",
        spec_of(col("a", "int", {"type": "ge", "value": 5}), col("b", "int"), col("c", "int")),
        4,
        {"row:field_count": 2, "a:ge": 2},
        [1, 2, 3, 4],
        {"row:field_count": [3, 4], "a:ge": [2, 5]},
        0,
    ),
    (
        "blank-lines-not-rows",
        b"id,v\n1,a\n\n2,b\n\n\n3,c\n\n",
        spec_of(col("id", "int", {"type": "le", "value": 2}), col("v", "str")),
        3,
        {"id:le": 1},
        [3],
        {"id:le": [7]},
        4,
    ),
    (
        "invalid-utf8-in-str-column",
        b"id,name\n1,ab\xffc\n2,ok\n3,\xc3\n",
        spec_of(col("id", "int"), col("name", "str")),
        3,
        {"name:type": 2},
        [1, 3],
        {"name:type": [2, 4]},
        0,
    ),
    (
        "nul-byte-in-str-field",
        b'id,name\n1,a\x00b\n2,ok\n3,"\x00"\n',
        spec_of(col("id", "int"), col("name", "str")),
        3,
        {"name:type": 2},
        [1, 3],
        {"name:type": [2, 4]},
        0,
    ),
    (
        "text-after-closing-quote",
        b'id,name\n1,"ab"cd\n2,"x,y"z\n',
        spec_of(col("id", "int"), col("name", "str", {"type": "isin", "values": ["abcd", "x,yz"]})),
        2,
        {"name:isin": 0, "row:field_count": 0},
        [],
        {},
        0,
    ),
    (
        "bare-quote-is-literal",
        b'id,size\n1,5"inch\n2,x"\n3,y\n4,"q""\n"\n5,a"b"c\n',
        spec_of(
            col("id", "int"),
            col("size", "str", {"type": "isin", "values": ['5"inch', 'x"', 'q"\n', 'a"b"c']}),
        ),
        5,
        {"size:isin": 1, "row:field_count": 0},
        [3],
        {"size:isin": [4]},
        0,
    ),
    (
        "header-only",
        b"id,v\n",
        spec_of(col("id", "int"), col("v", "str")),
        0,
        {},
        [],
        {},
        0,
    ),
    (
        "header-only-no-newline",
        b"id,v",
        spec_of(col("id", "int"), col("v", "str")),
        0,
        {},
        [],
        {},
        0,
    ),
    (
        "missing-schema-column",
        b"id,v\n1,a\n2,b\n",
        spec_of(col("id", "int"), col("v", "str"), col("w", "int", {"type": "ge", "value": 0})),
        2,
        {"schema:missing_columns": 1},
        [1, 2],
        {},
        0,
    ),
]


# The oracle reads the file with Python's csv module, which does not strip the BOM before
# lexing: `\ufeff"id"` becomes the literal name `"id"`. The engine's expectations stand alone.
ORACLE_MISREADS = {"bom-quoted-header"}


@pytest.mark.parametrize("opts", EDGE_OPTS, ids=EDGE_IDS)
@pytest.mark.parametrize(
    "case_id,data,spec,rows,fails,invalid,sample_lines,blank",
    EDGE_CASES,
    ids=[c[0] for c in EDGE_CASES],
)
def test_csv_edge_case(
    case_id: str,
    data: bytes,
    spec: dict,
    rows: int,
    fails: dict,
    invalid: list[int],
    sample_lines: dict,
    blank: int,
    opts: dict,
    tmp_path: Path,
) -> None:
    path = tmp_path / f"{case_id}.csv"
    path.write_bytes(data)
    if case_id in ORACLE_MISREADS:
        report, valid, qrows = run(spec, path, tmp_path, **opts)
        assert valid == expected_valid_bytes(data, set(invalid))
        assert len(split_records(valid)) - 1 + len(qrows) == report["rows"]
    else:
        report = check_against_oracle(spec, path, tmp_path, **opts)
    assert report["rows"] == rows
    assert report["invalid_rows"] == len(invalid)
    assert report["skipped_blank_lines"] == blank
    by_name = {r["name"]: r for r in report["rules"]}
    for name, failed in fails.items():
        if failed is None:  # a rule that may be left out of the report, never failing
            assert by_name.get(name, {"failed": 0})["failed"] == 0
            continue
        assert by_name[name]["failed"] == failed, name
    _, _, qrows = run(spec, path, tmp_path, **opts)
    assert [row for _, _, row, _ in qrows] == invalid
    lines = line_starts(data)
    for name, want in sample_lines.items():
        samples = by_name[name]["samples"]
        assert [s["line"] for s in samples] == want, name
        assert all(s["line"] == lines[s["row"]] for s in samples)
        assert all(s["source"] == str(path) for s in samples)
    expect_pass = not invalid and all(not f for f in fails.values())
    assert report["passed"] == expect_pass


@pytest.mark.parametrize("opts", EDGE_OPTS, ids=EDGE_IDS)
def test_invalid_utf8_failure_names_column(opts: dict, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,name\n1,ab\xffc\n")
    report = pp.validate(str(path), spec_of(col("id", "int"), col("name", "str")), **opts)
    rule = report.rule("name:type")
    assert rule.failed == 1
    (sample,) = report.to_dict()["rules"][
        [r["name"] for r in report.to_dict()["rules"]].index("name:type")
    ]["samples"]
    assert sample["column"] == "name"
    assert sample["row"] == 1 and sample["line"] == 2
    assert sample["value"] == "ab\ufffdc"
    assert report.rule("id:type").failed == 0


@pytest.mark.parametrize("opts", EDGE_OPTS, ids=EDGE_IDS)
def test_quarantine_keeps_raw_bytes(opts: dict, tmp_path: Path) -> None:
    """Quarantined values are the input's fields, invalid UTF-8 and NUL bytes kept exactly."""
    data = b'id,name\n1,ab\xffc\n2,ok\n3,"x\x00\r\ny"\n'
    path = tmp_path / "raw.csv"
    path.write_bytes(data)
    _, _, qrows = run(spec_of(col("id", "int"), col("name", "str")), path, tmp_path, **opts)
    assert [(f, e, r) for f, e, r, _ in qrows] == [
        (["1", "ab\udcffc"], ["name:type"], 1),
        (["3", "x\x00\r\ny"], ["name:type"], 3),
    ]


UNTERMINATED = [
    (b'id,name\n1,ok\n2,"never closed\n3,x\n', 3),
    (b'id,name\n1,ok\n2,ok\n3,ok\n4,a\n5,"open' + b"x" * 300 + b"\n6,b\n", 6),
    (b'id,name\n"1,ok\n', 2),
]


@pytest.mark.parametrize("opts", EDGE_OPTS, ids=EDGE_IDS)
@pytest.mark.parametrize("data,line", UNTERMINATED, ids=["short", "long", "first-field"])
def test_unterminated_quote_is_fatal(data: bytes, line: int, opts: dict, tmp_path: Path) -> None:
    path = tmp_path / "open.csv"
    path.write_bytes(data)
    valid = tmp_path / "valid.csv"
    spec = spec_of(col("id", "int"), col("name", "str"))
    with pytest.raises(pp.DataFormatError) as info:
        pp.validate(str(path), spec, valid_output=str(valid), **opts)
    err = info.value
    assert err.path == str(path)
    assert err.line == line
    assert err.column is not None
    message = str(err)
    assert str(path) in message
    assert str(err.line) in message
    assert str(err.column) in message
    assert not valid.exists(), "a fatal error must not leave an output behind"


@pytest.mark.parametrize(
    "data",
    [b"id,v,\n1,2,\n", b"id,v,\n", b"id,,v\n1,2,3\n"],
    ids=["trailing-delimiter", "trailing-delimiter-header-only", "empty-name"],
)
def test_empty_header_name_is_format_error(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(data)
    with pytest.raises(pp.DataFormatError):
        pp.validate(str(path), spec_of(col("id", "int"), col("v", "str")))


@pytest.mark.parametrize(
    "data", [b"id,v,id\n1,2,3\n", b'\xef\xbb\xbfid,"id"\n1,2\n'], ids=["plain", "bom-quoted"]
)
def test_duplicate_header_is_format_error(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_bytes(data)
    valid = tmp_path / "valid.csv"
    with pytest.raises(pp.DataFormatError) as info:
        pp.validate(str(path), spec_of(col("id", "int")), valid_output=str(valid))
    assert "id" in str(info.value)
    assert not valid.exists()


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf"], ids=["zero-bytes", "bom-only"])
def test_empty_file(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(data)
    spec = spec_of(col("id", "int"))
    with pytest.raises(pp.DataFormatError) as info:
        pp.validate(str(path), spec)
    assert str(path) in str(info.value)
    report = pp.validate(str(path), spec, allow_empty=True)
    assert report.rows == 0
    assert report.valid_rows == 0 and report.invalid_rows == 0


def test_header_only_outputs(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(b"id,v\r\n")
    spec = spec_of(col("id", "int"), col("v", "str"))
    report, valid, qrows = run(spec, path, tmp_path)
    assert report["rows"] == 0 and report["passed"] is True
    assert valid == b"id,v\r\n"
    assert qrows == []


def test_missing_column_fails_report_and_names_column(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(b"id,v\n1,a\n2,b\n")
    spec = spec_of(col("id", "int"), col("v", "str"), col("w", "int"))
    report = pp.validate(str(path), spec)
    assert report.rule("schema:missing_columns").failed == 1
    assert report.passed is False
    # No row of a source that does not match the schema flows on as valid.
    assert report.rows == 2 and report.valid_rows == 0
    d = report.to_dict()
    rule = next(r for r in d["rules"] if r["name"] == "schema:missing_columns")
    assert [o["detail"] for o in rule["observed"]] == [["w"]]


def test_raw_core_options(tmp_path: Path) -> None:
    """The raw binding with the options JSON gives the same report as pp.validate."""
    import json

    from pyrustpipe import _core

    path = tmp_path / "r.csv"
    path.write_bytes(b'id,v\n1,"a\nb"\n-1,c\n')
    spec = spec_of(col("id", "int", {"type": "ge", "value": 0}), col("v", "str"))
    raw = json.loads(
        _core.validate(json.dumps(spec), [str(path)], json.dumps({"threads": 2, "chunk_size": 4}))
    )
    assert normalized(raw) == normalized(pp.validate(str(path), spec, threads=2, chunk_size=4))
    assert raw["rows"] == 2 and raw["invalid_rows"] == 1
    (sample,) = next(r for r in raw["rules"] if r["name"] == "id:ge")["samples"]
    assert (sample["row"], sample["line"]) == (2, 4)
