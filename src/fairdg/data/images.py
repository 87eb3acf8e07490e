"""Image folders: decode with Pillow once, cache a uint8 array, convert to float tensors.

Shared by FairFace, CelebA and YFCC100M-FDG. `decode_images` centre-crops every image to a
square, resizes it to ``size x size`` (bilinear) and writes the uint8 pixels, one image at a
time, into ``<cache>/<dataset>/images-<size>px-<key>.npy`` (``key`` hashes the image list, the
files' sizes and modification times, and the size), through a temporary file renamed into
place. Later loads map that file instead of decoding again.

Memory: `to_float` returns the images as a float32 tensor in [0, 1]. When that tensor would
exceed ``memory_limit_gb`` it is written to a float32 file next to the uint8 cache and
memory-mapped, so the loaded dataset is paged in from disk as it is read rather than held in
RAM. (`MultiDomainDataset.split` copies the rows of each part, so training a model still needs
the parts in memory; subsample with the loaders' ``max_per_domain`` or lower ``size`` for data
larger than memory.)
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.sources import cache_dir

DEFAULT_MEMORY_LIMIT_GB = 4.0


def _pillow():
    try:
        from PIL import Image
    except ImportError as err:  # pragma: no cover - pillow is a dependency
        raise ImportError("image datasets need Pillow: pip install pillow") from err
    return Image


def _key(paths: Sequence[Path], size: int) -> str:
    h = hashlib.sha1(f"{size}".encode())
    for path in paths:
        st = path.stat()
        h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


def _decode_one(image_cls, path: Path, size: int) -> np.ndarray:
    with image_cls.open(path) as img:
        img = img.convert("RGB")
        w, h = img.size
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
        img = img.crop((left, top, left + side, top + side))
        img = img.resize((size, size), image_cls.Resampling.BILINEAR)
        return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)


def decode_images(
    dataset: str, paths: Sequence[Path], size: int = 64, quiet: bool = False
) -> np.ndarray:
    """uint8 array (N, 3, size, size) of the images at `paths`, from the cache when possible.

    Raises
    ------
    FileNotFoundError
        Naming the first missing image files.
    """
    if not isinstance(size, int) or size < 4:
        raise ValueError(f"{dataset}: size must be an integer >= 4 (pixels), got {size!r}")
    paths = [Path(p) for p in paths]
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise FileNotFoundError(
            f"{dataset}: {len(absent)} image file(s) listed in the labels "
            f"are missing, e.g. {absent[:3]}"
        )
    folder = cache_dir() / dataset
    target = folder / f"images-{size}px-{_key(paths, size)}.npy"
    if target.is_file():
        return np.load(target, mmap_mode="r")
    folder.mkdir(parents=True, exist_ok=True)
    image_cls = _pillow()
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        out = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.uint8, shape=(len(paths), 3, size, size)
        )
        bar = tqdm(
            paths,
            desc=f"decoding {dataset} images",
            unit="img",
            leave=False,
            disable=quiet or not sys.stderr.isatty(),
        )
        for i, path in enumerate(bar):
            out[i] = _decode_one(image_cls, path, size)
        out.flush()
        del out
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return np.load(target, mmap_mode="r")


def to_float(
    images: np.ndarray,
    memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB,
    backing: Path | None = None,
    chunk: int = 4096,
) -> torch.Tensor:
    """float32 tensor in [0, 1]; file-backed (memory-mapped) above `memory_limit_gb`."""
    n_bytes = images.size * 4
    if n_bytes <= memory_limit_gb * 2**30 or backing is None:
        out = torch.empty(images.shape, dtype=torch.float32)
    else:
        backing.parent.mkdir(parents=True, exist_ok=True)
        mapped = np.lib.format.open_memmap(
            backing, mode="w+", dtype=np.float32, shape=images.shape
        )
        out = torch.from_numpy(mapped)
    for start in range(0, len(images), chunk):
        block = torch.from_numpy(np.array(images[start : start + chunk]))
        out[start : start + chunk] = block.float().div_(255.0)
    return out


def per_domain_subsample(labels: np.ndarray, max_per_domain: int | None, seed: int) -> np.ndarray:
    """Boolean mask keeping at most `max_per_domain` random rows of each label value."""
    keep = np.ones(len(labels), dtype=bool)
    if max_per_domain is None:
        return keep
    if not isinstance(max_per_domain, int) or max_per_domain < 2:
        raise ValueError(f"max_per_domain must be an integer >= 2 or None, got {max_per_domain!r}")
    rng = np.random.default_rng(seed)
    for value in np.unique(labels):
        rows = np.flatnonzero(labels == value)
        if len(rows) > max_per_domain:
            keep[rng.choice(rows, len(rows) - max_per_domain, replace=False)] = False
    return keep


IMAGE_HPARAMS = {"batch_size": 32, "lr": 1e-3, "cnn_width": 32}


def image_dataset(
    name: str,
    paths: Sequence[Path],
    y: np.ndarray,
    z: np.ndarray,
    domain_labels: np.ndarray,
    domain_order: Sequence[str],
    *,
    size: int,
    memory_limit_gb: float,
    test_mask: np.ndarray | None = None,
    **fields,
):
    """Decode (or load from the cache) and assemble a `MultiDomainDataset` of images.

    Rows are ordered by domain first, so each domain's images are a contiguous slice (a view,
    not a copy, of a memory-mapped tensor).
    """
    rank = {label: i for i, label in enumerate(domain_order)}
    codes = np.array([rank.get(label, len(rank)) for label in domain_labels])
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] < len(rank)]
    paths = [Path(paths[i]) for i in order]
    y, z, codes = y[order], z[order], codes[order]
    test_mask = None if test_mask is None else test_mask[order]
    pixels = decode_images(name, paths, size)
    backing = cache_dir() / name / f"float-{size}px-{_key(paths, size)}.npy"
    x = to_float(pixels, memory_limit_gb, backing)
    domains = []
    for i, label in enumerate(domain_order):
        rows = np.flatnonzero(codes == i)
        if len(rows) == 0:
            continue
        part = slice(int(rows[0]), int(rows[-1]) + 1)
        mask = None if test_mask is None else torch.from_numpy(test_mask[part].copy())
        domains.append(
            Domain(
                str(label),
                x[part],
                torch.from_numpy(y[part].copy()),
                torch.from_numpy(z[part].copy()),
                test_mask=mask,
            )
        )
    return MultiDomainDataset(
        name=name,
        domains=domains,
        input_shape=(3, size, size),
        default_hparams=dict(IMAGE_HPARAMS),
        **fields,
    )
