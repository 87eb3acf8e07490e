"""A small explicit registry: name -> entry (object, one-line description, paper).

Datasets, algorithms and reproductions each keep one `Registry`; entries are listed explicitly in
their package's ``__init__`` (no import side effects, no ``globals()`` lookups).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
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
        return unknown_name_message(self.kind, name, self._entries)

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


def close_match(name: str, valid: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the valid name closest to `name`, or ``""``."""
    close = difflib.get_close_matches(str(name).lower(), list(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name_message(kind: str, name: str, valid: Iterable[str]) -> str:
    """The one error sentence for a name missing from a registry of `kind` entries."""
    valid = list(valid)
    close = difflib.get_close_matches(str(name).lower(), valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"unknown {kind} {name!r}.{hint} Valid {kind}s: {', '.join(valid)}"


def declared_names(path: Path, list_name: str = "_ENTRIES") -> list[str]:
    """The names of a registry's explicit entry list, read from its source without importing
    it (so without torch): the first string of each tuple in ``list_name = [...]``."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in tree.body:
        if not isinstance(node, ast.Assign | ast.AnnAssign):
            continue
        targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
        named = any(isinstance(t, ast.Name) and t.id == list_name for t in targets)
        if named and isinstance(node.value, ast.List | ast.Tuple):
            return [
                str(item.elts[0].value)
                for item in node.value.elts
                if isinstance(item, ast.Tuple) and isinstance(item.elts[0], ast.Constant)
            ]
    raise ValueError(f"{path}: no entry list {list_name!r}")
