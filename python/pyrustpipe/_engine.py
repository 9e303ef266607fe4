"""Typed, lazily-importing wrappers around the Rust extension ``pyrustpipe._core``."""

from __future__ import annotations

from types import ModuleType

from pyrustpipe._typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from pyrustpipe._core import Progress

__all__ = [
    "compile_spec",
    "core",
    "engine_version",
    "expand_sources",
    "gc",
    "ledger_entries",
    "new_progress",
    "parse_texts",
    "profile",
    "validate",
    "validate_arrow",
]


def core() -> ModuleType:
    """The extension module; a clear ImportError when it was not built."""
    try:
        from pyrustpipe import _core
    except ImportError as exc:
        raise ImportError(
            "pyrustpipe's Rust engine (pyrustpipe._core) is not available: install a pyrustpipe "
            "wheel, or build it from a checkout with `maturin develop --release`"
        ) from exc
    return _core


def compile_spec(spec_json: str, external_rules_json: str = "[]") -> dict[str, Any]:
    """``{"spec": <normalized spec>, "ruleset_hash": "sha256:...", "rules": [<rule table>]}``;
    raises SchemaError. ``external_rules_json`` names the rules Python runs."""
    import json

    result: dict[str, Any] = json.loads(core().compile_spec(spec_json, external_rules_json))
    return result


def validate(
    spec_json: str, sources: list[str], options_json: str, progress: Progress | None = None
) -> str:
    text: str = core().validate(spec_json, sources, options_json, progress)
    return text


def validate_arrow(
    spec_json: str,
    table: object,
    name: str,
    options_json: str,
    progress: Progress | None = None,
    dictionaries: list[tuple[str, object]] | None = None,
) -> str:
    text: str = core().validate_arrow(
        spec_json, table, name, options_json, progress, dictionaries or []
    )
    return text


def new_progress() -> Progress:
    """Counters a run updates while it works (read them with ``snapshot()``)."""
    progress: Progress = core().Progress()
    return progress


def profile(
    sources: list[str], options_json: str = "{}", profile_json: str = "{}"
) -> dict[str, Any]:
    import json

    result: dict[str, Any] = json.loads(core().profile(sources, options_json, profile_json))
    return result


def expand_sources(sources: list[str], options_json: str = "{}") -> list[str]:
    files: list[str] = core().expand_sources(sources, options_json)
    return files


def gc(prefix: str, older_than_s: float, dry_run: bool, options_json: str = "{}") -> dict[str, Any]:
    """Remove (or, dry, list) what interrupted runs left under ``prefix``: see ``pyrustpipe gc``."""
    import json

    result: dict[str, Any] = json.loads(core().gc(prefix, older_than_s, dry_run, options_json))
    return result


def parse_texts(column_json: str, texts: list[bytes]) -> list[str | None]:
    """Each text (UTF-8) parsed as the column's dtype: a canonical text, ``None`` if invalid."""
    values: list[str | None] = core().parse_texts(column_json, texts)
    return values


def engine_version() -> str | None:
    try:
        version: str = core().__version__
    except ImportError:
        return None
    return version


def ledger_entries(root: str, dataset: str, options_json: str = "{}") -> list[dict[str, Any]]:
    """Every ledger entry of ``dataset`` under ``root``, oldest logical date first."""
    import json

    entries: list[dict[str, Any]] = json.loads(core().ledger_entries(root, dataset, options_json))
    return entries
