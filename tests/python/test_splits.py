"""pp.plan_splits / pp.validate(split=) / pp.gate_splits: the union of a CSV or NDJSON object's
splits, judged at the gate, equals the whole-object run — same rows, rule counts, failing rows
and lines, cross-split duplicates — wherever the split boundaries fall (quoted line breaks
deliberately on every boundary, CRLF, blank and empty last lines)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, ClassVar

import pyrustpipe as pp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class Rows(pp.Schema):
    id: int = pp.Field(unique=True)
    amount: float = pp.Field(gt=pp.Check(0, tolerance=0.3))
    note: str = pp.Field(max_length=6, severity="warn")

    class Config:
        unique: ClassVar = [pp.Unique(("amount", "note"), keep="first", name="pair")]


def csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


NOTES = st.sampled_from(["a", "b\nc", 'q"x', "x,y", "l\r\nm", "", "\n", "longer text"])
RECORD = st.tuples(
    st.integers(0, 12), st.sampled_from(["1", "2.5", "-1", "x", "0"]), NOTES, st.booleans()
)


def csv_object(records: list[tuple[int, str, str, bool]], eol: str, tail: str) -> bytes:
    """A CSV object; the boolean puts a blank line before the record."""
    lines = ["id,amount,note" + eol]
    for ident, amount, note, blank in records:
        lines.append((eol if blank else "") + f"{ident},{amount},{csv_cell(note)}" + eol)
    text = "".join(lines)
    return (
        text if tail == "eol" else text.removesuffix(eol) if tail == "none" else text + eol
    ).encode()


def ndjson_object(records: list[tuple[int, str, str, bool]], eol: str, tail: str) -> bytes:
    lines = []
    for ident, amount, note, blank in records:
        value: Any = float(amount) if amount != "x" else amount
        lines.append(
            (eol if blank else "") + json.dumps({"id": ident, "amount": value, "note": note}) + eol
        )
    text = "".join(lines)
    return (
        text if tail == "eol" else text.removesuffix(eol) if tail == "none" else text + eol
    ).encode()


def tricky_offsets(data: bytes) -> list[int]:
    """Offsets just after every line break (inside quoted fields too): the places where a split
    must not mistake a quoted line break for a record start."""
    return [i + 1 for i, byte in enumerate(data) if byte in b"\r\n"]


def run_splits(
    path: Path, cuts: list[int], tmp: Path, schema: Any = Rows
) -> tuple[pp.Report, list[pp.Report], list[Path]]:
    """Validate the splits between `cuts` and gate them."""
    size = path.stat().st_size
    bounds = [0, *cuts, size]
    reports, quarantines = [], []
    for index in range(len(bounds) - 1):
        split = pp.Split(str(path), bounds[index], bounds[index + 1], index, len(bounds) - 1)
        quarantine = tmp / f"q{index}{path.suffix}"
        reports.append(
            pp.validate(
                str(path),
                schema,
                split=str(split),
                split_keys=tmp / f"k{index}",
                sample_size=1_000_000,
                quarantine=quarantine,
            )
        )
        quarantines.append(quarantine)
    # The gate takes the reports in any order.
    gate = pp.gate_splits(reports[::-1], sample_size=1_000_000)
    return gate, reports, quarantines


def quarantined(path: Path) -> dict[int, str]:
    """Quarantined row → its raw record (the engine's quarantine, CSV or NDJSON)."""
    if not path.exists():
        return {}
    text = path.read_text()
    if path.suffix == ".ndjson":
        out = {}
        for line in text.splitlines():
            item = json.loads(line)
            out[item.pop("_pyrustpipe_row")] = json.dumps(
                {k: v for k, v in item.items() if not k.startswith("_pyrustpipe")}
            )
        return out
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return {int(r["_pyrustpipe_row"]): json.dumps([r["id"], r["amount"], r["note"]]) for r in rows}


def assert_same(whole: pp.Report, gate: pp.Report) -> None:
    assert (gate.rows, gate.valid_rows, gate.invalid_rows, gate.passed) == (
        whole.rows,
        whole.valid_rows,
        whole.invalid_rows,
        whole.passed,
    )
    assert gate.skipped_blank_lines == whole.skipped_blank_lines
    for mine, theirs in zip(gate.rules, whole.rules, strict=True):
        assert (mine.name, mine.failed, mine.passed) == (theirs.name, theirs.failed, theirs.passed)
        rows = sorted((s.row, s.line) for s in mine.samples)
        assert rows == sorted((s.row, s.line) for s in theirs.samples), mine.name
    assert gate.sources[0].failures == whole.sources[0].failures


def check_union(data: bytes, suffix: str, cuts: list[int], tmp: Path) -> None:
    path = tmp / f"object{suffix}"
    path.write_bytes(data)
    whole = pp.validate(str(path), Rows, sample_size=1_000_000, quarantine=tmp / f"whole{suffix}")
    gate, reports, quarantines = run_splits(path, cuts, tmp)
    assert_same(whole, gate)
    # Every record in exactly one split, numbered as in the whole object.
    assert sum(r.rows for r in reports) == whole.rows
    union: dict[int, str] = {}
    for quarantine in quarantines:
        rows = quarantined(quarantine)
        assert not union.keys() & rows.keys()
        union.update(rows)
    expected = quarantined(tmp / f"whole{suffix}")
    cross = gate.to_dict()["cross_split"]["failures"]
    # Rows valid in their split but repeating a key of another split: only the gate sees them.
    only_gate = {f["row"] for f in cross} - union.keys()
    assert union.keys() | only_gate == expected.keys()
    for row, raw in union.items():
        assert expected[row] == raw


def cut_points(data: bytes, parts: int, draw: Any) -> list[int]:
    tricky = tricky_offsets(data)
    candidates = sorted(set(tricky + [len(data) * i // parts for i in range(1, parts)]))
    if not candidates or parts == 1:
        return []
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=parts - 1, max_size=parts - 1))
    return sorted(chosen)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(RECORD, min_size=0, max_size=40),
    eol=st.sampled_from(["\n", "\r\n"]),
    tail=st.sampled_from(["eol", "none", "blank"]),
    parts=st.integers(1, 16),
    data=st.data(),
)
def test_csv_splits_equal_the_whole_object(
    tmp_path_factory: pytest.TempPathFactory,
    records: list[tuple[int, str, str, bool]],
    eol: str,
    tail: str,
    parts: int,
    data: st.DataObject,
) -> None:
    body = csv_object(records, eol, tail)
    cuts = cut_points(body, parts, data.draw)
    check_union(body, ".csv", cuts, tmp_path_factory.mktemp("csv"))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(RECORD, min_size=1, max_size=40),
    eol=st.sampled_from(["\n", "\r\n"]),
    tail=st.sampled_from(["eol", "none", "blank"]),
    parts=st.integers(1, 16),
    data=st.data(),
)
def test_ndjson_splits_equal_the_whole_object(
    tmp_path_factory: pytest.TempPathFactory,
    records: list[tuple[int, str, str, bool]],
    eol: str,
    tail: str,
    parts: int,
    data: st.DataObject,
) -> None:
    body = ndjson_object(records, eol, tail)
    cuts = cut_points(body, parts, data.draw)
    check_union(body, ".ndjson", cuts, tmp_path_factory.mktemp("ndjson"))


