"""SVHN, the Street View House Numbers (Netzer et al. 2011), cropped digits (format 2).

The official ``train_32x32.mat`` and ``test_32x32.mat`` (MATLAB v5 files) are found by
`fairdg.data.sources.locate` in ``root``, ``$FAIRDG_DATA/svhn/`` or the cache and checked against
their md5; ``download=True`` fetches them from http://ufldl.stanford.edu/housenumbers/. Each file
holds ``X`` (32, 32, 3, N) uint8 and ``y`` (N, 1) with labels 1 to 10, where 10 means the digit 0.
Read with ``scipy.io.loadmat``; images become float (N, 3, 32, 32) in [0, 1].

``svhn`` (affinity paper, section 4): SVHN -> MNIST few-shot domain adaptation, built like
``mnist-rotated``: SVHN training images (source, z = 0) plus a few labelled MNIST training
images per digit (target, z = 1; MNIST resized to 32 x 32 and replicated to three channels), the
MNIST test set as test split. The extra 531,131 images (``extra_32x32.mat``) are not used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
import torch

from fairdg.data import mnist
from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.mnist import few_per_class, subsample, to_float
from fairdg.data.sources import RemoteFile, locate
from fairdg.data.transforms import resize_rgb
from fairdg.datasets_info import DATASET_INFO, SVHN_CNN_HPARAMS, SVHN_MD5

_URL = "http://ufldl.stanford.edu/housenumbers/"
FILES = tuple(RemoteFile(name, md5=md5, urls=(_URL + name,)) for name, md5 in SVHN_MD5.items())
CLASS_NAMES = [str(d) for d in range(10)]
CNN_HPARAMS = SVHN_CNN_HPARAMS
SOURCE = "SVHN (Netzer, Wang, Coates, Bissacco, Wu, Ng 2011), non-commercial use"


def read_mat(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, 3, 32, 32) and digits int64 (N,) of an SVHN ``*_32x32.mat`` file.

    Raises
    ------
    ValueError
        Naming the file when ``X`` or ``y`` is missing, has another shape, or a label is
        outside 1 to 10.
    """
    path = Path(path)
    try:
        mat = scipy.io.loadmat(path)
    except (ValueError, NotImplementedError, OSError) as error:
        raise ValueError(f"{path}: not a readable MATLAB file ({error})") from error
    if "X" not in mat or "y" not in mat:
        raise ValueError(f"{path}: expected the variables X and y, found {sorted(mat)}")
    x, y = mat["X"], np.asarray(mat["y"]).reshape(-1)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.shape[3] != len(y):
        raise ValueError(
            f"{path}: X must have shape (32, 32, 3, N) with N = len(y) = {len(y)}, got {x.shape}"
        )
    if len(y) and (y.min() < 1 or y.max() > 10):
        raise ValueError(
            f"{path}: labels must be 1 to 10 (10 = digit 0), got {y.min()}..{y.max()}"
        )
    images = np.ascontiguousarray(x.transpose(3, 2, 0, 1)).astype(np.uint8)
    return images, (y.astype(np.int64) % 10)


def load_arrays(root=None, download: bool = False):
    """``((train_images, train_digits), (test_images, test_digits), paths)``; images uint8
    (N, 3, 32, 32), digits 0-9."""
    paths = locate("svhn", FILES, root=root, download=download)
    train = read_mat(paths["train_32x32.mat"])
    test = read_mat(paths["test_32x32.mat"])
    return train, test, paths


