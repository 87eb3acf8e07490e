"""Feature alignment across training domains: CORAL and MMD, as in DomainBed.

- CORAL (Sun & Saenko 2016, "Deep CORAL"): the distance between two domains' representations is
  the mean squared difference of their means plus that of their covariance matrices.
- MMD (Li, Pan, Wang & Kot 2018, "Domain generalization with adversarial feature learning"):
  the squared maximum mean discrepancy with a sum of Gaussian kernels (bandwidths 1e-3 .. 1e3).

Objective: the mean over training domains of the cross-entropy plus ``mmd_gamma`` times the mean
of the distance over all pairs of training domains (DomainBed names the weight ``mmd_gamma`` for
both). One update is one Adam step on that objective (plus the optional relaxed-DP penalty,
``fair_lambda``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat
from fairdg.hparams import HParam, Interval, LogUniform
from fairdg.losses import coral_penalty, mmd_penalty, pairwise_penalty


class FeatureAlignment(FeaturizerClassifier):
    """Mean domain risk + ``mmd_gamma`` * mean pairwise `distance` of representations."""

    HPARAMS = {
        "mmd_gamma": HParam(
            1.0, LogUniform(-1, 1), "weight of the alignment penalty", Interval(0)
        ),
    }

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The penalty between two domains' representations."""
        raise NotImplementedError

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        pooled = cat(batches)
        features = self.featurize(pooled.x)
        logits = self.classifier(features)
        sizes = [len(b.y) for b in batches]
        nll = torch.stack(
            [
                F.cross_entropy(lg, b.y)
                for lg, b in zip(torch.split(logits, sizes), batches, strict=True)
            ]
        ).mean()
        penalty = pairwise_penalty(torch.split(features, sizes), self.distance)
        loss = nll + self.hparams["mmd_gamma"] * penalty
        stats = {"loss": loss.item(), "nll": nll.item(), "penalty": penalty.item()}
        total = self.add_fairness(loss, logits, pooled.z, stats, pooled.y)
        self.step(total)
        return stats


class CORAL(FeatureAlignment):
    """Align means and covariances of the representations across domains."""

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return coral_penalty(a, b)


class MMD(FeatureAlignment):
    """Align the representations' distributions across domains with a Gaussian-kernel MMD."""

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return mmd_penalty(a, b)
