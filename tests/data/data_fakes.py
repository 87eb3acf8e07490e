"""Writers of fake raw files in the real formats, for testing the loaders without data."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    """Write a uint8 array as an IDX file (gzipped when `compress`)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw, compresslevel=1))
    else:
        path.write_bytes(raw)
    return path


def fake_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Balanced labels and images with a blob whose position depends on the label."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)
    rng.shuffle(labels)
    images = rng.integers(0, 40, size=(n, 28, 28), dtype=np.uint8)
    for i, label in enumerate(labels):
        r, c = 4 + 2 * (label % 5), 6 + 8 * (label // 5)
        images[i, r : r + 8, c : c + 6] = 255
    return images, labels


def write_fake_mnist(
    root: Path, n_train: int = 600, n_test: int = 200, compress: bool = True
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = fake_digits(n, seed)
        write_idx(root / f"{prefix}-images-idx3-ubyte", images, compress)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", labels, compress)
    return root


# -- NYPD stop, question and frisk (real 2011 column names, a subset of the 112) ------------
NYSF_COLUMNS = (
    "year,pct,ser_num,datestop,timestop,city,sex,race,dob,age,ht_feet,ht_inch,weight,haircolr,"
    "eyecolor,build,inout,frisked,searched,contrabn,pistol,riflshot,asltweap,knifcuti,machgun,"
    "othrweap,cs_objcs,cs_descr,cs_casng,cs_lkout,cs_cloth,cs_drgtr,cs_furtv,cs_vcrim,cs_bulge,"
    "cs_other,ac_rept,ac_inves,ac_proxm,ac_evasv,ac_assoc,ac_cgdir,ac_incid,ac_time,ac_stsnd,"
    "ac_other,rf_vcrim,rf_othsw,rf_attir,rf_vcact,rf_rfcmp,rf_verbl,rf_knowl,rf_furt,rf_bulg,"
    "xcoord,ycoord"
).split(",")
CITIES = ["BRONX", "BROOKLYN", "MANHATTAN", "QUEENS", "STATEN IS"]


def write_fake_nysf(path: Path, n: int = 400, seed: int = 0) -> Path:
    """A CSV with the real SQF 2011 header (subset) and plausible random values."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        row = {c: rng.choice(["Y", "N"], p=[0.2, 0.8]) for c in NYSF_COLUMNS}
        row.update(
            year="2011",
            pct=str(rng.integers(1, 123)),
            ser_num=str(i),
            datestop="01012011",
            timestop="1200",
            city=CITIES[i % 5],
            sex=rng.choice(["M", "F"]),
            race=rng.choice(["B", "W", "Q", "P", "A"]),
            dob="12311900",
            age=str(rng.integers(12, 70)),
            ht_feet=str(rng.integers(5, 7)),
            ht_inch=str(rng.integers(0, 12)),
            weight=str(rng.integers(100, 250)),
            haircolr=rng.choice(["BK", "BR", "BL", "XX"]),
            eyecolor=rng.choice(["BR", "BL", "GR"]),
            build=rng.choice(["H", "M", "T"]),
            inout=rng.choice(["I", "O"]),
            xcoord=" 1000000",
            ycoord=" 200000",
        )
        for weapon in ("pistol", "riflshot", "asltweap", "knifcuti", "machgun", "othrweap"):
            row[weapon] = "Y" if rng.random() < 0.03 else "N"
        rows.append(row)
    rows[0]["age"] = "999"  # implausible: dropped
    rows[1]["weight"] = " "  # missing: dropped
    rows[2]["city"] = "NOWHERE"  # not a borough: dropped
    lines = [",".join(NYSF_COLUMNS)] + [",".join(r[c] for c in NYSF_COLUMNS) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


# -- image folders ------------------------------------------------------------------------------
def write_image(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (20, 24)):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)


FAIRFACE_RACES = [
    "White",
    "Black",
    "Latino_Hispanic",
    "East Asian",
    "Southeast Asian",
    "Indian",
    "Middle Eastern",
]
FAIRFACE_AGES = [
    "0-2",
    "3-9",
    "10-19",
    "20-29",
    "30-39",
    "40-49",
    "50-59",
    "60-69",
    "more than 70",
]


def write_fake_fairface(root: Path, n_train: int = 56, n_val: int = 28) -> Path:
    for part, n in (("train", n_train), ("val", n_val)):
        lines = ["file,age,gender,race,service_test"]
        for i in range(n):
            file = f"{part}/{i + 1}.jpg"
            write_image(root / file, (i * 9 % 256, 40, 200))
            lines.append(
                f"{file},{FAIRFACE_AGES[i % 9]},{['Male', 'Female'][i // 7 % 2]},"
                f"{FAIRFACE_RACES[i % 7]},True"
            )
        (root / f"fairface_label_{part}.csv").write_text("\n".join(lines) + "\n")
    return root


CELEBA_ATTRIBUTES = ["5_o_Clock_Shadow", "Attractive", "Male", "Smiling", "Young"]


def write_fake_celeba(root: Path, n: int = 40) -> Path:
    rng = np.random.default_rng(0)
    values = rng.choice([-1, 1], size=(n, len(CELEBA_ATTRIBUTES)))
    values[:4, 1:3] = [[1, 1], [1, -1], [-1, 1], [-1, -1]]
    lines = [str(n), " ".join(CELEBA_ATTRIBUTES)]
    parts = []
    for i in range(n):
        name = f"{i + 1:06d}.jpg"
        write_image(root / "img_align_celeba" / name, (200, i * 5 % 256, 30), size=(18, 22))
        lines.append(name + " " + " ".join(f"{v:2d}" for v in values[i]))
        parts.append(f"{name} {0 if i < n * 0.6 else (1 if i < n * 0.8 else 2)}")
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(parts) + "\n")
    return root


def write_fake_yfcc(root: Path, n_per_domain: int = 12) -> Path:
    for d, name in enumerate(["2000-2009", "2010-2014", "before-2000"]):
        lines = ["file,label,sensitive"]
        for i in range(n_per_domain):
            file = f"img{i}.png"
            write_image(root / name / file, (d * 80, i * 20 % 256, 100))
            lines.append(f"{file},{i % 2},{(i // 2 + d) % 2}")
        (root / name / "metadata.csv").write_text("\n".join(lines) + "\n")
    return root


# -- SVHN (the official .mat layout: X (32, 32, 3, N) uint8, y (N, 1) in 1..10) -------------
def write_fake_svhn(root: Path, n_train: int = 120, n_test: int = 60, seed: int = 0) -> Path:
    """``train_32x32.mat`` / ``test_32x32.mat`` written with scipy in the real layout; digit d
    is a bright bar at a position of its own, label 10 stands for the digit 0."""
    import scipy.io

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for name, n in (("train_32x32.mat", n_train), ("test_32x32.mat", n_test)):
        digits = np.arange(n) % 10
        rng.shuffle(digits)
        x = rng.integers(0, 60, size=(32, 32, 3, n), dtype=np.uint8)
        for i, d in enumerate(digits):
            r, c = 4 + 2 * (d % 5), 6 + 12 * (d // 5)
            x[r : r + 10, c : c + 8, :, i] = 255
        y = np.where(digits == 0, 10, digits).astype(np.uint8).reshape(-1, 1)
        scipy.io.savemat(root / name, {"X": x, "y": y})
    return root
