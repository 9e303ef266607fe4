"""``pp.validate`` (run a validation), ``pp.load_rules`` and ``pp.Spec``."""

from __future__ import annotations

import datetime as _dt
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType

from pyrustpipe import _engine
from pyrustpipe._common import clone, did_you_mean
from pyrustpipe._trace import PythonRule, row_rule
from pyrustpipe._typing import TYPE_CHECKING, cast, overload
from pyrustpipe.exceptions import SchemaError
from pyrustpipe.schema import Schema

if TYPE_CHECKING:
    from typing import Any, TypeAlias, TypeVar

    from pyrustpipe._arrow import ArrowStreamExportable
    from pyrustpipe._core import Progress
    from pyrustpipe.report import Report
    from pyrustpipe.spec import Severity, SpecDict, SplitRange, ValidateOptions
    from pyrustpipe.splits import SplitLike

    _F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "SchemaLike",
    "SourceLike",
    "Spec",
    "load_rules",
    "resolve_schema",
    "validate",
]

MAX_RULE_FILE_BYTES = 1 << 20
_DECORATOR_KEYWORDS = frozenset({"severity", "tolerance", "name"})

# The aliases are strings (PEP 613) so that building them needs no `typing` (pyrustpipe/_typing.py).
PathLike: TypeAlias = "str | os.PathLike[str]"
# Paths, globs and URIs, or an in-memory table (anything with ``__arrow_c_stream__``: pyarrow,
# polars, pandas >= 2.2 DataFrames, ...).
SourceLike: TypeAlias = (
    "str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | ArrowStreamExportable"
)
SchemaLike: TypeAlias = "type[Schema] | Spec | Mapping[str, Any] | str | os.PathLike[str]"


class Spec:
    """A spec document (docs/spec.md) usable wherever a schema class is.

    >>> import pyrustpipe as pp
    >>> spec = pp.Spec({"spec_version": 1, "name": "Tiny", "columns": [
    ...     {"name": "id", "dtype": "int", "nullable": False, "checks": []}]})
    >>> spec.name, spec.to_spec()["columns"][0]["name"]
    ('Tiny', 'id')
    """

    __slots__ = ("_spec", "origin")

    def __init__(self, spec: Mapping[str, Any], *, origin: str | None = None) -> None:
        if not isinstance(spec, Mapping):
            raise SchemaError(f"{origin or 'spec'}: a spec is a mapping, not {type(spec).__name__}")
        if spec.get("spec_version") != 1:
            raise SchemaError(
                f"{origin or 'spec'}: spec_version must be 1, not {spec.get('spec_version')!r}"
            )
        self._spec: dict[str, Any] = clone(dict(spec))
        self.origin = origin

    @property
    def name(self) -> str:
        return str(self._spec.get("name", "schema"))

    def to_spec(self) -> SpecDict:
        """A fresh copy of the spec."""
        spec: SpecDict = cast("SpecDict", clone(self._spec))
        return spec

    def spec_json(self, indent: int | None = None) -> str:
        import json

        return json.dumps(self._spec, indent=indent, ensure_ascii=False)

    def python_rules(self) -> tuple[PythonRule, ...]:
        """Always empty: a spec file cannot hold Python code."""
        return ()

    @classmethod
    def from_json(cls, text: str | bytes, *, origin: str | None = None) -> Spec:
        import json

        try:
            data = json.loads(text)
        except ValueError as exc:
            raise SchemaError(f"{origin or 'spec'}: invalid JSON ({exc})") from None
        return cls(data, origin=origin)

    @classmethod
    def from_file(cls, path: PathLike) -> Spec:
        """Read a ``.json``, ``.yaml`` or ``.yml`` spec file (docs/spec.md, "Rule files": YAML
        with safe loading, no anchors or aliases, no duplicate keys, bounded nesting). Errors
        name the file, line and column."""
        from pyrustpipe import _rulefile

        path = os.fspath(path)
        size = os.stat(path).st_size
        if size > MAX_RULE_FILE_BYTES:
            raise SchemaError(f"{path}: a rule file is limited to 1 MiB ({size} bytes)")
        with open(path, "rb") as handle:
            data = handle.read(MAX_RULE_FILE_BYTES + 1)
        if path.lower().endswith((".yaml", ".yml")):
            document, positions = _rulefile.load_yaml(path, data)
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise SchemaError(f"{path}: invalid JSON: not UTF-8 ({exc})") from None
            document, positions = _rulefile.load_json(path, text)
        if isinstance(document, Mapping) and document.get("spec_version") != 1:
            line, column = positions.get(("spec_version",), (1, 1))
            raise SchemaError(
                f"{path}, line {line}, column {column}: spec_version must be 1, "
                f"not {document.get('spec_version')!r}"
            )
        spec = cls(document, origin=path)
        _rulefile.check_with_engine(path, spec._spec, positions)
        return spec

    def __repr__(self) -> str:
        where = f" from {self.origin}" if self.origin else ""
        return f"<pp.Spec {self.name}{where}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spec) and other._spec == self._spec

    __hash__ = None  # type: ignore[assignment]


