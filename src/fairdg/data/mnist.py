"""MNIST (LeCun, Cortes, Burges; CC BY-SA 3.0) and the affinity paper's variants.

The four IDX files (gzipped or not) are found by `fairdg.data.sources.locate` in ``root``,
``$FAIRDG_DATA/mnist/`` or the cache, and checked against the md5 of their uncompressed bytes.

- ``mnist-inverted`` (affinity paper, section 2.1): MNIST together with MNIST-I, "all original
  MNIST images, but inverted" (1 - x on the [0, 1] scale). Target: the digit (10 classes);
  z = 1 for an inverted image. One domain, ``mnist+inverted``; with ``mode="both"`` (default,
  the paper) every image appears twice, once as it is and once inverted; ``mode="random"``
  keeps each image once, inverted with probability 1/2. The official 10,000 test images (and
  their inverted copies) form the test split.
- ``mnist-rotated`` (affinity paper, section 4, few-shot domain adaptation): source MNIST,
  target MNIST-R (rotated by ``angle`` degrees, bilinear, zero fill), z = 0 source / 1 target,
  which the affinity loss uses as its "sensitive" attribute. One domain, ``mnist->rotated``:
  ``n_source`` source training images plus ``target_labeled_per_class`` rotated training images
  per class, all always trained on (the few target rows are never moved to validation); the
  validation split comes from the source rows; the test split is the full rotated test set (so
  ``test.accuracy`` of a run is the accuracy on MNIST-R). Source and target training images are
  disjoint draws of the 60,000 training images.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.sources import RemoteFile, locate
from fairdg.data.transforms import invert, rotate
from fairdg.datasets_info import DATASET_INFO
from fairdg.datasets_info import MNIST_MD5 as _MD5

_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FILES = tuple(
    RemoteFile(
        name,
        md5=md5,
        urls=tuple(m + name + ".gz" for m in _MIRRORS),
        alternatives=(name + ".gz",),
        checksum_of="uncompressed",
    )
    for name, md5 in _MD5.items()
)
CLASS_NAMES = [str(d) for d in range(10)]
SOURCE = "MNIST (LeCun, Cortes, Burges), CC BY-SA 3.0"


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) of unsigned bytes into a uint8 array.

    Raises
    ------
    ValueError
        When the header is not an unsigned-byte IDX header or the size disagrees with it.
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    if len(raw) < 4:
        raise ValueError(f"{path}: too short for an IDX file ({len(raw)} bytes)")
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {raw[:4].hex()})")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise ValueError(
            f"{path}: header says shape {shape} but the file holds "
            f"{len(raw) - offset} bytes of data"
        )
    # a writable copy: torch refuses to share read-only buffers without a warning
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape).copy()


def load_arrays(root=None, download: bool = False):
    """The raw MNIST arrays and their paths.

    Returns
    -------
    ``((train_images, train_labels), (test_images, test_labels), paths)``; images uint8
    (N, 28, 28), labels uint8 (N,).
    """
    paths = locate("mnist", FILES, root=root, download=download)
    arrays = {name: read_idx(path) for name, path in paths.items()}
    train = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    test = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
    for images, labels in (train, test):
        if len(images) != len(labels):
            raise ValueError(f"MNIST images and labels disagree: {len(images)} vs {len(labels)}")
    return train, test, paths


def to_float(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) -> float32 (N, 1, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1).float().div_(255.0)


def subsample(n_total: int, n: int | None, generator: torch.Generator, what: str) -> torch.Tensor:
    """Sorted random indices of `n` of `n_total` rows (all rows when `n` is None)."""
    if n is None:
        return torch.arange(n_total)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= n_total:
        raise ValueError(f"{what} must be an integer in [1, {n_total}] or None, got {n!r}")
    return torch.sort(torch.randperm(n_total, generator=generator)[:n]).values


def _shape(x: torch.Tensor, flatten: bool) -> torch.Tensor:
    return x.flatten(1) if flatten else x


def load_mnist_inverted(
    root: str | None = None,
    *,
    mode: str = "both",
    n_train: int | None = None,
    n_test: int | None = None,
    flatten: bool = True,
    seed: int = 0,
    download: bool = False,
) -> MultiDomainDataset:
    """MNIST + MNIST-I: predict the digit; z = inverted (1) or original (0).

    Parameters
    ----------
    root
        Folder holding the four IDX files (default: ``$FAIRDG_DATA/mnist`` or the cache).
    mode
        ``"both"`` (the paper): every image once as it is and once inverted; ``"random"``:
        every image once, inverted with probability 1/2 (seeded).
    n_train, n_test
        Use a random subset of that many MNIST training / test images (None: all 60,000 /
        10,000); with ``mode="both"`` the dataset holds twice as many rows.
    flatten
        Features as 784-vectors (the paper's MLP 784-128-128-20); False keeps (1, 28, 28).
    seed
        Seed of the subsets and of the random inversion.
    download
        Fetch missing files from the MNIST mirrors into the cache.
    """
    if mode not in ("both", "random"):
        raise ValueError(f"mnist-inverted: mode must be 'both' or 'random', got {mode!r}")
    (train_x, train_y), (test_x, test_y), paths = load_arrays(root, download)
    g = torch.Generator().manual_seed(seed)
    i_train = subsample(len(train_y), n_train, g, "n_train")
    i_test = subsample(len(test_y), n_test, g, "n_test")
    x = to_float(np.concatenate([train_x[i_train.numpy()], test_x[i_test.numpy()]]))
    y = torch.from_numpy(np.concatenate([train_y[i_train.numpy()], test_y[i_test.numpy()]]))
    is_test = torch.cat(
        [torch.zeros(len(i_train), dtype=torch.bool), torch.ones(len(i_test), dtype=torch.bool)]
    )
    if mode == "both":
        x = torch.cat([x, invert(x)])
        y, is_test = torch.cat([y, y]), torch.cat([is_test, is_test])
        z = torch.cat(
            [torch.zeros(len(y) // 2, dtype=torch.long), torch.ones(len(y) // 2, dtype=torch.long)]
        )
    else:
        z = (torch.rand(len(y), generator=g) < 0.5).long()
        flip = z.bool()
        x[flip] = invert(x[flip])
    domain = Domain("mnist+inverted", _shape(x, flatten), y.long(), z, test_mask=is_test)
    return MultiDomainDataset(
        name="mnist-inverted",
        domains=[domain],
        input_shape=tuple(domain.x.shape[1:]),
        class_names=CLASS_NAMES,
        group_names=["original", "inverted"],
        sensitive_name="inverted",
        default_steps=DATASET_INFO["mnist-inverted"].default_steps,
        default_hparams=dict(DATASET_INFO["mnist-inverted"].default_hparams),
        meta={
            "source": SOURCE,
            "construction": "affinity paper 2.1 (MNIST + MNIST-I)",
            "mode": mode,
            "files": {k: str(v) for k, v in paths.items()},
        },
    )


def few_per_class(labels: torch.Tensor, k: int, order: torch.Tensor) -> torch.Tensor:
    """The first `k` indices of each class along the random `order`."""
    picked = []
    ranked = labels[order]
    for c in range(10):
        members = order[ranked == c][:k]
        if len(members) < k:
            raise ValueError(
                f"target_labeled_per_class={k} but class {c} has only "
                f"{len(members)} training images"
            )
        picked.append(members)
    return torch.sort(torch.cat(picked)).values


def load_mnist_rotated(
    root: str | None = None,
    *,
    angle: float = 30.0,
    n_source: int | None = 10_000,
    target_labeled_per_class: int = 20,
    target_repeat: int = 1,
    flatten: bool = True,
    seed: int = 0,
    download: bool = False,
) -> MultiDomainDataset:
    """MNIST -> MNIST-R few-shot adaptation; z = 0 source, 1 target (rotated).

    Parameters
    ----------
    angle
        Rotation of the target domain in degrees (counter-clockwise; the paper: 30).
    n_source
        Source (unrotated) training images (the paper's Table 6: 1,000 or 10,000; None: all
        those not used as target samples).
    target_labeled_per_class
        Labelled rotated training images per class, always in the training split (the paper:
        20, i.e. 200 target samples); 0 trains on the source only.
    target_repeat
        Repeat each labelled target row this many times in the training split, so that uniform
        minibatches hold more target samples (1: no repetition).
    flatten, seed, download
        As for ``mnist-inverted``.
    """
    k = target_labeled_per_class
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise ValueError(
            f"mnist-rotated: target_labeled_per_class must be an integer >= 0, got {k!r}"
        )
    if not isinstance(target_repeat, int) or target_repeat < 1:
        raise ValueError(
            f"mnist-rotated: target_repeat must be an integer >= 1, got {target_repeat!r}"
        )
    (train_x, train_y), (test_x, test_y), paths = load_arrays(root, download)
    g = torch.Generator().manual_seed(seed)
    labels = torch.from_numpy(train_y.astype(np.int64))
    order = torch.randperm(len(labels), generator=g)
    target_i = few_per_class(labels, k, order) if k else torch.zeros(0, dtype=torch.long)
    rest = order[~torch.isin(order, target_i)]
    source_i = rest[subsample(len(rest), n_source, g, "n_source")]
    source_i = torch.sort(source_i).values
    target_i = target_i.repeat(target_repeat)

    source_x = to_float(train_x[source_i.numpy()])
    target_x = rotate(to_float(train_x[target_i.numpy()]), angle)
    test_rot = rotate(to_float(test_x), angle)
    x = torch.cat([source_x, target_x, test_rot])
    y = torch.cat([labels[source_i], labels[target_i], torch.from_numpy(test_y.astype(np.int64))])
    n_s, n_t, n_test = len(source_i), len(target_i), len(test_y)
    z = torch.cat([torch.zeros(n_s, dtype=torch.long), torch.ones(n_t + n_test, dtype=torch.long)])
    test_mask = torch.zeros(len(y), dtype=torch.bool)
    test_mask[n_s + n_t :] = True
    train_mask = torch.zeros(len(y), dtype=torch.bool)
    train_mask[n_s : n_s + n_t] = True
    domain = Domain(
        "mnist->rotated", _shape(x, flatten), y, z, test_mask=test_mask, train_mask=train_mask
    )
    return MultiDomainDataset(
        name="mnist-rotated",
        domains=[domain],
        input_shape=tuple(domain.x.shape[1:]),
        class_names=CLASS_NAMES,
        group_names=["source", "target"],
        sensitive_name="domain (source MNIST / target MNIST-R)",
        default_steps=DATASET_INFO["mnist-rotated"].default_steps,
        default_hparams=dict(DATASET_INFO["mnist-rotated"].default_hparams),
        meta={
            "source": SOURCE,
            "construction": f"affinity paper 4: MNIST -> rotated {angle} deg",
            "target_train_rows": n_t,
            "source_train_rows": n_s,
            "files": {k: str(v) for k, v in paths.items()},
        },
    )
