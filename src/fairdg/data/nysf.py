"""NYSF: the NYPD Stop, Question and Frisk data of one year (FDDG's NYSF, 2011 by default).

Source: New York City Police Department, public SQF database (one CSV per year, e.g.
``2011.csv`` inside ``sqf-2011-csv.zip``). No checksum is published; the file is read as found.
Place ``<year>.csv`` (or the zip) in ``root``, ``$FAIRDG_DATA/nysf/`` or the cache, or pass
``download=True``.

Columns used (exact names in the 2011 file):

- domain: ``city`` -> Bronx, Brooklyn, Manhattan, Queens, Staten Island (``STATEN IS``).
- sensitive z: ``race`` == ``B`` (Black) -> 1, every other code -> 0 (with
  ``black_hispanic_is_black=True`` also ``P``, Black Hispanic). Race is never a feature.
- target y: ``target="weapon"`` (default, the paper's text): any of ``pistol``, ``riflshot``,
  ``asltweap``, ``knifcuti``, ``machgun``, ``othrweap`` is ``Y``; ``target="frisked"`` (the
  authors' code): ``frisked`` is ``Y``.
- numeric features (standardised): ``age``, height ``ht_feet * 12 + ht_inch`` (inches),
  ``weight``; rows with a non-number or an implausible value (age outside 10-100, height outside
  48-90 inches, weight outside 70-400 pounds) are dropped.
- binary features: ``sex`` == ``M``, ``inout`` == ``I`` (inside), and the Y/N flags of the
  reasons for the stop ``cs_objcs cs_descr cs_casng cs_lkout cs_cloth cs_drgtr cs_furtv
  cs_vcrim cs_bulge cs_other`` and of the additional circumstances ``ac_rept ac_inves ac_proxm
  ac_evasv ac_assoc ac_cgdir ac_incid ac_time ac_stsnd ac_other``.
- one-hot features: ``haircolr``, ``eyecolor``, ``build``.

Not used, because they are recorded after the frisk or search and would leak the target:
``frisked``, ``searched``, the ``rf_*`` reasons for frisk, ``sb_*`` basis of search,
``contrabn``, the weapon columns, arrests and summonses. ``n_samples`` stops are drawn at
random (the paper: 100,000; None keeps every usable row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from fairdg.data.base import Domain, MultiDomainDataset
from fairdg.data.sources import (
    DataNotFoundError,
    RemoteFile,
    cache_dir,
    extract_archive,
    locate,
)
from fairdg.datasets_info import DATASET_INFO, NYSF_DOMAINS

BOROUGHS = {
    "BRONX": "Bronx",
    "BROOKLYN": "Brooklyn",
    "MANHATTAN": "Manhattan",
    "QUEENS": "Queens",
    "STATEN IS": "Staten Island",
    "STATEN ISLAND": "Staten Island",
}
DOMAINS = NYSF_DOMAINS
WEAPONS = ["pistol", "riflshot", "asltweap", "knifcuti", "machgun", "othrweap"]
STOP_FLAGS = [
    "cs_objcs",
    "cs_descr",
    "cs_casng",
    "cs_lkout",
    "cs_cloth",
    "cs_drgtr",
    "cs_furtv",
    "cs_vcrim",
    "cs_bulge",
    "cs_other",
]
CIRCUMSTANCE_FLAGS = [
    "ac_rept",
    "ac_inves",
    "ac_proxm",
    "ac_evasv",
    "ac_assoc",
    "ac_cgdir",
    "ac_incid",
    "ac_time",
    "ac_stsnd",
    "ac_other",
]
CATEGORICAL = ["haircolr", "eyecolor", "build"]
NUMERIC = ["age", "height", "weight"]
REQUIRED = [
    "city",
    "race",
    "sex",
    "age",
    "ht_feet",
    "ht_inch",
    "weight",
    "inout",
    "frisked",
    *WEAPONS,
    *STOP_FLAGS,
    *CIRCUMSTANCE_FLAGS,
    *CATEGORICAL,
]
_URL = (
    "https://www.nyc.gov/assets/nypd/downloads/zip/analysis_and_planning/"
    "stop-question-frisk/sqf-{year}-csv.zip"
)
RANGES = {"age": (10, 100), "height": (48, 90), "weight": (70, 400)}


def _find_csv(year: int, root, download: bool) -> Path:
    """``<year>.csv`` in the search folders, else extracted from ``sqf-<year>-csv.zip`` into
    the cache (the data folder may be read-only)."""
    csv_spec = RemoteFile(f"{year}.csv")
    zip_spec = RemoteFile(f"sqf-{year}-csv.zip", urls=(_URL.format(year=year),))
    extracted_dir = cache_dir() / "nysf" / f"sqf-{year}"
    try:
        return locate("nysf", [csv_spec], root=root)[csv_spec.name]
    except DataNotFoundError as missing_csv:
        for path in sorted(extracted_dir.glob("*.csv")) if extracted_dir.is_dir() else []:
            if path.name.lower() == f"{year}.csv":
                return path
        try:
            archive = locate("nysf", [zip_spec], root=root, download=download)[zip_spec.name]
        except DataNotFoundError:
            raise DataNotFoundError(
                f"{missing_csv}\n(or place {zip_spec.name} there: {zip_spec.urls[0]})"
            ) from None
    extracted = extract_archive(archive, extracted_dir)
    for path in extracted:
        if path.name.lower() == f"{year}.csv":
            return path
    raise DataNotFoundError(
        f"nysf: {archive} holds no {year}.csv (members: {[p.name for p in extracted]})"
    )


def _read(path: Path) -> pd.DataFrame:
    wanted = set(REQUIRED)
    frame = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding="latin-1",
        usecols=lambda c: c.strip().lower() in wanted,
    )
    frame.columns = [c.strip().lower() for c in frame.columns]
    absent = [c for c in REQUIRED if c not in frame.columns]
    if absent:
        raise ValueError(f"nysf: {path} lacks the column(s) {absent}; is it an SQF year file?")
    return frame.apply(lambda col: col.str.strip())


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as numbers; drop rows out of range or outside the five boroughs."""
    out = frame.copy()
    out["age"] = pd.to_numeric(out["age"], errors="coerce")
    out["weight"] = pd.to_numeric(out["weight"], errors="coerce")
    out["height"] = pd.to_numeric(out["ht_feet"], errors="coerce") * 12 + pd.to_numeric(
        out["ht_inch"], errors="coerce"
    )
    keep = out["city"].str.upper().isin(list(BOROUGHS))
    for col, (low, high) in RANGES.items():
        keep &= out[col].between(low, high)
    return out[keep.to_numpy()].reset_index(drop=True)