def _fnv1a_32(data: bytes) -> int:
    """The 32-bit FNV-1a hash of ``data``: the same file gets the same module name in every
    process, without loading OpenSSL (hashlib) or zlib for a path's few bytes.

    >>> f"{_fnv1a_32(b''):08x}", f"{_fnv1a_32(b'a'):08x}"
    ('811c9dc5', 'e40c292c')
    """
    digest = 0x811C9DC5
    for byte in data:
        digest = ((digest ^ byte) * 0x01000193) & 0xFFFFFFFF
    return digest


def _import_file(path: str) -> ModuleType:
    import importlib.util

    if not os.path.isfile(path):
        raise FileNotFoundError(f"rules file not found: {path}")
    resolved = os.path.realpath(path)
    digest = f"{_fnv1a_32(resolved.encode()):08x}"
    stem = os.path.splitext(os.path.basename(path))[0]
    module_name = f"_pyrustpipe_rules_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise SchemaError(f"{path}: cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    directory = os.path.dirname(resolved)
    sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    except SchemaError:
        sys.modules.pop(module_name, None)
        raise
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise SchemaError(
            f"{path}: importing the rules failed: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        try:
            sys.path.remove(directory)
        except ValueError:
            pass
    return module


def _pick_schema(module: ModuleType, where: str, attribute: str | None) -> type[Schema] | Spec:
    if attribute is None:
        found = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Schema)
            and value is not Schema
            and value.__module__ == module.__name__
        ]
        if len(found) == 1:
            return found[0]
        names = ", ".join(sorted(c.__name__ for c in found)) or "none"
        raise SchemaError(f"{where}: name the schema class as {where}:Class (found: {names})")
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            hint = did_you_mean(part, _schema_names(target)) or did_you_mean(
                part, [n for n in dir(target) if not n.startswith("_")]
            )
            raise SchemaError(f"{where}: has no attribute {attribute!r}{hint}") from None
    if isinstance(target, type) and issubclass(target, Schema):
        return target
    if isinstance(target, Spec):
        return target
    if isinstance(target, Mapping):
        return Spec(target, origin=f"{where}:{attribute}")
    raise SchemaError(f"{where}:{attribute} is not a pp.Schema subclass ({type(target).__name__})")


def _schema_names(namespace: object) -> list[str]:
    """The names in ``namespace`` that hold a schema class or a ``pp.Spec``: the likely targets
    of a misspelt ``rules.py:Class``."""
    return [
        name
        for name in dir(namespace)
        if isinstance(value := getattr(namespace, name, None), Spec)
        or (isinstance(value, type) and issubclass(value, Schema) and value is not Schema)
    ]


