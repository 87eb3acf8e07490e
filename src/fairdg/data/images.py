"""Image folders: decode with Pillow once into a uint8 cache; hold the pixels as uint8.

Shared by FairFace, CelebA and YFCC100M-FDG. `decode_images` centre-crops every image to a
square, resizes it to ``size x size`` (bilinear) and writes the uint8 pixels into
``<cache>/<dataset>/images-<size>px-<key>.npy`` (``key`` hashes the image list, the files' sizes
and modification times, and the size), through a temporary file renamed into place; with
``workers`` > 0 the images are decoded in parallel by DataLoader worker processes (only while
the cache is built). Later loads map that file instead of decoding again.

Memory: the dataset holds the pixels as uint8 (a quarter of float32), converted to float32 in
[0, 1] one batch at a time on the way to the model (`fairdg.data.storage`). Up to
``memory_limit_gb`` they are read into memory; above it they stay memory-mapped from the cache
file, so only the pages that batches touch are read, and `MultiDomainDataset.split` does not
copy them (its parts are `ImageRows` views).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.utils.data
from tqdm.auto import tqdm

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.sources import cache_dir
from fairdg.datasets_info import IMAGE_HPARAMS

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
    dataset: str, paths: Sequence[Path], size: int = 64, quiet: bool = False, workers: int = 0
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
    if not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        blocks = _decoded_blocks(paths, size, workers)
        shape = (len(paths), 3, size, size)
        write_uint8_cache(target, shape, blocks, f"decoding {dataset}", quiet)
    return np.load(target, mmap_mode="r")


class _Decoder(torch.utils.data.Dataset):
    def __init__(self, paths: Sequence[Path], size: int) -> None:
        self.paths, self.size, self.image_cls = list(paths), size, _pillow()

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.from_numpy(np.array(_decode_one(self.image_cls, self.paths[i], self.size)))


def _decoded_blocks(paths: Sequence[Path], size: int, workers: int, block: int = 256):
    """uint8 arrays of consecutive images, decoded here or by DataLoader worker processes."""
    if workers <= 0:
        image_cls = _pillow()
        for start in range(0, len(paths), block):
            part = paths[start : start + block]
            yield np.stack([_decode_one(image_cls, p, size) for p in part])
        return
    loader = torch.utils.data.DataLoader(
        _Decoder(paths, size), batch_size=block, num_workers=workers, shuffle=False
    )
    for batch in loader:
        yield batch.numpy()


def write_uint8_cache(target: Path, shape: tuple[int, ...], blocks, label: str, quiet: bool):
    """Write consecutive uint8 `blocks` (arrays of rows) as one ``.npy`` file at `target`.

    Written with plain file writes (no memory map, so building a cache larger than memory
    does not grow the resident set) to a temporary name that is renamed into place, with a
    progress bar over the rows.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False,
              "shape": tuple(shape)}  # fmt: skip
    bar = tqdm(total=shape[0], desc=label, unit="img", leave=False,
               disable=quiet or not sys.stderr.isatty())  # fmt: skip
    written = 0
    try:
        with open(tmp, "wb") as handle:
            np.lib.format.write_array_header_1_0(handle, header)
            for rows in blocks:
                rows = np.ascontiguousarray(rows, dtype=np.uint8)
                handle.write(rows.tobytes())
                written += len(rows)
                bar.update(len(rows))
        if written != shape[0]:
            raise RuntimeError(f"{label}: wrote {written} rows, expected {shape[0]}")
        os.replace(tmp, target)
    finally:
        bar.close()
        tmp.unlink(missing_ok=True)


def hold_pixels(images: np.ndarray, memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB):
    """uint8 tensor of `images`: read into memory up to `memory_limit_gb`, else memory-mapped.

    `images` is the memory-mapped cache array; above the limit the returned tensor shares its
    pages (copy-on-write mapping: nothing is read until a batch needs it).
    """
    filename = getattr(images, "filename", None)  # a file-backed np.memmap
    if images.nbytes <= memory_limit_gb * 2**30 or filename is None:
        return torch.from_numpy(np.array(images, dtype=np.uint8))
    mapped = np.load(filename, mmap_mode="c")
    return torch.from_numpy(mapped)


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
    workers: int = 0,
    **fields,
):
    """Decode (or load from the cache) and assemble a `MultiDomainDataset` of images.

    Rows are ordered by domain first, so each domain's images are a contiguous slice (a view,
    not a copy) of the uint8 pixels. `workers` > 0 decodes in parallel while the cache is built.
    """
    rank = {label: i for i, label in enumerate(domain_order)}
    codes = np.array([rank.get(label, len(rank)) for label in domain_labels])
    order = np.argsort(codes, kind="stable")
    order = order[codes[order] < len(rank)]
    paths = [Path(paths[i]) for i in order]
    y, z, codes = y[order], z[order], codes[order]
    test_mask = None if test_mask is None else test_mask[order]
    x = hold_pixels(decode_images(name, paths, size, workers=workers), memory_limit_gb)
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
