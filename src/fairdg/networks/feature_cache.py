"""Frozen-feature cache: a frozen backbone's features computed once and read like tabular data.

With ``freeze=all`` nothing in the backbone trains, so its features of every image are fixed.
`frozen_features` computes them once per (dataset, domain, backbone, weights file, image size)
with a progress bar, in evaluation mode and in batches, into a float32 ``.npy`` file under
``<cache>/features/<dataset>/`` (written to a temporary name and renamed into place, so a killed
run leaves no half file), and returns a copy of the dataset whose domains hold those features,
memory-mapped, instead of the images. The algorithm then trains only what sits on top
(`CachedFeatureHead`: an optional representation layer, and the classifier), which is what
makes frozen-network experiments fast on a CPU.

The key hashes the domain's pixels themselves (so a changed loader option or file gives other
features), the backbone's name, the weights file's content and the image size.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from fairdg.data.base import MultiDomainDataset
from fairdg.data.sources import cache_dir
from fairdg.data.storage import to_unit
from fairdg.networks.backbones import BackboneFeaturizer, weights_digest


def uses_feature_cache(hparams: Mapping[str, Any], input_shape: tuple[int, ...]) -> bool:
    """Whether a run with these hyperparameters trains on cached features of these inputs."""
    return (
        str(hparams.get("backbone", "auto")) != "auto"
        and hparams.get("freeze") == "all"
        and len(input_shape) == 3
    )


def _pixels_digest(x: torch.Tensor, chunk: int = 1024) -> str:
    h = hashlib.sha1(f"{tuple(x.shape)} {x.dtype}".encode())
    for start in range(0, len(x), chunk):
        h.update(x[start : start + chunk].contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


@torch.no_grad()
def _compute(
    featurizer: BackboneFeaturizer,
    x: torch.Tensor,
    target: Path,
    batch_size: int,
    device: str | torch.device,
    label: str,
    quiet: bool,
) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        out = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.float32, shape=(len(x), featurizer.net.n_features)
        )
        starts = range(0, len(x), batch_size)
        disable = quiet or not sys.stderr.isatty()
        for start in tqdm(starts, desc=label, unit="batch", leave=False, disable=disable):
            batch = to_unit(x[start : start + batch_size].to(device))
            out[start : start + len(batch)] = featurizer.backbone_features(batch).cpu().numpy()
        out.flush()
        del out
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def frozen_features(
    dataset: MultiDomainDataset,
    hparams: Mapping[str, Any],
    device: str | torch.device = "cpu",
    batch_size: int = 256,
    quiet: bool = False,
) -> MultiDomainDataset:
    """`dataset` with every domain's images replaced by the frozen backbone's features.

    Parameters
    ----------
    dataset
        An image dataset (inputs in [0, 1], shape (C, H, W)).
    hparams
        Resolved hyperparameters: ``backbone``, ``pretrained`` (``freeze`` must be ``all``).
    device, batch_size
        Where and in what batches the backbone runs while the cache is built.
    """
    name, pretrained = str(hparams["backbone"]), hparams.get("pretrained") or None
    featurizer = BackboneFeaturizer(name, pretrained, "all").to(device).eval()
    size = "x".join(map(str, dataset.input_shape[1:]))
    stem = f"{name}-{weights_digest(pretrained)}-{size}px"
    folder = cache_dir() / "features" / dataset.name
    folder.mkdir(parents=True, exist_ok=True)
    domains = []
    for d in dataset.domains:
        target = folder / f"{stem}-{_pixels_digest(d.x)}.npy"
        if not target.is_file():
            label = f"{name} features of {dataset.name}/{d.name}"
            _compute(featurizer, d.x, target, batch_size, device, label, quiet)
        features = torch.from_numpy(np.load(target, mmap_mode="c"))
        domains.append(replace(d, x=features))
    meta = {**dataset.meta, "features": f"{name} ({stem}), cached under {folder}"}
    return replace(
        dataset,
        domains=domains,
        input_shape=(featurizer.net.n_features,),
        standardize=None,
        feature_names=None,
        meta=meta,
    )
