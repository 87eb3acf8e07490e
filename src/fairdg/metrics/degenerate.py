"""Degenerate predictors: the rule that keeps a constant model from being called fair.

A predictor that gives (nearly) everyone the same decision has a demographic-parity gap of 0
and a DP ratio of 1: by those numbers it is "perfectly fair", and it is useless. An evaluation
is *degenerate* when its positive (selection) rate is below ``min_positive_rate`` or above
``1 - min_positive_rate`` (binary task), when every row gets the same predicted class
(multi-class task), or when its scores have no spread at all. Its fairness metrics are still
computed and recorded, but tables flag them, fairness-aware selection rules never choose it
and plots never draw it on a front (see `fairdg.reporting`).

Pure numpy, no torch: the reporting floor uses the same definition on copied records.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_MIN_POSITIVE_RATE",
    "DegeneratePredictorWarning",
    "check_min_positive_rate",
    "degenerate_reason",
]

# Positive rates outside [0.02, 0.98] are degenerate by default: a model that approves 99 % of
# a population is not "fair"; it does not decide.
DEFAULT_MIN_POSITIVE_RATE = 0.02


class DegeneratePredictorWarning(UserWarning):
    """A trained model is a constant predictor on its validation or test rows
    (`FairClassifier.fit` warns with it: its fairness figures describe no decision)."""


def check_min_positive_rate(value: Any) -> float:
    """`value` as a float in [0, 0.5), or a ``ValueError`` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 0.5:
        raise ValueError(
            f"min_positive_rate must be a number in [0, 0.5) (default "
            f"{DEFAULT_MIN_POSITIVE_RATE}); got {value!r}"
        )
    return float(value)


def degenerate_reason(
    scores: Any,
    *,
    positive_rate: float | None = None,
    predicted_classes: int | None = None,
    min_positive_rate: float = DEFAULT_MIN_POSITIVE_RATE,
) -> str | None:
    """Why an evaluation is degenerate, or None when it is not.

    Parameters
    ----------
    scores : array-like
        The scores the decisions come from (binary: probability of class 1; multi-class: any
        score array). No spread at all (``max == min``) is degenerate whatever the rate.
    positive_rate : float, optional
        Binary task: the share of rows predicted positive. Degenerate when below
        `min_positive_rate` or above ``1 - min_positive_rate``.
    predicted_classes : int, optional
        Multi-class task: how many distinct classes the predictions use; 1 is degenerate.
    min_positive_rate : float
        The bound (default 0.02); 0 flags only exactly constant predictions.
    """
    min_positive_rate = check_min_positive_rate(min_positive_rate)
    s = np.asarray(scores, dtype=float)
    if s.size and np.all(np.isfinite(s)) and float(s.max()) == float(s.min()):
        return "constant predictor (the scores have no spread)"
    if positive_rate is not None and not math.isnan(positive_rate):
        if (
            positive_rate < min_positive_rate
            or (min_positive_rate > 0 and positive_rate > 1 - min_positive_rate)
            or positive_rate in (0.0, 1.0)
        ):
            return (
                f"constant predictor: positive rate {positive_rate:.3f} outside "
                f"[{min_positive_rate:g}, {1 - min_positive_rate:g}] (min_positive_rate)"
            )
    if predicted_classes is not None and predicted_classes <= 1:
        return "constant predictor (every row gets the same class)"
    return None