def mnist_target(
    images: np.ndarray, labels: np.ndarray, per_class: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """`per_class` random MNIST images of each digit as SVHN-shaped floats (N, 3, 32, 32)."""
    y = torch.from_numpy(labels.astype(np.int64))
    order = torch.randperm(len(y), generator=generator)
    picked = few_per_class(y, per_class, order) if per_class else order[:0]
    return resize_rgb(to_float(images[picked.numpy()])), y[picked]


def load_svhn(
    root: str | None = None,
    *,
    mnist_root: str | None = None,
    n_source: int | None = None,
    target_labeled_per_class: int = 20,
    n_test: int | None = None,
    seed: int = 0,
    download: bool = False,
) -> MultiDomainDataset:
    """SVHN -> MNIST few-shot adaptation; z = 0 source (SVHN), 1 target (MNIST).

    One domain ``svhn->mnist``: ``n_source`` SVHN training images plus
    ``target_labeled_per_class`` MNIST training images per digit (always trained on), MNIST
    resized to 32 x 32 and replicated to three channels; the test split is the MNIST test set
    (``test.accuracy`` of a run is the accuracy on MNIST). The SVHN test images are read by the
    ``affinity-da-svhn`` reproduction for the source column of Table 7.

    Parameters
    ----------
    root
        Folder holding ``train_32x32.mat`` and ``test_32x32.mat`` (default:
        ``$FAIRDG_DATA/svhn`` or the cache).
    mnist_root
        Folder of the four MNIST files (default: ``$FAIRDG_DATA/mnist`` or the cache).
    n_source
        Random subset of the 73,257 SVHN training images (None: all).
    target_labeled_per_class
        Labelled MNIST training images per digit (0: SVHN only).
    n_test
        Random subset of the 10,000 MNIST test images (None: all).
    seed
        Seed of the subsets.
    download
        Fetch missing SVHN files from http://ufldl.stanford.edu/housenumbers/ (and MNIST files
        from its mirrors) into the cache.
    """
    k = target_labeled_per_class
    if not isinstance(k, int) or isinstance(k, bool) or k < 0:
        raise ValueError(f"svhn: target_labeled_per_class must be an integer >= 0, got {k!r}")
    (svhn_x, svhn_y), _, paths = load_arrays(root, download)
    (m_train_x, m_train_y), (m_test_x, m_test_y), m_paths = mnist.load_arrays(mnist_root, download)
    g = torch.Generator().manual_seed(seed)
    i_source = subsample(len(svhn_y), n_source, g, "svhn: n_source").numpy()
    target_x, target_y = mnist_target(m_train_x, m_train_y, k, g)
    i_test = subsample(len(m_test_y), n_test, g, "svhn: n_test").numpy()
    test_x = resize_rgb(to_float(m_test_x[i_test]))
    x = torch.cat([torch.from_numpy(svhn_x[i_source]).float().div_(255.0), target_x, test_x])
    y = torch.cat(
        [
            torch.from_numpy(svhn_y[i_source]),
            target_y,
            torch.from_numpy(m_test_y[i_test].astype(np.int64)),
        ]
    )
    n_s, n_t = len(i_source), len(target_y)
    z = torch.cat([torch.zeros(n_s, dtype=torch.long), torch.ones(len(y) - n_s, dtype=torch.long)])
    test_mask = torch.zeros(len(y), dtype=torch.bool)
    test_mask[n_s + n_t :] = True
    train_mask = torch.zeros(len(y), dtype=torch.bool)
    train_mask[n_s : n_s + n_t] = True
    domain = Domain("svhn->mnist", x, y, z, test_mask=test_mask, train_mask=train_mask)
    return MultiDomainDataset(
        name="svhn",
        domains=[domain],
        input_shape=tuple(x.shape[1:]),
        class_names=CLASS_NAMES,
        group_names=["source", "target"],
        sensitive_name="domain (source SVHN / target MNIST)",
        default_steps=DATASET_INFO["svhn"].default_steps,
        default_hparams=dict(DATASET_INFO["svhn"].default_hparams),
        meta={
            "source": f"{SOURCE}; {mnist.SOURCE}",
            "construction": "affinity paper 4: SVHN -> MNIST (32 x 32 x 3); label 10 -> 0",
            "target_train_rows": n_t,
            "source_train_rows": n_s,
            "files": {k: str(v) for k, v in {**paths, **m_paths}.items()},
        },
    )
