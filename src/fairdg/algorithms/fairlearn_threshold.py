"""fairlearn's ThresholdOptimizer (Hardt, Price & Srebro 2016, "Equality of opportunity in
supervised learning") over fairdg's ERM model: post-processing with a threshold per group.

Objective: ERM trains exactly as `erm` (same updates, same draws); before each evaluation
ThresholdOptimizer is fitted on the ERM's scores (probability of class 1) for the training
domains' validation rows, maximising accuracy subject to demographic parity (``fair_metric``
dp), equalized odds (eo) or equal true-positive rates (eopp) on those rows. Its plan, per group
``g``: with probability ``p0`` decide ``s op0 t0``, else ``s op1 t1``; for equalized odds, with
probability ``p_ignore`` replace that by a constant. The plan is kept as tensors (one row per
group, fitted with the ERM state it goes with), so the decision of a row is drawn as fairlearn's
``predict`` draws it (``pmf >= U(0, 1)``, seeded by the run's seed). A group absent from the
validation rows keeps the ERM's own decision (score > 0.5).

The decision depends on each row's group (``USES_GROUPS_AT_PREDICTION``): evaluation and
`fairdg predict` call `predict_with_groups(x, z)` (`fairdg predict` then needs the sensitive
column); `predict(x)` gives the ERM's logits that the thresholds post-process (what training
uses). The validation rows that fit the thresholds also select the checkpoint, so the
validation metrics of this row are optimistic; the test rows are untouched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator

from fairdg.algorithms.erm import ERM
from fairdg.algorithms.sklearn_adapter import (
    check_binary,
    fairlearn_module,
    quiet_fairlearn,
    randomized_logits,
)
from fairdg.data.base import Batch, cat
from fairdg.hparams import Fixed, HParam, Interval

CONSTRAINTS = {
    "dp": "demographic_parity",
    "eo": "equalized_odds",
    "eopp": "true_positive_rate_parity",
}
# Columns of the plan: p0, op0 (+1 '>', -1 '<'), t0, p1, op1, t1, p_ignore, constant.
UNFITTED = (1.0, 1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 0.0)  # the ERM's decision: score > 0.5


class _Scores(BaseEstimator):
    """A prefit "estimator" whose prediction is its input's first column (the ERM scores)."""

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def fit(self, x, y):  # never called (prefit), but scikit-learn's checks want it
        return self

    def predict(self, x):
        return np.asarray(x)[:, 0]


def plan_row(interpolation) -> list[float]:
    """One group's fairlearn interpolation as a plan row (see `UNFITTED`)."""
    ops = [interpolation.operation0, interpolation.operation1]
    signs = [1.0 if op.operator == ">" else -1.0 for op in ops]
    return [
        float(interpolation.p0),
        signs[0],
        float(ops[0].threshold),
        float(interpolation.p1),
        signs[1],
        float(ops[1].threshold),
        float(interpolation.get("p_ignore", 0.0)),
        float(interpolation.get("prediction_constant", 0.0)),
    ]


def plan_probability(plan: torch.Tensor, scores: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Each row's probability of a positive decision under its group's plan row."""
    row = plan[z]
    s = scores.to(plan.dtype)

    def apply(sign: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
        return torch.where(sign > 0, s > threshold, s < threshold).to(plan.dtype)

    mixed = row[:, 0] * apply(row[:, 1], row[:, 2]) + row[:, 3] * apply(row[:, 4], row[:, 5])
    return row[:, 6] * row[:, 7] + (1 - row[:, 6]) * mixed


class FairlearnThreshold(ERM):
    """ERM, post-processed by fairlearn's ThresholdOptimizer on the sources' validation rows."""

    HPARAMS: ClassVar[dict[str, HParam]] = {
        "threshold_grid_size": HParam(
            1000, Fixed(), "grid of ThresholdOptimizer's search", Interval(2, integer=True)
        ),
    }
    USES_GROUPS_AT_PREDICTION: ClassVar[bool] = True

    @classmethod
    def declared_hparams(cls) -> dict[str, HParam]:
        """ERM's knobs without the in-training fairness terms: this row's fairness is the
        post-processing's, whose notion is ``fair_metric``."""
        drop = ("fair_lambda", "fair_tolerance", "fair_dual_step")
        return {k: v for k, v in super().declared_hparams().items() if k not in drop}

    plan: torch.Tensor  # registered buffers
    prediction_seed: torch.Tensor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_binary("fairlearn-threshold", self.num_classes)
        self._optimizer = fairlearn_module("postprocessing", "fairlearn-threshold")
        plan = torch.tensor([UNFITTED] * self.num_groups, dtype=torch.float64)
        self.register_buffer("plan", plan)
        # the run's seed (train() seeds torch with it), read without drawing from torch
        self.register_buffer("prediction_seed", torch.tensor(torch.initial_seed() % 2**31))

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """The ERM's probability of class 1."""
        return torch.softmax(self.predict(x).float(), dim=1)[:, 1]

    def fit_postprocessing(self, batches: Sequence[Batch]) -> None:
        pooled = cat(batches)
        was_training = self.training
        self.eval()
        with torch.inference_mode():
            scores = self.scores(pooled.x).cpu().double().numpy()
        self.train(was_training)
        optimizer = self._optimizer.ThresholdOptimizer(
            estimator=_Scores(),
            constraints=CONSTRAINTS[self.hparams["fair_metric"]],
            objective="accuracy_score",
            grid_size=int(self.hparams["threshold_grid_size"]),
            prefit=True,
            predict_method="predict",
        )
        z = pooled.z.cpu().numpy()
        with quiet_fairlearn():
            optimizer.fit(scores[:, None], pooled.y.cpu().numpy(), sensitive_features=z)
        plan = torch.tensor([UNFITTED] * self.num_groups, dtype=torch.float64)
        for group, interpolation in optimizer.interpolated_thresholder_.interpolation_dict.items():
            plan[int(group)] = torch.tensor(plan_row(interpolation), dtype=torch.float64)
        self.plan.copy_(plan)

    def positive_probability(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Each row's probability of a positive decision (fairlearn's pmf)."""
        return plan_probability(self.plan, self.scores(x), z.to(self.plan.device).long())

    def predict_with_groups(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return randomized_logits(self.positive_probability(x, z), int(self.prediction_seed))