def load_rules(ref: PathLike) -> type[Schema] | Spec:
    """Load rules from a reference: ``file.py:Class``, ``package.module:Class``, ``file.py`` (its
    only Schema), or a ``.json`` / ``.yaml`` / ``.yml`` spec file.

    >>> import json, os, tempfile, pyrustpipe as pp
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "rules.json")
    >>> with open(path, "w") as f:
    ...     json.dump({"spec_version": 1, "name": "Tiny", "columns": []}, f)
    >>> pp.load_rules(path).name
    'Tiny'
    """
    text = os.fspath(ref)
    if not isinstance(text, str):
        raise TypeError(f"load_rules() takes a str or a path, not {type(ref).__name__}")
    lowered = text.lower()
    if lowered.endswith((".json", ".yaml", ".yml")):
        if not os.path.isfile(text):
            raise FileNotFoundError(f"rules file not found: {text}")
        return Spec.from_file(text)
    location, attribute = text, None
    head, sep, tail = text.rpartition(":")
    if sep and head and tail and all(p.isidentifier() for p in tail.split(".")):
        location, attribute = head, tail
    if location.lower().endswith(".py") or os.sep in location or "/" in location:
        return _pick_schema(_import_file(location), location, attribute)
    if attribute is None:
        raise SchemaError(
            f"cannot load rules from {text!r}: use file.py:Class, module:Class, or a "
            ".json / .yaml spec file"
        )
    try:
        module = importlib.import_module(location)
    except ImportError as exc:
        raise SchemaError(f"cannot import rules module {location!r}: {exc}") from None
    return _pick_schema(module, location, attribute)


def resolve_schema(schema: SchemaLike) -> tuple[SpecDict, tuple[PythonRule, ...]]:
    """The spec and the Python-run rules of anything accepted as a schema."""
    if isinstance(schema, type) and issubclass(schema, Schema):
        return schema.to_spec(), schema.python_rules()
    if isinstance(schema, Spec):
        return schema.to_spec(), ()
    if isinstance(schema, Mapping):
        return Spec(schema).to_spec(), ()
    if isinstance(schema, (str, os.PathLike)):
        return resolve_schema(load_rules(schema))
    raise TypeError(
        "schema must be a pp.Schema subclass, a spec dict, a pp.Spec or a rules reference "
        f"string, not {schema!r}"
    )


def _run_spec(schema: SchemaLike) -> tuple[SpecDict, tuple[PythonRule, ...], str]:
    """What ``resolve_schema`` gives, and the spec's JSON text: a Schema class's own spec (not a
    copy: a run only reads it) and the text it keeps (``Schema._engine_spec``)."""
    if isinstance(schema, type) and issubclass(schema, Schema) and schema is not Schema:
        spec, text = schema._engine_spec()
        return spec, schema.python_rules(), text
    import json

    spec, python_rules = resolve_schema(schema)
    return spec, python_rules, json.dumps(spec)


def _source_list(source: object) -> list[str]:
    if isinstance(source, (str, os.PathLike)):
        items = [os.fspath(source)]
    elif isinstance(source, Sequence):
        items = [os.fspath(s) for s in source]
    else:
        raise TypeError(f"source must be a path, a glob or a list of them, not {source!r}")
    if not items:
        raise ValueError("no source given")
    for item in items:
        if not isinstance(item, str) or not item:
            raise TypeError(f"a source must be a non-empty str path, not {item!r}")
    return items


def _split_option(
    source: object, split: SplitLike, keys: PathLike | None, python_rules: Sequence[PythonRule]
) -> SplitRange:
    """The engine's ``split`` option; the source must be the split's object."""
    from pyrustpipe.splits import as_split

    value = as_split(split)
    if not isinstance(source, (str, os.PathLike)) or os.fspath(source) != value.uri:
        raise ValueError(f"split {value} is of {value.uri!r}; pass that object as the source")
    if python_rules:
        names = ", ".join(rule.name for rule in python_rules)
        raise SchemaError(
            f"row rules that run in Python ({names}) cannot run on a split; rewrite them so "
            "they trace into expressions"
        )
    option: SplitRange = {"start": value.start, "end": value.end}
    if keys is not None:
        option["keys_output"] = os.fspath(keys)
    return option