def test_plan_splits_cuts_by_size_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id\n" + b"".join(b"%d\n" % i for i in range(100)))
    splits = pp.plan_splits(path, 7)
    assert [s.index for s in splits] == list(range(7))
    assert splits[0].start == 0 and splits[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in zip(splits, splits[1:], strict=False))
    assert [pp.Split.parse(str(s)) for s in splits] == splits
    assert [pp.Split(**s.to_dict()) for s in splits] == splits


@pytest.mark.parametrize(
    ("name", "parts", "message"),
    [
        ("t.csv.gz", 2, "cannot be split"),
        ("t.csv", 0, "parts must be an int >= 1"),
    ],
)
def test_plan_splits_refuses_what_cannot_split(
    tmp_path: Path, name: str, parts: int, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"id\n1\n")
    with pytest.raises((ValueError, pp.DataFormatError), match=message):
        pp.plan_splits(path, parts)


def test_a_compressed_object_is_one_split(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"id\n1\n"))
    (split,) = pp.plan_splits(path, 1)
    with pytest.raises(pp.DataFormatError, match="compressed object cannot be split"):
        pp.validate(str(path), Rows, split=split)


@pytest.mark.parametrize(
    "text",
    [
        "t.csv",
        "t.csv#split=x/2:0-1",
        "t.csv#split=3/2:0-1",
        "#split=0/1:0-1",
        "t.csv#split=0/1:5-1",
    ],
)
def test_a_malformed_split_string_is_named(text: str) -> None:
    with pytest.raises(ValueError, match="not a split"):
        pp.Split.parse(text)


def test_the_gate_names_a_missing_split(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,amount,note\n" + b"".join(b"%d,1,a\n" % i for i in range(50)))
    splits = pp.plan_splits(path, 3)
    reports = [
        pp.validate(str(path), Rows, split=s, split_keys=tmp_path / f"k{s.index}") for s in splits
    ]
    with pytest.raises(ValueError, match="a split is missing or given twice"):
        pp.gate_splits([reports[0], reports[2]])
    with pytest.raises(ValueError, match="keys file"):
        pp.gate_splits(
            [pp.validate(str(path), Rows, split=s) for s in splits]  # no split_keys
        )


def test_a_split_names_global_rows_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b'id,amount,note\n1,1,"a\nb"\n2,-1,c\n3,1,d\n4,-2,e\n')
    # The header is bytes 0..15, the quoted record 15..25: the split starts at record 2.
    split = pp.Split(str(path), 25, path.stat().st_size, 1, 2)
    report = pp.validate(str(path), Rows, split=split)
    assert report.rows == 3
    assert [(s.row, s.line) for s in report.rule("amount:gt").samples] == [(2, 4), (4, 6)]
    assert report.to_dict()["split"]["rows_before"] == 1


def test_dataset_rules_are_refused_at_the_gate(tmp_path: Path) -> None:
    class Stats(pp.Schema):
        amount: float

        class Config:
            checks: ClassVar = [pp.col("amount").mean().between(1, 2)]

    path = tmp_path / "t.csv"
    path.write_bytes(b"amount\n1\n2\n")
    reports = [pp.validate(str(path), Stats, split=s) for s in pp.plan_splits(path, 2)]
    with pytest.raises(pp.SchemaError, match="cannot be combined from splits"):
        pp.gate_splits(reports)
