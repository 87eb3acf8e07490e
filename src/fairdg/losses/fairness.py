"""Fairness relaxations used as differentiable penalties."""

from __future__ import annotations

import torch


def relaxed_dp(scores: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Soft demographic-parity difference (FDDG, definition 1).

    For binary z with p = P(z = 1) in the batch,
    ``| mean_i (z_i - p) s_i / (p (1 - p)) | = | mean(s | z = 1) - mean(s | z = 0) |``.
    For more than two groups: the largest difference between group means (max - min). A batch
    with a single group gives 0 (with a gradient path, so callers need no special case).
    """
    groups = torch.unique(z)
    if len(groups) < 2:
        return scores.sum() * 0.0
    means = torch.stack([scores[z == g].mean() for g in groups])
    return means.max() - means.min()
