"""`RunConfig`: everything that defines a run, a frozen, serialisable object with a stable hash.

Every entry point builds its configs here: `build_config` applies named values (text from the
command line, JSON, Python objects) to a base config, typed by the field annotations, with a
did-you-mean error for an unknown name; `check_registered` checks the names a config refers to
(dataset, its options, algorithm, selection) against the torch-free registries. Neither imports
torch, so the command line refuses a typo before the heavy imports. Each field's default and its
one-line help are written once, below.
"""

from __future__ import annotations

import dataclasses
import hashlib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairdg.datasets_info import DATASET_INFO, check_loader_options, without_location
from fairdg.fingerprint import identify
from fairdg.metrics.catalogue import CATALOGUE
from fairdg.metrics.catalogue import entry as metric_entry
from fairdg.metrics.degenerate import DEFAULT_MIN_POSITIVE_RATE, check_min_positive_rate
from fairdg.parsing import coerce
from fairdg.records import canonical_json
from fairdg.registry import close_match, declared_names, unknown_name_message
from fairdg.tracking import TRACKERS, check_tracker, require

MIN_GROUP_SIZE = 30
PRECISIONS = ("fp32", "bf16")
# Fields that do not change what a run computes and so stay out of its hash.
_NOT_HASHED = ("device", "output_dir", "quiet", "save_model", "compile", "tracker")
# Fields added after runs were first recorded: they enter the hash only when they differ from
# their default, so the run ids of earlier versions stay valid. A new field that changes what
# a run computes goes here with its default (never into the hash unconditionally).
_HASHED_UNLESS_DEFAULT = {
    "min_group_size": MIN_GROUP_SIZE,
    "min_positive_rate": DEFAULT_MIN_POSITIVE_RATE,
    "precision": "fp32",  # bf16 changes results (fairness figures most), so it is its own run
    "val_fraction": 0.2,
    "test_fraction": 0.2,
}
# The algorithm names, read from the registry's entry list without importing it (torch).
_ALGORITHMS_FILE = Path(__file__).resolve().parents[1] / "algorithms" / "__init__.py"


