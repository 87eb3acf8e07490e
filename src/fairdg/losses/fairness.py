"""Fairness relaxations used as differentiable penalties and constraints.

Each is the gap of a fairness notion with the hard decisions replaced by the scores ``s`` (the
predicted probability of class 1): demographic parity compares the groups' mean score,
equal opportunity their mean score on the positive rows (a soft true-positive rate), equalized
odds the larger of that and the gap of their mean score on the negative rows (a soft
false-positive rate). More than two groups: the largest difference between groups (max - min).
A comparison that a batch cannot make (one group only; for EO / EOpp no group pair with rows of
that label) contributes 0, with a gradient path so callers need no special case.

`group_rates` and `rates_gap` measure the same notions on decisions (no gradient): the
``fair_tolerance`` constraint raises its multiplier on the decisions' gap (a moving average of
the groups' rates), while the loss carries the relaxed gap.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

FAIR_METRICS = ("dp", "eo", "eopp")


def _group_gap(scores: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """max - min of the groups' mean score (0 with a gradient path for fewer than 2 groups)."""
    groups = torch.unique(z)
    if len(groups) < 2:
        return scores.sum() * 0.0
    means = torch.stack([scores[z == g].mean() for g in groups])
    return means.max() - means.min()


def relaxed_dp(scores: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Soft demographic-parity difference (FDDG, definition 1).

    For binary z with p = P(z = 1) in the batch,
    ``| mean_i (z_i - p) s_i / (p (1 - p)) | = | mean(s | z = 1) - mean(s | z = 0) |``.
    For more than two groups: the largest difference between group means (max - min). A batch
    with a single group gives 0 (with a gradient path, so callers need no special case).
    """
    return _group_gap(scores, z)


def relaxed_eopp(scores: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Soft equal-opportunity difference: the groups' mean score on rows with ``y = 1`` (a soft
    true-positive rate), max - min over the groups that have such rows."""
    positive = y == 1
    return _group_gap(scores[positive], z[positive]) + scores.sum() * 0.0


def relaxed_eo(scores: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Soft equalized-odds difference: the larger of the soft TPR gap (`relaxed_eopp`) and the
    soft FPR gap (the groups' mean score on rows with ``y = 0``), as fairlearn's
    ``equalized_odds_difference`` takes the larger of the hard gaps."""
    negative = y == 0
    fpr_gap = _group_gap(scores[negative], z[negative]) + scores.sum() * 0.0
    return torch.maximum(relaxed_eopp(scores, y, z), fpr_gap)


def relaxed_gap(
    metric: str, scores: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None = None
) -> torch.Tensor:
    """The relaxed gap named by `metric`: ``"dp"``, ``"eo"`` or ``"eopp"`` (these two need the
    labels `y`)."""
    if metric not in FAIR_METRICS:
        raise ValueError(f"fair_metric must be one of {FAIR_METRICS}, got {metric!r}")
    if metric == "dp":
        return relaxed_dp(scores, z)
    if y is None:
        raise ValueError(f"fair_metric={metric!r} compares rows of each label: pass y")
    return relaxed_eo(scores, y, z) if metric == "eo" else relaxed_eopp(scores, y, z)


def group_rates(
    values: torch.Tensor, z: torch.Tensor, y: torch.Tensor | None, metric: str, num_groups: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of `values` per (kind, group), and which of those cells the batch has rows for.

    Kinds: all rows (``dp``); rows with ``y = 1`` (``eopp``); rows with ``y = 1`` and rows with
    ``y = 0`` (``eo``). Shapes ``(kinds, num_groups)``; a cell without rows holds 0.
    """
    if metric not in FAIR_METRICS:
        raise ValueError(f"fair_metric must be one of {FAIR_METRICS}, got {metric!r}")
    if metric == "dp":
        kinds = [torch.ones_like(z, dtype=torch.bool)]
    elif y is None:
        raise ValueError(f"fair_metric={metric!r} compares rows of each label: pass y")
    else:
        kinds = [y == 1, y == 0] if metric == "eo" else [y == 1]
    means, present = [], []
    for rows in kinds:
        onehot = F.one_hot(z[rows].long(), num_groups).to(values.dtype)
        counts = onehot.sum(0)
        means.append((values[rows] @ onehot) / counts.clamp_min(1))
        present.append(counts > 0)
    return torch.stack(means), torch.stack(present)


def rates_gap(rates: torch.Tensor) -> torch.Tensor:
    """Largest (max - min over groups) of each kind's rates (`group_rates`); NaN cells (never
    seen) left out, a kind with fewer than two groups seen counts 0."""
    gaps = []
    for row in rates:
        seen = row[~torch.isnan(row)]
        gaps.append(seen.max() - seen.min() if len(seen) > 1 else row.new_zeros(()))
    return torch.stack(gaps).max()
