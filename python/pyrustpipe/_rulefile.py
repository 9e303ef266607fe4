"""Reading ``.json`` / ``.yaml`` rule files: no aliases, bounded nesting, no duplicate keys, and
every error naming the user's file, line and column (docs/spec.md, "Rule files")."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from typing import Any, TypeAlias

from pyrustpipe.exceptions import SchemaError

__all__ = ["MAX_DEPTH", "check_with_engine", "load_json", "load_yaml"]

# A spec is at most ~10 levels deep (columns > checks > expression trees); 64 leaves room for
# deep expressions while keeping the recursive steps after loading far from Python's limit.
MAX_DEPTH = 64

Where: TypeAlias = tuple[str | int, ...]
# 1-based (line, column) of each node of the document, by its path; mapping members are placed
# at their key.
Positions: TypeAlias = dict[Where, tuple[int, int]]


def path_text(where: Where) -> str:
    """``("columns", 0, "checks")`` as ``columns[0].checks``."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the top level"


def _inside(where: Where) -> str:
    return f" in {path_text(where)}" if where else " at the top level"


def _error(path: str, line: int, column: int, message: str) -> SchemaError:
    return SchemaError(f"{path}, line {line}, column {column}: {message}")


# --- JSON -----------------------------------------------------------------------------------

