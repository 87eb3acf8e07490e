"""The algorithm contract, after DomainBed.

An `Algorithm` is a ``torch.nn.Module`` that owns its networks and optimiser. It declares its
hyperparameters in ``HPARAMS`` (merged with those of its base classes), takes one optimisation
step with ``update(batches)`` given one `Batch` per training domain and returns a dict of
floats (loss terms), and maps inputs to logits with ``predict(x)``. ``featurize(x)`` returns the
representation layer.

Fairness, for every algorithm that calls `Algorithm.add_fairness` on its real minibatch: the
relaxed gap named by ``fair_metric`` (``dp``: FDDG's definition 1; ``eo``, ``eopp``: soft TPR and
FPR gaps, `fairdg.losses.fairness`) enters the loss either as a fixed-weight penalty
(``fair_lambda`` > 0) or as the stated constraint "relaxed gap <= ``fair_tolerance``" solved by
primal-dual: its multiplier (a buffer, so saved with the model and in checkpoints) rises by
projected dual ascent while the batch's gap exceeds the tolerance and falls back to 0 when it
does not.

Two optional parts of the contract serve models that are not trained by minibatch steps:
``FITS_ONCE`` (scikit-learn models: the training loop calls ``update`` once with every training
row, then evaluates once) and ``USES_GROUPS_AT_PREDICTION`` (post-processing whose decision
depends on each row's group: evaluation calls ``predict_with_groups(x, z)``, and
``fit_postprocessing`` is called with the training domains' validation rows before each
evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from fairdg.data.base import Batch
from fairdg.hparams import (
    Choice,
    Fixed,
    HParam,
    Interval,
    LogUniform,
    OneOf,
    ResolvedHParams,
    resolve,
)
from fairdg.losses import relaxed_dp
from fairdg.losses.fairness import FAIR_METRICS, group_rates, rates_gap, relaxed_gap
from fairdg.networks import NETWORK_HPARAMS, build_classifier, build_featurizer


def dual_ascent(
    multipliers: torch.Tensor,
    violations: torch.Tensor,
    step_sizes: torch.Tensor,
    upper: float | None = None,
) -> torch.Tensor:
    """Projected dual ascent: ``clip(lambda + eta * (constraint - margin), 0, upper)``."""
    out = (multipliers + step_sizes * violations).clamp_min(0.0)
    return out if upper is None else out.clamp_max(upper)


class Algorithm(nn.Module):
    """Base class: hyperparameter handling, the shared optimiser and the fairness penalty."""

    fair_multiplier: torch.Tensor  # buffers registered with fair_tolerance
    fair_rates: torch.Tensor
    optimizer: torch.optim.Optimizer  # the shared optimiser, where a subclass makes one

    HPARAMS: ClassVar[dict[str, HParam]] = {
        "lr": HParam(
            1e-3,
            LogUniform(-4.5, -2.5),
            "learning rate (Adam)",
            Interval(0, 10, low_open=True, high_open=True),
        ),
        "weight_decay": HParam(0.0, LogUniform(-6, -2), "weight decay (Adam)", Interval(0)),
        "batch_size": HParam(
            64,
            LogUniform(3, 9, base=2, integer=True),
            "batch size per domain",
            Interval(1, integer=True),
        ),
        # 0 for the plain methods (and never searched); > 0 adds the fixed-weight penalty to
        # any algorithm, e.g. ``--hparam fair_lambda=1`` (see docs/fairness.md).
        "fair_lambda": HParam(
            0.0,
            Choice((0.0,)),
            "weight of the relaxed fairness penalty (fair_metric); > 0: the penalty variant",
            Interval(0),
        ),
        # A stated requirement rather than a weight: "relaxed gap <= fair_tolerance", solved by
        # primal-dual; 0 = off. Never searched: a tolerance is the user's, not a knob to tune.
        "fair_tolerance": HParam(
            0.0,
            Choice((0.0,)),
            "> 0: constrain the relaxed fairness gap (fair_metric) to at most this, primal-dual",
            Interval(0, 1),
        ),
        "fair_metric": HParam(
            "dp",
            Choice(("dp",)),
            "gap of fair_lambda / fair_tolerance: dp (parity), eo (TPR and FPR), eopp (TPR)",
            OneOf(FAIR_METRICS),
        ),
        "fair_dual_step": HParam(
            0.5,
            Fixed(),
            "dual step size of the fair_tolerance multiplier",
            Interval(0, low_open=True),
        ),
        "fair_rate_ema": HParam(
            0.05,
            Fixed(),
            "weight of each batch in the moving average of group decision rates (fair_tolerance)",
            Interval(0, 1, low_open=True),
        ),
        # Adam's fused kernel: fewer passes over the parameters (about 2x faster optimiser steps
        # on a CPU), but its arithmetic differs: results agree only to rounding, so it is an
        # option (hashed in the run id like any override), off by default.
        "adam_fused": HParam(
            False, Fixed(), "fused Adam kernel: faster steps, results differ in the last bits"
        ),
        **NETWORK_HPARAMS,
    }
    # Whether the constructor takes a trained transformation model (``transformation=``, FDDG).
    USES_TRANSFORMATION: ClassVar[bool] = False
    # Whether the constructor takes the sources' training rows (``train_domains=``, a list of
    # `Domain`): for a method that needs the whole training set once (EIIL's environment
    # inference); the training loop passes them, a model rebuilt for prediction gets none.
    USES_TRAINING_DATA: ClassVar[bool] = False
    # Names (as in named_parameters) of trainable parameters that legitimately never receive a
    # gradient from `update`; the registry-driven tests exempt them. Keep this tiny.
    UNUSED_PARAMETERS: ClassVar[tuple[str, ...]] = ()
    # True: `update` only uses all domains' rows together, so the training loop may pass one
    # pooled `Batch` (every domain's rows, in domain order, ``d`` the domain index) instead of
    # one per domain: the rows are then gathered once, not gathered and concatenated.
    POOLED_BATCH: ClassVar[bool] = False
    # True: a model fitted in one go (scikit-learn): the training loop calls `update` once with
    # every training row (one Batch per training domain) and evaluates once.
    FITS_ONCE: ClassVar[bool] = False
    # True: the decision depends on each row's sensitive group (post-processing such as
    # fairlearn's ThresholdOptimizer). Evaluation and `fairdg predict` call
    # `predict_with_groups(x, z)`; the loop calls `fit_postprocessing` before each evaluation.
    USES_GROUPS_AT_PREDICTION: ClassVar[bool] = False

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        num_domains: int,
        hparams: Mapping[str, Any] | None = None,
        num_groups: int = 2,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.num_domains = num_domains
        self.num_groups = num_groups
        if isinstance(hparams, ResolvedHParams):  # resolved once, by `prepare`
            self.hparams = dict(hparams)
        else:  # built directly (tests, notebooks): partial overrides
            self.hparams = dict(resolve(self.declared_hparams(), hparams or {}))
        if self.hparams.get("fair_tolerance", 0) > 0:
            if self.hparams.get("fair_lambda", 0) > 0:
                raise ValueError(
                    "give fair_lambda (a fixed-weight penalty) or fair_tolerance (a constraint "
                    "solved by primal-dual), not both; got fair_lambda="
                    f"{self.hparams['fair_lambda']} and fair_tolerance="
                    f"{self.hparams['fair_tolerance']}"
                )
            # the constraint's Lagrange multiplier and the moving average of the groups' decision
            # rates it reads: buffers, so model.pt and checkpoints keep them
            self.register_buffer("fair_multiplier", torch.zeros((), dtype=torch.float32))
            kinds = 2 if self.hparams.get("fair_metric") == "eo" else 1
            self.register_buffer("fair_rates", torch.full((kinds, num_groups), float("nan")))

    @classmethod
    def declared_hparams(cls) -> dict[str, HParam]:
        """All hyperparameters of this class and its bases (subclasses override by name)."""
        merged: dict[str, HParam] = {}
        for klass in reversed(cls.__mro__):
            merged.update(getattr(klass, "HPARAMS", {}))
        return merged

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        raise NotImplementedError

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def predict_with_groups(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Logits given each row's sensitive group `z` (group ids); the same as `predict` for
        every algorithm whose ``USES_GROUPS_AT_PREDICTION`` is False."""
        return self.predict(x)

    def fit_postprocessing(self, batches: Sequence[Batch]) -> None:
        """Fit post-processing on the training domains' validation rows (one `Batch` per
        domain); called by the training loop before each evaluation. Default: nothing."""

    def featurize(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    # -- shared pieces -------------------------------------------------------------------------
    def make_optimizer(self, params) -> torch.optim.Optimizer:
        return torch.optim.Adam(
            params,
            lr=self.hparams["lr"],
            weight_decay=self.hparams["weight_decay"],
            **self.adam_implementation(),
        )

    def adam_implementation(self) -> dict[str, Any]:  # Adam's keyword: fused or foreach
        """Adam's implementation: the multi-tensor one by default (one call per operation for
        all parameters instead of one per parameter; the same operations, so the same results
        bit for bit as torch's default per-tensor loop on a CPU), the fused kernel with
        ``adam_fused``."""
        if self.hparams.get("adam_fused", False):
            return {"fused": True}
        return {"foreach": True}

    def fairness_penalty(self, logits: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The relaxed DP term on the predicted probability of class 1 (binary tasks)."""
        scores = torch.softmax(logits, dim=1)[:, -1]
        return relaxed_dp(scores, z)

    @property
    def fairness_on(self) -> bool:
        """Whether `add_fairness` adds anything (a penalty or a constraint)."""
        return self.hparams.get("fair_lambda", 0) > 0 or self.hparams.get("fair_tolerance", 0) > 0

    def add_fairness(
        self,
        loss: torch.Tensor,
        logits: torch.Tensor,
        z: torch.Tensor,
        stats: dict[str, float],
        y: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`loss` plus the relaxed gap named by ``fair_metric`` (`y` is needed for eo / eopp):
        times ``fair_lambda`` (a fixed penalty, stats ``fair_penalty``), or times the
        multiplier of the constraint "gap <= fair_tolerance" (stats ``fair_gap``,
        ``fair_rate_gap``, ``fair_multiplier``). Unchanged when neither is on.

        The constraint's multiplier then takes one projected dual-ascent step on the gap of the
        *decisions* (a moving average of the groups' rates over batches, ``fair_rate_ema``),
        not of the scores: the loss needs a differentiable proxy, but the tolerance is about
        decisions, and on a credit table the relaxed gap sat at 0.03 while the decisions'
        gap was 0.15 (scores bunched either side of 0.5). The average keeps the small groups'
        noise out of the multiplier (cf. Cotter et al. 2019, proxy Lagrangians)."""
        if not self.fairness_on:
            return loss
        metric = self.hparams.get("fair_metric", "dp")
        scores = torch.softmax(logits, dim=1)[:, -1]
        gap = relaxed_gap(metric, scores, z, y)
        tolerance = float(self.hparams.get("fair_tolerance", 0))
        if tolerance <= 0:
            stats["fair_penalty"] = gap.item()
            return loss + float(self.hparams["fair_lambda"]) * gap
        weight = float(self.fair_multiplier)  # a number: the in-place update below is not traced
        decided = (scores.detach() > 0.5).to(self.fair_rates.dtype)
        rates, present = group_rates(decided, z, y, metric, self.num_groups)
        old, beta = self.fair_rates, float(self.hparams["fair_rate_ema"])
        moved = torch.where(torch.isnan(old), rates, old + beta * (rates - old))
        self.fair_rates.copy_(torch.where(present, moved, old))
        decision_gap = rates_gap(self.fair_rates)
        stats["fair_gap"], stats["fair_multiplier"] = gap.item(), weight
        stats["fair_rate_gap"] = decision_gap.item()
        step = torch.tensor(float(self.hparams["fair_dual_step"]), device=gap.device)
        self.fair_multiplier.copy_(
            dual_ascent(self.fair_multiplier, decision_gap.to(gap.device) - tolerance, step)
        )
        return loss + weight * gap

    def extra_state(self) -> dict[str, Any]:
        """Non-parameter state to checkpoint (optimiser states, multipliers); see load_extra."""
        return {"optimizer": self.optimizer.state_dict()} if hasattr(self, "optimizer") else {}

    def load_extra(self, state: Mapping[str, Any]) -> None:
        if "optimizer" in state and hasattr(self, "optimizer"):
            self.optimizer.load_state_dict(state["optimizer"])


class FeaturizerClassifier(Algorithm):
    """An algorithm whose model is featurizer -> linear classifier, trained with one Adam."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.featurizer = build_featurizer(self.input_shape, self.hparams)
        self.classifier = build_classifier(self.featurizer.n_outputs, self.num_classes)
        self.network = nn.Sequential(self.featurizer, self.classifier)
        self.optimizer = self.make_optimizer(self.network.parameters())

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)

    def featurize(self, x: torch.Tensor) -> torch.Tensor:
        return self.featurizer(x)

    def step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
