"""Shared machinery of the scikit-learn and fairlearn models (`lr`, `fairlearn-expgrad`,
`fairlearn-threshold`): standard fairness tools in the same runs, tables and reports as fairdg's
methods.

- `SklearnModel`: an `Algorithm` fitted in one go (``FITS_ONCE``): the training loop calls
  `update` once with every training row of the training domains, pooled, and evaluates once.
  What the fitted estimator learned is copied into tensors (buffers), so checkpoints and
  ``model.pt`` hold tensors only (loaded with ``weights_only=True``, never a pickle) and
  prediction is plain torch: fairlearn is needed to fit, not to predict.
- `randomized_logits`: fairlearn's reductions and post-processing predict at random (a row is
  positive with probability ``pmf``); `fairlearn.predict` draws ``pmf >= U(0, 1)``. We draw the
  same way from a generator seeded by the run's seed (`prediction_seed`, a buffer), so a run,
  its reloaded model and a resumed run decide alike.
- `fairlearn_module`: import fairlearn, or a one-line error saying how to install it.
"""

from __future__ import annotations

import contextlib
import importlib
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from fairdg.algorithms.base import Algorithm
from fairdg.data.base import Batch, cat
from fairdg.hparams import Fixed, HParam, Interval, LogUniform, OneOf

INSTALL_HINT = "pip install 'fairdg[fairlearn]' (or pip install fairlearn)"
# The logit of a decided row: softmax gives it probability 1 - 1e-13 (positive in every
# evaluation, whatever the threshold in (0, 1)).
DECIDED = 30.0

# Knobs of the logistic regressions (`lr`, and the estimator inside `fairlearn-expgrad`).
LR_HPARAMS: dict[str, HParam] = {
    "lr_c": HParam(
        1.0,
        LogUniform(-2, 2),
        "inverse L2 regularisation strength C of scikit-learn's LogisticRegression",
        Interval(0, low_open=True),
    ),
    "lr_max_iter": HParam(
        1000, Fixed(), "lbfgs iterations of LogisticRegression", Interval(1, integer=True)
    ),
}
# The fairness notion of the fairlearn models (the same knob as fairdg's penalty and constraint).
FAIR_METRIC = HParam(
    "dp",
    Fixed(),
    "fairlearn constraint: dp (demographic parity), eo (equalized odds), eopp (TPR parity)",
    OneOf(("dp", "eo", "eopp")),
)


class MissingExtraError(ImportError, RuntimeError):
    """An optional dependency is not installed: an ImportError for Python callers, which the
    command line reports as one line (exit 2) like its other user errors."""


def fairlearn_module(name: str, algorithm: str) -> Any:
    """``fairlearn.<name>``, or a `MissingExtraError` saying how to install the extra."""
    try:
        return importlib.import_module(f"fairlearn.{name}")
    except ImportError:
        raise MissingExtraError(
            f"algorithm {algorithm!r} needs fairlearn: {INSTALL_HINT}"
        ) from None


@contextlib.contextmanager
def quiet_fairlearn() -> Iterator[None]:
    """fairlearn's own use of deprecated pandas and scikit-learn calls warns at every fit; that
    noise is not the user's to act on (warnings stay errors in fairdg's tests otherwise)."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category, module="fairlearn")
        yield


def check_binary(algorithm: str, num_classes: int) -> None:
    """fairlearn's reductions and post-processing decide between two classes."""
    if num_classes != 2:
        raise ValueError(
            f"algorithm {algorithm!r} needs a binary target (fairlearn decides between two "
            f"classes); this dataset has {num_classes} classes"
        )


def features(x: torch.Tensor) -> np.ndarray:
    """Rows as a float64 matrix (images flattened), as scikit-learn takes them."""
    return x.reshape(len(x), -1).detach().cpu().double().numpy()


def randomized_logits(pmf: torch.Tensor, seed: int) -> torch.Tensor:
    """Logits of fairlearn's randomised decision: row i is positive when ``pmf[i] >= u[i]``,
    ``u ~ U(0, 1)`` from a generator seeded by `seed` (the same draws at every call)."""
    u = torch.rand(len(pmf), generator=torch.Generator().manual_seed(int(seed)), dtype=pmf.dtype)
    decided = (pmf >= u.to(pmf.device)).to(torch.float32)
    logits = torch.zeros(len(pmf), 2, device=pmf.device)
    logits[:, 1] = (2 * decided - 1) * DECIDED
    return logits


def linear_decision(x: torch.Tensor, coef: torch.Tensor, intercept: torch.Tensor):
    """``x @ coef.T + intercept`` on flattened rows."""
    return x.reshape(len(x), -1).to(coef.dtype) @ coef.T + intercept


class SklearnModel(Algorithm):
    """Base of the models fitted in one go: own knobs only, tensors as state, a seed buffer.

    Subclasses declare ``HPARAMS`` and implement ``fit(x, y, z) -> dict`` (numpy arrays of the
    pooled training rows; return the loss terms) and ``predict``.
    """

    FITS_ONCE: ClassVar[bool] = True
    POOLED_BATCH: ClassVar[bool] = True
    # Buffers whose shape is known only once fitted (e.g. the number of predictors of an
    # exponentiated-gradient mixture): a state dict of another shape resizes them on load.
    RESIZABLE: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def declared_hparams(cls) -> dict[str, HParam]:
        """Only the knobs of the model itself: a learning rate, batch size or network of the
        base class would mean nothing here (and `fairdg run --compare` passes each algorithm
        only the ``--hparam`` keys it declares)."""
        merged: dict[str, HParam] = {}
        for klass in reversed(cls.__mro__):
            if issubclass(klass, SklearnModel):
                merged.update(klass.__dict__.get("HPARAMS", {}))
        return merged

    prediction_seed: torch.Tensor  # a registered buffer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the run's seed (train() seeds torch with it before building the algorithm), read
        # without drawing from torch's generator
        self.register_buffer("prediction_seed", torch.tensor(torch.initial_seed() % 2**31))

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        pooled = cat(batches)
        y, z = pooled.y.cpu().numpy(), pooled.z.cpu().numpy()
        return self.fit(features(pooled.x), y, z)

    def fit(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> dict[str, float]:
        raise NotImplementedError

    def featurize(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), -1)

    def _load_from_state_dict(self, state_dict, prefix, *args: Any, **kwargs: Any) -> None:
        for name in self.RESIZABLE:
            incoming = state_dict.get(prefix + name)
            if incoming is not None and incoming.shape != getattr(self, name).shape:
                setattr(self, name, torch.zeros_like(incoming, device=getattr(self, name).device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def log_loss(probs: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the labels (the loss term `update` reports)."""
    picked = np.clip(probs[np.arange(len(y)), y], 1e-12, 1.0)
    return float(-np.log(picked).mean())


__all__ = [
    "DECIDED",
    "FAIR_METRIC",
    "INSTALL_HINT",
    "LR_HPARAMS",
    "MissingExtraError",
    "SklearnModel",
    "check_binary",
    "fairlearn_module",
    "features",
    "linear_decision",
    "log_loss",
    "quiet_fairlearn",
    "randomized_logits",
]
