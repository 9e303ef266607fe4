"""``pp.load_rules``, ``pp.Spec`` and schema resolution (no engine needed)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyrustpipe as pp
import pytest
from pyrustpipe.api import resolve_schema

RULES_PY = """
import pyrustpipe as pp

class Orders(pp.Schema):
    order_id: int = pp.Field(unique=True)
    amount: float = pp.Field(gt=0)

class Other(pp.Schema):
    name: str

NOT_A_SCHEMA = 3
AS_DICT = {"spec_version": 1, "name": "FromDict", "columns": []}
"""
SPEC = {
    "spec_version": 1,
    "name": "Tiny",
    "columns": [{"name": "id", "dtype": "int", "nullable": False, "checks": []}],
}


@pytest.fixture
def on_path(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("my_rules_pkg")]:
        del sys.modules[name]


def test_file_and_class(write: Callable[[str, str], Path]) -> None:
    path = write("rules.py", RULES_PY)
    cls = pp.load_rules(f"{path}:Orders")
    assert isinstance(cls, type) and issubclass(cls, pp.Schema)
    assert cls.to_spec()["name"] == "Orders"
    assert pp.load_rules(Path(f"{path}:Other")).to_spec()["name"] == "Other"  # type: ignore[union-attr]


def test_file_attribute_may_be_a_spec_dict(write: Callable[[str, str], Path]) -> None:
    path = write("rules.py", RULES_PY)
    loaded = pp.load_rules(f"{path}:AS_DICT")
    assert isinstance(loaded, pp.Spec) and loaded.name == "FromDict"


def test_file_with_a_single_schema_needs_no_class(
    write: Callable[[str, str], Path],
) -> None:
    path = write("one.py", "import pyrustpipe as pp\nclass Only(pp.Schema):\n    a: int\n")
    assert pp.load_rules(str(path)).to_spec()["name"] == "Only"


def test_file_can_import_its_siblings(write: Callable[[str, str], Path]) -> None:
    write("helpers_for_rules.py", "PATTERN = r'^[A-Z]+$'\n")
    path = write(
        "rules_sib.py",
        "import pyrustpipe as pp\nfrom helpers_for_rules import PATTERN\n"
        "class S(pp.Schema):\n    code: str = pp.Field(pattern=PATTERN)\n",
    )
    spec = pp.load_rules(f"{path}:S").to_spec()
    assert spec["columns"][0]["checks"][0]["pattern"] == "^[A-Z]+$"


def test_module_and_class(on_path: Path) -> None:
    package = on_path / "my_rules_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tx.py").write_text(RULES_PY)
    cls = pp.load_rules("my_rules_pkg.tx:Orders")
    assert cls.to_spec()["name"] == "Orders"


@pytest.mark.parametrize("suffix", [".json", ".JSON"])
def test_json_spec(write: Callable[[str, str], Path], suffix: str) -> None:
    path = write(f"rules{suffix}", json.dumps(SPEC))
    loaded = pp.load_rules(path)
    assert isinstance(loaded, pp.Spec)
    assert loaded.to_spec() == SPEC
    assert loaded.origin == str(path)
    assert "Tiny" in repr(loaded)


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_spec(write: Callable[[str, str], Path], suffix: str) -> None:
    text = (
        "spec_version: 1\nname: Tiny\ncolumns:\n"
        "  - {name: id, dtype: int, nullable: false, checks: []}\n"
    )
    assert pp.load_rules(write(f"rules{suffix}", text)).to_spec() == SPEC


def test_yaml_never_executes_code(write: Callable[[str, str], Path]) -> None:
    path = write("evil.yaml", "spec_version: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(pp.SchemaError, match="invalid YAML"):
        pp.load_rules(path)


def test_rule_files_are_capped_at_one_mebibyte(
    write: Callable[[str, str], Path],
) -> None:
    path = write("big.json", json.dumps({**SPEC, "pad": "x" * (1 << 20)}))
    with pytest.raises(pp.SchemaError, match="1 MiB"):
        pp.load_rules(path)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.json", "{nope", "invalid JSON"),
        ("list.json", "[1, 2]", "a spec is a mapping"),
        ("v2.json", '{"spec_version": 2}', "spec_version must be 1"),
        ("none.yaml", "", "a spec is a mapping"),
        ("broken.yaml", "a: [1,", "invalid YAML"),
    ],
)
def test_bad_spec_files(
    write: Callable[[str, str], Path], name: str, text: str, message: str
) -> None:
    with pytest.raises(pp.SchemaError, match=message):
        pp.load_rules(write(name, text))


@pytest.mark.parametrize(
    ("ref", "error", "message"),
    [
        ("missing.py:Orders", FileNotFoundError, "rules file not found"),
        ("missing.json", FileNotFoundError, "rules file not found"),
        ("{dir}/rules.py:Nope", pp.SchemaError, "has no attribute 'Nope'$"),
        (
            "{dir}/rules.py:Order",
            pp.SchemaError,
            r"has no attribute 'Order' \(did you mean 'Orders'\?\)$",
        ),
        (
            "{dir}/rules.py:AS_DICTT",
            pp.SchemaError,
            r"has no attribute 'AS_DICTT' \(did you mean 'AS_DICT'\?\)$",
        ),
        ("{dir}/rules.py:NOT_A_SCHEMA", pp.SchemaError, "is not a pp.Schema subclass"),
        (
            "{dir}/rules.py",
            pp.SchemaError,
            r"name the schema class .*found: Orders, Other",
        ),
        (
            "{dir}/raises.py:X",
            pp.SchemaError,
            "importing the rules failed: ZeroDivisionError",
        ),
        ("{dir}/badschema.py:X", pp.SchemaError, "X.a: pattern applies to str columns"),
        ("no_such_module_xyz:Cls", pp.SchemaError, "cannot import rules module"),
        ("just-a-name", pp.SchemaError, "cannot load rules from"),
    ],
)
def test_bad_references(
    write: Callable[[str, str], Path],
    tmp_path: Path,
    ref: str,
    error: type[Exception],
    message: str,
) -> None:
    write("rules.py", RULES_PY)
    write("raises.py", "1 / 0\n")
    write(
        "badschema.py",
        "import pyrustpipe as pp\nclass X(pp.Schema):\n    a: int = pp.Field(pattern='x')\n",
    )
    with pytest.raises(error, match=message):
        pp.load_rules(ref.format(dir=tmp_path))


def test_resolve_schema_accepts_every_form(write: Callable[[str, str], Path]) -> None:
    path = write("rules.py", RULES_PY)
    json_path = write("rules.json", json.dumps(SPEC))
    cls = pp.load_rules(f"{path}:Orders")
    forms: list[Any] = [
        cls,
        pp.Spec(SPEC),
        SPEC,
        str(json_path),
        json_path,
        f"{path}:Orders",
    ]
    names = [resolve_schema(form)[0]["name"] for form in forms]
    assert names == ["Orders", "Tiny", "Tiny", "Tiny", "Tiny", "Orders"]
    with pytest.raises(TypeError, match="schema must be"):
        resolve_schema(42)  # type: ignore[arg-type]


def test_spec_wrapper() -> None:
    spec = pp.Spec(SPEC)
    assert spec == pp.Spec(dict(SPEC))
    assert json.loads(spec.spec_json()) == SPEC
    assert spec.python_rules() == ()
    copy = spec.to_spec()
    copy["name"] = "changed"
    assert spec.name == "Tiny"
    assert pp.Spec.from_json(json.dumps(SPEC)) == spec


# A classic "billion laughs": 9 levels of 9 aliases, about a billion strings once expanded.
BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def test_a_yaml_alias_bomb_is_refused_at_once(write: Callable[[str, str], Path]) -> None:
    import resource
    import time

    path = write("bomb.yaml", BOMB)
    assert path.stat().st_size < 1000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    with pytest.raises(pp.SchemaError) as failure:
        pp.load_rules(path)
    elapsed = time.perf_counter() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert elapsed < 1.0 and grown_kib < 100 * 1024
    assert str(failure.value) == (
        f"{path}, line 1, column 4: anchor &a: anchors and aliases are not allowed in rule files"
    )


def test_an_alias_alone_is_refused_with_its_position(write: Callable[[str, str], Path]) -> None:
    path = write("alias.yaml", "spec_version: 1\nname: *x\n")
    with pytest.raises(pp.SchemaError, match=r"alias.yaml, line 2, column 7: alias \*x"):
        pp.load_rules(path)


@pytest.mark.parametrize(
    ("name", "text", "column"),
    [
        ("deep.yaml", "spec_version: 1\ncolumns: " + "[" * 10_000 + "]" * 10_000 + "\n", 73),
        (
            "deep.json",
            '{"spec_version": 1,\n "columns": ' + "[" * 10_000 + "]" * 10_000 + "}",
            76,
        ),
    ],
)
def test_deep_nesting_is_a_clear_error(
    write: Callable[[str, str], Path], name: str, text: str, column: int
) -> None:
    path = write(name, text)
    with pytest.raises(pp.SchemaError) as failure:
        pp.load_rules(path)
    assert str(failure.value) == f"{path}, line 2, column {column}: nested deeper than 64 levels"


def test_nesting_up_to_the_limit_is_read(write: Callable[[str, str], Path]) -> None:
    from pyrustpipe._rulefile import MAX_DEPTH, load_json, load_yaml

    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    document, _ = load_yaml("ok.yaml", f"a: {nested}\n".encode())
    assert document == load_json("ok.json", f'{{"a": {nested}}}')[0]
    with pytest.raises(pp.SchemaError, match="nested deeper"):
        load_yaml("no.yaml", f"a: [{nested}]\n".encode())
    with pytest.raises(pp.SchemaError, match="nested deeper"):
        load_json("no.json", f'{{"a": [{nested}]}}')


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "dup.yaml",
            "spec_version: 1\nname: X\ncolumns:\n  - name: id\n    dtype: int\n    name: other\n",
            "line 6, column 5: duplicate key 'name' in columns[0] (lines 4 and 6)",
        ),
        (
            "dup.json",
            '{"spec_version": 1,\n "name": "a",\n "columns": [],\n "name": "b"}',
            "line 4, column 2: duplicate key 'name' at the top level (lines 2 and 4)",
        ),
        (
            "escaped.json",
            '{"spec_version": 1,\n "name": "a",\n "n\\u0061me": "b"}',
            "line 3, column 2: duplicate key 'name' at the top level (lines 2 and 3)",
        ),
    ],
)
def test_duplicate_keys_are_refused(
    write: Callable[[str, str], Path], name: str, text: str, where: str
) -> None:
    path = write(name, text)
    with pytest.raises(pp.SchemaError) as failure:
        pp.load_rules(path)
    assert str(failure.value) == f"{path}, {where}"


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("syntax.yaml", "spec_version: 1\ncolumns: [1,\n", "line 3, column 1: invalid YAML"),
        ("syntax.json", '{"spec_version": 1,\n "name": x}', "line 2, column 10: invalid JSON"),
        ("tag.yaml", "spec_version: 1\nname: !!binary aGk=\n", "line 2, column 7: invalid YAML"),
        ("key.yaml", "spec_version: 1\nyes: 1\n", "line 2, column 1: a key must be a string"),
        ("merge.yaml", "spec_version: 1\n<<: {a: 1}\n", "line 2, column 1: merge keys"),
        ("version.yaml", "name: X\nspec_version: 2\n", "line 2, column 1: spec_version must"),
    ],
)
def test_file_errors_name_the_line_and_column(
    write: Callable[[str, str], Path], name: str, text: str, where: str
) -> None:
    path = write(name, text)
    with pytest.raises(pp.SchemaError) as failure:
        pp.load_rules(path)
    assert str(failure.value).startswith(f"{path}, {where}")


def test_yaml_dates_are_read_as_written(write: Callable[[str, str], Path]) -> None:
    from pyrustpipe._rulefile import load_yaml

    document, _ = load_yaml("d.yaml", b"min: 2026-01-01\nat: 2026-01-01T10:00:00Z\n")
    assert document == {"min": "2026-01-01", "at": "2026-01-01T10:00:00Z"}


def test_engine_spec_errors_point_into_the_file(write: Callable[[str, str], Path]) -> None:
    path = write(
        "unknown.yaml", "spec_version: 1\nname: X\ncolumns:\n  - name: id\n    patern: x\n"
    )
    with pytest.raises(pp.SchemaError) as failure:
        pp.load_rules(path)
    message = str(failure.value)
    assert message.startswith(
        f"{path}, line 5, column 5: invalid rule spec at columns[0].patern: unknown field `patern`"
    )
    assert "line 1 column" not in message
