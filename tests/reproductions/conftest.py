"""Fixtures of the experiment tests: fake MNIST and SVHN files (the writers of tests/data)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))

from data_fakes import write_fake_mnist, write_fake_svhn  # noqa: E402

from fairdg.data import mnist, svhn  # noqa: E402


@pytest.fixture
def fake_digit_files(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """``(mnist_root, svhn_root)``: small fake files in the real formats, checksums off."""
    monkeypatch.setattr(mnist, "FILES", tuple(replace(f, md5=None) for f in mnist.FILES))
    monkeypatch.setattr(svhn, "FILES", tuple(replace(f, md5=None) for f in svhn.FILES))
    return (
        write_fake_mnist(tmp_path / "mnist", 400, 100),
        write_fake_svhn(tmp_path / "svhn", 200, 60),
    )
