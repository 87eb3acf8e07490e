"""`RunConfig`: everything that defines a run, a frozen, serialisable object with a stable hash."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

from fairdg.data.info import without_location
from fairdg.metrics.degenerate import DEFAULT_MIN_POSITIVE_RATE, check_min_positive_rate
from fairdg.records import canonical_json
from fairdg.tracking import check_tracker

# Fields that do not change what a run computes and so stay out of its hash.
_NOT_HASHED = ("device", "output_dir", "quiet", "save_model", "compile", "precision", "tracker")
# Fields added after runs were first recorded: they enter the hash only when they differ from
# their default, so the run ids of earlier versions stay valid. A new field that changes what
# a run computes goes here with its default (never into the hash unconditionally).
_HASHED_UNLESS_DEFAULT = {"min_group_size": 30, "min_positive_rate": DEFAULT_MIN_POSITIVE_RATE}


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
    steps, eval_every
        Training steps (None: the dataset's default) and evaluation period (None: steps / 10).
    selection
        Validation criterion that picks the reported checkpoint, ``"<set>.<metric>"``.
    min_group_size
        A metric comparing a sensitive group with fewer rows than this in an evaluation set is
        recorded as undefined, with the reason (enters the run's hash only when not 30).
    min_positive_rate
        An evaluation whose positive rate lies outside ``[min_positive_rate, 1 -
        min_positive_rate]`` (or whose scores have no spread) is recorded as degenerate
        (`fairdg.metrics.degenerate`); enters the run's hash only when not 0.02.
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
        ``fp32`` (default) or ``bf16`` (bfloat16 autocast, CUDA only); not hashed either.
    tracker
        ``"tensorboard"`` or ``"mlflow"``: also send each evaluation and the final record there
        (`fairdg.tracking`, extra ``fairdg[tracking]``); None (default): the run folder only.
        Not hashed.
    """

    dataset: str = "adult"
    data_options: dict[str, Any] = field(default_factory=dict)
    algorithm: str = "erm"
    hparams: dict[str, Any] = field(default_factory=dict)
    hparams_seed: int = 0
    test_domains: tuple[str, ...] = ()
    seed: int = 0
    steps: int | None = None
    eval_every: int | None = None
    selection: str = "val.accuracy"
    min_group_size: int = 30
    min_positive_rate: float = DEFAULT_MIN_POSITIVE_RATE
    transformation: str | None = None
    device: str = "cpu"
    output_dir: str = "fairdg-runs"
    quiet: bool = False
    save_model: bool = True
    compile: bool = False
    precision: str = "fp32"
    tracker: str | None = None

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
        check_tracker(self.tracker)
        if "." not in self.selection:
            raise ValueError(
                f"selection must look like 'val.accuracy' (<set>.<metric>), got {self.selection!r}"
            )

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
        where its data live (``root`` and ``download`` among the data options)."""
        hashed = {k: v for k, v in self.to_dict().items() if k not in _NOT_HASHED}
        hashed["data_options"] = without_location(self.data_options)
        for name, default in _HASHED_UNLESS_DEFAULT.items():
            if hashed[name] == default:  # the default keeps the run ids of older versions
                del hashed[name]
        return hashed

    def run_id(self) -> str:
        """Short stable hash of the fields that define what the run computes."""
        return hashlib.sha1(canonical_json(self.hashed_dict()).encode()).hexdigest()[:12]

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)
