"""Content fingerprints of the user's data files: what a run id covers instead of a path spelling.

A run on ``--dataset csv --data-option path=people.csv`` must not be reused after the file
changed (its id hashed the path string: flipping every label printed the old metrics), and must
be reused when the same file is given by another spelling (``./people.csv``, an absolute
path). `identify` replaces each loader option that names a file (`DatasetInfo.file_options`)
by ``{"file": "<size>:<sha256>"}`` of the file's bytes.

The sha256 of a file is computed once per (real path, size, modification time): the result is
kept in ``<cache>/fingerprints.json`` (`fairdg.datasets_info.cache_dir`, ``$FAIRDG_CACHE``),
written atomically, and in memory for the process, so a large file is read once however many
run ids (a sweep plans hundreds) name it. Standard library only (a bottom-floor module).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fairdg.datasets_info import cache_dir
from fairdg.records import atomic_write_text

CACHE_NAME = "fingerprints.json"
_CHUNK = 1 << 20
_memory: dict[str, dict[str, Any]] = {}  # real path -> {"size", "mtime_ns", "sha256"}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _cache_path() -> Path:
    return cache_dir() / CACHE_NAME


def _read_cache() -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent or damaged: it is only a cache
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(key: str, entry: dict[str, Any]) -> None:
    """Merge one entry into the cache file (re-read first: other processes add theirs)."""
    cache = _read_cache()
    cache[key] = entry
    try:
        atomic_write_text(_cache_path(), json.dumps(cache, sort_keys=True, indent=1))
    except OSError:  # a read-only cache folder costs a rehash next time, nothing else
        pass


def file_fingerprint(path: str | os.PathLike) -> str:
    """``"<size>:<sha256>"`` of a file's content (cached by real path, size and mtime)."""
    real = Path(path).expanduser().resolve()
    stat = real.stat()
    key = str(real)
    for cached in (_memory.get(key), _read_cache().get(key)):
        if (
            isinstance(cached, dict)
            and cached.get("size") == stat.st_size
            and cached.get("mtime_ns") == stat.st_mtime_ns
            and isinstance(cached.get("sha256"), str)
        ):
            _memory[key] = cached
            return f"{stat.st_size}:{cached['sha256']}"
    entry = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": _sha256_file(real)}
    _memory[key] = entry
    _write_cache(key, entry)
    return f"{stat.st_size}:{entry['sha256']}"


def resolve_file(value: Any, root: Any = None) -> Path | None:
    """The file an option value names, as the loaders read it (``~`` expanded; a relative
    path under `root` when given, else the working folder), or None when it names none."""
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and isinstance(root, str | os.PathLike):
        path = Path(root).expanduser() / path
    return path if path.is_file() else None


def identify(options: Mapping[str, Any], file_options: Iterable[str]) -> dict[str, Any]:
    """`options` with each of `file_options` that names an existing file replaced by
    ``{"file": "<size>:<sha256>"}``: the data's identity, whatever the path's spelling. A value
    naming no file (a missing file, which loading will report; an inline mapping; a DataFrame
    from Python) is kept as it is."""
    out = dict(options)
    for name in file_options:
        path = resolve_file(out.get(name), options.get("root"))
        if path is not None:
            out[name] = {"file": file_fingerprint(path)}
    return out


__all__ = ["CACHE_NAME", "file_fingerprint", "identify", "resolve_file"]
