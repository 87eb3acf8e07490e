"""Run records on disk: JSON lines appended and flushed, atomic JSON files. Standard library only.

A run folder holds ``config.json`` (written first), ``env.json``, ``results.jsonl`` (one line per
evaluation), optional checkpoints, and ``done.json`` (written last: the completion marker).

Reading trusts nothing: `read_json` refuses what is not a regular file and checks the data
against a declarative schema (`Fields`, `Is`, `ListOf`; `DONE_SPEC`, `CONFIG_SPEC`), so a
damaged file is a `CorruptRunError` of one line naming the file and the field. Writing never
leaves a half file: a full disk is a `NoSpaceError` naming the file, with nothing lost.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHORT = 80  # longest value quoted in a message (a 50 MB cell is not echoed whole)


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


class NoSpaceError(OSError):
    """The disk (or quota) filled up while fairdg wrote `filename`; the writers leave every file
    as it was before (temporary files removed, a half-appended line cut off)."""

    def __init__(self, path: str | os.PathLike) -> None:
        super().__init__(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    def __str__(self) -> str:
        return (
            f"no space left writing {self.filename}; nothing was lost; free space and run the "
            "same command"
        )


@contextmanager
def naming_full_disk(path: str | os.PathLike) -> Iterator[None]:
    """Turn a full disk or quota (ENOSPC, EDQUOT) met inside the block into `NoSpaceError`
    naming `path`: the file the user knows, not a temporary name or torch's C++ message."""
    try:
        yield
    except NoSpaceError:
        raise
    except OSError as err:
        if err.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NoSpaceError(path) from err
        raise


@contextmanager
def replacing(path: Path, suffix: str) -> Iterator[tuple[int, str]]:
    """(descriptor, name) of a temporary file beside `path`, renamed onto `path` when the block
    ends and removed if it fails; the folder is created, permissions follow the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with naming_full_disk(path):
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
    with replacing(Path(path), ".tmp") as (fd, _):
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
    with replacing(path, ".tmp" + path.suffix) as (fd, tmp):
        os.close(fd)
        write(tmp)
    return path


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write `obj` as indented JSON."""
    atomic_write_text(path, dumps(obj, indent=2, sort_keys=True) + "\n")


class CorruptRunError(ValueError):
    """A run file that is damaged, of the wrong shape or inconsistent with its run; the
    message is one line naming the file (and the field) and the fix."""


class CorruptRecordError(CorruptRunError):
    """A run record (``config.json``, ``done.json``, ...) that is not valid JSON."""


_KINDS = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO", stat.S_ISSOCK: "a socket"}


