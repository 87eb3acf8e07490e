"""An exclusive lock per run: ``<output>/<run_id>.lock``, holding the owner's pid and host.

Two processes started on the same run would both train it and write every evaluation twice;
the second one gets `RunLockedError` instead (a sweep skips the run). The lock is an advisory
``flock`` on the lock file, so the kernel releases it when its owner dies, however it dies: a
lock file left by a killed process is stale and is taken over (reported in the log). Where
``fcntl`` is missing (Windows) the file is created exclusively and a stale one is recognised by
its pid no longer running on this host. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("fairdg")


class RunLockedError(RuntimeError):
    """The run is being trained by another live process."""


def lock_path(run_dir: str | os.PathLike) -> Path:
    """Where the lock of `run_dir` lives (beside it, so it survives the folder's replacement)."""
    run_dir = Path(run_dir)
    return run_dir.parent / f"{run_dir.name}.lock"


def owner(path: str | os.PathLike) -> dict:
    """The pid/host/time written in a lock file (empty when unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _locked_error(run_dir: Path, path: Path) -> RunLockedError:
    who = owner(path)
    return RunLockedError(
        f"run {run_dir} is being trained by another process (pid {who.get('pid', '?')} on "
        f"host {who.get('host', '?')}, since {who.get('since', '?')}; lock {path}); wait for "
        "it to finish, or stop it first"
    )


def _stamp() -> bytes:
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return json.dumps({"pid": os.getpid(), "host": platform.node(), "since": since}).encode()


def _acquire_flock(run_dir: Path, path: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _locked_error(run_dir, path) from None
        try:  # the holder may have removed the file between our open and our flock
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    if os.fstat(fd).st_size:
        log.warning("taking over the stale lock %s (%s)", path, owner(path) or "unreadable")
    os.ftruncate(fd, 0)
    os.write(fd, _stamp())
    return fd


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _acquire_exclusive(run_dir: Path, path: Path) -> int:  # pragma: no cover - Windows
    for _ in range(2):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            who = owner(path)
            same_host = who.get("host") == platform.node()
            if same_host and isinstance(who.get("pid"), int) and not _alive(who["pid"]):
                log.warning("removing the stale lock %s (%s)", path, who)
                path.unlink(missing_ok=True)
                continue
            raise _locked_error(run_dir, path) from None
        os.write(fd, _stamp())
        return fd
    raise _locked_error(run_dir, path)


def is_locked(run_dir: str | os.PathLike) -> bool:
    """Whether a live process holds the lock of `run_dir` (checked without taking it)."""
    path = lock_path(run_dir)
    if fcntl is None:  # pragma: no cover - Windows
        who = owner(path)
        return path.exists() and not (
            who.get("host") == platform.node() and not _alive(int(who.get("pid", -1)))
        )
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the exclusive lock of `run_dir` for the duration of the block.

    Raises
    ------
    RunLockedError
        When another live process holds it (the message names its pid and host).
    """
    run_dir = Path(run_dir)
    path = lock_path(run_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = (_acquire_flock if fcntl is not None else _acquire_exclusive)(run_dir, path)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)  # before unlocking: a waiter then re-checks the inode
        os.close(fd)
