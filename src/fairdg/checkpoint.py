"""Checkpoint files: written atomically, read safely (``torch.load(..., weights_only=True)``),
checked against the sha256 recorded when they were written.

Imports only torch and the standard library, so every layer of fairdg can use it. A fairdg
``.pt`` file (training checkpoint, saved model, transformation model) holds only tensors,
numbers, strings, booleans, ``None``, lists, tuples and dicts; loading refuses anything else
without running it, so a crafted pickle cannot execute code.

Integrity: `save_checkpoint` hashes the bytes as torch writes them and returns the sha256; with
``sidecar=True`` (the training loop's ``checkpoint.pt`` and ``model.pt``) it writes it to
``<file>.sha256``, before the file is renamed into place and listing the file it replaces too,
so a kill between the two renames leaves a pair that still agrees. (Not in ``done.json``: torch
writes a random serialization id into every file, so two identical runs' files differ.)
`load_checkpoint` reads only regular files (a FIFO would block forever) and refuses a file whose
sha256 differs from the recorded one; without a record it still checks the CRCs of the zip
members, which catch flipped bits that torch itself would load silently.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import stat
import zipfile
from pathlib import Path
from typing import IO, Any, cast

import torch

from fairdg.records import (  # standard library only
    CorruptRunError,
    Fields,
    Is,
    read_json,
    replacing,
    write_json,
)

__all__ = [
    "CorruptCheckpointError",
    "UnsafeCheckpointError",
    "file_sha256",
    "load_checkpoint",
    "remove_checkpoint",
    "save_checkpoint",
]

RESTART_FIX = "delete it to start the run again from step 0"
_SHA256 = Is((str,), "64 hexadecimal digits", lambda v: bool(re.fullmatch(r"[0-9a-f]{64}", v)))
_SIDECAR_SPEC = Fields({"sha256": _SHA256}, {"previous": Is((str, type(None)), "a sha256")})
_known: dict[
    Path, str
] = {}  # path -> sha256 of the file this process last wrote or verified there


class CorruptCheckpointError(CorruptRunError, RuntimeError):
    """A checkpoint file that cannot be read, or whose bytes are not those written."""


class UnsafeCheckpointError(CorruptCheckpointError):
    """A checkpoint file that holds Python objects other than plain data (refused, not run)."""


class _HashingWriter:
    """The file object torch writes to: hashes the bytes on their way and keeps the `OSError`
    a full disk raises (torch would replace it with a C++ message without the errno)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle, self.digest = handle, hashlib.sha256()
        self.error: OSError | None = None

    def write(self, data) -> int:
        try:
            written = self.handle.write(data)
        except OSError as err:
            self.error = err
            raise
        self.digest.update(data)
        return written

    def flush(self) -> None:
        self.handle.flush()


