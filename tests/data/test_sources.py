"""Data sources: search folders, verified atomic downloads, offline errors, safe extraction."""

import hashlib
import io
import tarfile
import zipfile
from urllib.error import URLError

import pytest

from fairdg.data import sources
from fairdg.data.sources import (
    ChecksumError,
    DataNotFoundError,
    RemoteFile,
    UnsafeArchiveError,
    extract_archive,
    locate,
)

CONTENT = b"some data\n"
SPEC = RemoteFile(
    "a.txt",
    md5=hashlib.md5(CONTENT).hexdigest(),
    urls=("https://mirror-1.invalid/a.txt", "https://mirror-2.invalid/a.txt"),
)


class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _fake_urlopen(payloads):
    calls = []

    def urlopen(url, timeout=None):
        calls.append(url)
        payload = payloads.get(url)
        if payload is None:
            raise URLError("offline")
        return _Response(payload)

    return urlopen, calls


def test_download_tries_mirrors_verifies_and_never_refetches(monkeypatch, tmp_path):
    urlopen, calls = _fake_urlopen({SPEC.urls[0]: b"corrupt", SPEC.urls[1]: CONTENT})
    monkeypatch.setattr(sources.urllib.request, "urlopen", urlopen)
    paths = locate("toy", [SPEC], download=True)
    assert paths["a.txt"].read_bytes() == CONTENT and calls == list(SPEC.urls)
    assert paths["a.txt"].parent == sources.cache_dir() / "toy"
    assert not list(paths["a.txt"].parent.glob("*.part"))  # temporary files are removed
    locate("toy", [SPEC], download=True)
    assert len(calls) == 2  # a verified file is not downloaded again


def test_offline_download_error_lists_every_mirror(monkeypatch):
    urlopen, _ = _fake_urlopen({})
    monkeypatch.setattr(sources.urllib.request, "urlopen", urlopen)
    with pytest.raises(DataNotFoundError, match="could not download a.txt.*mirror-1.*mirror-2"):
        locate("toy", [SPEC], download=True)
    assert not (sources.cache_dir() / "toy" / "a.txt").exists()


def test_missing_error_names_folders_files_and_env(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRDG_DATA", str(tmp_path / "shared"))
    with pytest.raises(DataNotFoundError) as err:
        locate("toy", [SPEC])
    message = str(err.value)
    for expected in (
        "a.txt",
        str(tmp_path / "shared" / "toy"),
        str(sources.cache_dir()),
        "FAIRDG_DATA",
        "download=True",
        SPEC.urls[0],
    ):
        assert expected in message


def test_corrupt_local_file_is_reported_not_replaced(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"other")
    with pytest.raises(ChecksumError, match="a.txt does not match its expected checksum"):
        locate("toy", [SPEC], root=tmp_path)
    assert (tmp_path / "a.txt").read_bytes() == b"other"


def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _tar(path, members, link=None):
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if link:
            info = tarfile.TarInfo(link[0])
            info.type, info.linkname = tarfile.SYMTYPE, link[1]
            tf.addfile(info)
    return path


def test_extract_zip_and_tar(tmp_path):
    good = {"top.txt": b"1", "sub/dir/f.txt": b"2"}
    for maker, name in ((_zip, "a.zip"), (_tar, "a.tar.gz")):
        dest = tmp_path / ("out-" + name)
        files = extract_archive(maker(tmp_path / name, good), dest)
        assert sorted(p.relative_to(dest.resolve()).as_posix() for p in files) == sorted(good)
        assert (dest / "sub" / "dir" / "f.txt").read_bytes() == b"2"


@pytest.mark.parametrize("member", ["../evil.txt", "a/../../evil.txt", "/tmp/evil.txt"])
@pytest.mark.parametrize("maker", [_zip, _tar])
def test_path_traversal_refused(tmp_path, member, maker):
    archive = maker(tmp_path / "bad.archive", {"ok.txt": b"1", member: b"x"})
    dest = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match="refusing"):
        extract_archive(archive, dest)
    assert not (tmp_path / "evil.txt").exists() and not (dest / "ok.txt").exists()


def test_links_refused(tmp_path):
    archive = _tar(tmp_path / "l.tar.gz", {"ok.txt": b"1"}, link=("ln", "/etc/passwd"))
    with pytest.raises(UnsafeArchiveError, match="link"):
        extract_archive(archive, tmp_path / "out")


def test_not_an_archive(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"plain")
    with pytest.raises(ValueError, match="neither a zip nor a tar"):
        extract_archive(tmp_path / "x.bin", tmp_path / "out")
