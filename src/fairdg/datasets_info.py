"""`DatasetInfo`: what a registered dataset is, known without loading it.

Each dataset module declares one `DatasetInfo` per registry entry. Listings print it, sweeps
plan their hold-outs from its domain names, and a finished run checks its recorded
hyperparameters against its defaults, all without reading the data files.

This module is at the bottom floor (standard library only, no torch) so that what is known
about a dataset without loading it can be read without importing the data package;
``fairdg.data.info`` re-exports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INPUT_KINDS = ("tabular", "image")
SOURCES = ("files", "bundled", "generated", "user file")
# Loader options that say where the data are or how they are held and decoded, not what they
# are: outside a run's identity.
LOCATION_OPTIONS = ("root", "download", "memory_limit_gb", "workers")


@dataclass(frozen=True)
class DatasetInfo:
    """Static description of one registered dataset.

    Parameters
    ----------
    input_kind : {"tabular", "image"}
        Whether samples are feature vectors or images.
    shape : str
        The input shape in words (it may depend on options).
    domains : tuple of str
        Domain names under the default options; empty when only the data tell.
    classes, groups : str
        The classes of the target and the sensitive groups, in words.
    source : {"files", "bundled", "generated", "user file"}
        Where the samples come from.
    default_steps : int
        Training steps of a run that sets none.
    default_hparams : mapping
        The dataset's hyperparameter defaults (they override the algorithms' defaults).
    domains_note : str
        How options change the domains, in words.
    folder : str
        Sub-folder of the data root that holds the files (source "files").
    files : tuple of str
        File names looked for in `folder`.
    bundled : str
        Who ships a copy of the data, if anyone.
    """

    input_kind: str
    shape: str
    domains: tuple[str, ...]
    classes: str
    groups: str
    source: str
    default_steps: int
    default_hparams: Mapping[str, Any] = field(default_factory=dict)
    domains_note: str = ""
    folder: str = ""
    files: tuple[str, ...] = ()
    bundled: str = ""

    def __post_init__(self) -> None:
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {self.input_kind!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        object.__setattr__(self, "domains", tuple(self.domains))
        object.__setattr__(self, "files", tuple(self.files))

    def domains_for(self, options: Mapping[str, Any]) -> tuple[str, ...] | None:
        """Domain names under loader `options`, when known without loading: the declared
        names if the options are only about where the data live, else None."""
        if not self.domains or set(options) - set(LOCATION_OPTIONS):
            return None
        return self.domains


def without_location(options: Mapping[str, Any]) -> dict[str, Any]:
    """Loader options without those that only say where the data are or how they are held
    (``root``, ``download``, ``memory_limit_gb``, ``workers``): what identifies the data."""
    return {k: v for k, v in options.items() if k not in LOCATION_OPTIONS}


# Constants the info needs, defined once here; the loaders import them from this module.
MLP_HPARAMS = {"mlp_depth": 2, "mlp_width": 128, "rep_dim": 20, "batch_size": 128, "lr": 1e-3}
IMAGE_HPARAMS = {"batch_size": 32, "lr": 1e-3, "cnn_width": 32}
SVHN_CNN_HPARAMS = {"rep_dim": 20, "batch_size": 128, "lr": 1e-3}
ADULT_MD5 = {
    "adult.data": "5d7c39d7b8804f071cdd1f2a7c460872",
    "adult.test": "35238206dfdf7f1fe215bbb874adecdc",
}
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
SVHN_MD5 = {
    "train_32x32.mat": "e26dedcc434d2e4c54c9b2d4a06d8373",
    "test_32x32.mat": "eb5a983be6a315427106f1b164d9cef3",
}
CELEBA_FILES = ("list_attr_celeba.txt", "list_eval_partition.txt")
CELEBA_IMAGES = "img_align_celeba"
FAIRFACE_FILES = ("fairface_label_train.csv", "fairface_label_val.csv")
FAIRFACE_RACES = [
    "Black",
    "East Asian",
    "Indian",
    "Latino_Hispanic",
    "Middle Eastern",
    "Southeast Asian",
    "White",
]
CCMNIST_DOMAINS = ("red", "green", "blue")
NYSF_DOMAINS = ["Bronx", "Brooklyn", "Manhattan", "Queens", "Staten Island"]
YFCC_METADATA = "metadata.csv"
_MNIST_FILES = tuple(name + "[.gz]" for name in MNIST_MD5)


# One entry per registered dataset, in the registry's order.
DATASET_INFO: dict[str, DatasetInfo] = {
    "adult": DatasetInfo(
        input_kind="tabular",
        shape="(about 100,) one-hot",
        domains=("all",),
        domains_note="domain= race / age / workclass splits it",
        classes="<=50K / >50K",
        groups="female / male (sensitive=race: non-white / white)",
        source="bundled",
        default_steps=2000,
        default_hparams={"batch_size": 512, "lr": 1e-3},
        folder="adult",
        files=tuple(name + "[.gz]" for name in ADULT_MD5),
        bundled="fairdg (used unless root= or download=true)",
    ),
    "mnist-inverted": DatasetInfo(
        input_kind="image",
        shape="(784,); (1, 28, 28) with flatten=false",
        domains=("mnist+inverted",),
        domains_note="one; test = the official 10,000 and their inverses",
        classes="digits 0-9",
        groups="original / inverted",
        source="files",
        default_steps=3000,
        default_hparams=MLP_HPARAMS,
        folder="mnist",
        files=_MNIST_FILES,
    ),
    "mnist-rotated": DatasetInfo(
        input_kind="image",
        shape="(784,); (1, 28, 28) with flatten=false",
        domains=("mnist->rotated",),
        domains_note="one; test = the rotated test set",
        classes="digits 0-9",
        groups="source / target (rotated)",
        source="files",
        default_steps=2000,
        default_hparams=MLP_HPARAMS,
        folder="mnist",
        files=_MNIST_FILES,
    ),
    "svhn": DatasetInfo(
        input_kind="image",
        shape="(3, 32, 32)",
        domains=("svhn->mnist",),
        domains_note="one; test = the MNIST test set at 32 x 32 x 3",
        classes="digits 0-9 (label 10 of the SVHN files is the digit 0)",
        groups="source (SVHN) / target (MNIST)",
        source="files",
        default_steps=5000,
        default_hparams=SVHN_CNN_HPARAMS,
        folder="svhn",
        files=(*SVHN_MD5, "(and the MNIST files in mnist/)"),
    ),
    "ccmnist": DatasetInfo(
        input_kind="image",
        shape="(3, 28, 28)",
        domains=CCMNIST_DOMAINS,
        domains_note="23,333 or 23,334 each",
        classes="0-4 / 5-9",
        groups="black / white background",
        source="files",
        default_steps=300,
        default_hparams={"batch_size": 64, "lr": 1e-3, "cnn_width": 16},
        folder="mnist",
        files=_MNIST_FILES,
    ),
    "synthetic": DatasetInfo(
        input_kind="tabular",
        shape="(n_features,) = (10,)",
        domains=("env0", "env1", "env2", "env3"),
        domains_note="env0 ... env{n_domains - 1}, 2,000 each",
        classes="negative / positive",
        groups="z=0 / z=1",
        source="generated",
        default_steps=500,
        default_hparams={"batch_size": 64, "lr": 1e-3},
    ),
    "digits": DatasetInfo(
        input_kind="image",
        shape="(1, 8, 8); (3, 8, 8) coloured; flatten=true: 64 / 192",
        domains=("digits+inverted",),
        domains_note="inverted, rotated: one; coloured: red, green, blue",
        classes="digits 0-9; coloured: 0-4 / 5-9",
        groups="original / inverted; source / target; black / white background",
        source="bundled",
        default_steps=300,
        default_hparams={**MLP_HPARAMS, "batch_size": 64, "cnn_width": 32},
        bundled="scikit-learn",
    ),
    "nysf": DatasetInfo(
        input_kind="tabular",
        shape="(about 50,) (depends on the categories present)",
        domains=tuple(NYSF_DOMAINS),
        classes="no weapon / weapon (target=frisked: not frisked / frisked)",
        groups="non-Black / Black",
        source="files",
        default_steps=2000,
        default_hparams={"batch_size": 1024, "lr": 1e-3, "mlp_width": 32, "mlp_depth": 2},
        folder="nysf",
        files=("2011.csv (or sqf-2011-csv.zip)",),
    ),
    "fairface": DatasetInfo(
        input_kind="image",
        shape="(3, size, size) = (3, 64, 64)",
        domains=tuple(FAIRFACE_RACES),
        classes="age < 50 / age >= 50",
        groups="Male / Female",
        source="files",
        default_steps=500,
        default_hparams=IMAGE_HPARAMS,
        folder="fairface",
        files=(*FAIRFACE_FILES, "train/", "val/"),
    ),
    "celeba": DatasetInfo(
        input_kind="image",
        shape="(3, size, size) = (3, 64, 64)",
        domains=(),
        domains_note="all (or two, by the domain= attribute)",
        classes="not Attractive / Attractive (target=)",
        groups="not Male / Male (sensitive=)",
        source="files",
        default_steps=500,
        default_hparams=IMAGE_HPARAMS,
        folder="celeba",
        files=(*CELEBA_FILES, CELEBA_IMAGES + "/"),
    ),
    "yfcc": DatasetInfo(
        input_kind="image",
        shape="(3, size, size) = (3, 64, 64)",
        domains=(),
        domains_note="one per sub-folder (FDDG: before 2000, 2000-2009, 2010-2014)",
        classes="indoor / outdoor",
        groups="not North America / North America",
        source="files",
        default_steps=500,
        default_hparams=IMAGE_HPARAMS,
        folder="yfcc",
        files=(f"<domain>/{YFCC_METADATA}", "<domain>/<images>"),
    ),
    "csv": DatasetInfo(
        input_kind="tabular",
        shape="(features after one-hot,)",
        domains=(),
        domains_note="values of the domain= column (or one)",
        classes="values of the target= column",
        groups="values of the sensitive= column",
        source="user file",
        default_steps=1000,
        default_hparams={"batch_size": 128, "lr": 1e-3},
    ),
}

__all__ = ["LOCATION_OPTIONS", "DatasetInfo", "without_location"]
