"""The SVHN loader on generated .mat files in the official layout."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import scipy.io
import torch
from data_fakes import write_fake_mnist, write_fake_svhn

from fairdg.data import load_dataset, svhn
from fairdg.data.sources import ChecksumError, DataNotFoundError


def test_reads_the_official_layout(tmp_path, unverified_svhn, unverified_mnist):
    root = write_fake_svhn(tmp_path / "svhn", n_train=30, n_test=20)
    raw = scipy.io.loadmat(root / "train_32x32.mat")
    images, digits = svhn.read_mat(root / "train_32x32.mat")
    assert images.shape == (30, 3, 32, 32) and images.dtype == np.uint8
    # channel c, row r, column k of image i is X[r, k, c, i]
    assert images[7, 2, 5, 9] == raw["X"][5, 9, 2, 7]
    labels = raw["y"].ravel()
    assert set(digits[labels == 10]) == {0}  # label 10 is the digit 0
    assert np.array_equal(digits[labels != 10], labels[labels != 10])


def test_svhn_to_mnist_dataset(tmp_path, unverified_svhn, unverified_mnist):
    root = write_fake_svhn(tmp_path / "svhn", n_train=30, n_test=20)
    mnist_root = write_fake_mnist(tmp_path / "mnist", 100, 40)
    ds = load_dataset(
        "svhn", root=str(root), mnist_root=str(mnist_root), target_labeled_per_class=3
    )
    (domain,) = ds.domains
    assert ds.input_shape == (3, 32, 32) and ds.num_classes == 10
    assert len(domain) == 30 + 30 + 40 and int(domain.test_mask.sum()) == 40
    assert int(domain.train_mask.sum()) == 30
    # source rows are SVHN (z = 0); target and test rows are MNIST (z = 1), grey in 3 channels
    assert domain.z[:30].sum() == 0 and bool(domain.z[30:].eq(1).all())
    mnist_rows = domain.x[30:]
    assert torch.equal(mnist_rows[:, 0], mnist_rows[:, 2])
    assert torch.bincount(domain.y[domain.train_mask], minlength=10).tolist() == [3] * 10
    assert 0.0 <= float(domain.x.min()) and float(domain.x.max()) == 1.0
    split = ds.split(seed=0)
    assert len(split.parts["svhn->mnist"]["test"]) == 40
    small = load_dataset(
        "svhn",
        root=str(root),
        mnist_root=str(mnist_root),
        n_source=10,
        n_test=5,
        target_labeled_per_class=5,
    )
    assert len(small.domains[0]) == 10 + 50 + 5
    with pytest.raises(ValueError, match="n_source"):
        load_dataset("svhn", root=str(root), mnist_root=str(mnist_root), n_source=31)


def test_checksums_are_the_official_ones(tmp_path):
    assert [f.md5 for f in svhn.FILES] == [
        "e26dedcc434d2e4c54c9b2d4a06d8373",
        "eb5a983be6a315427106f1b164d9cef3",
    ]
    root = write_fake_svhn(tmp_path / "svhn", n_train=10, n_test=10)
    digest = hashlib.md5((root / "train_32x32.mat").read_bytes()).hexdigest()
    assert digest != svhn.FILES[0].md5
    with pytest.raises(ChecksumError, match="train_32x32.mat"):
        load_dataset("svhn", root=str(root))


def test_missing_files_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("FAIRDG_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("FAIRDG_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError) as caught:
        load_dataset("svhn")
    message = str(caught.value)
    assert "train_32x32.mat" in message and str(tmp_path / "data" / "svhn") in message
    assert "ufldl.stanford.edu" in message


@pytest.mark.parametrize("change, match", [("labels", "1 to 10"), ("shape", "32, 32, 3")])
def test_bad_files_name_the_file(tmp_path, change, match):
    x = np.zeros((32, 32, 3, 4), dtype=np.uint8)
    y = np.array([[1], [2], [10], [3]], dtype=np.uint8)
    if change == "labels":
        y[0, 0] = 0
    else:
        x = x[:, :, :1]
    scipy.io.savemat(tmp_path / "bad.mat", {"X": x, "y": y})
    with pytest.raises(ValueError, match=match) as caught:
        svhn.read_mat(tmp_path / "bad.mat")
    assert "bad.mat" in str(caught.value)