def _field(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A dataclass field with its command-line help (every entry point shows the same)."""
    metadata = {"help": help, "choices": choices}
    if isinstance(default, dict | list):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class RunConfig:
    """A run: dataset (and options), algorithm (and hyperparameters), held-out domains, seed.

    Parameters
    ----------
    dataset, data_options
        Registry name of the dataset and the keyword options of its loader.
    algorithm, hparams, hparams_seed
        Registry name of the algorithm, explicit hyperparameter overrides, and the seed of the
        random hyperparameter draw (0 = defaults).
    test_domains
        Domains held out from training (evaluated only). Empty: train on every domain and
        test on each domain's test split.
    seed
        Trial seed: data split, initialisation and minibatch order.
    val_fraction, test_fraction
        Shares of each domain's rows held out for validation (selection) and test, stratified
        by (y, z); a domain with a fixed test set (Adult's) splits only the rest, by
        `val_fraction`. ``test_fraction=0``: no test rows (`FairClassifier` trains on all but
        the validation rows). Enter the run's hash only when not the defaults (0.2, 0.2).
    steps, eval_every
        Training steps (None: the dataset's default) and evaluation period (None: steps / 10).
    selection
        Validation criterion that picks the reported checkpoint, ``"<set>.<metric>"``.
    min_group_size
        A metric comparing a sensitive group with fewer rows than this in an evaluation set is
        recorded as undefined, with the reason (enters the run's hash only when not the
        default, `MIN_GROUP_SIZE`).
    min_positive_rate
        An evaluation whose positive rate lies outside ``[min_positive_rate, 1 -
        min_positive_rate]`` (or whose scores have no spread) is recorded as degenerate
        (`fairdg.metrics.degenerate`); enters the run's hash only when not the default.
    transformation
        Path of a trained transformation-model artifact (FDDG), or None.
    device, output_dir, quiet, save_model
        Where to run and write; these do not enter the run's hash, nor do the data options
        ``root``, ``download``, ``memory_limit_gb`` and ``workers`` (where the data live and
        how they are held).
    compile
        torch.compile the algorithm's networks: how the run computes, not what, so it stays
        out of the hash like `device` (results agree to float rounding, not bit for bit).
    precision
        ``fp32`` (default) or ``bf16`` (bfloat16 autocast, CUDA or CPU); bf16 changes the
        results, so it enters the run's hash (fp32, the default, does not: older ids hold).
    tracker
        ``"tensorboard"`` or ``"mlflow"``: also send each evaluation and the final record there
        (`fairdg.tracking`, extra ``fairdg[tracking]``); None (default): the run folder only.
        Not hashed.
    """

    dataset: str = _field("adult", "dataset name; see `fairdg datasets`")
    data_options: dict[str, Any] = _field({}, "loader option KEY=VALUE (e.g. domain=race)")
    algorithm: str = _field("erm", "algorithm name; see `fairdg algorithms`")
    hparams: dict[str, Any] = _field({}, "hyperparameter override KEY=VALUE (e.g. lr=1e-3)")
    hparams_seed: int = _field(0, "draw hyperparameters from their search spaces (0: defaults)")
    test_domains: tuple[str, ...] = _field((), "domains held out from training")
    seed: int = _field(0, "trial seed: split, initialisation, minibatches")
    val_fraction: float = _field(0.2, "share of each domain's rows for validation (selection)")
    test_fraction: float = _field(0.2, "share of each domain's rows for test (0: none)")
    steps: int | None = _field(None, "training steps (none: the dataset's default)")
    eval_every: int | None = _field(None, "evaluate every N steps (none: steps / 10)")
    selection: str = _field("val.accuracy", "checkpoint selection criterion <set>.<metric>")
    min_group_size: int = _field(
        MIN_GROUP_SIZE,
        "metrics comparing a sensitive group with fewer rows in an evaluation set are "
        "recorded as undefined, with the reason",
    )
    min_positive_rate: float = _field(
        DEFAULT_MIN_POSITIVE_RATE,
        "an evaluation whose positive rate lies outside [r, 1 - r] is recorded as degenerate",
    )
    transformation: str | None = _field(
        None, "trained transformation model for FDDG (from `fairdg transform train`)"
    )
    device: str = _field("cpu", "torch device: cpu, cuda, cuda:1, or auto")
    output_dir: str = _field("fairdg-runs", "folder of run folders and results.jsonl")
    quiet: bool = _field(False, "no progress bars or progress lines")
    save_model: bool = _field(True, "keep the selected model (model.pt)")
    compile: bool = _field(False, "torch.compile the algorithm's networks (a speed option)")
    precision: str = _field(
        "fp32", "fp32, or bf16 autocast (CUDA or CPU; results differ)", choices=PRECISIONS
    )
    tracker: str | None = _field(
        None,
        "also send each evaluation and the final record to TensorBoard (OUTPUT/tensorboard) or "
        "MLflow ($MLFLOW_TRACKING_URI, else OUTPUT/mlruns); pip install 'fairdg[tracking]'",
        choices=TRACKERS,
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "test_domains", tuple(self.test_domains))
        object.__setattr__(self, "data_options", dict(self.data_options))
        object.__setattr__(self, "hparams", dict(self.hparams))
        for name in ("seed", "hparams_seed", "min_group_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("steps", "eval_every"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        object.__setattr__(
            self, "min_positive_rate", check_min_positive_rate(self.min_positive_rate)
        )
        self._check_fractions()
        if "." not in self.selection:
            raise ValueError(
                f"selection must look like 'val.accuracy' (<set>.<metric>), got {self.selection!r}"
            )
        check_tracker(self.tracker)
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")

    def _check_fractions(self) -> None:
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
                raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.val_fraction == 0 or self.val_fraction + self.test_fraction >= 1:
            raise ValueError(
                "val_fraction must be above 0 (selection reads the validation rows) and "
                "val_fraction + test_fraction below 1 (rows left to train on), got "
                f"{self.val_fraction} and {self.test_fraction}"
            )

    def split_data(self, dataset: Any) -> Any:
        """`dataset` (a `fairdg.data.MultiDomainDataset`) split as this run splits it: seed,
        held-out domains, validation and test fractions."""
        return dataset.split(self.seed, self.test_domains, self.val_fraction, self.test_fraction)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown RunConfig field(s) {unknown}; valid: {sorted(known)}")
        return cls(**data)

    def hashed_dict(self) -> dict[str, Any]:
        """The fields that define what the run computes: not where it runs or writes, nor
        where its data live (``root`` and ``download`` among the data options). A data option
        naming a user's file (the ``csv`` path) enters as the file's content fingerprint."""
        hashed = {k: v for k, v in self.to_dict().items() if k not in _NOT_HASHED}
        info = DATASET_INFO.get(self.dataset)
        # a user's file by its content, not its spelling (fingerprints are cached)
        options = identify(self.data_options, info.file_options if info else ())
        hashed["data_options"] = without_location(options)
        for name, default in _HASHED_UNLESS_DEFAULT.items():
            if hashed[name] == default:  # the default keeps the run ids of older versions
                del hashed[name]
        return hashed

    def run_id(self) -> str:
        """Short stable hash of the fields that define what the run computes."""
        return hashlib.sha1(canonical_json(self.hashed_dict()).encode()).hexdigest()[:12]

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)


# The base of a sweep's runs: quiet, no model files (a sweep keeps records), its own folder.
SWEEP_BASE = RunConfig(output_dir="fairdg-runs/sweep", quiet=True, save_model=False)
FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(RunConfig)}
_TYPES = typing.get_type_hints(RunConfig)


def field_help(name: str) -> str:
    """The one-line help of RunConfig field `name`."""
    return FIELDS[name].metadata["help"]


def build_config(
    values: Mapping[str, Any] | None = None,
    base: RunConfig | None = None,
    *,
    what: str = "run option",
) -> RunConfig:
    """`base` (default: `RunConfig()`) with `values` applied, the one way configs are built.

    Values may be text (``"30"``, ``"true"``, ``"a,b"``), JSON values or Python objects; each
    is converted to its field's declared type (`fairdg.parsing.coerce`).

    Raises
    ------
    ValueError
        For a name that is no field (naming the closest one), a value of the wrong type, or
        one that `RunConfig` refuses.
    """
    base = base if base is not None else RunConfig()
    values = dict(values or {})
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(
            f"unknown {what} {unknown[0]!r}{close_match(unknown[0], FIELDS)}; valid: "
            f"{', '.join(FIELDS)}"
        )
    typed = {k: coerce(v, _TYPES[k], f"{what} {k!r}") for k, v in values.items()}
    return base.replace(**typed)


def algorithm_names() -> list[str]:
    """The registered algorithm names, without importing the algorithms (torch)."""
    return declared_names(_ALGORITHMS_FILE)


def check_registered(config: RunConfig, datasets: Mapping[str, Any] | None = None) -> None:
    """Check the names `config` refers to before anything heavy loads: the dataset (unless it
    is one of the in-memory `datasets`) and its loader options, the algorithm, and the
    selection criterion's set and metric as far as they are known without the data.

    Raises
    ------
    ValueError
        Naming the field, the closest valid name and the valid ones.
    """
    if config.dataset not in (datasets or {}):
        if config.dataset.lower() not in DATASET_INFO:
            raise ValueError(unknown_name_message("dataset", config.dataset, DATASET_INFO))
        check_loader_options(config.dataset.lower(), config.data_options)
    names = algorithm_names()
    if config.algorithm.lower() not in names:
        raise ValueError(unknown_name_message("algorithm", config.algorithm, names))
    check_selection_name(config.selection)
    require(config.tracker)  # the tracker's package: one line with the install command


def check_selection_name(criterion: str) -> None:
    """The part of a selection criterion known without data: a pooled set or a
    ``<domain>/<val|test>`` set, and a metric of the catalogue (per-group metrics by the part
    before the slash). The loop checks the rest against the split."""
    set_name, _, metric = criterion.partition(".")
    domain, slash, part = set_name.rpartition("/")
    if (not slash and set_name not in ("val", "test", "oracle")) or (
        slash and part not in ("val", "test")
    ):
        raise ValueError(
            f"--selection {criterion!r}: unknown set {set_name!r}; valid sets: val, test, "
            "oracle or <domain>/val, <domain>/test"
        )
    if metric_entry(metric) is None:
        raise ValueError(
            f"--selection {criterion!r}: unknown metric {metric!r}"
            f"{close_match(metric, CATALOGUE)}; valid metrics: {', '.join(sorted(CATALOGUE))} "
            "(per group: <metric>/<group>)"
        )
