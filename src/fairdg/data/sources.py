"""Where data files come from: a local folder, ``$FAIRDG_DATA``, the cache, or a download.

One mechanism for every downloadable dataset. A `RemoteFile` names a file, its checksum (of the
file's bytes, or of its decompressed bytes for ``.gz`` files when ``checksum_of="uncompressed"``)
and the mirror URLs to try. `locate` looks in the ``root`` given by the user (``root`` and
``root/<dataset>``, and nowhere else when a root is given), otherwise in
``$FAIRDG_DATA/<dataset>/`` then the cache ``$FAIRDG_CACHE/<dataset>/`` (default
``~/.cache/fairdg``); with ``download=True`` it fetches missing files into the cache through a
temporary file that is verified before it is renamed into place. A file that verifies is never
downloaded again. `extract_archive` unpacks zip and tar archives, refusing members that would
land outside the target folder (absolute paths, ``..``, links, device files).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fairdg.datasets_info import CACHE_ENV, DATA_ENV, cache_dir, search_dirs  # noqa: F401


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


# -- archives --------------------------------------------------------------------------------
class UnsafeArchiveError(ValueError):
    """Raised when an archive member would land outside the extraction folder."""


def _safe_target(dest: Path, member: str) -> Path:
    """The path of `member` under `dest`; refuses absolute paths and ``..`` escapes."""
    if member.startswith(("/", "\\")) or (len(member) > 1 and member[1] == ":"):
        raise UnsafeArchiveError(f"archive member {member!r} has an absolute path; refusing")
    target = (dest / member).resolve()
    if target != dest and dest not in target.parents:
        raise UnsafeArchiveError(
            f"archive member {member!r} would be written outside {dest}; refusing"
        )
    return target


def extract_archive(archive: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """Extract a ``.zip`` or ``.tar[.gz|.bz2|.xz]`` archive into `dest`, safely.

    Every member is checked before anything is written: absolute paths, ``..`` components that
    leave `dest`, links (symbolic or hard) and device files are refused with
    `UnsafeArchiveError`. Files are extracted into a temporary folder next to `dest` and moved
    into place, so an interrupted extraction leaves no partial files behind.

    Returns
    -------
    The extracted file paths.
    """
    archive, dest = Path(archive), Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    dest = dest.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for info in members:
                _safe_target(dest, info.filename)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise UnsafeArchiveError(f"archive member {info.filename!r} is a link")
            with tempfile.TemporaryDirectory(dir=dest, prefix=".extract-") as tmp:
                zf.extractall(tmp)
                return _move_into(Path(tmp), dest, [m.filename for m in members if not m.is_dir()])
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            entries = tf.getmembers()
            for entry in entries:
                _safe_target(dest, entry.name)
                if not (entry.isfile() or entry.isdir()):
                    raise UnsafeArchiveError(
                        f"archive member {entry.name!r} is a link or special file; refusing"
                    )
            with tempfile.TemporaryDirectory(dir=dest, prefix=".extract-") as tmp:
                tf.extractall(tmp, members=entries, filter="data")
                return _move_into(Path(tmp), dest, [m.name for m in entries if m.isfile()])
    raise ValueError(f"{archive} is neither a zip nor a tar archive")


def _move_into(tmp: Path, dest: Path, names: list[str]) -> list[Path]:
    out = []
    for name in names:
        target = _safe_target(dest, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / name, target)
        out.append(target)
    return out