def _output(value: PathLike | None) -> str | None:
    return None if value is None else os.fspath(value)


def _storage_json(storage_options: Mapping[str, str] | None) -> str:
    import json

    if storage_options is None:
        return "{}"
    return json.dumps({"storage_options": {str(k): str(v) for k, v in storage_options.items()}})


def _ledger_options(
    ledger: PathLike | None, partition: str | None, logical_date: str | _dt.date | None
) -> dict[str, str] | None:
    """The engine's ``ledger`` option; ``partition`` and ``logical_date`` need a ledger."""
    if ledger is None:
        if partition is not None or logical_date is not None:
            raise ValueError("partition= and logical_date= need ledger= (the ledger's root)")
        return None
    if isinstance(logical_date, _dt.datetime):
        raise ValueError("logical_date is a date (YYYY-MM-DD), not a datetime")
    date_text = logical_date.isoformat() if isinstance(logical_date, _dt.date) else logical_date
    if partition is None:
        if date_text is None:
            raise ValueError("ledger= needs partition= (e.g. 'dt=2026-01-05') or logical_date=")
        partition = f"date={date_text}"
    options = {"root": os.fspath(ledger), "partition": str(partition)}
    if date_text is not None:
        options["logical_date"] = str(date_text)
    return options


def run_validation(
    source: SourceLike,
    schema: SchemaLike,
    *,
    quarantine: PathLike | None = None,
    valid_output: PathLike | None = None,
    metrics_output: PathLike | None = None,
    threads: int | None = None,
    sample_size: int = 20,
    storage_options: Mapping[str, str] | None = None,
    allow_empty: bool = False,
    chunk_size: int | None = None,
    max_record_bytes: int | None = None,
    mask_key: str | None = None,
    progress: Progress | None = None,
    dialect: Mapping[str, Any] | None = None,
    ledger: PathLike | None = None,
    partition: str | None = None,
    logical_date: str | _dt.date | None = None,
    split: SplitLike | None = None,
    split_keys: PathLike | None = None,
) -> Report:
    """The run form of :func:`validate` (see there); ``progress`` receives the engine's live
    counters (the CLI's progress bar reads them); ``dialect`` overrides the rules' CSV dialect
    keys (``delimiter``, ``null_values``, ``header``: the CLI's flags)."""
    from pyrustpipe import _arrow
    from pyrustpipe.report import Report

    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, int) or threads < 1
    ):
        raise ValueError(f"threads must be an int >= 1 or None, not {threads!r}")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 0:
        raise ValueError(f"sample_size must be an int >= 0, not {sample_size!r}")
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be an int >= 1 or None, not {chunk_size!r}")
    if max_record_bytes is not None and (
        isinstance(max_record_bytes, bool)
        or not isinstance(max_record_bytes, int)
        or max_record_bytes < 1
    ):
        raise ValueError(f"max_record_bytes must be an int >= 1 or None, not {max_record_bytes!r}")
    spec, python_rules, spec_text = _run_spec(schema)
    if dialect:
        # A spec written by hand may leave the dialect out (the defaults).
        spec = {**spec, "csv": {**spec.get("csv", {}), **dialect}}  # type: ignore[typeddict-item]
        import json

        spec_text = json.dumps(spec)
    options: ValidateOptions = {
        "threads": threads,
        "sample_size": sample_size,
        "chunk_size": chunk_size,
        "max_record_bytes": max_record_bytes,
        "valid_output": _output(valid_output),
        "quarantine": _output(quarantine),
        "metrics_output": _output(metrics_output),
        "allow_empty": bool(allow_empty),
        "external_rules": [],
    }
    if storage_options is not None:
        options["storage_options"] = {str(k): str(v) for k, v in storage_options.items()}
    if mask_key is not None:
        if not isinstance(mask_key, str) or not mask_key:
            # never echo the key: it is a secret
            raise ValueError("mask_key must be a non-empty str")
        options["mask_key"] = mask_key
    ledger_options = _ledger_options(ledger, partition, logical_date)
    if ledger_options is not None:
        options["ledger"] = ledger_options
    keys_upload = None
    if split is not None:
        from pyrustpipe import splits

        if splits.is_s3_keys(split_keys):
            keys_upload, split_keys = os.fspath(split_keys), splits.local_keys_path()  # type: ignore[arg-type]
        options["split"] = _split_option(source, split, split_keys, python_rules)
    elif split_keys is not None:
        raise ValueError("split_keys is the keys file of a split run: pass split= too")
    if _arrow.is_arrow_like(source):  # an in-memory table: pyrustpipe/_arrow.py
        report = _arrow.validate_table(
            source, (spec, spec_text), python_rules, options, progress=progress
        )
        _remember_spec(ledger_options, spec, report, storage_options)
        return report
    sources = _source_list(source)
    if python_rules:
        sources = _engine.expand_sources(sources, _storage_json(storage_options))
        if any(path.startswith("s3://") for path in sources):
            from pyrustpipe.exceptions import SchemaError

            names = ", ".join(rule.name for rule in python_rules)
            raise SchemaError(
                f"row rules that run in Python ({names}) need local sources; "
                "rewrite them so they trace into expressions, or copy the data locally"
            )
        from pyrustpipe._python_rules import run_python_rules

        options["external_rules"] = run_python_rules(spec, python_rules, sources)
    import json

    try:
        text = _engine.validate(spec_text, sources, json.dumps(options), progress)
    except BaseException:
        if keys_upload is not None:
            import shutil

            shutil.rmtree(os.path.dirname(str(split_keys)), ignore_errors=True)
        raise
    if keys_upload is not None:
        from pyrustpipe.splits import upload_keys

        text = upload_keys(text, str(split_keys), keys_upload, storage_options)
    report = Report.from_json(text)
    _remember_spec(ledger_options, spec, report, storage_options)
    return report


