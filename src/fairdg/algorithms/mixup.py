"""Mixup across domains (Xu et al. 2020; Yan et al. 2020, "Improve unsupervised domain adaptation
with mixup training"), as in DomainBed.

Objective: the training domains are put in a random order and each is paired with the next
(cyclically); for each pair ``(i, j)`` a weight ``lam ~ Beta(alpha, alpha)`` mixes the inputs,
``x = lam x_i + (1 - lam) x_j``, and the loss is ``lam CE(f(x), y_i) + (1 - lam) CE(f(x), y_j)``,
averaged over pairs. One update is one Adam step on that loss. The optional relaxed-DP penalty
(``fair_lambda``) is computed on the real, unmixed batch (one extra forward pass, only when on).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import HParam, Interval, LogUniform


def random_pairs(n: int) -> list[tuple[int, int]]:
    """Pairs ``(perm[k], perm[k + 1 mod n])`` of a random permutation of ``range(n)``."""
    perm = torch.randperm(n).tolist()
    return [(perm[k], perm[(k + 1) % n]) for k in range(n)]


def sample_mix_weight(alpha: float) -> float:
    """``lam ~ Beta(alpha, alpha)`` from torch's global generator, sampled in log space.

    ``lam = G1 / (G1 + G2)`` with ``G ~ Gamma(alpha)`` written as ``Gamma(alpha + 1) U^(1/alpha)``
    so that a tiny ``alpha`` gives ``lam`` near 0 or 1 (torch's float32 ``Beta`` underflows to
    0.5 there).
    """
    a = torch.full((2,), alpha + 1.0, dtype=torch.float64)
    u = torch.rand(2, dtype=torch.float64).clamp_min(1e-300)
    log_g = torch.distributions.Gamma(a, 1.0).sample().log() + u.log() / alpha
    return float(torch.sigmoid(log_g[0] - log_g[1]))


def mix(xi: torch.Tensor, xj: torch.Tensor, lam: float) -> tuple[torch.Tensor, int]:
    """``lam * xi + (1 - lam) * xj`` on the first ``min(len(xi), len(xj))`` rows, and that size."""
    n = min(len(xi), len(xj))
    return lam * xi[:n] + (1 - lam) * xj[:n], n


class Mixup(FeaturizerClassifier):
    """Inter-domain mixup of inputs and of the two cross-entropy terms."""

    HPARAMS = {
        "mixup_alpha": HParam(
            0.2,
            LogUniform(-1, 1),
            "Beta(alpha, alpha) of the mixing weight",
            Interval(0, low_open=True),
        ),
    }

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        terms = []
        pairs = random_pairs(len(batches))
        for i, j in pairs:
            lam = sample_mix_weight(float(self.hparams["mixup_alpha"]))
            x, n = mix(batches[i].x, batches[j].x, lam)
            logits = self.predict(x)
            terms.append(lam * F.cross_entropy(logits, batches[i].y[:n]))
            terms.append((1 - lam) * F.cross_entropy(logits, batches[j].y[:n]))
        loss = functools.reduce(operator.add, terms) / len(pairs)  # added in order, as before
        stats = {"loss": loss.item()}
        if self.fairness_on:
            pooled = cat(batches)
            real = self.predict(pooled.x)
            loss = self.add_fairness(loss, real, pooled.z, stats, pooled.y)
        self.step(loss)
        return stats
