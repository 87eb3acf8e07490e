"""ERM: empirical risk minimisation (Vapnik 1998), the baseline of both papers.

Objective: the cross-entropy of the pooled minibatches of all training domains. One update is
one Adam step on that loss (plus the optional relaxed-DP penalty, ``fair_lambda``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch


class ERM(FeaturizerClassifier):
    """Cross-entropy on all training domains pooled."""

    POOLED_BATCH = True

    def update(self, batches: Sequence[Batch], step: int) -> dict[str, float]:
        x, y, z, _ = batches[0] if len(batches) == 1 else pooled(batches)
        logits = self.predict(x)
        loss = F.cross_entropy(logits, y)
        stats = {"loss": loss.item()}
        total = self.add_fairness(loss, logits, z, stats)
        self.step(total)
        return stats


def pooled(batches: Sequence[Batch]) -> Batch:
    """The rows of all `batches` as one `Batch` (concatenated in order)."""
    return Batch(*(torch.cat(parts) for parts in zip(*batches, strict=True)))
