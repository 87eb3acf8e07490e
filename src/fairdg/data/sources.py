"""Where data files come from: a local folder, ``$FAIRDG_DATA``, the cache, or a download.

One mechanism for every downloadable dataset. A `RemoteFile` names a file, its checksum (of the
file's bytes, or of its decompressed bytes for ``.gz`` files when ``checksum_of="uncompressed"``)
and the mirror URLs to try. `locate` looks in, in order: the ``root`` given by the user,
``$FAIRDG_DATA/<dataset>/``, then the cache ``$FAIRDG_CACHE/<dataset>/`` (default
``~/.cache/fairdg``); with ``download=True`` it fetches missing files into the cache through a
temporary file that is verified before it is renamed into place. A file that verifies is never
downloaded again.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "FAIRDG_DATA"
CACHE_ENV = "FAIRDG_CACHE"


class DataNotFoundError(FileNotFoundError):
    """Raised when the files of a dataset are not found; the message says where to put them."""


class ChecksumError(ValueError):
    """Raised when a file's checksum does not match the expected one."""


@dataclass(frozen=True)
class RemoteFile:
    """A data file: name on disk, expected digest and mirrors.

    ``alternatives`` are other names under which the same content is accepted (``x.gz`` for
    ``x``); the checksum is always of the uncompressed content when ``checksum_of`` is
    ``"uncompressed"``.
    """

    name: str
    md5: str | None = None
    sha256: str | None = None
    urls: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    checksum_of: str = "file"  # or "uncompressed"

    def candidates(self) -> tuple[str, ...]:
        return (self.name, *self.alternatives)


def cache_dir() -> Path:
    """The download cache: ``$FAIRDG_CACHE`` or ``~/.cache/fairdg``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fairdg"


def search_dirs(dataset: str, root: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for a dataset's files, in order."""
    if root is not None:  # an explicit folder is the only place looked at
        root = Path(root).expanduser()
        return [root, root / dataset]
    dirs = []
    env = os.environ.get(DATA_ENV)
    if env:
        dirs.append(Path(env).expanduser() / dataset)
    dirs.append(cache_dir() / dataset)
    return dirs


def _digest(path: Path, algorithm: str, uncompressed: bool) -> str:
    h = hashlib.new(algorithm)
    opener = gzip.open if uncompressed and path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: str | os.PathLike, spec: RemoteFile) -> bool:
    """True when `path` matches the expected digest (or when none is declared)."""
    path = Path(path)
    uncompressed = spec.checksum_of == "uncompressed"
    if spec.sha256:
        return _digest(path, "sha256", uncompressed) == spec.sha256
    if spec.md5:
        return _digest(path, "md5", uncompressed) == spec.md5
    return True


def _download(spec: RemoteFile, target: Path) -> None:
    """Try each mirror: download to a temporary file, verify, rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    errors = []
    for url in spec.urls:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        os.close(fd)
        tmp_path = Path(tmp)
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp_path, "wb") as out:
                shutil.copyfileobj(response, out)
            if not verify(tmp_path, spec):
                raise ChecksumError(f"checksum mismatch for {url}")
            os.replace(tmp_path, target)
            return
        except (OSError, ChecksumError) as err:  # try the next mirror
            errors.append(f"{url}: {err}")
        finally:
            tmp_path.unlink(missing_ok=True)
    raise DataNotFoundError(
        f"could not download {spec.name}: " + "; ".join(errors or ["no URL known"])
    )


def locate(
    dataset: str,
    files: Sequence[RemoteFile],
    root: str | os.PathLike | None = None,
    download: bool = False,
) -> dict[str, Path]:
    """Find (or fetch) every file of a dataset; return ``{spec.name: path}``.

    Raises
    ------
    DataNotFoundError
        Naming the folders searched, the files expected and how to get them.
    ChecksumError
        When a file is found but is corrupt (it is never silently replaced).
    """
    dirs = search_dirs(dataset, root)
    found: dict[str, Path] = {}
    for spec in files:
        for folder in dirs:
            hits = [folder / c for c in spec.candidates() if (folder / c).is_file()]
            if hits:
                if not verify(hits[0], spec):
                    raise ChecksumError(
                        f"{hits[0]} does not match its expected checksum "
                        f"({'sha256 ' + spec.sha256 if spec.sha256 else 'md5 ' + str(spec.md5)}): "
                        "the file is corrupt or a different version; delete it and fetch it again"
                    )
                found[spec.name] = hits[0]
                break
    missing = [s for s in files if s.name not in found]
    if missing and download:
        for spec in missing:
            target = cache_dir() / dataset / spec.name
            _download(spec, target)
            found[spec.name] = target
        missing = []
    if missing:
        names = ", ".join(s.name for s in missing)
        urls = "; ".join(u for s in missing for u in s.urls[:1])
        where = "\n  ".join(str(d) for d in dirs)
        raise DataNotFoundError(
            f"dataset {dataset!r}: missing file(s) {names}. Searched:\n  {where}\n"
            f"Place the files in one of these folders (or pass root=DIR / --data-option "
            f"root=DIR), set {DATA_ENV} to a folder holding {dataset}/, or pass "
            f"download=True (--data-option download=true) to fetch them"
            + (f" from {urls}" if urls else "")
        )
    return found
