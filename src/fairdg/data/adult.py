"""UCI Adult (Census Income): income > 50K, sensitive attribute sex or race.

Source: B. Becker, R. Kohavi (1996), UCI Machine Learning Repository, CC BY 4.0. A copy is
bundled with fairdg (``fairdg/data/bundled``) so that the default run works offline.

Preprocessing (affinity paper, section 3.2): '?' is kept as its own category unless
``drop_missing=True``; categorical columns are one-hot encoded; numerical columns are
standardised with training-split statistics (by `MultiDomainDataset.split`); the label is
``>50K`` -> 1 (``adult.test`` writes ``>50K.``). ``adult.data`` is split 80/20 into train and
validation (26,049 / 6,512 rows) and ``adult.test`` is the test split (16,281 rows). The
sensitive attribute is not a feature unless ``include_sensitive=True``.
"""

from __future__ import annotations

import gzip
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.sources import RemoteFile, locate
from fairdg.datasets_info import ADULT_MD5, DATASET_INFO

_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
FILES = tuple(
    RemoteFile(
        name,
        md5=md5,
        urls=(_URL + name,),
        alternatives=(name + ".gz",),
        checksum_of="uncompressed",
    )
    for name, md5 in ADULT_MD5.items()
)
COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
    "income",
]
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
RACES = ["White", "Black", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other"]
# Domain splits for domain-generalisation experiments; small categories are merged so that every
# domain holds both sexes.
AGE_BINS = [(17, 29, "age<30"), (30, 44, "age30-44"), (45, 200, "age45+")]
WORKCLASS = {
    "Private": "private",
    "Self-emp-not-inc": "self-employed",
    "Self-emp-inc": "self-employed",
    "Federal-gov": "government",
    "State-gov": "government",
    "Local-gov": "government",
    "Without-pay": "other",
    "Never-worked": "other",
    "?": "other",
}
DOMAIN_OPTIONS = ("race", "age", "workclass")
# What `fairdg datasets` prints without loading the data.


def _read(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    frame = pd.read_csv(
        io.BytesIO(raw), header=None, names=COLUMNS, skipinitialspace=True, comment="|", dtype=str
    )
    return frame.dropna(subset=["income"])


def _bundled_paths() -> dict[str, Path]:
    folder = resources.files("fairdg.data") / "bundled"
    return {f.name: Path(str(folder / f"{f.name}.gz")) for f in FILES}


def _domain_labels(frame: pd.DataFrame, domain: str | None) -> pd.Series:
    if domain is None:
        return pd.Series("all", index=frame.index)
    if domain == "race":
        return frame["race"]
    if domain == "age":
        age = frame["age"].astype(int)
        labels = pd.Series("", index=frame.index)
        for low, high, name in AGE_BINS:
            labels[(age >= low) & (age <= high)] = name
        return labels
    if domain == "workclass":
        return frame["workclass"].map(WORKCLASS)
    raise ValueError(f"adult: domain must be one of {DOMAIN_OPTIONS} or None, got {domain!r}")


def _sensitive(frame: pd.DataFrame, sensitive: str, race_groups: str) -> tuple[np.ndarray, list]:
    if sensitive == "sex":
        return np.array(frame["sex"] == "Male", dtype=np.int64), ["female", "male"]
    if sensitive == "race":
        if race_groups == "binary":
            return np.array(frame["race"] == "White", dtype=np.int64), ["non-white", "white"]
        if race_groups == "all":
            return np.array(frame["race"].map(RACES.index), dtype=np.int64), list(RACES)
        raise ValueError(f"adult: race_groups must be 'binary' or 'all', got {race_groups!r}")
    raise ValueError(f"adult: sensitive must be 'sex' or 'race', got {sensitive!r}")


def load_adult(
    root: str | None = None,
    *,
    sensitive: str = "sex",
    race_groups: str = "binary",
    domain: str | None = None,
    drop_missing: bool = False,
    include_sensitive: bool = False,
    download: bool = False,
) -> MultiDomainDataset:
    """Load UCI Adult as a `MultiDomainDataset`.

    Parameters
    ----------
    root
        Folder holding ``adult.data`` and ``adult.test`` (or their ``.gz``). Default: the copy
        bundled with fairdg (or, with ``download=True``, the cache / a fresh download).
    sensitive
        ``"sex"`` (default; female 0, male 1) or ``"race"``.
    race_groups
        With ``sensitive="race"``: ``"binary"`` (non-white 0, white 1) or ``"all"`` (5 groups).
    domain
        None (one domain), or ``"race"``, ``"age"``, ``"workclass"`` to split into domains.
    drop_missing
        Drop rows with a missing ('?') value; by default '?' is its own category.
    include_sensitive
        Keep the sensitive attribute's columns among the features (Table 3's "z as input").
    download
        Fetch the original files (md5-verified) when no local copy is found.
    """
    if domain is not None and domain == sensitive:
        raise ValueError(f"adult: domain and sensitive attribute are both {domain!r}")
    if root is None and not download:
        paths = _bundled_paths()
    else:
        paths = locate("adult", FILES, root=root, download=download)
    fit = _read(paths["adult.data"])
    test = _read(paths["adult.test"])
    frame = pd.concat([fit, test], ignore_index=True)
    is_test = np.r_[np.zeros(len(fit), bool), np.ones(len(test), bool)]
    if drop_missing:
        keep = ~(frame == "?").any(axis=1).to_numpy()
        frame, is_test = frame[keep].reset_index(drop=True), is_test[keep]

    y = np.array(frame["income"].str.rstrip(".").eq(">50K"), dtype=np.int64)
    z, group_names = _sensitive(frame, sensitive, race_groups)
    domains = _domain_labels(frame, domain)

    dropped = ["income"] + ([] if include_sensitive else [sensitive])
    features = frame.drop(columns=dropped)
    for col in NUMERIC:
        features[col] = features[col].astype(np.float32)
    categorical = [c for c in features.columns if c not in NUMERIC]
    encoded = pd.get_dummies(features, columns=categorical, dtype=np.float32)
    x = torch.from_numpy(encoded.to_numpy(np.float32, copy=True))
    standardize = [list(encoded.columns).index(c) for c in NUMERIC]

    out = []
    for name in sorted(domains.unique(), key=lambda n: (n != "all", n)):
        mask = (domains == name).to_numpy(copy=True)
        out.append(
            Domain(
                name=name,
                x=x[mask],
                y=torch.from_numpy(y[mask]),
                z=torch.from_numpy(z[mask]),
                test_mask=torch.from_numpy(is_test[mask]),
            )
        )
    return MultiDomainDataset(
        name="adult",
        domains=out,
        input_shape=(x.shape[1],),
        class_names=["<=50K", ">50K"],
        group_names=group_names,
        sensitive_name=sensitive,
        standardize=standardize,
        feature_names=list(encoded.columns),
        default_steps=DATASET_INFO["adult"].default_steps,
        default_hparams=dict(DATASET_INFO["adult"].default_hparams),
        meta={
            "source": "UCI Adult (Becker & Kohavi 1996), CC BY 4.0",
            "files": {k: str(v) for k, v in paths.items()},
        },
    )
