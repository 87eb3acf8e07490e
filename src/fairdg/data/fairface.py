"""FairFace (Kärkkäinen & Joo 2021; CC BY 4.0): face images balanced over seven race groups.

Files (manual download from the FairFace repository, github.com/joojs/fairface): the label files
``fairface_label_train.csv`` and ``fairface_label_val.csv`` (columns ``file, age, gender, race,
service_test``; ``file`` like ``train/1.jpg``) next to the extracted image folders ``train/`` and
``val/`` (``fairface-img-margin025-trainval.zip``; if only the zip is there it is extracted).

FDDG's setting (METHODS.md): domains = race (Black, East Asian, Indian, Latino_Hispanic, Middle
Eastern, Southeast Asian, White); y = 1 for age ``age_threshold`` (50) and over (the age groups
"50-59", "60-69", "more than 70"); z = gender (Male 0, Female 1). The ``val`` file is the test
split. Images are centre-cropped, resized to ``size`` and cached (see `fairdg.data.images`).
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
from fairdg.data.sources import RemoteFile, extract_archive, locate, search_dirs
from fairdg.datasets_info import DATASET_INFO, FAIRFACE_FILES, FAIRFACE_RACES

RACES = FAIRFACE_RACES
AGE_GROUPS = ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "more than 70"]
FILES = tuple(RemoteFile(name) for name in FAIRFACE_FILES)
ARCHIVE = "fairface-img-margin025-trainval.zip"


def _age_lower(group: str) -> int:
    return 70 if group == "more than 70" else int(group.split("-")[0])


def _labels(paths) -> pd.DataFrame:
    frames = []
    for spec, is_test in zip(FILES, (False, True), strict=True):
        frame = pd.read_csv(paths[spec.name], dtype=str)
        absent = [c for c in ("file", "age", "gender", "race") if c not in frame.columns]
        if absent:
            raise ValueError(f"fairface: {paths[spec.name]} lacks column(s) {absent}")
        frame["is_test"] = is_test
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    for col, allowed in (("age", AGE_GROUPS), ("race", RACES), ("gender", ["Male", "Female"])):
        bad = sorted(set(frame[col]) - set(allowed))
        if bad:
            raise ValueError(f"fairface: unexpected {col} value(s) {bad[:5]}; expected {allowed}")
    return frame


def load_fairface(
    root: str | None = None,
    *,
    size: int = 64,
    age_threshold: int = 50,
    max_per_domain: int | None = None,
    memory_limit_gb: float = DEFAULT_MEMORY_LIMIT_GB,
    workers: int = 0,
    seed: int = 0,
) -> MultiDomainDataset:
    """FairFace: domains = race, y = age >= `age_threshold`, z = gender (Male 0, Female 1).

    Parameters
    ----------
    root
        Folder holding the two label CSVs and the ``train/``, ``val/`` image folders.
    size
        Side of the square images after resizing (default 64 on CPU).
    age_threshold
        Lower bound of the positive age groups (one of 3, 10, 20, ..., 70).
    max_per_domain
        Keep at most this many random images per race (train and test together).
    memory_limit_gb
        Above this size (of the uint8 pixels) the images stay memory-mapped from the cache
        instead of being read into memory.
    workers
        DataLoader worker processes decoding the images while the cache is built (0: none).
    seed
        Seed of the subsample.
    """
    lowers = sorted({_age_lower(g) for g in AGE_GROUPS} - {0})
    if age_threshold not in lowers:
        raise ValueError(f"fairface: age_threshold must be one of {lowers}, got {age_threshold!r}")
    paths = locate("fairface", FILES, root=root)
    base = paths[FILES[0].name].parent
    frame = _labels(paths)
    if not (base / frame["file"].iloc[0]).is_file() and (base / ARCHIVE).is_file():
        extract_archive(base / ARCHIVE, base)
    keep = per_domain_subsample(frame["race"].to_numpy(), max_per_domain, seed)
    frame = frame[keep].reset_index(drop=True)
    y = (frame["age"].map(_age_lower) >= age_threshold).to_numpy(np.int64)
    z = frame["gender"].eq("Female").to_numpy(np.int64)
    return image_dataset(
        "fairface",
        [base / f for f in frame["file"]],
        y,
        z,
        frame["race"].to_numpy(),
        RACES,
        size=size,
        memory_limit_gb=memory_limit_gb,
        workers=workers,
        test_mask=frame["is_test"].to_numpy(bool),
        class_names=[f"age<{age_threshold}", f"age>={age_threshold}"],
        group_names=["Male", "Female"],
        sensitive_name="gender",
        default_steps=DATASET_INFO["fairface"].default_steps,
        meta={
            "source": "FairFace (Karkkainen & Joo 2021), CC BY 4.0",
            "folder": str(base),
            "searched": [str(d) for d in search_dirs("fairface", root)],
        },
    )