# Strings (escapes included), structural characters, and runs of anything else (numbers,
# literals, or junk that json.loads then reports).
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]|[^\s\[\]{}:,"]+', re.DOTALL)


class _Frame:
    __slots__ = ("awaiting_key", "index", "is_object", "key", "seen", "where")

    def __init__(self, where: Where, is_object: bool) -> None:
        self.where = where
        self.is_object = is_object
        self.index = 0
        self.key: str | None = None
        self.awaiting_key = is_object
        self.seen: dict[str, int] = {}


def load_json(path: str, text: str) -> tuple[Any, Positions]:
    """The document and its positions. A first pass over the tokens checks nesting (before
    ``json.loads`` could recurse too deep) and duplicate keys, and records where each node is."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    positions: Positions = {}
    stack: list[_Frame] = []

    def value_at(offset: int) -> Where:
        if not stack:
            where: Where = ()
        elif stack[-1].is_object:
            where = (*stack[-1].where, stack[-1].key or "")
        else:
            where = (*stack[-1].where, stack[-1].index)
        positions.setdefault(where, at(offset))
        return where

    for match in _JSON_TOKEN.finditer(text):
        token, offset = match.group(), match.start()
        frame = stack[-1] if stack else None
        if token in ("[", "{"):
            where = value_at(offset)
            if len(stack) >= MAX_DEPTH:
                raise _error(path, *at(offset), f"nested deeper than {MAX_DEPTH} levels")
            stack.append(_Frame(where, token == "{"))
        elif token in ("]", "}"):
            if stack:
                stack.pop()
        elif token == ",":
            if frame is not None:
                frame.index += 1
                frame.awaiting_key = frame.is_object
        elif token == ":":
            continue
        elif frame is not None and frame.awaiting_key and token.startswith('"'):
            try:
                key = json.loads(token)
            except ValueError:
                continue  # json.loads below names the bad escape
            line, column = at(offset)
            if key in frame.seen:
                raise _error(
                    path,
                    line,
                    column,
                    f"duplicate key {key!r}{_inside(frame.where)} "
                    f"(lines {frame.seen[key]} and {line})",
                )
            frame.seen[key] = line
            frame.key, frame.awaiting_key = key, False
            positions[(*frame.where, key)] = (line, column)
        else:
            value_at(offset)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(path, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from None
    return document, positions


# --- YAML -----------------------------------------------------------------------------------

# JSON's types, as YAML tags. Timestamps are read as the text written (JSON has no dates).
_YAML_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
}


def load_yaml(path: str, data: bytes) -> tuple[Any, Positions]:
    """The document and its positions. Anchors and aliases are refused (an alias repeats a node,
    so a few hundred bytes can stand for gigabytes); so are nesting deeper than ``MAX_DEPTH``,
    duplicate keys, merge keys, non-string keys and tags outside JSON's types."""
    import yaml

    def fail(mark: Any, message: str) -> SchemaError:
        return _error(path, mark.line + 1, mark.column + 1, message)

    class RuleLoader(yaml.SafeLoader):
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if isinstance(event, yaml.AliasEvent):
                raise fail(
                    event.start_mark,
                    f"alias *{event.anchor}: anchors and aliases are not allowed in rule files",
                )
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise fail(
                    event.start_mark,
                    f"anchor &{anchor}: anchors and aliases are not allowed in rule files",
                )
            self.depth += 1
            try:
                if self.depth > MAX_DEPTH:
                    raise fail(event.start_mark, f"nested deeper than {MAX_DEPTH} levels")
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    RuleLoader.add_constructor(
        "tag:yaml.org,2002:timestamp",
        yaml.SafeLoader.construct_yaml_str,  # type: ignore[type-var]
    )

    loader = RuleLoader(data)
    try:
        node = loader.get_single_node()
        positions: Positions = {}
        if node is not None:
            _check_yaml(node, (), positions, loader.construct_object, fail)
        document = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "cannot be read"
        if mark is None:
            raise SchemaError(f"{path}: invalid YAML: {problem}") from None
        raise fail(mark, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return document, positions


def _check_yaml(
    node: Any,
    where: Where,
    positions: Positions,
    construct: Callable[[Any], Any],
    fail: Callable[[Any, str], SchemaError],
) -> None:
    """Duplicate keys, key types and tags, over a node graph at most ``MAX_DEPTH`` deep."""
    import yaml

    positions.setdefault(where, (node.start_mark.line + 1, node.start_mark.column + 1))
    if node.tag not in _YAML_TAGS:
        raise fail(node.start_mark, f"invalid YAML: tag {node.tag} is not allowed in rule files")
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise fail(key_node.start_mark, "merge keys (<<) are not allowed in rule files")
            key = construct(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise fail(
                    key_node.start_mark,
                    f"a key must be a string (quote {key_node.value!r} if it is one)"
                    if isinstance(key_node, yaml.ScalarNode)
                    else "a key must be a string",
                )
            line = key_node.start_mark.line + 1
            if key in seen:
                raise fail(
                    key_node.start_mark,
                    f"duplicate key {key!r}{_inside(where)} (lines {seen[key]} and {line})",
                )
            seen[key] = line
            positions[(*where, key)] = (line, key_node.start_mark.column + 1)
            _check_yaml(value_node, (*where, key), positions, construct, fail)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_yaml(item, (*where, index), positions, construct, fail)


# --- Engine errors, placed in the user's file ----------------------------------------------


def _dumps(value: Any) -> tuple[str, list[tuple[int, int, Where]]]:
    """``json.dumps(value)`` and the span of every node (a mapping member's span starts at
    its key), so an engine error at a column of that text can be traced to a node."""
    parts: list[str] = []
    spans: list[tuple[int, int, Where]] = []
    size = 0

    def put(text: str) -> None:
        nonlocal size
        parts.append(text)
        size += len(text)

    def write(item: Any, where: Where) -> None:
        start = size
        if isinstance(item, dict):
            put("{")
            for index, (key, member) in enumerate(item.items()):
                if index:
                    put(", ")
                key_start = size
                put(json.dumps(str(key)) + ": ")
                write(member, (*where, key))
                spans.append((key_start, size, (*where, key)))
            put("}")
        elif isinstance(item, (list, tuple)):
            put("[")
            for index, member in enumerate(item):
                if index:
                    put(", ")
                write(member, (*where, index))
            put("]")
        else:
            put(json.dumps(item))
        spans.append((start, size, where))

    write(value, ())
    return "".join(parts), spans


_ENGINE_ERROR = re.compile(r"invalid rule spec at (.*)", re.DOTALL)
_AT_LINE = re.compile(r"line (\d+) column (\d+): ")
_AT_SEGMENT = re.compile(r"([A-Za-z_]\w*)(?:\[(\d+)\])?(?: \((?:[^()]|\([^()]*\))*\))?")


def _engine_where(rest: str, spans: list[tuple[int, int, Where]]) -> tuple[Where, str] | None:
    """The node an engine error is about, and the error's message without its location."""
    line_column = _AT_LINE.match(rest)
    if line_column:
        offset = int(line_column.group(2)) - 1
        around = [s for s in spans if s[0] <= offset < s[1]]
        if not around:
            return None
        innermost = min(around, key=lambda s: s[1] - s[0])
        # serde repeats the position in the re-serialised JSON at the end: drop it.
        message = re.sub(r" at line \d+ column \d+$", "", rest[line_column.end() :])
        return innermost[2], message
    where: list[str | int] = []
    position = 0
    while True:
        segment = _AT_SEGMENT.match(rest, position)
        if segment is None:
            return None
        where.append(segment.group(1))
        if segment.group(2) is not None:
            where.append(int(segment.group(2)))
        position = segment.end()
        if rest.startswith(": ", position):
            return tuple(where), rest[position + 2 :]
        if not rest.startswith(".", position):
            return None
        position += 1


def check_with_engine(path: str, document: Any, positions: Positions) -> None:
    """Compile the spec now, when the engine is built, so its errors point into the user's file
    rather than into the JSON the engine is given."""
    try:
        from pyrustpipe import _core  # noqa: F401
    except ImportError:
        return  # the DSL works without the engine; the run will check the spec
    from pyrustpipe import _engine

    text, spans = _dumps(document)
    try:
        _engine.compile_spec(text)
    except SchemaError as exc:
        found = _ENGINE_ERROR.match(str(exc))
        located = _engine_where(found.group(1), spans) if found else None
        if located is None:
            raise SchemaError(f"{path}: {exc}") from None
        where, message = located
        for length in range(len(where), -1, -1):
            if where[:length] in positions:
                line, column = positions[where[:length]]
                break
        else:
            line, column = 1, 1
        raise _error(
            path, line, column, f"invalid rule spec at {path_text(where)}: {message}"
        ) from None
