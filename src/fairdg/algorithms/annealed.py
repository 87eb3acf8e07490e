"""Shared base of the annealed-penalty methods IRM (`fairdg.algorithms.irm`) and V-REx
(`fairdg.algorithms.vrex`): mean domain risk plus ``lambda_t`` times a penalty, with weight 1 for
the first ``ANNEAL`` updates, the full weight ``LAMBDA`` after, and a fresh Adam at the switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F

from fairdg.algorithms.base import FeaturizerClassifier
from fairdg.data.base import Batch, cat


class AnnealedPenalty(FeaturizerClassifier):
    """Mean domain risk + ``lambda_t * penalty``, with weight 1 until the anneal step, then the
    full weight and a fresh Adam. Subclasses name their two knobs and define `penalty`.
    """

    LAMBDA: ClassVar[str]
    ANNEAL: ClassVar[str]

    update_count: torch.Tensor  # a registered buffer

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # counts updates; a buffer so that it is checkpointed with the weights
        self.register_buffer("update_count", torch.zeros((), dtype=torch.long))

    def penalty(
        self, logits: list[torch.Tensor], ys: list[torch.Tensor], risks: torch.Tensor
    ) -> torch.Tensor:
        raise NotImplementedError

    def update(self, batches: Sequence[Batch]) -> dict[str, float]:
        count = int(self.update_count)
        anneal = int(self.hparams[self.ANNEAL])
        weight = float(self.hparams[self.LAMBDA]) if count >= anneal else 1.0
        if count == anneal:
            self.optimizer = self.make_optimizer(self.network.parameters())

        pooled = cat(batches)
        logits = self.predict(pooled.x)
        per_domain = list(torch.split(logits, [len(b.y) for b in batches]))
        ys = [b.y for b in batches]
        risks = torch.stack([F.cross_entropy(lg, y) for lg, y in zip(per_domain, ys, strict=True)])
        nll = risks.mean()
        penalty = self.penalty(per_domain, ys, risks)
        loss = nll + weight * penalty
        stats = {"loss": loss.item(), "nll": nll.item(), "penalty": penalty.item()}
        total = self.add_fairness(loss, logits, pooled.z, stats, pooled.y)
        self.step(total)
        self.update_count += 1
        return stats
