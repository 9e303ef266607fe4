"""Type stub of the compiled Rust extension ``pyrustpipe._core``."""

from typing import TypedDict, final

__version__: str

@final
class Progress:
    """Counters of a run, updated by the engine while it works."""

    def __init__(self) -> None: ...
    def snapshot(self) -> tuple[int, int, int, bool]:
        """``(bytes_total, bytes_done, rows, writing)``; ``bytes_total`` is 0 when unknown."""
    def cancel(self) -> None:
        """Stop the run: uploads aborted, nothing committed; it raises ``CancelledError``."""
    def cancelled(self) -> bool: ...

def compile_spec(spec_json: str, external_rules_json: str = "[]") -> str: ...
def validate(
    spec_json: str, sources: list[str], options_json: str, progress: Progress | None = None
) -> str: ...
def validate_arrow(
    spec_json: str,
    table: object,
    name: str,
    options_json: str,
    progress: Progress | None = None,
    dictionaries: list[tuple[str, object]] = ...,
) -> str: ...
def profile(sources: list[str], options_json: str, profile_json: str = "{}") -> str: ...
def expand_sources(sources: list[str], options_json: str = ...) -> list[str]: ...
def ledger_entries(root: str, dataset: str, options_json: str = ...) -> str: ...
def gc(prefix: str, older_than_s: float, dry_run: bool, options_json: str = ...) -> str: ...
def parse_texts(column_json: str, texts: list[bytes]) -> list[str | None]: ...
def plan_splits(uri: str, parts: int, options_json: str = ...) -> str: ...
def merge_split_keys(paths: list[str]) -> str: ...

class _BuildInfo(TypedDict):
    engine_version: str
    profile: str
    target: str
    codecs: list[str]

def build_info() -> _BuildInfo:
    """How the extension was built: engine version, cargo profile, target, stream codecs."""

__all__ = [
    "__version__",
    "Progress",
    "compile_spec",
    "validate",
    "validate_arrow",
    "profile",
    "expand_sources",
    "ledger_entries",
    "build_info",
    "gc",
    "parse_texts",
    "plan_splits",
    "merge_split_keys",
]
