"""Run records on disk: JSON lines appended and flushed, atomic JSON files. Standard library only.

A run folder holds ``config.json`` (written first), ``env.json``, ``results.jsonl`` (one line per
evaluation), optional checkpoints, and ``done.json`` (written last: the completion marker).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def _default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def _clean(obj: Any) -> Any:
    """NaN and inf are not JSON: store them as null so every reader can parse the file."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def dumps(obj: Any, **kwargs: Any) -> str:
    """JSON text with NaN/inf as null and numpy/torch scalars as numbers."""
    return json.dumps(_clean(obj), default=_default, allow_nan=False, **kwargs)


def canonical_json(obj: Any) -> str:
    """Sorted keys, no whitespace: the input of stable hashes."""
    return dumps(obj, sort_keys=True, separators=(",", ":"))


def current_umask() -> int:
    """The process umask, read without changing it where ``/proc`` allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


@contextmanager
def _replacing(path: Path, suffix: str) -> Iterator[tuple[int, str]]:
    """(descriptor, name) of a temporary file beside `path`, renamed onto `path` when the block
    ends and removed if it fails; the folder is created, permissions follow the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        if hasattr(os, "fchmod"):  # mkstemp's 0600 would hide the file from colleagues
            os.fchmod(fd, 0o666 & ~current_umask())
        yield fd, tmp
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a file via a temporary file in the same folder and a rename (never half-written)."""
    with _replacing(Path(path), ".tmp") as (fd, _):
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())


def write_atomically(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call ``write(name)`` on a temporary file beside `path`, then rename it onto `path`, so
    the file is never half-written; returns `path`. The temporary name ends with `path`'s
    suffix, so writers that infer the format from it (matplotlib's ``fig.savefig``, PIL's
    ``image.save``) still do: ``write_atomically("a.png", fig.savefig)``."""
    path = Path(path)
    with _replacing(path, ".tmp" + path.suffix) as (fd, tmp):
        os.close(fd)
        write(tmp)
    return path


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write `obj` as indented JSON."""
    atomic_write_text(path, dumps(obj, indent=2, sort_keys=True) + "\n")


class CorruptRecordError(ValueError):
    """A run record (``config.json``, ``done.json``, ...) that is not valid JSON."""


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file; a damaged one raises `CorruptRecordError` naming the file."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CorruptRecordError(
            f"{path} is corrupt (not valid JSON: {err}); restore it, or delete it (for a run "
            "folder's config.json or done.json: delete the run folder, or rerun with --force)"
        ) from err


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append one record as a line and flush it to disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def load_jsonl(path: str | os.PathLike) -> tuple[list[dict], list[str]]:
    """Read a JSONL file, skipping unparsable lines.

    Returns
    -------
    records, problems
        The parsed records and one message per skipped line (a partial last line after a
        crash, a corrupt line), so callers can report them instead of crashing.
    """
    records, problems = [], []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                problems.append(f"{path}:{number}: unparsable line skipped ({err.msg})")
                continue
            if not isinstance(record, dict):
                problems.append(f"{path}:{number}: not a JSON object, skipped")
                continue
            records.append(record)
    return records, problems


def truncate_jsonl(path: str | os.PathLike, keep: int) -> None:
    """Keep the first `keep` parsable records (used when a run resumes from a checkpoint)."""
    path = Path(path)
    if not path.exists():
        return
    records, _ = load_jsonl(path)
    atomic_write_text(path, "".join(dumps(r) + "\n" for r in records[:keep]))


def variant_name(algorithm: str, hparams: dict[str, Any] | None) -> str:
    """The row name of a run: the algorithm's name, followed by the fairness options that make
    it a variant, each as ``+option``: ``"erm+fair_lambda"`` (the fixed penalty; its weight is
    tuned like any knob, so runs of all weights share the row), ``"erm+fair_tolerance=0.05"``
    (a stated constraint: each tolerance its own row) and ``"+fair_metric=eo"`` when the
    fairness notion is not demographic parity. Registered names never hold ``+``, so a variant
    never takes the name of another algorithm, and runs of different variants are never merged
    in one row."""
    hparams = hparams or {}
    name = algorithm
    if _positive(hparams.get("fair_lambda")):
        name += "+fair_lambda"
    if _positive(hparams.get("fair_tolerance")):
        name += f"+fair_tolerance={hparams['fair_tolerance']:g}"
    metric = hparams.get("fair_metric")
    if isinstance(metric, str) and metric != "dp":
        name += f"+fair_metric={metric}"
    return name


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