def _remember_spec(
    ledger: Mapping[str, str] | None,
    spec: SpecDict,
    report: Report,
    storage_options: Mapping[str, str] | None,
) -> None:
    """Keep the spec that ran beside the ledger (``<root>/_specs/``), so the playground can
    backtest against it. The run's outputs are already committed: a failure here warns."""
    if ledger is None or not report.outputs.get("ledger"):
        return
    from pyrustpipe import _ledger_files

    try:
        _ledger_files.remember_spec(ledger["root"], spec, report.ruleset_hash, storage_options)
    except (OSError, ImportError) as exc:
        warnings.warn(
            f"the rules spec was not stored beside the ledger ({exc}); a backtest of this "
            "partition will be skipped",
            RuntimeWarning,
            stacklevel=3,
        )


@overload
def validate(func: _F, /) -> _F: ...


@overload
def validate(
    *,
    severity: Severity = "error",
    tolerance: float | None = None,
    name: str | None = None,
) -> Callable[[_F], _F]: ...


@overload
def validate(
    source: SourceLike,
    schema: SchemaLike,
    *,
    quarantine: PathLike | None = None,
    valid_output: PathLike | None = None,
    metrics_output: PathLike | None = None,
    threads: int | None = None,
    sample_size: int = 20,
    storage_options: Mapping[str, str] | None = None,
    allow_empty: bool = False,
    chunk_size: int | None = None,
    max_record_bytes: int | None = None,
    mask_key: str | None = None,
    ledger: PathLike | None = None,
    partition: str | None = None,
    logical_date: str | _dt.date | None = None,
    split: SplitLike | None = None,
    split_keys: PathLike | None = None,
) -> Report: ...


