"""Type stub of the compiled Rust extension ``pyrustpipe._core``."""

__version__: str

class PyRustPipeError(Exception): ...
class SchemaError(PyRustPipeError, ValueError): ...

class DataFormatError(PyRustPipeError, ValueError):
    path: str | None
    line: int | None
    column: str | None
    byte: int | None

class StorageError(PyRustPipeError, OSError): ...

def compile_spec(spec_json: str) -> str: ...
def validate(spec_json: str, sources: list[str], options_json: str) -> str: ...
def validate_arrow(spec_json: str, table: object, name: str, options_json: str) -> str: ...
def profile(sources: list[str], options_json: str) -> str: ...
def expand_sources(sources: list[str], options_json: str = ...) -> list[str]: ...

__all__ = [
    "__version__",
    "PyRustPipeError",
    "SchemaError",
    "DataFormatError",
    "StorageError",
    "compile_spec",
    "validate",
    "validate_arrow",
    "profile",
    "expand_sources",
]
