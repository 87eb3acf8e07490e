"""The algorithm contract, after DomainBed.

An `Algorithm` is a ``torch.nn.Module`` that owns its networks and optimiser. It declares its
hyperparameters in ``HPARAMS`` (merged with those of its base classes), takes one optimisation
step with ``update(batches)`` given one `Batch` per training domain and returns a dict of
floats (loss terms), and maps inputs to logits with ``predict(x)``. ``featurize(x)`` returns the
representation layer. Every algorithm can add the relaxed demographic-parity penalty of FDDG's
definition 1 (``fair_lambda`` > 0): the "-FC" variants of the FDDG paper.
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
    ResolvedHParams,
    resolve,
)
from fairdg.losses import relaxed_dp
from fairdg.networks import NETWORK_HPARAMS, build_classifier, build_featurizer


class Algorithm(nn.Module):
    """Base class: hyperparameter handling, the shared optimiser and the fairness penalty."""

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
        # 0 for the plain methods (and never searched); > 0 gives the "-FC" variant of any
        # algorithm, e.g. ``--hparam fair_lambda=1`` (see docs/algorithms.md).
        "fair_lambda": HParam(
            0.0,
            Choice((0.0,)),
            "weight of the relaxed DP penalty; > 0: the -FC variant",
            Interval(0),
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
    # Names (as in named_parameters) of trainable parameters that legitimately never receive a
    # gradient from `update`; the registry-driven tests exempt them. Keep this tiny.
    UNUSED_PARAMETERS: ClassVar[tuple[str, ...]] = ()
    # True: `update` only uses all domains' rows together, so the training loop may pass one
    # pooled `Batch` (every domain's rows, in domain order, ``d`` the domain index) instead of
    # one per domain: the rows are then gathered once, not gathered and concatenated.
    POOLED_BATCH: ClassVar[bool] = False

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

    def adam_implementation(self) -> dict[str, bool]:
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

    def add_fairness(
        self, loss: torch.Tensor, logits: torch.Tensor, z: torch.Tensor, stats: dict[str, float]
    ) -> torch.Tensor:
        """Add ``fair_lambda`` times the relaxed DP term when it is positive."""
        weight = float(self.hparams["fair_lambda"])
        if weight <= 0:
            return loss
        penalty = self.fairness_penalty(logits, z)
        stats["fair_penalty"] = penalty.item()
        return loss + weight * penalty

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
