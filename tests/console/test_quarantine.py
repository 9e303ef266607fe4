"""The quarantine browser's reader (pyrustpipe/console/quarantine.py): pages from a byte cursor
that together hold every row once, quoted line breaks kept whole, NDJSON, the rule filter,
masking, and paths confined to the allowed roots (symlinks out refused)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyrustpipe.console.quarantine import Masker, QuarantineError, confined, read_page

HEADER = "id,note,_pyrustpipe_errors,_pyrustpipe_row,_pyrustpipe_source,_pyrustpipe_raw\n"


def _csv(tmp_path: Path) -> Path:
    lines = [HEADER]
    for i in range(1, 31):
        rule = "a:gt" if i % 3 else "b:isin"
        note = f'"two\nlines, {i}"' if i % 7 == 0 else f"n{i}"
        lines.append(f'{i},{note},"[""{rule}""]",{i},in.csv,\n')
    path = tmp_path / "quarantine.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_pages_hold_every_row_once_in_order(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    seen: list[str] = []
    cursor = 0
    while True:
        page = read_page(path, fmt="csv", cursor=cursor, limit=4)
        assert page.columns == ["id", "note"]
        seen.extend(row["values"]["id"] for row in page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [str(i) for i in range(1, 31)]


def test_a_quoted_line_break_stays_in_its_record(tmp_path: Path) -> None:
    page = read_page(_csv(tmp_path), fmt="csv", limit=30)
    assert page.rows[6]["values"]["note"] == "two\nlines, 7"
    assert page.rows[6]["errors"] == ["a:gt"] and page.rows[6]["row"] == "7"


def test_the_rule_filter_and_masking(tmp_path: Path) -> None:
    mask = Masker(b"k" * 32)
    page = read_page(
        _csv(tmp_path),
        fmt="csv",
        limit=100,
        rule="b:isin",
        sensitive=frozenset({"note"}),
        mask=mask,
    )
    assert [row["values"]["id"] for row in page.rows] == [str(i) for i in range(3, 31, 3)]
    assert all(row["values"]["note"].startswith("«masked:") for row in page.rows)
    assert mask("x") == mask("x") != mask("y") and len(mask("x")) == len("«masked:»") + 12


def test_ndjson(tmp_path: Path) -> None:
    path = tmp_path / "quarantine.ndjson"
    path.write_text(
        '{"id":1,"_pyrustpipe_errors":["a:gt"],"_pyrustpipe_row":1,"_pyrustpipe_source":"s"}\n'
        '{"_pyrustpipe_errors":["row:malformed"],"_pyrustpipe_row":2,"_pyrustpipe_source":"s",'
        '"_pyrustpipe_raw":"not json"}\n',
        encoding="utf-8",
    )
    page = read_page(path, fmt="ndjson", limit=10)
    assert page.columns == ["id"] and page.rows[0]["values"] == {"id": 1}
    assert page.rows[1]["raw"] == "not json" and page.next_cursor is None


def test_formats_and_cursors_it_cannot_page(tmp_path: Path) -> None:
    path = _csv(tmp_path)
    with pytest.raises(QuarantineError, match="pages CSV and NDJSON"):
        read_page(path, fmt="parquet")
    with pytest.raises(QuarantineError, match="past the end"):
        read_page(path, fmt="csv", cursor=10**9)
    broken = tmp_path / "broken.csv"
    broken.write_text(HEADER + '1,"never closed\n', encoding="utf-8")
    with pytest.raises(QuarantineError, match="inside a quoted field"):
        read_page(broken, fmt="csv")


def test_confined_refuses_what_lies_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    inside = root / "q.csv"
    inside.write_text(HEADER)
    assert confined(inside, [root]) == inside.resolve()
    assert confined(str(root / "sub" / ".." / "q.csv"), [root]) == inside.resolve()
    outside = tmp_path / "secret.csv"
    outside.write_text("secret")
    os.symlink(outside, root / "link.csv")
    for path in (outside, root / "link.csv", root / ".." / "secret.csv", "/etc/passwd", "a\x00b"):
        with pytest.raises(QuarantineError, match="outside"):
            confined(path, [root])
    with pytest.raises(QuarantineError, match="does not exist"):
        confined(root / "gone.csv", [root])
