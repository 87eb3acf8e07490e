"""`DatasetInfo`: what a registered dataset is, known without loading it.

`DATASET_INFO` below holds one `DatasetInfo` per dataset; `fairdg.data` builds its registry from
these entries (``loader="<module>:<function>"`` names each loader, once), and the loaders import
their entry and its constants from here, so nothing is written twice. Listings print it, sweeps
plan their hold-outs from its domain names, and a finished run checks its recorded
hyperparameters against its defaults, all without reading the data files.

This module is at the bottom floor (standard library only, no torch) so that what is known
about a dataset without loading it can be read without importing the data package;
``fairdg.data.info`` re-exports it.
"""

from __future__ import annotations

import ast
import collections.abc
import difflib
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairdg.parsing import coerce

DATA_ENV = "FAIRDG_DATA"
CACHE_ENV = "FAIRDG_CACHE"
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
    description, paper : str
        One line for listings, and where the paper uses the dataset.
    loader : str
        ``"module:function"`` of the loader in `fairdg.data`, the one place it is named (its
        signature holds the options' defaults, which the listing reads from the source without
        importing torch; a default that is no constant is shown as its expression).
    file_options : tuple of str
        Loader options that name a user's file: a run id holds the file's content
        fingerprint (size + sha256, `fairdg.fingerprint`), not the path's spelling.
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
    description: str = ""
    paper: str = ""
    loader: str = ""
    file_options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.input_kind not in INPUT_KINDS:
            raise ValueError(f"input_kind must be one of {INPUT_KINDS}, got {self.input_kind!r}")
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        object.__setattr__(self, "domains", tuple(self.domains))
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "file_options", tuple(self.file_options))

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
# DDG's reconstruction margin on MNIST-like data (the authors' 0.25 elsewhere).
MNIST_LIKE = {"ddg_margin": 0.025}
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
        description="UCI Adult income > 50K; z = sex or race; bundled",
        paper="affinity 3.2",
        loader="adult:load_adult",
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
        description="MNIST + inverted MNIST; y = digit, z = inverted",
        paper="affinity 2.1",
        loader="mnist:load_mnist_inverted",
        input_kind="image",
        shape="(784,); (1, 28, 28) with flatten=false",
        domains=("mnist+inverted",),
        domains_note="one; test = the official 10,000 and their inverses",
        classes="digits 0-9",
        groups="original / inverted",
        source="files",
        default_steps=3000,
        default_hparams={**MLP_HPARAMS, **MNIST_LIKE},
        folder="mnist",
        files=_MNIST_FILES,
    ),
    "mnist-rotated": DatasetInfo(
        description="MNIST -> MNIST rotated 30 deg, few labelled target samples; z = domain",
        paper="affinity 4",
        loader="mnist:load_mnist_rotated",
        input_kind="image",
        shape="(784,); (1, 28, 28) with flatten=false",
        domains=("mnist->rotated",),
        domains_note="one; test = the rotated test set",
        classes="digits 0-9",
        groups="source / target (rotated)",
        source="files",
        default_steps=2000,
        default_hparams={**MLP_HPARAMS, **MNIST_LIKE},
        folder="mnist",
        files=_MNIST_FILES,
    ),
    "svhn": DatasetInfo(
        description="SVHN -> MNIST (32x32x3), few labelled MNIST samples; z = domain",
        paper="affinity 4",
        loader="svhn:load_svhn",
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
        description="coloured MNIST, 3 domains, y = digit >= 5, z = background",
        paper="FDDG C.1",
        loader="ccmnist:load_ccmnist",
        input_kind="image",
        shape="(3, 28, 28)",
        domains=CCMNIST_DOMAINS,
        domains_note="23,333 or 23,334 each",
        classes="0-4 / 5-9",
        groups="black / white background",
        source="files",
        default_steps=300,
        default_hparams={"batch_size": 64, "lr": 1e-3, "cnn_width": 16, **MNIST_LIKE},
        folder="mnist",
        files=_MNIST_FILES,
    ),
    "synthetic": DatasetInfo(
        description="tabular domains with covariate and dependence shift",
        loader="synthetic:load_synthetic",
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
        description="sklearn 8x8 digits, inverted / rotated / coloured; bundled",
        loader="digits:load_digits",
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
        description="NYPD stop-and-frisk; 5 boroughs, y = weapon, z = Black",
        paper="FDDG",
        loader="nysf:load_nysf",
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
        description="FairFace faces; domains = race, y = age >= 50, z = gender",
        paper="FDDG",
        loader="fairface:load_fairface",
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
        description="CelebA faces; y / z = attributes (Attractive / Male)",
        paper="affinity 3.3",
        loader="celeba:load_celeba",
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
        description="YFCC100M-FDG; domains = period, y = outdoor, z = N. America",
        paper="FDDG",
        loader="yfcc:load_yfcc",
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
        description="your own CSV: path=, target=, sensitive=, [domain=]",
        loader="csv:load_csv",
        input_kind="tabular",
        shape="(features after one-hot,)",
        domains=(),
        domains_note="values of the domain= column (or one)",
        classes="values of the target= column",
        groups="values of the sensitive= column",
        source="user file",
        default_steps=1000,
        default_hparams={"batch_size": 128, "lr": 1e-3},
        file_options=("path", "sensitive_map"),
    ),
}