def validate(*args: Any, **kwargs: Any) -> Any:
    """Validate data against rules: ``pp.validate(source, schema, *, quarantine=None,
    valid_output=None, metrics_output=None, threads=None, sample_size=20, storage_options=None,
    allow_empty=False, chunk_size=None, max_record_bytes=None, mask_key=None, ledger=None,
    partition=None, logical_date=None, split=None, split_keys=None)`` returns a
    :class:`pp.Report`.

    ``source`` is a path, a directory (every file below it), a glob, an ``s3://`` URI or a list
    of them, or an in-memory table (a pandas / polars DataFrame, a pyarrow Table or
    RecordBatchReader: anything with ``__arrow_c_stream__``, read zero-copy); ``schema`` a
    ``pp.Schema`` subclass, a spec dict, a ``pp.Spec`` or a rules reference (``rules.py:Class``,
    ``rules.yaml``). ``quarantine`` receives the failing rows with their reasons, ``valid_output``
    the passing ones. The CSV reader holds at most about ``max_record_bytes`` (default 64 MiB) of
    one record: a longer one stops the run with a ``DataFormatError`` naming its first line.
    ``mask_key`` keys the tokens that stand for ``sensitive`` columns' values (default
    ``$PYRUSTPIPE_MASK_KEY``, else a random key per run). With ``ledger`` (a directory or
    ``s3://`` prefix) the run appends its entry to the quality ledger for ``partition`` (its
    logical date defaults from a ``dt=``/``date=`` segment) and judges ``Config.history`` against
    it (docs/ledger.md). With ``split`` (a :class:`pp.Split` of ``source``, from
    :func:`pp.plan_splits`, or its string form) only the records starting in its byte range are
    validated, numbered as in the whole object; ``split_keys`` (a local path, or an ``s3://``
    URI written once the run succeeds) receives its unique keys for :func:`pp.gate_splits`
    (docs/splits.md). It does not raise when rules fail — call
    :meth:`Report.raise_for_failures` to gate.

    The old spelling of :func:`pp.row_rule`, ``@pp.validate`` / ``@pp.validate(severity=...)``
    on a row-rule function, still works and warns (``DeprecationWarning``).

    >>> import os, tempfile, pyrustpipe as pp
    >>> class Orders(pp.Schema):
    ...     order_id: int = pp.Field(unique=True)
    ...     amount: float = pp.Field(gt=0)
    ...     fee: float = pp.Field(ge=0)
    ...
    ...     @pp.row_rule(severity="warn")
    ...     def fee_below_amount(row):
    ...         return row.fee < row.amount
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "orders.csv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("order_id,amount,fee\\n1,10.0,1.0\\n2,-5,0\\n2,7.5,9\\n")
    >>> report = pp.validate(path, Orders)
    >>> report.passed, report.rows, report.invalid_rows
    (False, 3, 2)
    >>> report.rule("amount:gt").failed, report.rule("fee_below_amount").failed
    (1, 2)
    """
    if _is_old_decorator(args, kwargs):
        warnings.warn(
            "@pp.validate on a row rule is the old spelling of @pp.row_rule",
            DeprecationWarning,
            stacklevel=2,
        )
        return row_rule(*args, **kwargs)
    return run_validation(*args, **kwargs)


def _is_old_decorator(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> bool:
    """The compatibility shim for ``@pp.validate`` as a decorator (before ``pp.row_rule``)."""
    if not set(kwargs) <= _DECORATOR_KEYWORDS:
        return False
    return (not args and bool(kwargs)) or (len(args) == 1 and _is_rule_function(args[0]))


def _is_rule_function(value: object) -> bool:
    if isinstance(value, staticmethod):
        return True
    return callable(value) and not isinstance(value, (str, bytes, os.PathLike, type, Sequence))
