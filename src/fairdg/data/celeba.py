"""CelebA (Liu et al. 2015; non-commercial research use): aligned celebrity faces, 40 attributes.

Files (manual download, mmlab.ie.cuhk.edu.hk/projects/CelebA.html): ``list_attr_celeba.txt``,
``list_eval_partition.txt`` and the folder ``img_align_celeba/`` (or ``img_align_celeba.zip``,
extracted on first use). The target and the sensitive attribute are attribute names (the
affinity paper: Attractive / Male); an attribute value 1 maps to 1, -1 to 0. ``domain`` names an
attribute whose two values become two domains (None: one domain). Partition 2 of
``list_eval_partition.txt`` is the test split. Images are centre-cropped, resized to ``size`` and
cached (see `fairdg.data.images`).
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
from fairdg.data.sources import RemoteFile, extract_archive, locate
from fairdg.datasets_info import CELEBA_FILES, CELEBA_IMAGES, DATASET_INFO

FILES = tuple(RemoteFile(name) for name in CELEBA_FILES)
IMAGES = CELEBA_IMAGES


def read_attributes(path) -> pd.DataFrame:
    """The attribute table, index = image file name, values in {0, 1}."""
    with open(path) as handle:
        handle.readline()  # number of images
        names = handle.readline().split()
        rows = [line.split() for line in handle if line.strip()]
    bad = [r[0] for r in rows if len(r) != len(names) + 1]
    if bad:
        raise ValueError(
            f"celeba: {path}: {len(bad)} row(s) do not have {len(names)} values, e.g. {bad[:3]}"
        )
    table = pd.DataFrame([r[1:] for r in rows], index=[r[0] for r in rows], columns=names)
    return (table.astype(int) > 0).astype(np.int64)


def load_celeba(
    root: str | None = None,
    *,
    target: str = "Attractive",
    sensitive: str = "Male",
    domain: str | None = None,
    size: int = 64,
    max_per_domain: int | None = None,
    memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB,
    workers: int = 0,
    seed: int = 0,
) -> MultiDomainDataset:
    """CelebA with selectable target, sensitive and (optional) domain attributes.

    Parameters
    ----------
    root
        Folder holding the two list files and ``img_align_celeba/``.
    target, sensitive
        Attribute names (e.g. Attractive, Smiling; Male, Young).
    domain
        Attribute splitting the data into two domains (``<attr>`` and ``not <attr>``), or None.
    size, max_per_domain, memory_limit_gb, seed
        As for ``fairface``.
    """
    paths = locate("celeba", FILES, root=root)
    base = paths[FILES[0].name].parent
    attrs = read_attributes(paths["list_attr_celeba.txt"])
    for option, name in (("target", target), ("sensitive", sensitive), ("domain", domain)):
        if name is not None and name not in attrs.columns:
            raise ValueError(
                f"celeba: {option} must be an attribute name, got {name!r}; "
                f"attributes: {list(attrs.columns)}"
            )
    if len({target, sensitive, domain} - {None}) < len(
        [a for a in (target, sensitive, domain) if a is not None]
    ):
        raise ValueError(
            f"celeba: target, sensitive and domain must differ, got {target!r}, "
            f"{sensitive!r}, {domain!r}"
        )
    partition = pd.read_csv(
        paths["list_eval_partition.txt"],
        sep=r"\s+",
        header=None,
        names=["file", "part"],
        index_col="file",
    )
    attrs = attrs.join(partition, how="inner")
    folder = base / IMAGES
    if not folder.is_dir() and (base / f"{IMAGES}.zip").is_file():
        extract_archive(base / f"{IMAGES}.zip", base)
    names = np.array(["all"] * len(attrs), dtype=object)
    order = ["all"]
    if domain is not None:
        names = np.where(attrs[domain].to_numpy() == 1, domain, f"not {domain}").astype(object)
        order = [domain, f"not {domain}"]
    keep = per_domain_subsample(names, max_per_domain, seed)
    attrs, names = attrs[keep], names[keep]
    return image_dataset(
        "celeba",
        [folder / f for f in attrs.index],
        attrs[target].to_numpy(),
        attrs[sensitive].to_numpy(),
        names,
        order,
        size=size,
        memory_limit_gb=memory_limit_gb,
        workers=workers,
        test_mask=(attrs["part"] == 2).to_numpy(),
        class_names=[f"not {target}", target],
        group_names=[f"not {sensitive}", sensitive],
        sensitive_name=sensitive,
        default_steps=DATASET_INFO["celeba"].default_steps,
        meta={
            "source": "CelebA (Liu et al. 2015), non-commercial research use",
            "folder": str(base),
            "target": target,
        },
    )