def check_regular_file(path: str | os.PathLike, fix: str) -> None:
    """Refuse a FIFO, folder, socket or device where a run file is read: reading a FIFO would
    wait forever. A missing file raises `FileNotFoundError` as `open` would."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = next((k for test, k in _KINDS.items() if test(mode)), "a device")
        raise CorruptRunError(f"{path} is not a regular file but {kind}; {fix}")


RECORD_FIX = "restore it, or delete the run folder (or rerun with --force)"


def read_json(path: str | os.PathLike, spec: Spec | None = None, fix: str = RECORD_FIX) -> Any:
    """Parse a JSON file (refusing anything but a regular file) and check it against `spec`;
    a damaged or misshapen file raises `CorruptRunError` naming the file, the field and `fix`."""
    check_regular_file(path, fix)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CorruptRecordError(
            f"{path} is corrupt (not valid JSON: {err}); restore it, or delete it (for a run "
            "folder's config.json or done.json: delete the run folder, or rerun with --force)"
        ) from err
    if spec is not None:
        check_schema(path, data, spec, fix)
    return data


# -- schemas: the expected shape of a run file, declared --------------------------------------
class _Mismatch(Exception):
    def __init__(self, at: str, expected: str, value: Any) -> None:
        super().__init__(at)
        self.at, self.expected, self.value = at, expected, value


_ABSENT = object()


def _of_types(value: Any, types: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON true is no number
        return bool in types
    if isinstance(value, float) and float in types:
        return math.isfinite(value)
    return isinstance(value, types) or (value is None and type(None) in types)


@dataclass(frozen=True)
class Is:
    """A value of one of `types` (a bool is no number, a float is finite) passing `test`,
    described in messages as `says` (``"an integer >= 1"``)."""

    types: tuple[type, ...]
    says: str
    test: Callable[[Any], bool] | None = None

    def check(self, value: Any, at: str) -> None:
        if not _of_types(value, self.types) or (self.test is not None and not self.test(value)):
            raise _Mismatch(at, self.says, value)


@dataclass(frozen=True)
class ListOf:
    """A list whose items all match `item`; `says`/`test` constrain the list itself."""

    item: Spec
    says: str = "a list"
    test: Callable[[list], bool] | None = None

    def check(self, value: Any, at: str) -> None:
        if not isinstance(value, list) or (self.test is not None and not self.test(value)):
            raise _Mismatch(at, self.says, value)
        for i, item in enumerate(value):
            self.item.check(item, f"{at}[{i}]")


@dataclass(frozen=True)
class Fields:
    """An object with the `required` keys and, when present, the `optional` ones; other keys
    are allowed (files written by a newer fairdg)."""

    required: Mapping[str, Spec]
    optional: Mapping[str, Spec] = field(default_factory=dict)

    def check(self, value: Any, at: str) -> None:
        if not isinstance(value, dict):
            raise _Mismatch(at, "an object", value)
        for key, spec in [*self.required.items(), *self.optional.items()]:
            inner = f"{at}.{key}" if at else key
            if key in value:
                spec.check(value[key], inner)
            elif key in self.required:
                raise _Mismatch(inner, "present", _ABSENT)


Spec = Is | ListOf | Fields
TEXT = Is((str,), "a string")
INT = Is((int,), "an integer")
NUMBER = Is((int, float), "a finite number")
OBJECT = Is((dict,), "an object")
COUNT = Is((int,), "an integer >= 1", lambda v: v >= 1)
SHA256 = Is((str,), "64 hexadecimal digits", lambda v: _is_sha256(v))


def check_schema(path: Any, data: Any, spec: Spec, fix: str = RECORD_FIX) -> None:
    """Raise `CorruptRunError` (one line: file, field, expected, found, `fix`) unless `data`
    matches `spec`."""
    try:
        spec.check(data, "")
    except _Mismatch as bad:
        raise run_file_error(path, bad.at, bad.expected, bad.value, fix) from None


def run_file_error(path: Any, at: str, expected: str, value: Any, fix: str) -> CorruptRunError:
    """The one-line error of a run file whose field `at` is not `expected`."""
    if value is _ABSENT:
        return CorruptRunError(f"{path}: field {at!r} is missing; {fix}")
    where = f"field {at!r}" if at else "the file"
    return CorruptRunError(f"{path}: {where} must be {expected}, got {short(value)}; {fix}")


def short(value: Any, limit: int = SHORT) -> str:
    """``repr(value)`` cut to about `limit` characters, saying how long the whole was."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


# OWASP's CSV-injection rule: a spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def escape_formula(cell: Any) -> Any:
    """`cell` with a leading ``'`` when a spreadsheet would run it as a formula (it starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return and is not a plain number such as
    ``-1.5``); anything else unchanged."""
    if (
        isinstance(cell, str)
        and cell.startswith(_FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(cell)
    ):
        return "'" + cell
    return cell


# The summary record of a finished run (``done.json``), as far as fairdg reads it back.
DONE_SPEC = Fields(
    {
        "run_id": TEXT,
        "dataset": TEXT,
        "algorithm": TEXT,
        "hparams": OBJECT,
        "steps": COUNT,
        "selection": TEXT,
        "metrics": Is(
            (dict,),
            "an object of evaluation sets",
            lambda v: all(isinstance(m, dict) for m in v.values()),
        ),
        "wall_seconds": NUMBER,
    },
    {"selected_step": Is((int, type(None)), "an integer or null")},
)
CONFIG_SPEC = Fields({"run_id": TEXT, "dataset": TEXT, "algorithm": TEXT})


def _is_sha256(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append one record as a line and flush it to disk; a line cut short by a full disk is
    removed again, so that the next append does not run into it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = memoryview((dumps(record) + "\n").encode("utf-8"))
    if path.exists():  # opening a FIFO to write would wait for a reader
        check_regular_file(path, f"delete or rename {path.name}")
    with naming_full_disk(path):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # umask applies
        try:
            size = os.fstat(fd).st_size
            try:
                while line:  # unbuffered: nothing is left to flush after a failure
                    line = line[os.write(fd, line) :]
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)  # shrinking needs no space
                raise
        finally:
            os.close(fd)


def load_jsonl(path: str | os.PathLike) -> tuple[list[dict], list[str]]:
    """Read a JSONL file, skipping unparsable lines.

    Returns
    -------
    records, problems
        The parsed records and one message per skipped line (a partial last line after a
        crash, a corrupt line), so callers can report them instead of crashing.
    """
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the reader forever
        return records, [f"{path}: not a regular file, skipped"]
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
