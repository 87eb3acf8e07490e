"""Invariance penalties of the domain-generalisation baselines: pure torch functions.

Each takes per-domain logits, losses or representations and returns a scalar tensor with a
gradient path (so callers add it to a loss without special cases). Formulas after DomainBed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

# Bandwidths of the sum of Gaussian kernels in `mmd_penalty` (DomainBed's values).
MMD_BANDWIDTHS = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3)


def irm_penalty(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """IRMv1 penalty of one domain (Arjovsky et al. 2019), the unbiased form of DomainBed.

    With a dummy scale ``w = 1`` on the logits, ``g_k = d CE(w * logits[half_k], y[half_k]) / dw``
    for the even and the odd rows; the penalty is ``g_1 * g_2``, an unbiased estimate of the
    squared gradient norm. A batch of one row gives 0.
    """
    if len(y) < 2:
        return logits.sum() * 0.0
    scale = torch.ones((), device=logits.device, dtype=logits.dtype, requires_grad=True)
    loss_1 = F.cross_entropy(logits[0::2] * scale, y[0::2])
    loss_2 = F.cross_entropy(logits[1::2] * scale, y[1::2])
    grad_1 = torch.autograd.grad(loss_1, [scale], create_graph=True)[0]
    grad_2 = torch.autograd.grad(loss_2, [scale], create_graph=True)[0]
    return grad_1 * grad_2


def vrex_penalty(losses: torch.Tensor) -> torch.Tensor:
    """V-REx penalty (Krueger et al. 2021): the (population) variance of the domain risks,
    ``mean_e (R_e - mean R)^2``; 0 for a single domain.
    """
    if losses.dim() != 1:
        raise ValueError(
            f"losses must be a 1-d tensor of domain risks, got shape {tuple(losses.shape)}"
        )
    return ((losses - losses.mean()) ** 2).mean()


def coral_penalty(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Deep CORAL distance (Sun & Saenko 2016) as in DomainBed: ``mean((mu_x - mu_y)^2) +
    mean((C_x - C_y)^2)`` with unbiased covariances ``C`` of the rows of ``x`` and ``y``.
    0 for identical batches.
    """
    mean_x, mean_y = x.mean(0, keepdim=True), y.mean(0, keepdim=True)
    cent_x, cent_y = x - mean_x, y - mean_y
    cov_x = cent_x.t() @ cent_x / max(len(x) - 1, 1)
    cov_y = cent_y.t() @ cent_y / max(len(y) - 1, 1)
    return (mean_x - mean_y).pow(2).mean() + (cov_x - cov_y).pow(2).mean()


def _squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # ||a||^2 + ||b||^2 - 2 a.b; clamped because rounding can make it slightly negative
    d = x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1).unsqueeze(0) - 2 * x @ y.t()
    return d.clamp_min(0.0)


def gaussian_kernel(
    x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float] = MMD_BANDWIDTHS
) -> torch.Tensor:
    """``K[i, j] = sum_g exp(-g * ||x_i - y_j||^2)`` over the inverse bandwidths ``g``."""
    d = _squared_distances(x, y)
    kernels = [torch.exp(-g * d) for g in bandwidths]
    total = kernels[0]
    for kernel in kernels[1:]:  # added in order, as sum() did
        total = total + kernel
    return total


def mmd_penalty(
    x: torch.Tensor, y: torch.Tensor, bandwidths: Sequence[float] = MMD_BANDWIDTHS
) -> torch.Tensor:
    """Biased squared MMD with a sum of Gaussian kernels (Li et al. 2018, DomainBed):
    ``mean K(x, x) + mean K(y, y) - 2 mean K(x, y)``; 0 for identical batches.
    """
    return (
        gaussian_kernel(x, x, bandwidths).mean()
        + gaussian_kernel(y, y, bandwidths).mean()
        - 2 * gaussian_kernel(x, y, bandwidths).mean()
    )


def pairwise_penalty(
    features: Sequence[torch.Tensor],
    distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """Mean of ``distance(f_i, f_j)`` over all pairs ``i < j`` of domains; 0 for one domain."""
    terms = [
        distance(features[i], features[j])
        for i in range(len(features))
        for j in range(i + 1, len(features))
    ]
    if not terms:
        return features[0].sum() * 0.0
    return torch.stack(terms).mean()
