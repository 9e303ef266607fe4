"""``_indented_json.dumps`` writes what ``json.dumps(indent=n, ensure_ascii=False)`` writes."""

from __future__ import annotations

import json
import math

from hypothesis import given
from hypothesis import strategies as st
from pyrustpipe import _indented_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included: those go to json.dumps
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text() | st.integers(), inner, max_size=4)
    ),
    max_leaves=30,
)


@given(values, st.integers(min_value=0, max_value=4))
def test_the_same_text_as_json_dumps(value: object, indent: int) -> None:
    expected = json.dumps(value, indent=indent, ensure_ascii=False)
    assert _indented_json.dumps(value, indent) == expected


def test_unusual_values_fall_back_to_json_dumps() -> None:
    for value in ({1: "int key"}, [math.nan], {"a": [math.inf]}):
        assert _indented_json.dumps(value, 2) == json.dumps(value, indent=2, ensure_ascii=False)


def test_a_cycle_is_json_dumps_error() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    try:
        _indented_json.dumps(cycle, 2)
    except ValueError as exc:
        assert "Circular reference" in str(exc)
    else:
        raise AssertionError("a cycle was written")
