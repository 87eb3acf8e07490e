"""Fixtures of the dataset tests: fake MNIST files and disabled checksums."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from data_fakes import write_fake_mnist

from fairdg.data import mnist, svhn


@pytest.fixture
def unverified_mnist(monkeypatch):
    """Accept fake MNIST files: the loaders' file specs without checksums."""
    monkeypatch.setattr(mnist, "FILES", tuple(replace(f, md5=None) for f in mnist.FILES))


@pytest.fixture
def fake_mnist(tmp_path, unverified_mnist) -> Path:
    """A folder of small fake MNIST IDX files (600 train, 200 test), checksums disabled."""
    return write_fake_mnist(tmp_path / "mnist")


@pytest.fixture
def unverified_svhn(monkeypatch):
    """Accept fake SVHN files: the loader's file specs without checksums."""
    monkeypatch.setattr(svhn, "FILES", tuple(replace(f, md5=None) for f in svhn.FILES))
