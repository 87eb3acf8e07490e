"""MNIST IDX reading, MNIST-I and MNIST-R, on fake IDX files and on the reference copy."""

import math

import numpy as np
import pytest
import torch
from data_fakes import write_fake_mnist, write_idx

from fairdg.data import load_dataset
from fairdg.data.mnist import load_arrays, read_idx
from fairdg.data.sources import ChecksumError, DataNotFoundError
from fairdg.data.transforms import rotate

TRAIN_HISTOGRAM = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_reference_mnist_counts_and_label_histogram(reference_data):
    (train_x, train_y), (test_x, test_y), paths = load_arrays(reference_data / "mnist")
    assert train_x.shape == (60_000, 28, 28) and test_x.shape == (10_000, 28, 28)
    assert np.bincount(train_y).tolist() == TRAIN_HISTOGRAM
    assert np.bincount(test_y).tolist() == TEST_HISTOGRAM
    assert train_x.dtype == np.uint8 and train_x.max() == 255


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_gz_or_raw(tmp_path, compress):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / "a-idx3-ubyte", array, compress)
    assert np.array_equal(read_idx(path), array)


def test_read_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x00\x00\x0d\x01" + b"\x00\x00\x00\x02" + b"ab")
    with pytest.raises(ValueError, match="not an unsigned-byte IDX"):
        read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00\x08\x01" + b"\x00\x00\x00\x05" + b"ab")
    with pytest.raises(ValueError, match="header says shape"):
        read_idx(short)


def test_checksum_failure_names_the_file(tmp_path):
    root = write_fake_mnist(tmp_path / "mnist", n_train=20, n_test=10)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz.*checksum"):
        load_dataset("mnist-inverted", root=root)


def test_missing_files_error_names_folders_and_files(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("ccmnist", root=tmp_path)
    message = str(err.value)
    for expected in (
        "train-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        str(tmp_path),
        "download=True",
    ):
        assert expected in message


def test_mnist_inverted_both_copies(fake_mnist):
    ds = load_dataset("mnist-inverted", root=fake_mnist)
    (d,) = ds.domains
    assert len(d) == 2 * 800 and ds.input_shape == (784,) and ds.num_classes == 10
    half = len(d) // 2
    assert d.z[:half].eq(0).all() and d.z[half:].eq(1).all()
    assert torch.allclose(d.x[half:], 1 - d.x[:half]) and torch.equal(d.y[half:], d.y[:half])
    assert int(d.test_mask.sum()) == 2 * 200 and d.x.min() >= 0 and d.x.max() <= 1
    assert ds.default_hparams["mlp_depth"] == 2
    split = ds.split(0)
    assert len(split.parts["mnist+inverted"]["test"]) == 400


def test_mnist_inverted_options(fake_mnist):
    ds = load_dataset(
        "mnist-inverted", root=fake_mnist, mode="random", n_train=100, n_test=50, flatten=False
    )
    (d,) = ds.domains
    assert len(d) == 150 and ds.input_shape == (1, 28, 28)
    assert 0.3 < d.z.float().mean() < 0.7
    # inverted images have a bright background
    corner = d.x[:, 0, 0, 0]
    assert torch.equal(corner > 0.5, d.z.bool())
    with pytest.raises(ValueError, match="n_train must be an integer in \\[1, 600\\]"):
        load_dataset("mnist-inverted", root=fake_mnist, n_train=10**6)
    with pytest.raises(ValueError, match="mode must be 'both' or 'random'.*'half'"):
        load_dataset("mnist-inverted", root=fake_mnist, mode="half")


def test_mnist_rotated_few_shot_rows_always_trained_on(fake_mnist):
    ds = load_dataset(
        "mnist-rotated", root=fake_mnist, n_source=300, target_labeled_per_class=3, target_repeat=2
    )
    (d,) = ds.domains
    assert ds.group_names == ["source", "target"]
    split = ds.split(seed=1)
    train, val, test = (split.parts["mnist->rotated"][p] for p in ("train", "val", "test"))
    assert int(train.z.sum()) == 3 * 10 * 2  # every labelled target row (repeated twice)
    assert torch.bincount(train.y[train.z == 1]).tolist() == [6] * 10
    assert val.z.eq(0).all() and len(val) == int(0.2 * 300)
    assert test.z.eq(1).all() and len(test) == 200  # the whole rotated test set
    with pytest.raises(ValueError, match="target_labeled_per_class must be an integer >= 0"):
        load_dataset("mnist-rotated", root=fake_mnist, target_labeled_per_class=-1)


def test_rotation_direction_and_inverse():
    img = torch.zeros(1, 1, 28, 28)
    img[0, 0, 2:5, 13:15] = 1  # a mark at the top
    rows, cols = (rotate(img, 90)[0, 0] > 0.5).nonzero().float().mean(0)
    assert abs(rows - 13.5) < 1 and cols < 6  # counter-clockwise: the mark moves left
    # smooth images: +30 then -30 degrees restores the inside of the disc
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    g = torch.Generator().manual_seed(0)
    centres = torch.rand(8, 3, 2, generator=g) * 12 + 8
    blobs = sum(
        torch.exp(
            -((yy - centres[:, k, 0, None, None]) ** 2 + (xx - centres[:, k, 1, None, None]) ** 2)
            / 18
        )
        for k in range(3)
    )
    images = blobs.unsqueeze(1)
    back = rotate(rotate(images, 30), -30)
    disc = ((yy - 13.5) ** 2 + (xx - 13.5) ** 2) < 10**2
    error = (back - images)[:, 0][:, disc].abs().max()
    assert error < 0.05 * images.max()
    assert not torch.allclose(rotate(images, 30)[:, 0][:, disc], images[:, 0][:, disc], atol=0.05)


def test_reference_rotation_inverse_on_real_digits(reference_data):
    (train_x, _), _, _ = load_arrays(reference_data / "mnist")
    images = torch.from_numpy(train_x[:200]).unsqueeze(1).float() / 255
    back = rotate(rotate(images, 30), -30)
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    disc = ((yy - 13.5) ** 2 + (xx - 13.5) ** 2) < 10**2
    # bilinear resampling twice blurs sharp strokes: compare mean absolute error
    error = (back - images)[:, 0][:, disc].abs().mean()
    assert error < 0.06, error
    assert math.isfinite(float(error))
