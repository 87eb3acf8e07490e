"""ERM: empirical risk minimisation (Vapnik 1998), the baseline of both papers.

Objective: the cross-entropy of the pooled minibatches of all training domains. One update is
one Adam step on that loss (plus the optional relaxed-DP penalty, ``fair_lambda``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat


class ERM(FeaturizerClassifier):
    """Cross-entropy on all training domains pooled."""

    POOLED_BATCH = True

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        x, y, z, _ = cat(batches)
        logits = self.predict(x)
        loss = F.cross_entropy(logits, y)
        stats = {"loss": loss.item()}
        total = self.add_fairness(loss, logits, z, stats, y)
        self.step(total)
        return stats
