"""YFCC100M-FDG (FDDG): Flickr photos in three domains by the year they were taken.

FDDG's setting (METHODS.md): domains = before 2000, 2000-2009, 2010-2014 (30,000 images each in
the paper); y = outdoor (1) / indoor (0); z = taken in North America (1) or not (0). The paper's
subset is not distributed, so fairdg reads it from a folder layout:

    yfcc/                     (root, or $FAIRDG_DATA/yfcc)
      <domain>/metadata.csv   columns: file, label, sensitive (0/1 each; file relative to
      <domain>/<images>       the domain folder)

with one sub-folder per domain; domains are ordered by folder name. Images are centre-cropped,
resized to ``size`` and cached (see `fairdg.data.images`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from fairdg.data.base import MultiDomainDataset
from fairdg.data.images import (
    DEFAULT_MEMORY_LIMIT_GB,
    image_dataset,
    per_domain_subsample,
)
from fairdg.data.sources import DataNotFoundError, search_dirs
from fairdg.datasets_info import DATASET_INFO, YFCC_METADATA

METADATA = YFCC_METADATA


def _find_root(root) -> tuple:
    dirs = search_dirs("yfcc", root)
    for folder in dirs:
        domains = sorted(p for p in folder.glob(f"*/{METADATA}")) if folder.is_dir() else []
        if domains:
            return folder, [p.parent for p in domains]
    where = "\n  ".join(str(d) for d in dirs)
    raise DataNotFoundError(
        f"dataset 'yfcc': no <domain>/{METADATA} found. Searched:\n  {where}\n"
        f"Expected one folder per domain, each holding {METADATA} (columns file, label, "
        "sensitive) and its images; pass root=DIR (--data-option root=DIR)"
    )


def load_yfcc(
    root: str | None = None,
    *,
    size: int = 64,
    max_per_domain: int | None = None,
    memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB,
    workers: int = 0,
    seed: int = 0,
) -> MultiDomainDataset:
    """YFCC100M-FDG from one folder per domain: y = outdoor, z = North America.

    Parameters
    ----------
    root
        Folder holding the domain folders.
    size, max_per_domain, memory_limit_gb, seed
        As for ``fairface``.
    """
    base, folders = _find_root(root)
    frames = []
    for folder in folders:
        frame = pd.read_csv(folder / METADATA, dtype={"file": str})
        for col in ("file", "label", "sensitive"):
            if col not in frame.columns:
                raise ValueError(
                    f"yfcc: {folder / METADATA} lacks column {col!r}; "
                    f"columns: {list(frame.columns)}"
                )
        for col in ("label", "sensitive"):
            bad = sorted(set(frame[col].unique()) - {0, 1})
            if bad:
                raise ValueError(
                    f"yfcc: column {col!r} of {folder / METADATA} must hold 0/1, found {bad[:5]}"
                )
        frame["path"] = [folder / f for f in frame["file"]]
        frame["domain"] = folder.name
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    keep = per_domain_subsample(frame["domain"].to_numpy(), max_per_domain, seed)
    frame = frame[keep].reset_index(drop=True)
    return image_dataset(
        "yfcc",
        list(frame["path"]),
        frame["label"].to_numpy(np.int64),
        frame["sensitive"].to_numpy(np.int64),
        frame["domain"].to_numpy(),
        [f.name for f in folders],
        size=size,
        memory_limit_gb=memory_limit_gb,
        workers=workers,
        class_names=["indoor", "outdoor"],
        group_names=["not North America", "North America"],
        sensitive_name="North America",
        default_steps=DATASET_INFO["yfcc"].default_steps,
        meta={"source": "YFCC100M (Thomee et al. 2016), FDDG's subset", "folder": str(base)},
    )