# Where files are looked for (used by `fairdg.data.sources`, re-exported there).
def cache_dir() -> Path:
    """The download cache: ``$FAIRDG_CACHE`` or ``~/.cache/fairdg``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fairdg"


def search_dirs(dataset: str, root: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for a dataset's files, in order."""
    if root is not None:  # an explicit folder is the only place looked at
        root = Path(root).expanduser()
        return [root, root / dataset]
    dirs = []
    env = os.environ.get(DATA_ENV)
    if env:
        dirs.append(Path(env).expanduser() / dataset)
    dirs.append(cache_dir() / dataset)
    return dirs


class Expression(str):
    """A loader default that is not a constant (shown as its source text by the listing)."""

    def __repr__(self) -> str:
        return str(self)


# Names an option's annotation may use (anything else: the value is passed on unconverted).
_ANNOTATION_NAMES = {
    "bool": bool, "int": int, "float": float, "str": str, "None": None, "list": list,
    "tuple": tuple, "dict": dict, "Sequence": collections.abc.Sequence, "Any": typing.Any,
}  # fmt: skip


def _loader_node(name: str) -> tuple[ast.FunctionDef, Path]:
    module, function = DATASET_INFO[name].loader.split(":")
    path = Path(__file__).parent / "data" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    return node, path


def loader_signature(name: str) -> dict[str, tuple[Any, Any]]:
    """``option -> (annotation, default)`` of dataset `name`'s loader, read from the loader's
    source (its signature is the one place they are written) without importing it, so without
    torch. A default that is no constant comes back as an `Expression` (its source text)."""
    node, path = _loader_node(name)
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = [
        *zip(positional, defaults, strict=True),
        *zip(args.kwonlyargs, args.kw_defaults, strict=True),
    ]
    return {
        a.arg: (_annotation(a.annotation), None if d is None else _value(d, path))
        for a, d in pairs
    }


def loader_options(name: str) -> dict[str, Any]:
    """The keyword options of dataset `name`'s loader with their defaults (`loader_signature`);
    equal to ``fairdg.data.dataset_options(name)`` where the defaults are constants (tested)."""
    return {option: default for option, (_, default) in loader_signature(name).items()}


def check_loader_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """`options` of dataset `name` typed by its loader's annotations; an unknown option (or a
    value of the wrong type) is an error naming it and the valid ones, before torch loads.
    ``image_size`` is every image dataset's option (`fairdg.data.load_dataset`)."""
    signature = loader_signature(name)
    valid = sorted({*signature, "image_size"})
    unknown = sorted(set(options) - set(valid))
    if unknown:
        close = difflib.get_close_matches(unknown[0], valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"unknown option(s) {', '.join(map(repr, unknown))} for dataset {name!r}{hint}; "
            f"valid options: {', '.join(valid)}"
        )
    return {
        key: coerce(value, signature.get(key, (typing.Any,))[0], f"data option {key!r}")
        for key, value in options.items()
    }


def _annotation(node: ast.expr | None) -> Any:
    """An annotation evaluated among a few builtin names (`typing.Any` when it names more)."""
    if node is None:
        return typing.Any
    try:
        return eval(ast.unparse(node), {"__builtins__": {}}, dict(_ANNOTATION_NAMES))
    except Exception:  # noqa: BLE001 - a library type (a DataFrame): passed on as it is
        return typing.Any


def _value(node: ast.expr, path: Path) -> Any:
    """A literal default, a module-level constant named in `path` (followed through ``from
    fairdg... import NAME``), or else the expression's source text."""
    if not isinstance(node, ast.Name):
        try:
            return ast.literal_eval(node)
        except ValueError:
            return Expression(ast.unparse(node))
    for stmt in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets
        ):
            return _value(stmt.value, path)
        module = stmt.module if isinstance(stmt, ast.ImportFrom) else None
        if isinstance(stmt, ast.ImportFrom) and module and module.startswith("fairdg."):
            for alias in stmt.names:
                if (alias.asname or alias.name) == node.id:
                    source = Path(__file__).parent.joinpath(*module.split(".")[1:])
                    return _value(ast.Name(id=alias.name), source.with_suffix(".py"))
    return Expression(node.id)


__all__ = [
    "DATASET_INFO",
    "LOCATION_OPTIONS",
    "DatasetInfo",
    "Expression",
    "cache_dir",
    "check_loader_options",
    "loader_options",
    "loader_signature",
    "search_dirs",
    "without_location",
]