def sidecar_path(path: str | os.PathLike) -> Path:
    """``checkpoint.pt.sha256`` beside ``checkpoint.pt``."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def save_checkpoint(
    path: str | os.PathLike, state: dict[str, Any], *, sidecar: bool = False
) -> str:
    """``torch.save`` to a temporary file in the same folder, then rename over `path`; returns
    the file's sha256 (also written to `sidecar_path` when `sidecar`).

    The file gets the permissions of any file the user creates (their umask), not the 0600
    of the temporary file. A full disk raises `fairdg.records.NoSpaceError` naming `path`; the
    previous file stays as it was.
    """
    path = Path(path)
    with replacing(path, ".tmp") as (fd, _tmp):
        with os.fdopen(fd, "wb") as handle:
            writer = _HashingWriter(handle)
            try:
                torch.save(state, cast(IO[bytes], writer))  # torch needs only write / flush
            except RuntimeError as err:
                if writer.error is not None:  # the real cause: a full disk, a lost mount
                    raise writer.error from err
                raise
            handle.flush()
            os.fsync(handle.fileno())
        digest = writer.digest.hexdigest()
        if sidecar:  # before the rename: a kill in between leaves the old file, also listed
            previous = _known.get(path.resolve()) if path.exists() else None
            if previous is None and path.exists():
                previous = file_sha256(path)
            write_json(sidecar_path(path), {"sha256": digest, "previous": previous})
    _known[path.resolve()] = digest
    return digest


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes (hex)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def load_checkpoint(
    path: str | os.PathLike,
    map_location: str | torch.device = "cpu",
    *,
    sha256: str | None = None,
    fix: str = RESTART_FIX,
) -> dict:
    """Load a fairdg ``.pt`` file with ``weights_only=True`` after checking its bytes.

    Parameters
    ----------
    sha256
        The file's sha256 as recorded when it was written elsewhere; a sidecar
        ``<file>.sha256`` is checked too when present.
    fix
        What the user should do with a bad file (the end of every error message).

    Raises
    ------
    UnsafeCheckpointError
        The file holds pickled Python objects beyond plain data (crafted or foreign); nothing
        in it was run.
    CorruptCheckpointError
        Not a regular file; a sha256 or zip CRC that differs from the one written; a truncated
        or foreign file, or one without fairdg's ``format`` key.
    """
    path = Path(path)
    _check_bytes(path, sha256, fix)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"GLOBAL (\S+)", str(err))
        if found is None:  # damaged bytes, not a forbidden object
            raise _corrupt(path, err, fix) from err
        raise UnsafeCheckpointError(
            f"{path} was refused: it holds a Python object ({found.group(1)}) besides tensors, "
            "numbers, strings, lists and dicts (a crafted or foreign file; fairdg never runs "
            "code from model files); delete it, or recreate it with this version of fairdg"
        ) from err
    except Exception as err:  # torch raises many types for a bad file
        raise _corrupt(path, err, fix) from err
    if not isinstance(state, dict) or "format" not in state:
        raise CorruptCheckpointError(
            f"checkpoint {path} is not a fairdg checkpoint (no 'format' key); {fix}"
        )
    return state


def _check_bytes(path: Path, sha256: str | None, fix: str) -> None:
    """Regular file; sha256 among those recorded (argument, sidecar), else zip CRCs intact."""
    mode = os.stat(path).st_mode  # FileNotFoundError for a missing file, as torch.load
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "special"
        raise CorruptCheckpointError(f"{path} is not a regular file but {kind}; {fix}")
    expected: dict[str, str] = {}
    if sha256 is not None:
        expected[sha256] = "the run's records"
    side = sidecar_path(path)
    if side.exists():
        recorded = read_json(side, _SIDECAR_SPEC, f"delete {side.name} and {path.name}")
        for key in ("sha256", "previous"):
            if recorded.get(key):
                expected.setdefault(recorded[key], side.name)
    if expected:
        digest = file_sha256(path)
        if digest not in expected:
            where = " and ".join(sorted(set(expected.values())))
            raise CorruptCheckpointError(
                f"{path} is damaged: its sha256 {digest[:16]}... differs from the one recorded "
                f"in {where} when it was written; {fix}"
            )
        _known[path.resolve()] = digest
        return
    bad = _zip_member_failing_crc(path)
    if bad is not None:
        raise CorruptCheckpointError(
            f"{path} is damaged: its member {bad!r} fails its CRC check; {fix}"
        )


def _zip_member_failing_crc(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):  # not a zip, or cut short: torch decides
        return None


def remove_checkpoint(path: str | os.PathLike) -> None:
    """Delete a checkpoint and its sidecar where they exist (only then: a read-only mount
    refuses even the removal of a file that is not there)."""
    path = Path(path)
    _known.pop(path.resolve(), None)
    for file in (path, sidecar_path(path)):
        if os.path.lexists(file):
            file.unlink()


def _corrupt(path: Any, err: BaseException, fix: str) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f"checkpoint {path} is corrupt or not a fairdg checkpoint ({type(err).__name__}: "
        f"{_first_line(err)}); {fix}"
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