def load_nysf(
    root: str | None = None,
    *,
    year: int = 2011,
    target: str = "weapon",
    n_samples: int | None = 100_000,
    black_hispanic_is_black: bool = False,
    seed: int = 0,
    download: bool = False,
) -> MultiDomainDataset:
    """The NYPD stop-and-frisk data of `year`: domains = boroughs, z = Black.

    Parameters
    ----------
    root
        Folder holding ``<year>.csv`` or ``sqf-<year>-csv.zip``.
    year
        Which year's file (FDDG: 2011).
    target
        ``"weapon"`` (a weapon was found; default) or ``"frisked"``.
    n_samples
        Random stops kept (FDDG: 100,000); None keeps all usable rows.
    black_hispanic_is_black
        Count race code ``P`` (Black Hispanic) as Black.
    seed
        Seed of the sample.
    download
        Fetch the year's zip from nyc.gov into the cache when no local copy is found.
    """
    if target not in ("weapon", "frisked"):
        raise ValueError(f"nysf: target must be 'weapon' or 'frisked', got {target!r}")
    path = _find_csv(year, root, download)
    frame = _clean(_read(path))
    if n_samples is not None:
        if not isinstance(n_samples, int) or n_samples < 1:
            raise ValueError(
                f"nysf: n_samples must be a positive integer or None, got {n_samples!r}"
            )
        if n_samples < len(frame):
            frame = frame.sample(n=n_samples, random_state=seed).reset_index(drop=True)
    if target == "weapon":
        y = (frame[WEAPONS] == "Y").any(axis=1).to_numpy(np.int64)
    else:
        y = frame["frisked"].eq("Y").to_numpy(np.int64)
    black = ["B", "P"] if black_hispanic_is_black else ["B"]
    z = frame["race"].str.upper().isin(black).to_numpy(np.int64)

    binary = pd.DataFrame({"sex_male": frame["sex"].eq("M"), "inside": frame["inout"].eq("I")})
    for col in STOP_FLAGS + CIRCUMSTANCE_FLAGS:
        binary[col] = frame[col].eq("Y")
    onehot = pd.get_dummies(frame[CATEGORICAL].replace("", "unknown"), prefix_sep="=")
    features = pd.concat([frame[NUMERIC], binary, onehot], axis=1).astype(np.float32)
    x = torch.from_numpy(features.to_numpy(np.float32, copy=True))
    borough = frame["city"].str.upper().map(BOROUGHS)
    domains = []
    for name in DOMAINS:
        mask = (borough == name).to_numpy(copy=True)
        if mask.any():
            domains.append(
                Domain(name, x[mask], torch.from_numpy(y[mask]), torch.from_numpy(z[mask]))
            )
    return MultiDomainDataset(
        name="nysf",
        domains=domains,
        input_shape=(x.shape[1],),
        class_names=["no weapon", "weapon"] if target == "weapon" else ["not frisked", "frisked"],
        group_names=["non-Black", "Black"],
        sensitive_name="race",
        standardize=[0, 1, 2],
        feature_names=list(features.columns),
        default_steps=DATASET_INFO["nysf"].default_steps,
        default_hparams=dict(DATASET_INFO["nysf"].default_hparams),
        meta={
            "source": f"NYPD Stop, Question and Frisk {year}",
            "file": str(path),
            "target": target,
            "rows": len(frame),
        },
    )
