"""The run-time names of ``typing`` the package uses, without importing ``typing``: that costs
~12.7M instructions (~3.5 ms) of every command's start. Type checkers read ``typing``'s own.

mypy (and ruff) take any ``if TYPE_CHECKING:`` as true whatever the name is bound to, so a module
puts its type-only imports, ``TypeVar`` s and aliases there, and its annotations are strings
(``from __future__ import annotations``). ``tests/python/test_import.py`` keeps ``typing`` out.
"""

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import cast as cast
    from typing import overload as overload
else:

    def cast(_type, value):
        return value

    def overload(func):
        return func


__all__ = ["TYPE_CHECKING", "cast", "overload"]
