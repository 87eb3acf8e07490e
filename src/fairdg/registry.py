"""A small explicit registry: name -> entry (object, one-line description, paper).

Datasets, algorithms and reproductions each keep one `Registry`; entries are listed explicitly in
their package's ``__init__`` (no import side effects, no ``globals()`` lookups).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class UnknownNameError(ValueError):
    """Raised for a name that is not in a registry; the message lists the valid names."""


@dataclass(frozen=True)
class Entry:
    """One registry entry."""

    name: str
    obj: Any
    description: str
    paper: str = ""
    info: Any = None


class Registry:
    """An ordered mapping of lowercase names to `Entry` records.

    Parameters
    ----------
    kind
        What the entries are ("dataset", "algorithm", ...); used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def register(
        self, name: str, obj: Any, description: str, paper: str = "", info: Any = None
    ) -> None:
        """Add an entry (`info`: a static description, e.g. a `DatasetInfo`); a duplicate or
        non-lowercase name is an error."""
        if name != name.lower():
            raise ValueError(f"{self.kind} names are lowercase, got {name!r}")
        if name in self._entries:
            raise ValueError(f"duplicate {self.kind} name {name!r}")
        self._entries[name] = Entry(name, obj, description, paper, info)

    def entry(self, name: str) -> Entry:
        """Return the entry for `name` (case-insensitive); unknown names suggest the closest."""
        key = str(name).lower()
        if key not in self._entries:
            raise UnknownNameError(self.unknown_message(name))
        return self._entries[key]

    def get(self, name: str) -> Any:
        """Return the registered object for `name`."""
        return self.entry(name).obj

    def unknown_message(self, name: str) -> str:
        close = difflib.get_close_matches(str(name).lower(), self._entries, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        valid = ", ".join(self._entries)
        return f"unknown {self.kind} {name!r}.{hint} Valid {self.kind}s: {valid}"

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
